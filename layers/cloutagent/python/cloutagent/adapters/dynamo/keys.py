"""Every key of the table, in one place. Every tenant-owned partition starts with ``T#{tenant}``."""

from __future__ import annotations

SEQ_WIDTH = 12


CONNECTION_SLOTS_SK = "CONNSLOTS"  # how many connections the tenant has open: a counter (rooms.py)


def rate_sk(window: int) -> str:
    """A one-second window's request counters (domain/rate_limits.py), in the tenant partition."""
    return f"RATE#{window}"


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def project_pk(tenant_id: str, project_id: str) -> str:
    return f"T#{tenant_id}#P#{project_id}"


def events_pk(tenant_id: str, project_id: str) -> str:
    return f"T#{tenant_id}#P#{project_id}#EV"


def seq_sk(seq: int) -> str:
    return str(seq).zfill(SEQ_WIDTH)


def parse_events_pk(pk: str) -> tuple[str, str] | None:
    """(tenantId, projectId) of an event-log partition key, or None for any other key."""
    if not (pk.startswith("T#") and pk.endswith("#EV")):
        return None
    tenant_id, sep, project_id = pk[2:-3].partition("#P#")
    return (tenant_id, project_id) if sep and tenant_id and project_id else None


TENANT_SK = "TENANT"
PROJECT_PREFIX = "PROJECT#"
USER_PREFIX = "USER#"
APIKEY_PREFIX = "APIKEY#"
CONN_PREFIX = "CONN#"
SUB_PREFIX = "SUB#"
EXEC_PREFIX = "EXEC#"
USAGE_PREFIX = "USAGE#"  # sorts after TENANT: never inside project.create's PROJECT#..TENANT range
METER_PREFIX = "METER#"  # the usage outbox; sorts between CONN# and PROJECT#
SECRET_PREFIX = "SECRET#"
WEBHOOK_SK = "WEBHOOK"  # a project's webhook signing secret, in the project partition
SCHEDULE_PREFIX = "SCHEDULE#"  # a project's schedules, in the project partition (purged with it)
TRIGGER_SK = "TRIGGER"  # a project's Git host trigger: its config and sealed secret
DELIVERY_PREFIX = "DELIVERY#"  # Git host deliveries already acted on (expire through the TTL)
AUDIT_PREFIX = "AUDIT#"  # the tenant's audit log; sorts before CONN# and PROJECT#, outside every other range
INVITE_PREFIX = "INVITE#"  # the tenant's invitations, one per email; sorts before PROJECT#


def project_sk(project_id: str) -> str:
    return PROJECT_PREFIX + project_id


def user_sk(user_id: str) -> str:
    return USER_PREFIX + user_id


def apikey_sk(key_id: str) -> str:
    return APIKEY_PREFIX + key_id


def connection_sk(user_id: str, connection_id: str) -> str:
    # Grouped by user so "connections of this user" is one key-range query.
    return f"{CONN_PREFIX}{user_id}#{connection_id}"


def subscription_sk(connection_id: str) -> str:
    return SUB_PREFIX + connection_id


def execution_sk(execution_id: str) -> str:
    return EXEC_PREFIX + execution_id


def secret_sk(name: str) -> str:
    return SECRET_PREFIX + name


def audit_sk(at: str, entry_id: str) -> str:
    # Time first, so a descending Query is newest first; the id keeps two entries of one millisecond apart.
    return f"{AUDIT_PREFIX}{at}#{entry_id}"


def schedule_sk(schedule_id: str) -> str:
    return SCHEDULE_PREFIX + schedule_id


def usage_sk(month: str) -> str:
    """A tenant's spend for one calendar month (UTC), ``YYYY-MM``."""
    return USAGE_PREFIX + month


def meter_sk(execution_id: str) -> str:
    return METER_PREFIX + execution_id


def delivery_sk(provider: str, delivery_id: str) -> str:
    return f"{DELIVERY_PREFIX}{provider}#{delivery_id}"


# Not tenant data: Powertools Idempotency records of processed Stripe webhook events.
STRIPE_IDEMPOTENCY_PK = "IDEMPOTENCY#stripe-webhook"


# GSI1: the few lookups that cannot start from a tenant (they find the tenant).
def stripe_customer_lookup(customer_id: str) -> str:
    return f"STRIPECUST#{customer_id}"


# Usage outbox items not yet reported to Stripe (sparse: removed once sent).
METER_PENDING_LOOKUP = "METER#PENDING"


def user_lookup(user_id: str) -> str:
    return f"USER#{user_id}"


def apikey_lookup(key_hash: str) -> str:
    return f"APIKEYHASH#{key_hash}"


def invitee_lookup(email: str) -> str:
    """The pending invitations addressed to an email (sparse: removed once accepted or declined)."""
    return f"INVITEE#{email}"


def invite_sk(email: str) -> str:
    # The email is the key: one invitation per email per tenant, made atomic by the key itself.
    return INVITE_PREFIX + email


# Not tenant data: one guard item per person, so a person holds at most one membership (atomic).
PERSON_PK = "PERSON"


def person_sk(user_id: str) -> str:
    return f"USER#{user_id}"


def person_rate_sk(user_id: str, window: int) -> str:
    """An invitee's request counter for one second, beside the person guards (PERSON_PK): the only
    non-tenant partition the function serving invitees (access) may write. Invitees send a few
    requests at sign-up, far under one partition's write rate."""
    return f"RATE#{window}#{user_id}"


def claim_lookup(task_ref: str) -> str:
    """The execution a pool task claimed (sparse: removed when the execution finishes)."""
    return f"CLAIM#{task_ref}"


PERMISSION_PREFIX = "PERM#"
INBOX_PREFIX = "INBOX#"


def permission_sk(request_id: str) -> str:
    return PERMISSION_PREFIX + request_id


def inbox_prefix(execution_id: str) -> str:
    """A run's inbox; its messages sort in the order they were sent (time-sortable ids)."""
    return f"{INBOX_PREFIX}{execution_id}#"
