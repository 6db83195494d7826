"""Answers on the Git host when a run that a comment started ends, for new ``execution.finished``
events on the table's stream (routes.json ``streamFilter``).

Apart from the notifier on purpose: this function opens the project's repository token (a project
secret), the notifier may open nothing but webhook signing secrets. Nothing is raised back to the
stream: a comment the host refuses is logged and counted, never retried into a stuck shard.
"""

from cloutagent.observability import lambda_handler
from cloutagent.wiring import get_container


@lambda_handler
def handler(event, context=None):
    container = get_container()
    images = [r["dynamodb"]["NewImage"] for r in event.get("Records", [])
              if r.get("eventName") == "INSERT" and "NewImage" in r.get("dynamodb", {})]
    stored = [s for s in map(container.event_log.from_stream_image, images) if s is not None]
    return container.triggers.follow_up(stored, container.execution_store)
