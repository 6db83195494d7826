"""webhook.set / get / delete. The signing secret comes out once, from webhook.set."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import ProjectRef, WebhookSet
from cloutagent.wiring import get_container

app = WebSocketApp()


def _webhooks():
    return get_container().webhooks


@app.action("webhook.set", WebhookSet)
def set_(identity, data: WebhookSet):
    return replies.webhook_set(data.projectId, _webhooks().set(identity, data))


@app.action("webhook.get", ProjectRef)
def get(identity, data: ProjectRef):
    return replies.webhook(data.projectId, _webhooks().get(identity, data.projectId))


@app.action("webhook.delete", ProjectRef)
def delete(identity, data: ProjectRef):
    _webhooks().delete(identity, data.projectId)
    return replies.webhook_deleted(data.projectId)


handler = app.handler
