"""One permission table, consulted by every action."""

import json

import pytest

from cloutagent import definitions
from cloutagent.domain.identity import MIN_ROLE, Identity, Role, require_can_grant, require_permission
from cloutagent.errors import Forbidden


def who(role: str) -> Identity:
    return Identity(tenant_id="t", user_id="u", role=Role.parse(role))


def test_every_routed_action_has_a_permission_entry():
    actions = [a for a in definitions.routes()["routes"] if not a.startswith("$")]
    assert sorted(set(actions) - set(MIN_ROLE)) == []


@pytest.mark.parametrize("action", ["project.create", "project.update", "project.delete", "execute", "agent.kill"])
def test_viewers_cannot_change_anything(action):
    with pytest.raises(Forbidden):
        require_permission(who("viewer"), action)
    require_permission(who("member"), action)


def test_unknown_actions_are_refused_for_everyone_even_owners():
    with pytest.raises(Forbidden):
        require_permission(who("owner"), "root.shell")


def test_nobody_grants_a_role_above_their_own():
    require_can_grant(who("admin"), Role.member)
    require_can_grant(who("admin"), Role.admin)
    with pytest.raises(Forbidden):
        require_can_grant(who("admin"), Role.owner)


def test_every_routed_action_has_a_sample_event_that_names_it():
    import json
    from pathlib import Path

    from cloutagent_dev.events import load_event

    for action in [a for a in definitions.routes()["routes"] if not a.startswith("$")]:
        assert Path(f"events/{action}.json").is_file(), action
        event = load_event(action, tenant_id="t_a", user_id="u_1", role="owner", connection_id="c_1", project_id="p_1")
        assert json.loads(event["body"])["action"] == action
        assert event["requestContext"]["routeKey"] == action
