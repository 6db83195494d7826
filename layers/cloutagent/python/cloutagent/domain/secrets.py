"""Per-project secrets: the rules, and the encryption context that binds a value to its place.

A value is sealed under the project key with the context {tenantId, projectId, name}, so a
ciphertext copied to another tenant, project or name cannot be opened there.
"""

from __future__ import annotations

from cloutagent.domain.base import DomainModel

SECRET_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]{0,63}$"
MAX_SECRET_BYTES = 4096  # also KMS Encrypt's plaintext limit: one call, no envelope needed
MAX_SECRETS_PER_PROJECT = 50

# Secrets become the agent's environment. These names would not hand the agent a value but
# reconfigure the runtime around it: where the CLI sends its API calls (and the platform's key),
# which credentials or libraries load, which shell runs, which proxy sees the traffic.
RESERVED_NAME_PREFIXES = ("ANTHROPIC_", "CLAUDE_", "AWS_", "ECS_", "CLOUTAGENT_", "LD_", "DYLD_", "OTEL_",
                          "NODE_", "NPM_CONFIG_", "PYTHON", "GIT_CONFIG", "DISABLE_", "MCP_")
RESERVED_NAME_SUFFIXES = ("_PROXY",)
RESERVED_NAMES = frozenset({"PATH", "HOME", "USER", "SHELL", "TMPDIR", "BASH_ENV", "ENV", "IS_SANDBOX",
                            "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS", "SSL_CERT_FILE", "SSL_CERT_DIR"})


def is_reserved_name(name: str) -> bool:
    """A name the platform refuses for a secret (see RESERVED_NAME_PREFIXES)."""
    return (name in RESERVED_NAMES or name.startswith(RESERVED_NAME_PREFIXES)
            or name.endswith(RESERVED_NAME_SUFFIXES))


def encryption_context(tenant_id: str, project_id: str, name: str) -> dict[str, str]:
    return {"tenantId": tenant_id, "projectId": project_id, "name": name}


class SecretInfo(DomainModel):
    """What anyone may learn about a secret: that it exists, and when it last changed."""

    name: str
    updated_at: str


class SealedSecret(DomainModel):
    """A stored secret: its ciphertext (base64), never its value."""

    name: str
    ciphertext: str
    updated_at: str
    updated_by: str


class SecretIndex(DomainModel):
    """A project's secret names as the project item records them, with the seq they were read at.

    Kept on the project item so that one read answers "does it exist, how many are there" and the
    write that changes them is conditioned on the same ``lastSeq`` as the event announcing it.
    """

    last_seq: int
    updated: dict[str, str]  # name -> updatedAt
