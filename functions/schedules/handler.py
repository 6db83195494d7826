"""schedule.create / list / delete: a project's recurring runs."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import ProjectRef, ScheduleCreate, ScheduleRef
from cloutagent.wiring import get_container

app = WebSocketApp()


def _schedules():
    return get_container().schedules


@app.action("schedule.create", ScheduleCreate)
def create(identity, data: ScheduleCreate):
    return replies.schedule(_schedules().create(identity, data))


@app.action("schedule.list", ProjectRef)
def list_(identity, data: ProjectRef):
    return replies.schedules(data.projectId, _schedules().list(identity, data.projectId))


@app.action("schedule.delete", ScheduleRef)
def delete(identity, data: ScheduleRef):
    _schedules().delete(identity, data.projectId, data.scheduleId)
    return replies.schedule_deleted(data.projectId, data.scheduleId)


handler = app.handler
