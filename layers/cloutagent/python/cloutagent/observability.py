"""Logger, tracer and metrics: one of each per process, configured by Powertools' env vars."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="cloutagent")

METRICS_NAMESPACE = "cloutagent"


def record_metric(name: str, value: float = 1.0, *, tenant_id: str, unit: str = "Count") -> None:
    """One data point, flushed at once (safe from any thread), with the tenant as metadata.

    Not as a dimension: every distinct dimension value is a custom metric of its own, so a tenant
    dimension becomes thousands of billed metrics. The dimensions stay bounded (Powertools' service,
    the function's name); the tenant is in the same EMF log line, where Logs Insights finds it.
    """
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    try:
        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=METRICS_NAMESPACE) as metric:
            metric.add_metadata(key="tenant", value=tenant_id)
    except Exception:  # metrics must never break the action they describe
        logger.warning("metric not recorded", extra={"metric": name})


@functools.cache
def tracer() -> Tracer | None:
    """The process's X-Ray tracer, botocore patched (each AWS call a subsegment); None where no
    daemon takes segments (outside Lambda, or POWERTOOLS_TRACE_DISABLED): building one there
    would only create X-Ray's sampling clients for nothing."""
    from cloutagent.settings import get_settings

    if not get_settings().tracing:
        return None
    from aws_lambda_powertools import Tracer

    # The service is the function's name (POWERTOOLS_SERVICE_NAME, set by infra). Only botocore is
    # patched: auto-patching imports every library X-Ray knows (httpx, sqlalchemy, …).
    traced = Tracer(auto_patch=False)
    traced.patch(["botocore"])
    return traced


def annotate(**values: str) -> None:
    """Searchable keys on the invocation's trace (X-Ray annotations), e.g. the tenant, which
    metrics no longer carry as a dimension."""
    traced = tracer()
    if traced is not None:
        for key, value in values.items():
            traced.put_annotation(key=key, value=value)


LambdaHandler = Callable[[Any, Any], Any]


def lambda_handler(fn: LambdaHandler | None = None, *, correlation_id_path: str | None = None) -> Any:
    """What every Lambda entry point gets, in one place: the invocation (request id, cold start,
    correlation id at ``correlation_id_path``) on every log line, and its trace segment.

    Instrumented at the first call, not at import: patching botocore imports it, a cost the
    handlers that defer boto3 would otherwise add to every cold start's import.
    """
    if fn is None:
        return functools.partial(lambda_handler, correlation_id_path=correlation_id_path)
    instrumented: list[LambdaHandler] = []

    @functools.wraps(fn)
    def handler(event: Any, context: Any = None) -> Any:
        if not instrumented:
            instrumented.append(_instrument(fn, correlation_id_path))
        return instrumented[0](event, context)

    return handler


def _instrument(fn: LambdaHandler, correlation_id_path: str | None) -> LambdaHandler:
    from cloutagent.settings import get_settings

    if not get_settings().in_lambda:
        # The dev stack runs many invocations at once on threads, and Powertools keeps an
        # invocation's keys process-wide: there they would be shared between requests.
        return fn
    logged = logger.inject_lambda_context(correlation_id_path=correlation_id_path)(fn)
    traced = tracer()
    # Responses carry tenants' data: they stay out of the trace's metadata.
    return traced.capture_lambda_handler(logged, capture_response=False) if traced is not None else logged
