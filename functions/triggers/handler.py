"""trigger.set / get / delete. The shared secret comes out once, from trigger.set."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import ProjectRef, TriggerSet
from cloutagent.wiring import get_container

app = WebSocketApp()


def _triggers():
    return get_container().triggers


@app.action("trigger.set", TriggerSet)
def set_(identity, data: TriggerSet):
    return replies.trigger_set(data.projectId, _triggers().set(identity, data))


@app.action("trigger.get", ProjectRef)
def get(identity, data: ProjectRef):
    return replies.trigger(data.projectId, _triggers().get(identity, data.projectId))


@app.action("trigger.delete", ProjectRef)
def delete(identity, data: ProjectRef):
    _triggers().delete(identity, data.projectId)
    return replies.trigger_deleted(data.projectId)


handler = app.handler
