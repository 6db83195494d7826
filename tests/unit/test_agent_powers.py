"""Only admins decide what the agent may do unasked: its permission mode and its tools."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from cloutagent.domain.identity import Identity, Role
from cloutagent.errors import Forbidden
from cloutagent.protocol.actions import ProjectCreate, ProjectUpdate
from cloutagent.services.fanout import Fanout
from cloutagent.services.projects import ProjectService
from cloutagent.services.publisher import Publisher
from tests.fakes import FakeDatabase, FakeEventLog, FakeProjectStore, FakeRoomStore, FakeSockets


def person(role: Role) -> Identity:
    return Identity(tenant_id="t_a", user_id=f"u_{role.name}", role=role, connection_id=f"c_{role.name}")


@pytest.fixture
def projects() -> ProjectService:
    db, rooms = FakeDatabase(), FakeRoomStore()
    publisher = Publisher(FakeEventLog(db), Fanout(rooms, FakeSockets(), ThreadPoolExecutor(2)))
    return ProjectService(FakeProjectStore(db), rooms, publisher)


@pytest.mark.parametrize("agent", [{"permissionMode": "bypassPermissions"}, {"allowedTools": ["Bash"]},
                                   {"disallowedTools": ["Read"]}])
def test_a_member_may_not_create_a_project_with_agent_powers(projects, agent):
    with pytest.raises(Forbidden):
        projects.create(person(Role.member), ProjectCreate(name="p", agent=agent))


def test_a_member_may_change_the_rest_of_the_agent_but_not_its_powers(projects):
    # GIVEN a project an admin gave bypassPermissions
    project = projects.create(person(Role.admin), ProjectCreate(name="p", agent={"permissionMode": "bypassPermissions"}))
    # WHEN a member changes the model, keeping the powers as they are, it is allowed
    same_powers = {"permissionMode": "bypassPermissions", "model": "claude-sonnet-5"}
    projects.update(person(Role.member), ProjectUpdate(projectId=project.project_id, agent=same_powers))
    # but widening or narrowing a power is not
    with pytest.raises(Forbidden):
        projects.update(person(Role.member), ProjectUpdate(projectId=project.project_id,
                                                           agent={**same_powers, "allowedTools": ["Bash"]}))
    updated = projects.update(person(Role.admin), ProjectUpdate(projectId=project.project_id,
                                                                agent={**same_powers, "allowedTools": ["Bash"]}))
    assert updated.agent.allowed_tools == ["Bash"] and updated.agent.model == "claude-sonnet-5"
