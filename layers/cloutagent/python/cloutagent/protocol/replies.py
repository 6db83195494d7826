"""Every WebSocket reply payload, built from what the services return: the wire has one home.

One function per reply shape; ``gateway/app.py`` wraps the result in a response frame. Keys and
their order are the protocol (docs/protocol.md): change neither without a protocol change.
"""

from __future__ import annotations

from typing import Any

from cloutagent.domain.audit import AuditPage
from cloutagent.domain.billing import PlanView, UsageReport
from cloutagent.domain.executions import DiffPage, Execution, ExecutionPage
from cloutagent.domain.identity import Identity, allowed_actions
from cloutagent.domain.models import ApiKey, EventPage, Invitation, JoinedRoom, Member, NewApiKey, Project
from cloutagent.domain.notifications import NewWebhook, WebhookConfig
from cloutagent.domain.schedules import Schedule
from cloutagent.domain.secrets import SecretInfo
from cloutagent.domain.triggers import NewTrigger, TriggerConfig
from cloutagent.protocol.frames import PROTOCOL_VERSION, stored_event_frame

Reply = dict[str, Any]
PROMPT_PREVIEW_CHARS = 200


# -- session -------------------------------------------------------------------------------------
def pong(ts: str) -> Reply:
    """ping: the server's time."""
    return {"pong": True, "ts": ts}


def health(version: str, ts: str) -> Reply:
    """health: the runtime's version and the protocol it speaks."""
    return {"status": "ok", "version": version, "protocol": PROTOCOL_VERSION, "ts": ts}


def whoami(identity: Identity) -> Reply:
    """whoami: the identity this connection acts as."""
    return {
        "tenantId": identity.tenant_id,
        "userId": identity.user_id,
        "role": identity.role.name,
        "authType": identity.auth_type,
        "connectionId": identity.connection_id,
        "displayName": identity.display_name or identity.user_id,
        "allowedActions": allowed_actions(identity.role, project_scoped=identity.project_ids is not None,
                                          invitee=identity.invitee),
        "projectIds": None if identity.project_ids is None else sorted(identity.project_ids),
    }


# -- projects ------------------------------------------------------------------------------------
def project(p: Project) -> Reply:
    """project.create / get / update: the project."""
    return {"project": p.to_wire()}


def projects(ps: list[Project]) -> Reply:
    """project.list: the tenant's projects."""
    return {"projects": [p.to_wire() for p in ps]}


def project_deleted(project_id: str) -> Reply:
    """project.delete: which project is gone."""
    return {"projectId": project_id, "deleted": True}


# -- rooms ---------------------------------------------------------------------------------------
def joined(room: JoinedRoom) -> Reply:
    """project.join: the project, and the seq after which everything arrives live."""
    return {"project": room.project.to_wire(), "lastSeq": room.last_seq}


def left(p: Project) -> Reply:
    """project.leave: which room was left."""
    return {"projectId": p.project_id}


def messages(page: EventPage) -> Reply:
    """messages.get: a page of stored events, as the frames they were broadcast as."""
    return {
        "projectId": page.project_id,
        "events": [stored_event_frame(e) for e in page.events],
        "nextCursor": page.next_cursor,
        "lastSeq": page.last_seq,
    }


# -- executions ----------------------------------------------------------------------------------
def execution_started(execution: Execution) -> Reply:
    """execute: the new execution's id and status (the rest arrives as events)."""
    return {"execution": {"executionId": execution.execution_id, "status": execution.status}}


def execution_killed(execution: Execution) -> Reply:
    """agent.kill: the execution being stopped."""
    return {"executionId": execution.execution_id, "status": execution.status}


def session_reset(p: Project) -> Reply:
    """agent.new_session: the project whose agent conversation was forgotten."""
    return {"projectId": p.project_id, "sessionId": p.session_id}


def execution(e: Execution) -> Reply:
    """execution.get: the whole execution, prompt included."""
    return {"execution": e.to_wire()}


def execution_diff(execution_id: str, page: DiffPage) -> Reply:
    """execution.diff: a page of the run's unified diff."""
    return {"executionId": execution_id, "diff": page.text, "nextCursor": page.next_cursor,
            "totalBytes": page.total_bytes}


def executions(page: ExecutionPage) -> Reply:
    """execution.list: a page of execution summaries (a preview instead of the prompt)."""
    return {"executions": [_summary(e) for e in page.executions], "nextCursor": page.next_cursor}


def _summary(e: Execution) -> Reply:
    return e.to_wire(exclude={"prompt"}) | {"promptPreview": e.prompt[:PROMPT_PREVIEW_CHARS]}


# -- access --------------------------------------------------------------------------------------
def api_key_created(created: NewApiKey) -> Reply:
    """apikey.create: the key's record and, this once, the key itself."""
    return {"apiKey": created.key.to_wire(), "key": created.secret}


def api_keys(keys: list[ApiKey]) -> Reply:
    """apikey.list: the tenant's keys (never the keys themselves)."""
    return {"apiKeys": [k.to_wire() for k in keys]}


def api_key(key: ApiKey) -> Reply:
    """apikey.revoke: the key's record as it now is."""
    return {"apiKey": key.to_wire()}


def audit_entries(page: AuditPage) -> Reply:
    """audit.list: a page of the tenant's audit log, newest first."""
    return {"entries": [e.to_wire() for e in page.entries], "nextCursor": page.next_cursor}


def members(ms: list[Member]) -> Reply:
    """member.list: the tenant's members."""
    return {"members": [m.to_wire() for m in ms]}


def member(m: Member) -> Reply:
    """member.invite / set_role: the member as it now is."""
    return {"member": m.to_wire()}


def invitation(i: Invitation) -> Reply:
    """member.invite / invitation.revoke / invitation.decline: the invitation as it now is."""
    return {"invitation": i.to_wire()}


def invitations(items: list[Invitation]) -> Reply:
    """invitation.list (the tenant's) / invitation.mine (the caller's, open ones)."""
    return {"invitations": [i.to_wire() for i in items]}


def member_removed(m: Member) -> Reply:
    """member.remove: who was removed."""
    return {"userId": m.user_id}


# -- secrets -------------------------------------------------------------------------------------
def secret(project_id: str, info: SecretInfo) -> Reply:
    """secret.set: that the secret exists and when it changed (never its value)."""
    return {"projectId": project_id, "secret": info.to_wire()}


def secrets(project_id: str, infos: list[SecretInfo]) -> Reply:
    """secret.list: the project's secret names and when each changed."""
    return {"projectId": project_id, "secrets": [s.to_wire() for s in infos]}


def secret_deleted(project_id: str, name: str) -> Reply:
    """secret.delete: which secret is gone."""
    return {"projectId": project_id, "name": name, "deleted": True}


# -- notifications -------------------------------------------------------------------------------
def webhook_set(project_id: str, created: NewWebhook) -> Reply:
    """webhook.set: the webhook and, this once, its signing secret."""
    return {"projectId": project_id, "webhook": created.config.to_wire(), "signingSecret": created.signing_secret}


def webhook(project_id: str, config: WebhookConfig | None) -> Reply:
    """webhook.get: the project's webhook (never its secret), or null."""
    return {"projectId": project_id, "webhook": config.to_wire() if config else None}


def webhook_deleted(project_id: str) -> Reply:
    """webhook.delete: the project sends no more notifications."""
    return {"projectId": project_id, "deleted": True}


# -- Git host triggers ---------------------------------------------------------------------------
def trigger_set(project_id: str, created: NewTrigger) -> Reply:
    """trigger.set: the trigger, the URL to give the Git host and, this once, its secret."""
    return {"projectId": project_id, "trigger": created.config.to_wire(), "url": created.url,
            "secret": created.secret}


def trigger(project_id: str, found: tuple[TriggerConfig, str] | None) -> Reply:
    """trigger.get: the project's trigger and its URL (never its secret), or null."""
    return {"projectId": project_id, "trigger": found[0].to_wire() if found else None,
            "url": found[1] if found else None}


def trigger_deleted(project_id: str) -> Reply:
    """trigger.delete: comments on the Git host start nothing more."""
    return {"projectId": project_id, "deleted": True}


# -- schedules -----------------------------------------------------------------------------------
def schedule(s: Schedule) -> Reply:
    """schedule.create: the new schedule."""
    return {"schedule": s.to_wire(exclude={"tenant_id"})}


def schedules(project_id: str, ss: list[Schedule]) -> Reply:
    """schedule.list: the project's schedules, each with what its last firing did."""
    return {"projectId": project_id, "schedules": [s.to_wire(exclude={"tenant_id"}) for s in ss]}


def schedule_deleted(project_id: str, schedule_id: str) -> Reply:
    """schedule.delete: which schedule is gone (it fires no more)."""
    return {"projectId": project_id, "scheduleId": schedule_id, "deleted": True}


# -- billing -------------------------------------------------------------------------------------
def plan(view: PlanView) -> Reply:
    """plan.get: the subscribed and the effective plan, its limits and the subscription's state."""
    s, tenant = view.standing, view.tenant
    return {
        "plan": s.subscribed_plan, "effectivePlan": s.plan, "status": s.status,
        "entitlements": s.entitlements.to_wire(),
        "periodEnd": tenant.period_end if tenant else None,
        "trialEnd": tenant.trial_end if tenant else None,
        "cancelAtPeriodEnd": bool(tenant and tenant.cancel_at_period_end),
        "paymentRequired": s.payment_required, "graceEndsAt": s.grace_ends_at,
        "billing": "stripe" if s.billing_enabled else "not_configured",
        "invoice": tenant.last_invoice if tenant else None,
    }


def usage(report: UsageReport) -> Reply:
    """usage.get: a month's spend, runs and tokens against the plan's cap."""
    used = report.usage
    return {
        "month": used.month, "spendUsd": round(used.spend_usd, 6), "executions": used.executions,
        "tokens": used.tokens, "capUsd": report.cap_usd, "remainingUsd": round(report.remaining_usd, 6),
    }


def billing_link(url: str) -> Reply:
    """billing.checkout / portal: the Stripe page to open."""
    return {"url": url}
