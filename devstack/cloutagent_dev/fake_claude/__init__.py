"""The old imitation of the Claude Code CLI (to be replaced by the scripted model)."""
