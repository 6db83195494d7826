"""project.create / list / get / update / delete."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol.actions import Empty, ProjectCreate, ProjectRef, ProjectUpdate
from cloutagent.wiring import get_container

app = WebSocketApp()


def _projects():
    return get_container().projects


@app.action("project.create", ProjectCreate)
def create(identity, data: ProjectCreate):
    return {"project": _projects().create(identity, data).to_wire()}


@app.action("project.list", Empty)
def list_(identity, data):
    return {"projects": [p.to_wire() for p in _projects().list(identity)]}


@app.action("project.get", ProjectRef)
def get(identity, data: ProjectRef):
    return {"project": _projects().get(identity, data.projectId).to_wire()}


@app.action("project.update", ProjectUpdate)
def update(identity, data: ProjectUpdate):
    return {"project": _projects().update(identity, data).to_wire()}


@app.action("project.delete", ProjectRef)
def delete(identity, data: ProjectRef):
    _projects().delete(identity, data.projectId)
    return {"projectId": data.projectId, "deleted": True}


handler = app.handler
