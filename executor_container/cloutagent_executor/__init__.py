"""The executor container: runs one Claude Code agent per Fargate task (a subprocess locally).

``agent.run_agent`` drives Claude Code through claude-agent-sdk and maps the run to an
``AgentOutcome``; ``session_store.S3SessionStore`` mirrors transcripts to S3 so any task can
resume a session; ``fake_claude`` is a stand-in ``claude`` executable for tests and the local
stack.
"""
