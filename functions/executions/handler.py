"""execute / agent.kill / agent.new_session / execution.get / execution.list / execution.diff;
steering a run: permission.respond / agent.send / agent.interrupt."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import (
    AgentKill, AgentSend, Execute, ExecutionDiff, ExecutionRef, PageRequest, PermissionRespond, ProjectRef,
)
from cloutagent.wiring import get_container

app = WebSocketApp()


def _executions():
    return get_container().executions


@app.action("execute", Execute)
def execute(identity, data: Execute):
    return replies.execution_started(_executions().start(identity, data))


@app.action("agent.kill", AgentKill)
def kill(identity, data: AgentKill):
    return replies.execution_killed(_executions().kill(identity, data.projectId, data.executionId))


@app.action("agent.new_session", ProjectRef)
def new_session(identity, data: ProjectRef):
    return replies.session_reset(_executions().new_session(identity, data.projectId))


@app.action("execution.get", ExecutionRef)
def get(identity, data: ExecutionRef):
    return replies.execution(_executions().get(identity, data.projectId, data.executionId))


@app.action("execution.diff", ExecutionDiff)
def diff(identity, data: ExecutionDiff):
    return replies.execution_diff(data.executionId,
                                  _executions().diff(identity, data.projectId, data.executionId, data.cursor))


@app.action("execution.list", PageRequest)
def list_(identity, data: PageRequest):
    return replies.executions(_executions().list(identity, data.projectId, data.limit, data.cursor))


@app.action("permission.respond", PermissionRespond)
def respond(identity, data: PermissionRespond):
    return get_container().steering.respond(identity, data)


@app.action("agent.send", AgentSend)
def send(identity, data: AgentSend):
    return get_container().steering.send(identity, data)


@app.action("agent.interrupt", ProjectRef)
def interrupt(identity, data: ProjectRef):
    return get_container().steering.interrupt(identity, data)


handler = app.handler
