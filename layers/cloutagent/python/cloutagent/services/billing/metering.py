"""The usage outbox worker: report each finished run's cost to Stripe's meter, exactly once.

A run's cost is written as a pending ``METER#{executionId}`` record together with the month's
spend (services/billing/licenses.py). This worker sends it as a meter event whose ``identifier`` is the
execution id, with the idempotency key ``meter-{executionId}``, and only then marks it sent
(conditional on it still being pending). A worker that crashes between the two, or two workers
racing, send the same identifier again, and Stripe counts it once.
"""

from __future__ import annotations

from typing import Any

from datetime import datetime, timedelta, timezone

from cloutagent.ids import iso_millis, now_iso
from cloutagent.observability import logger
from cloutagent.services.ports import BillingStore, Payments

SWEEP_BATCH = 50
DEFAULT_SWEEP_AGE_SECONDS = 120.0  # in AWS the stream trigger reports new records within seconds


class UsageReporter:
    def __init__(self, store: BillingStore, payments: Payments, *, event_name: str):
        self.store = store
        self.payments = payments
        self.event_name = event_name

    def report(self, tenant_id: str, execution_id: str) -> str:
        """Send one outbox record: ``sent``, or ``skipped`` when there is nothing (left) to send."""
        record = self.store.get_meter(tenant_id, execution_id)  # consistent: the index may lag
        if record is None or record.status != "pending":
            return "skipped"
        self.payments.send_meter_event(event_name=self.event_name, identifier=record.execution_id,
                                     customer_id=record.stripe_customer_id, value=record.value,
                                     timestamp=record.timestamp)
        self.store.mark_meter_sent(tenant_id, execution_id, now_iso())
        return "sent"

    def sweep(self, min_age_seconds: float = DEFAULT_SWEEP_AGE_SECONDS, limit: int = SWEEP_BATCH) -> dict[str, int]:
        """Report what has been pending for ``min_age_seconds`` (the stream normally got it first)."""
        counts = {"sent": 0, "skipped": 0, "failed": 0}
        cutoff = iso_millis(datetime.now(timezone.utc) - timedelta(seconds=min_age_seconds))
        for record in self.store.pending_meters(limit, cutoff):
            try:
                counts[self.report(record.tenant_id, record.execution_id)] += 1
            except Exception as exc:  # one bad record must not hold up the rest; it stays pending
                counts["failed"] += 1
                logger.warning("meter event not sent", extra={"tenant_id": record.tenant_id,
                                                              "execution_id": record.execution_id,
                                                              "error_type": type(exc).__name__})
                self.store.note_meter_failure(record.tenant_id, record.execution_id, type(exc).__name__)
        return counts
