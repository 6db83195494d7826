"""Reports finished runs' cost to Stripe's meter from the usage outbox.

Triggered by the table's stream (new ``METER#`` records), or by a schedule (and the local stack's
poller) to sweep whatever is still pending. Stream failures are reported per record, so Lambda
retries only those.
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from cloutagent.observability import lambda_handler
from cloutagent.wiring import get_container

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _report(record) -> None:
    image = record.dynamodb.new_image or {}
    if not str(image.get("SK", "")).startswith("METER#") or image.get("status") != "pending":
        return  # the stream carries every change to the table; only new outbox records matter
    get_container().usage_reporter.report(image["tenantId"], image["executionId"])


@lambda_handler
def handler(event, context=None):
    if "Records" not in event:  # a schedule: sweep what the stream did not get to
        options = event.get("detail") or {}
        return get_container().usage_reporter.sweep(**({"min_age_seconds": float(options["minAgeSeconds"])}
                                                       if "minAgeSeconds" in options else {}))
    return process_partial_response(event=event, record_handler=_report, processor=processor, context=context)
