"""What a webhook receiver gets: the body (JSON, or Slack's incoming-webhook ``{"text"}``) and the
headers that sign it. docs/protocol.md ("Notifications") documents both; change neither without it."""

from __future__ import annotations

import json

from cloutagent.domain.notifications import Notification, WebhookFormat, signature

SIGNATURE_HEADER = "Cloutagent-Signature"
EVENT_ID_HEADER = "Cloutagent-Event-Id"
EVENT_TYPE_HEADER = "Cloutagent-Event-Type"


def body(notification: Notification, format: WebhookFormat) -> bytes:
    """The exact bytes sent, and signed."""
    payload = {"text": slack_text(notification)} if format == "slack" else notification.to_wire()
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def headers(notification: Notification, secret: str, timestamp: int, raw_body: bytes) -> dict[str, str]:
    """Signed at ``timestamp`` (each try is signed anew, so receivers can refuse old ones)."""
    return {
        SIGNATURE_HEADER: signature(secret, timestamp, raw_body),
        EVENT_ID_HEADER: notification.id,
        EVENT_TYPE_HEADER: notification.type,
    }


def slack_text(notification: Notification) -> str:
    """A one-line summary in Slack's mrkdwn (user text escaped as Slack asks: & < >)."""
    data = notification.data
    project, run = f"*{_escape(data.get('projectName') or data.get('projectId'))}*", _escape(data.get("executionId"))
    if notification.type == "run.waiting":
        what = "has a question" if data.get("kind") == "question" else f"asks to use {_escape(data.get('toolName'))}"
        return f"{project}: the agent {what} and is waiting for the team (run {run})"
    text = f"{project}: run {run} {_escape(data.get('status'))}"
    if data.get("costUsd") is not None:
        text += f" (${float(data['costUsd']):.4f})"
    if data.get("error"):
        text += f": {_escape(data['error'])[:500]}"
    return text


def _escape(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
