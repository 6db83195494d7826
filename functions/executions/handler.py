"""execute / agent.kill / agent.new_session / execution.get / execution.list."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol.actions import Execute, ExecutionRef, PageRequest, ProjectRef
from cloutagent.wiring import get_container

app = WebSocketApp()


def _executions():
    return get_container().executions


@app.action("execute", Execute)
def execute(identity, data: Execute):
    execution = _executions().start(identity, data)
    return {"execution": {"executionId": execution.execution_id, "status": "starting"}}


@app.action("agent.kill", ProjectRef)
def kill(identity, data: ProjectRef):
    return _executions().kill(identity, data.projectId)


@app.action("agent.new_session", ProjectRef)
def new_session(identity, data: ProjectRef):
    return _executions().new_session(identity, data.projectId)


@app.action("execution.get", ExecutionRef)
def get(identity, data: ExecutionRef):
    return {"execution": _executions().get(identity, data.projectId, data.executionId).to_wire()}


@app.action("execution.list", PageRequest)
def list_(identity, data: PageRequest):
    return _executions().list(identity, data.projectId, data.limit, data.cursor)


handler = app.handler
