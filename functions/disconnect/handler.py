"""$disconnect: forget the connection and leave every room it joined."""

from aws_lambda_powertools.logging import correlation_paths

from cloutagent.gateway.events import identity_from_event
from cloutagent.observability import lambda_handler, logger
from cloutagent.wiring import get_container


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event, context=None):
    try:
        get_container().connections.disconnect(identity_from_event(event))
    except Exception:  # a disconnect cannot be refused; TTL cleans up whatever is left
        logger.exception("disconnect cleanup failed")
    return {"statusCode": 200}
