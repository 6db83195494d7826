"""POST /stripe/webhook (HTTP API): verify Stripe's signature on the raw body, then apply the event once."""

from cloutagent.gateway.http import HttpRequest, http_app
from cloutagent.wiring import get_container


@http_app
def handler(request: HttpRequest, context=None):
    return get_container().stripe_webhooks.receive(request.body, request.header("stripe-signature"), context)
