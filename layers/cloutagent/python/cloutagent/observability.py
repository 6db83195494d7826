"""Logger and metrics: one of each per process, configured by Powertools' env vars."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="cloutagent")

METRICS_NAMESPACE = "cloutagent"


def record_metric(name: str, value: float = 1.0, *, tenant_id: str, unit: str = "Count") -> None:
    """One data point, flushed at once (safe from any thread), with the tenant as a dimension."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    try:
        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=METRICS_NAMESPACE) as metric:
            metric.add_dimension(name="tenant", value=tenant_id)
    except Exception:  # metrics must never break the action they describe
        logger.warning("metric not recorded", extra={"metric": name})
