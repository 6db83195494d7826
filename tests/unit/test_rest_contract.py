"""The REST API's routes, models and OpenAPI document agree with the WebSocket actions they run."""

from __future__ import annotations

import importlib

import pytest
from openapi_spec_validator import validate as validate_openapi

from cloutagent import definitions
from cloutagent.domain.identity import (MIN_ROLE, PROJECT_SCOPED_TENANT_ACTIONS, TENANT_ACTIONS, Identity, Role,
                                        require_permission, require_project_scope)
from cloutagent.errors import ERROR_CODES, Forbidden, ProjectNotFound
from cloutagent.gateway.http import STATUS
from cloutagent.gateway.openapi import REST_ACTIONS, document
from cloutagent.gateway.rest import rest_routes
from cloutagent.protocol.replies import whoami


def registered_routes() -> dict:
    """Every action as the functions register it: its handler and the model its data is checked with."""
    found = {}
    spec = definitions.routes()
    for action, function in spec["routes"].items():
        if action.startswith("$"):
            continue
        module = importlib.import_module(spec["functions"][function]["handler"].rpartition(".")[0])
        found[action] = module.app.routes[action]
    return found


def test_every_rest_route_runs_an_action_the_websocket_serves_with_the_same_request_model():
    actions = registered_routes()
    for route in rest_routes().values():
        assert route.action in actions, route.route_key
        assert REST_ACTIONS[route.action][0] is actions[route.action].model, route.route_key
        for name in route.path_parameters:
            assert name in actions[route.action].model.model_fields, (route.route_key, name)


def test_the_openapi_document_is_valid_openapi_3_1_and_lists_every_route():
    doc = document("test")
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.1")
    listed = {f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops}
    assert listed == set(rest_routes())


def test_no_tenant_id_reaches_the_documented_replies():
    schemas = document("test")["components"]["schemas"]
    for name in ("Project", "Execution", "ExecutionSummary"):
        assert "tenantId" not in schemas[name]["properties"], name
    assert "prompt" not in schemas["ExecutionSummary"]["properties"]


def test_every_error_code_has_an_http_status():
    assert set(ERROR_CODES) <= set(STATUS)


def test_tenant_actions_are_exactly_the_actions_that_name_no_project():
    for action, route in registered_routes().items():
        names_a_project = "projectId" in route.model.model_fields
        assert names_a_project == (action not in TENANT_ACTIONS), action
    assert PROJECT_SCOPED_TENANT_ACTIONS <= TENANT_ACTIONS


SCOPED = Identity(tenant_id="t", user_id="apikey:k", role=Role.admin, auth_type="apikey",
                  project_ids=frozenset({"p_a"}))


def test_a_key_limited_to_a_project_finds_no_other_project_and_no_tenant_wide_power():
    require_project_scope(SCOPED, "execute", "p_a")
    with pytest.raises(ProjectNotFound):
        require_project_scope(SCOPED, "execute", "p_b")
    for action in TENANT_ACTIONS - PROJECT_SCOPED_TENANT_ACTIONS:
        with pytest.raises(Forbidden):
            require_project_scope(SCOPED, action, None)
    require_project_scope(SCOPED, "project.list", None)


def test_whoami_of_a_limited_key_offers_only_what_its_scope_lets_through():
    allowed = set(whoami(SCOPED)["allowedActions"])
    for action in MIN_ROLE:
        try:
            require_permission(SCOPED, action)
            require_project_scope(SCOPED, action, None if action in TENANT_ACTIONS else "p_a")
            assert action in allowed, action
        except (Forbidden, ProjectNotFound):
            assert action not in allowed, action
    assert whoami(SCOPED)["projectIds"] == ["p_a"]
