"""secret.set / list / delete. A value comes in once and never goes out."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol.actions import ProjectRef, SecretRef, SecretSet
from cloutagent.wiring import get_container

app = WebSocketApp()


def _secrets():
    return get_container().secrets


@app.action("secret.set", SecretSet)
def set_(identity, data: SecretSet):
    return {"projectId": data.projectId, "secret": _secrets().set(identity, data).to_wire()}


@app.action("secret.list", ProjectRef)
def list_(identity, data: ProjectRef):
    return {"projectId": data.projectId, "secrets": [s.to_wire() for s in _secrets().list(identity, data.projectId)]}


@app.action("secret.delete", SecretRef)
def delete(identity, data: SecretRef):
    _secrets().delete(identity, data)
    return {"projectId": data.projectId, "name": data.name, "deleted": True}


handler = app.handler
