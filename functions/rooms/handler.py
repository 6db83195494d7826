"""project.join / project.leave / messages.get."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import MessagesGet, ProjectRef
from cloutagent.wiring import get_container

app = WebSocketApp()


@app.action("project.join", ProjectRef)
def join(identity, data: ProjectRef):
    return replies.joined(get_container().rooms.join(identity, data.projectId))


@app.action("project.leave", ProjectRef)
def leave(identity, data: ProjectRef):
    return replies.left(get_container().rooms.leave(identity, data.projectId))


@app.action("messages.get", MessagesGet)
def messages(identity, data: MessagesGet):
    return replies.messages(get_container().rooms.messages(identity, data))


handler = app.handler
