"""Sends project webhooks (run.waiting, run.finished) for new events on the table's stream.

The mapping's filter (routes.json ``streamFilter``) lets only INSERTs of ``permission.request`` and
``execution.finished`` event items through. Nothing is raised back to the stream: a notification
that cannot be sent after its tries is logged and dropped, so no receiver ever holds up a shard.
A finished run that a Git host comment started also gets its answering comment here.
"""

from cloutagent.wiring import get_container


def handler(event, context=None):
    container = get_container()
    images = [r["dynamodb"]["NewImage"] for r in event.get("Records", [])
              if r.get("eventName") == "INSERT" and "NewImage" in r.get("dynamodb", {})]
    stored = [s for s in map(container.event_log.from_stream_image, images) if s is not None]
    counts = container.webhook_notifier.deliver(stored)
    # A run a Git host comment started is answered there when it ends (services/triggers.py).
    triggered = container.triggers.follow_up(stored, container.execution_store)
    return {**counts, **{f"comment_{k}": v for k, v in triggered.items()}}
