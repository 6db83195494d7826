"""plan.get / usage.get / billing.checkout / billing.portal."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import BillingCheckout, BillingPortal, Empty, UsageGet
from cloutagent.wiring import get_container

app = WebSocketApp()


def _billing():
    return get_container().billing


@app.action("plan.get", Empty)
def plan(identity, data):
    return replies.plan(_billing().plan(identity))


@app.action("usage.get", UsageGet)
def usage(identity, data: UsageGet):
    return replies.usage(_billing().usage(identity, data.month))


@app.action("billing.checkout", BillingCheckout)
def checkout(identity, data: BillingCheckout):
    return replies.billing_link(_billing().checkout(identity, data))


@app.action("billing.portal", BillingPortal)
def portal(identity, data: BillingPortal):
    return replies.billing_link(_billing().portal(identity, data))


handler = app.handler
