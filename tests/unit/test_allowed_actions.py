"""whoami says which actions the connection's role may perform, exactly as the router decides."""

from __future__ import annotations

import pytest

from cloutagent.domain.identity import MIN_ROLE, Identity, Role, require_permission
from cloutagent.errors import Forbidden
from cloutagent.protocol.replies import whoami


@pytest.mark.parametrize("role", list(Role))
def test_allowed_actions_are_exactly_those_the_router_lets_through(role):
    me = Identity(tenant_id="t_1", user_id="u_1", role=role, connection_id="c_1")
    allowed = set(whoami(me)["allowedActions"])
    for action in MIN_ROLE:
        try:
            require_permission(me, action)
            assert action in allowed, action
        except Forbidden:
            assert action not in allowed, action


def test_a_viewer_watches_a_member_runs_an_admin_manages_the_team():
    actions = {role: set(whoami(Identity(tenant_id="t", user_id="u", role=role, connection_id="c"))["allowedActions"])
               for role in Role}
    assert "messages.get" in actions[Role.viewer] and "execute" not in actions[Role.viewer]
    assert "execute" in actions[Role.member] and "member.invite" not in actions[Role.member]
    assert {"member.invite", "apikey.create", "secret.set"} <= actions[Role.admin]
