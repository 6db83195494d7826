"""project.create / list / get / update / delete."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import Empty, ProjectCreate, ProjectRef, ProjectUpdate
from cloutagent.wiring import get_container

app = WebSocketApp()


def _projects():
    return get_container().projects


@app.action("project.create", ProjectCreate)
def create(identity, data: ProjectCreate):
    return replies.project(_projects().create(identity, data))


@app.action("project.list", Empty)
def list_(identity, data):
    return replies.projects(_projects().list(identity))


@app.action("project.get", ProjectRef)
def get(identity, data: ProjectRef):
    return replies.project(_projects().get(identity, data.projectId))


@app.action("project.update", ProjectUpdate)
def update(identity, data: ProjectUpdate):
    return replies.project(_projects().update(identity, data))


@app.action("project.delete", ProjectRef)
def delete(identity, data: ProjectRef):
    _projects().delete(identity, data.projectId)
    return replies.project_deleted(data.projectId)


handler = app.handler
