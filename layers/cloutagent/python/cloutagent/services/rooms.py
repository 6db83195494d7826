"""Project rooms: who watches a project live, and the history everyone can page through."""

from __future__ import annotations

import base64

from cloutagent.domain.identity import Identity
from cloutagent.domain.models import EventPage, JoinedRoom, Project
from cloutagent.errors import BadRequest
from cloutagent.ids import iso_millis
from cloutagent.protocol.actions import MessagesGet
from cloutagent.services.publisher import Publisher
from cloutagent.services.ports import EventLog, ProjectStore, RoomStore


# The most stored items (an event, or a page of messages) one messages.get evaluates: a filter that
# matches little of a long log answers a short (even empty) page with a cursor instead of reading on
# (docs/protocol.md).
MESSAGES_READ_BOUND = 1000


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, seq = raw.split(":", 1)
        if version != "v1" or not seq.isdigit():
            raise ValueError(raw)
        return int(seq)
    except ValueError as exc:
        raise BadRequest("The cursor is not valid", {"field": "cursor"}) from exc


class RoomService:
    def __init__(self, projects: ProjectStore, room_store: RoomStore, log: EventLog, publisher: Publisher):
        self.projects = projects
        self.room_store = room_store
        self.log = log
        self.publisher = publisher

    def join(self, identity: Identity, project_id: str) -> JoinedRoom:
        """Subscribe first, then read: whatever is stored after lastSeq reaches this connection.

        The event stored after subscribing is also how a running executor learns its room changed
        (cloutagent_executor/broadcast.py, ``LiveFanout``): a join that adds a watcher always stores
        one. Joining a room the connection is in already changes nothing, so stores nothing."""
        project = self.projects.get(identity.tenant_id, project_id)
        if not self.room_store.subscribe(identity, project_id, identity.connection_id):
            return JoinedRoom(project, project.last_seq)
        [event] = self.publisher.publish(
            identity.tenant_id, project_id,
            [("member.joined", {"userId": identity.user_id, "connectionId": identity.connection_id})],
            last_seq=project.last_seq,
        )
        project = project.model_copy(update={"last_seq": event.seq, "updated_at": event.ts})
        return JoinedRoom(project, event.seq)

    def leave(self, identity: Identity, project_id: str) -> Project:
        project = self.projects.get(identity.tenant_id, project_id)
        self.room_store.unsubscribe(identity, project_id, identity.connection_id)
        self.publisher.publish(
            identity.tenant_id, project_id,
            [("member.left", {"userId": identity.user_id, "connectionId": identity.connection_id})],
            last_seq=project.last_seq,
        )
        return project

    def leave_all(self, identity: Identity, project_ids: set[str]) -> None:
        """On disconnect: drop the subscriptions and tell the rooms, best effort per room."""
        self.room_store.drop_subscriptions(identity.tenant_id, project_ids, identity.connection_id)
        for project_id in project_ids:
            try:
                self.publisher.publish(
                    identity.tenant_id, project_id,
                    [("member.left", {"userId": identity.user_id, "connectionId": identity.connection_id})],
                )
            except Exception:  # the project may have been deleted meanwhile
                continue

    def messages(self, identity: Identity, query: MessagesGet) -> EventPage:
        project = self.projects.get(identity.tenant_id, query.projectId)
        after = decode_cursor(query.cursor) if query.cursor else (query.sinceSeq or 0)
        since_ts = iso_millis(query.since) if query.since else None
        events, resume_after = self.log.read(
            identity.tenant_id, query.projectId, after_seq=after, limit=query.limit,
            since_ts=since_ts, names=query.events, max_read=MESSAGES_READ_BOUND,
        )
        next_cursor = encode_cursor(resume_after) if resume_after is not None else None
        return EventPage(query.projectId, events, next_cursor, project.last_seq)
