"""A signed-in person with no tenant yet (an invitee) may answer invitations and nothing else (#20).

GIVEN the authorizer's context for such a person (tenantId "", invitee "true)
WHEN any action is sent through the very router its function uses
THEN every action but the invitee's few is FORBIDDEN before its handler runs, so no code path
reaches data with the empty tenant id.
"""

from __future__ import annotations

import importlib
import json

import pytest

from cloutagent import definitions
from cloutagent.domain.identity import INVITEE_ACTIONS, MIN_ROLE, TENANT_ACTIONS, Identity, Role, require_permission
from cloutagent.errors import Forbidden
from cloutagent.gateway.events import authorizer_context, identity_from_event
from cloutagent.protocol.replies import whoami
from cloutagent.services.connections import ConnectionService

INVITEE = Identity(tenant_id="", user_id="sub-1", role=Role.viewer, display_name="ana@example.com", invitee=True)


def routed_actions() -> dict[str, str]:
    spec = definitions.routes()
    return {action: spec["functions"][fn]["handler"].rpartition(".")[0]
            for action, fn in spec["routes"].items() if not action.startswith("$")}


def frame_event(action: str, data: dict) -> dict:
    return {"requestContext": {"routeKey": action, "eventType": "MESSAGE", "connectionId": "c_1", "requestId": "r",
                               "authorizer": authorizer_context(INVITEE)},
            "body": json.dumps({"action": action, "requestId": "r1", "data": data})}


def test_the_authorizer_context_carries_the_invitee_mark_and_nothing_of_a_tenant():
    context = authorizer_context(INVITEE)
    assert context["invitee"] == "true" and context["tenantId"] == ""
    event = {"requestContext": {"connectionId": "c_1", "authorizer": context}}
    assert identity_from_event(event) == INVITEE.__class__(**{**INVITEE.__dict__, "connection_id": "c_1"})


def test_every_action_but_the_invitee_s_is_refused_by_the_router_before_its_handler(monkeypatch):
    def no_container():
        raise AssertionError("a refused action reached the container")

    # every handler module imported first: one imported under the patch would keep no_container
    # as its get_container for the rest of the session (another test's schedules handler did)
    apps = {action: importlib.import_module(module_name).app for action, module_name in routed_actions().items()}
    monkeypatch.setattr("cloutagent.wiring.get_container", no_container)
    refused = 0
    for action, app in sorted(apps.items()):
        if action in INVITEE_ACTIONS:
            continue
        data = {} if action in TENANT_ACTIONS else {"projectId": "p_1"}
        reply = json.loads(app.handle(frame_event(action, data))["body"])
        assert reply["type"] == "error" and reply["error"]["code"] == "FORBIDDEN", (action, reply)
        refused += 1
    assert refused == len(MIN_ROLE) - len(INVITEE_ACTIONS) > 40


def test_whoami_offers_an_invitee_exactly_the_invitation_actions():
    assert set(whoami(INVITEE)["allowedActions"]) == INVITEE_ACTIONS
    for action in MIN_ROLE:
        if action in INVITEE_ACTIONS:
            require_permission(INVITEE, action)
        else:
            with pytest.raises(Forbidden):
                require_permission(INVITEE, action)


def test_an_invitee_connection_writes_nothing_anywhere():
    class NoStore:
        def __getattr__(self, name):
            raise AssertionError(f"an invitee's connection touched the store: {name}")

    service = ConnectionService(NoStore(), rooms=NoStore(), limits=NoStore())
    service.admit(INVITEE)
    service.disconnect(INVITEE)


def test_ping_and_whoami_answer_an_invitee():
    app = importlib.import_module("functions.session.handler").app
    reply = json.loads(app.handle(frame_event("whoami", {}))["body"])
    assert reply["data"]["tenantId"] == "" and reply["data"]["displayName"] == "ana@example.com"


class _Verifier:
    def verify(self, token: str) -> dict:
        return {"sub": "sub-1", "username": "user-1"}


class _NoMembership:
    def find_membership(self, user_id: str):
        return None


class _Directory:
    def __init__(self, emails: dict[str, str | None]):
        self.emails = emails

    def verified_email(self, username: str) -> str | None:
        return self.emails.get(username)


def test_a_token_without_a_membership_is_an_invitee_only_with_a_verified_email_and_only_at_the_handshake():
    from cloutagent.services.auth import Authenticator

    def identity(directory, invitees=True):
        auth = Authenticator(_Verifier(), _NoMembership(), directory=directory)
        return auth.authenticate({}, {"token": "t"}, invitees=invitees)

    # the email comes from the directory, asked by the token's username
    me = identity(_Directory({"user-1": "ana@example.com"}))
    assert me.invitee and me.tenant_id == "" and me.display_name == "ana@example.com" and me.user_id == "sub-1"
    # no verified email, no directory, or not the WebSocket handshake (REST): refused as before
    for refused in (lambda: identity(_Directory({})), lambda: identity(None),
                    lambda: identity(_Directory({"user-1": "ana@example.com"}), invitees=False)):
        with pytest.raises(Forbidden):
            refused()
