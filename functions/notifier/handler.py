"""Sends project webhooks (run.waiting, run.finished) for new events on the table's stream.

The mapping's filter (routes.json ``streamFilter``) lets only INSERTs of ``permission.request`` and
``execution.finished`` event items through. Nothing is raised back to the stream: a notification
that cannot be sent after its tries is logged and dropped, so no receiver ever holds up a shard.
"""

from cloutagent.observability import lambda_handler
from cloutagent.wiring import get_container


@lambda_handler
def handler(event, context=None):
    container = get_container()
    images = [r["dynamodb"]["NewImage"] for r in event.get("Records", [])
              if r.get("eventName") == "INSERT" and "NewImage" in r.get("dynamodb", {})]
    stored = [s for s in map(container.event_log.from_stream_image, images) if s is not None]
    return container.webhook_notifier.deliver(stored)
