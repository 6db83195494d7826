"""secret.set / list / delete. A value comes in once and never goes out."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import ProjectRef, SecretRef, SecretSet
from cloutagent.wiring import get_container

app = WebSocketApp()


def _secrets():
    return get_container().secrets


@app.action("secret.set", SecretSet)
def set_(identity, data: SecretSet):
    return replies.secret(data.projectId, _secrets().set(identity, data))


@app.action("secret.list", ProjectRef)
def list_(identity, data: ProjectRef):
    return replies.secrets(data.projectId, _secrets().list(identity, data.projectId))


@app.action("secret.delete", SecretRef)
def delete(identity, data: SecretRef):
    _secrets().delete(identity, data)
    return replies.secret_deleted(data.projectId, data.name)


handler = app.handler
