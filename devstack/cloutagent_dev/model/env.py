"""The environment the Claude Code CLI needs to talk to the scripted model and nothing else."""

from __future__ import annotations

# A well-formed but worthless key: the CLI wants one, the scripted model ignores it.
DUMMY_API_KEY = "sk-ant-api03-scripted-model-dummy-key"


def cli_env(base_url: str, **extra: str) -> dict[str, str]:
    """Env for the CLI (e.g. ``ClaudeAgentOptions(env=...)``) pointing it at ``base_url``.

    Every other way the CLI could reach Anthropic (OAuth token, bearer token, telemetry,
    auto-update, feedback surveys) is switched off or blanked, since the SDK passes the
    parent's environment through.
    """
    env = {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": DUMMY_API_KEY,
        "ANTHROPIC_AUTH_TOKEN": "",
        "CLAUDE_CODE_OAUTH_TOKEN": "",
        "CLAUDE_CODE_USE_BEDROCK": "",
        "CLAUDE_CODE_USE_VERTEX": "",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }
    env.update(extra)
    return env
