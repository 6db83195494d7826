"""Project webhooks: admins set where notifications go (``WebhookService``), and the table stream's
new events are sent there (``WebhookNotifier``).

A webhook change is one transaction with its ``webhook.changed`` event: the config on the project
item, the signing secret sealed under the project key (never stored in the clear, shown once).
Sending never fails or blocks a run: it happens after the event is stored, off the stream, with a
few bounded tries; what still fails is logged with its id and counted, and dropped.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import Executor
from typing import Any, Callable
from urllib.parse import urlsplit

from cloutagent.domain.changes import ProjectChange, WebhookSecretRemoved, WebhookSecretSealed
from cloutagent.domain.identity import Identity
from cloutagent.domain.models import Event
from cloutagent.domain.notifications import (
    NOTIFICATION_TYPES, WEBHOOK_SECRET_PREFIX, NewWebhook, Notification, WebhookConfig, address_allowed,
    check_webhook_url, notification_for, webhook_secret_context,
)
from cloutagent.errors import BadRequest, NotFound, ProjectNotFound
from cloutagent.ids import new_secret_token, now_iso
from cloutagent.observability import logger, record_metric
from cloutagent.protocol import webhooks as wire
from cloutagent.protocol.actions import WebhookSet
from cloutagent.retry import Backoff, RetriesExhausted, retry
from cloutagent.services.audit import audited
from cloutagent.services.ports import ProjectStore, SecretCipher, WebhookPoster, WebhookStore
from cloutagent.services.publisher import Publisher

# Three tries, a second or two apart: a receiver that is briefly down still gets it, and a batch
# of the stream is done in well under a minute whatever the receivers do.
DELIVERY_TRIES = Backoff(attempts=3, base_seconds=1.0, cap_seconds=4.0)
TRY_TIMEOUT_SECONDS = 5.0


class WebhookService:
    def __init__(self, projects: ProjectStore, cipher: SecretCipher, publisher: Publisher, *,
                 allow_loopback: bool = False, audit: Any = None):
        self.audit = audit  # an AuditLog
        self.projects = projects
        self.cipher = cipher
        self.publisher = publisher
        self.allow_loopback = allow_loopback  # the dev stack's receivers on 127.0.0.1 only

    def set(self, identity: Identity, data: WebhookSet) -> NewWebhook:
        """Set (or replace) the project's webhook with a new signing secret: the old one stops working."""
        try:
            check_webhook_url(data.url, allow_loopback=self.allow_loopback)
        except ValueError as exc:
            raise BadRequest(str(exc), details={"field": "url"}) from exc
        tenant_id, project_id = identity.tenant_id, data.projectId
        secret = new_secret_token(WEBHOOK_SECRET_PREFIX)
        ciphertext = self.cipher.encrypt(secret, webhook_secret_context(tenant_id, project_id))
        config = WebhookConfig(url=data.url, format=data.format, events=list(dict.fromkeys(data.events)),
                               created_at=now_iso(), created_by=identity.user_id)
        # The URL may itself be a credential (Slack's are): the event, seen by every watcher, names its host only.
        announced = {"action": "set", "host": urlsplit(data.url).hostname, "format": config.format,
                     "events": config.events, "by": identity.user_id}
        audit = audited(self.audit, identity, "webhook.set", project_id,
                        {k: announced[k] for k in ("host", "format", "events")}, project_id=project_id)
        self.publisher.publish(tenant_id, project_id, [("webhook.changed", announced)], change=ProjectChange(
            set_fields={"webhook": config},
            records=(WebhookSecretSealed(tenant_id, project_id, ciphertext, config.created_at), *audit)))
        return NewWebhook(config=config, signing_secret=secret)

    def get(self, identity: Identity, project_id: str) -> WebhookConfig | None:
        return self.projects.get(identity.tenant_id, project_id).webhook

    def delete(self, identity: Identity, project_id: str) -> None:
        tenant_id = identity.tenant_id
        if self.projects.get(tenant_id, project_id).webhook is None:
            raise NotFound("This project has no webhook")
        audit = audited(self.audit, identity, "webhook.delete", project_id, project_id=project_id)
        self.publisher.publish(tenant_id, project_id, [("webhook.changed", {"action": "deleted", "by": identity.user_id})],
                               change=ProjectChange(set_fields={"webhook": None},
                                                    records=(WebhookSecretRemoved(tenant_id, project_id), *audit)))


class _TryFailed(Exception):
    """One try did not get a 2xx; worth another."""


class _Refused(Exception):
    """The host resolves to an address notifications may not go to; no try would change that."""


class WebhookNotifier:
    def __init__(self, projects: ProjectStore, store: WebhookStore, cipher: SecretCipher, poster: WebhookPoster,
                 pool: Executor | None = None, *, allow_loopback: bool = False, tries: Backoff = DELIVERY_TRIES,
                 timeout: float = TRY_TIMEOUT_SECONDS, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.projects = projects
        self.store = store
        self.cipher = cipher
        self.poster = poster
        self.pool = pool
        self.allow_loopback = allow_loopback
        self.tries = tries
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep

    def deliver(self, events: list[tuple[str, Event]]) -> dict[str, int]:
        """Send the notifications these stored events (tenantId, event) make, side by side.

        Never raises: how each went is counted (delivered, failed, refused, skipped)."""
        if self.pool is not None and len(events) > 1:
            outcomes = list(self.pool.map(self._deliver_one, events))
        else:
            outcomes = [self._deliver_one(e) for e in events]
        return dict(Counter(outcomes))

    def _deliver_one(self, stored: tuple[str, Event]) -> str:
        tenant_id, event = stored
        try:
            return self._notify(tenant_id, event)
        except Exception:  # a bug or KMS/DynamoDB down: logged and counted, never raised into the stream
            logger.exception("webhook notification failed", extra={
                "tenant_id": tenant_id, "project_id": event.project_id, "seq": event.seq})
            record_metric("WebhookFailed", tenant_id=tenant_id)
            return "failed"

    def _notify(self, tenant_id: str, event: Event) -> str:
        if event.event not in NOTIFICATION_TYPES:
            return "skipped"
        try:
            project = self.projects.get(tenant_id, event.project_id)
        except ProjectNotFound:
            return "skipped"
        config = project.webhook
        notification = notification_for(tenant_id, project.project_id, project.name, event.event, event.seq,
                                         event.ts, event.data)
        if config is None or notification is None or notification.type not in config.events:
            return "skipped"
        ciphertext = self.store.sealed_secret(tenant_id, project.project_id)
        if ciphertext is None:
            return "skipped"  # deleted since the config was read
        secret = self.cipher.decrypt(ciphertext, webhook_secret_context(tenant_id, project.project_id))
        return self._send(tenant_id, config, notification, secret)

    def _send(self, tenant_id: str, config: WebhookConfig, notification: Notification, secret: str) -> str:
        raw = wire.body(notification, config.format)
        where = {"tenant_id": tenant_id, "project_id": notification.data["projectId"], "event_id": notification.id,
                 "notification": notification.type}

        def attempt() -> None:
            address = self._address(config.url)
            headers = wire.headers(notification, secret, int(self.clock()), raw)
            delivery = self.poster.post(config.url, address, raw, headers, self.timeout)
            if not delivery.ok:
                raise _TryFailed(f"HTTP {delivery.status}" if delivery.status else delivery.error or "no answer")

        def note_retry(tries: int, exc: Exception) -> None:
            logger.info("webhook try failed; trying again", extra={**where, "tries": tries, "reason": str(exc)})

        try:
            retry(attempt, self.tries, retry_on=lambda exc: isinstance(exc, _TryFailed), on_retry=note_retry,
                  sleep=self.sleep)
        except RetriesExhausted as exc:
            logger.warning("webhook notification not delivered; giving up", extra={**where, "reason": str(exc)})
            record_metric("WebhookFailed", tenant_id=tenant_id)
            return "failed"
        except _Refused as exc:
            logger.warning("webhook notification refused", extra={**where, "reason": str(exc)})
            record_metric("WebhookRefused", tenant_id=tenant_id)
            return "refused"
        record_metric("WebhookDelivered", tenant_id=tenant_id)
        return "delivered"

    def _address(self, url: str) -> str:
        """The address to connect to: the host's, if every address it resolves to is allowed (DNS rebinding)."""
        parts = urlsplit(url)
        try:
            addresses = self.poster.resolve(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except OSError as exc:
            raise _TryFailed(f"cannot resolve the host ({type(exc).__name__})") from exc
        if not addresses:
            raise _TryFailed("the host resolves to no address")
        if not all(address_allowed(a.split("%")[0], allow_loopback=self.allow_loopback) for a in addresses):
            raise _Refused("the host resolves to a private, loopback, link-local or reserved address")
        return addresses[0]
