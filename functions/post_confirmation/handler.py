"""Cognito post-confirmation trigger: a newly confirmed user gets a tenant of their own, unless an
invitation waits for their email (then none, until they accept or decline it)."""

from cloutagent.observability import lambda_handler, logger
from cloutagent.wiring import get_container


@lambda_handler
def handler(event, context=None):
    attributes = event.get("request", {}).get("userAttributes", {})
    member = get_container().tenants.ensure_tenant_for_user(attributes["sub"], attributes.get("email", ""))
    if member is None:
        logger.info("no tenant: an invitation waits", extra={"user_id": attributes["sub"]})
    else:
        logger.info("tenant ready", extra={"tenant_id": member.tenant_id, "user_id": member.user_id})
    return event  # Cognito expects the event back
