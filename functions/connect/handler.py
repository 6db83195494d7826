"""$connect: record the connection under its tenant (TTL: API Gateway's 2-hour cap)."""

from aws_lambda_powertools.logging import correlation_paths

from cloutagent.errors import ServiceError
from cloutagent.gateway.events import identity_from_event
from cloutagent.observability import lambda_handler, logger
from cloutagent.wiring import get_container


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event, context=None):
    try:
        identity = identity_from_event(event)
        get_container().connections.admit(identity)
    except ServiceError as err:
        logger.info("connect refused", extra={"code": err.code, "reason": err.message})
        return {"statusCode": 429 if err.code == "LIMIT_EXCEEDED" else 403, "body": err.message}
    return {"statusCode": 200}
