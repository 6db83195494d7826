"""Project webhooks: where a project's notifications go, which events become one, and how they
are signed.

Two events of a project's log leave the platform: ``permission.request`` as ``run.waiting`` (the
team is needed) and ``execution.finished`` as ``run.finished``. Each is POSTed to the URL an admin
set, signed Stripe-style: ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

The URL is the platform making requests on a tenant's behalf, so it may not point inside the
network it runs in (SSRF): https only, and no address that is not globally routable — checked on
the literal when the URL is set and on every resolved address when a notification is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field

from cloutagent.domain.base import DomainModel
from cloutagent.domain.secrets import encryption_context

WebhookFormat = Literal["json", "slack"]
NotificationType = Literal["run.waiting", "run.finished"]
NOTIFICATION_TYPES: dict[str, NotificationType] = {
    "permission.request": "run.waiting",
    "execution.finished": "run.finished",
}
ALL_NOTIFICATION_TYPES: tuple[NotificationType, ...] = ("run.waiting", "run.finished")
# The signing secret is sealed like a project secret, under a name no secret can have ('@').
WEBHOOK_SECRET_NAME = "@webhook"
WEBHOOK_SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2_000
LOOPBACK_NAMES = ("localhost", "localhost.")
# A DNS name: labels of letters, digits and hyphens (IDNs arrive punycoded).
_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$")


class WebhookConfig(DomainModel):
    """What an admin set: the URL, the payload format and the notifications wanted (never the secret)."""

    url: str = Field(max_length=MAX_URL_LENGTH, repr=False)  # may be a credential itself (Slack's are)
    format: WebhookFormat = "json"
    events: list[NotificationType] = Field(default_factory=lambda: list(ALL_NOTIFICATION_TYPES))
    created_at: str
    created_by: str


@dataclass(frozen=True)
class NewWebhook:
    """A webhook just set: the only time its signing secret is shown (only its ciphertext is stored)."""

    config: WebhookConfig
    signing_secret: str = field(repr=False)


class Notification(DomainModel):
    """One notification, as its receiver gets it. ``id`` is the same on every try of it."""

    type: NotificationType
    id: str
    created_at: str
    tenant_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """How one try went: the HTTP status the receiver answered, or why there was none."""

    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def webhook_secret_context(tenant_id: str, project_id: str) -> dict[str, str]:
    """The encryption context of a project's signing secret: a project secret's, under a name of its own."""
    return encryption_context(tenant_id, project_id, WEBHOOK_SECRET_NAME)


def check_webhook_url(url: str, *, allow_loopback: bool = False) -> str:
    """The URL if notifications may be sent to it, else ValueError (says why)."""
    if len(url) > MAX_URL_LENGTH or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise ValueError(f"A webhook URL is at most {MAX_URL_LENGTH} characters, without spaces or control characters")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (allow_loopback and parts.scheme == "http" and _is_loopback_host(host)):
        raise ValueError("A webhook URL must start with https://")
    if not host:
        raise ValueError("A webhook URL needs a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("A webhook URL cannot carry credentials; the signature authenticates each request")
    if parts.fragment or "#" in url:
        raise ValueError("A webhook URL cannot have a fragment")
    try:
        port = parts.port  # raises on a port out of range or not a number
    except ValueError:
        port = 0
    if port == 0 and parts.netloc.rstrip("]").rpartition(":")[1]:
        raise ValueError("A webhook URL's port must be a number from 1 to 65535")
    address = literal_address(host)
    if address is not None:
        if not address_allowed(address, allow_loopback=allow_loopback):
            raise ValueError("A webhook URL cannot point at a private, loopback, link-local or reserved address")
    elif not _HOSTNAME.match(host):
        raise ValueError("A webhook URL's host is not a valid DNS name")
    elif host in LOOPBACK_NAMES or host.endswith(".localhost") or host.endswith(".localhost."):
        if not allow_loopback:
            raise ValueError("A webhook URL cannot point at this machine")
    return url


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any form a resolver accepts (``127.1``, ``0x7f000001``), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fx.]+", host):
        try:  # the shorthand forms inet_aton (and so getaddrinfo) accepts
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address | str, *, allow_loopback: bool = False) -> bool:
    """Whether a notification may be sent to this address: globally routable, or loopback when allowed."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def _is_loopback_host(host: str) -> bool:
    address = literal_address(host)
    return address.is_loopback if address is not None else host in LOOPBACK_NAMES


def notification_for(tenant_id: str, project_id: str, project_name: str, event_name: str, seq: int, ts: str,
                     data: dict[str, Any]) -> Notification | None:
    """The notification a stored event becomes, or None for events that do not notify."""
    kind = NOTIFICATION_TYPES.get(event_name)
    if kind is None:
        return None
    about = {"projectId": project_id, "projectName": project_name, "executionId": data.get("executionId")}
    if kind == "run.waiting":
        details = {k: data.get(k) for k in ("requestId", "toolName", "kind")}
    else:
        details = {k: data.get(k) for k in ("status", "costUsd", "error", "errorCode")}
    return Notification(type=kind, id=notification_id(project_id, seq), created_at=ts, tenant_id=tenant_id,
                        data={**about, **details})


def notification_id(project_id: str, seq: int) -> str:
    """Stable for every try of the same event: receivers de-duplicate on it."""
    return f"evt_{project_id}_{seq}"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
