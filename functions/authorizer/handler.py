"""$connect authorizer: turns a token or API key into the identity every route trusts."""

from aws_lambda_powertools.logging import correlation_paths

from cloutagent.errors import Forbidden, ServiceError
from cloutagent.gateway.events import authorizer_context
from cloutagent.observability import lambda_handler, logger
from cloutagent.wiring import get_container


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event, context=None):
    try:
        identity = get_container().authenticator.authenticate(
            event.get("headers") or {}, event.get("queryStringParameters") or {}, invitees=True
        )
    except Forbidden as err:
        logger.info("connection refused", extra={"code": err.code, "reason": err.message})
        return _policy("anonymous", "Deny", event, {})
    except ServiceError as err:
        logger.info("connection refused", extra={"code": err.code, "reason": err.message})
        # API Gateway answers HTTP 401 when an authorizer fails with exactly this message.
        raise Exception("Unauthorized")  # noqa: TRY002
    return _policy(identity.user_id, "Allow", event, authorizer_context(identity))


def _policy(principal: str, effect: str, event: dict, context: dict) -> dict:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event.get("methodArn", "*")}],
        },
        "context": context,
    }
