"""REST v1 in the template: every rest.json route on the HTTP API, integrated with the function that
serves its action, which may read the API-key lookup index to authenticate."""

from __future__ import annotations

import json

import pytest

from infra.definitions import load_definitions
from tests.infra.cfn import actions, function_ids, function_roles, refs, statements_by_role

pytestmark = pytest.mark.infra

DEFINITIONS = load_definitions()
HANDLERS = {name: f.handler for name, f in DEFINITIONS.routes.functions.items()}


def _http_routes(synth) -> dict[str, dict]:
    apis = {k for k, r in synth.of_type("AWS::ApiGatewayV2::Api").items() if r["Properties"].get("ProtocolType") == "HTTP"}
    return {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
            if set(refs(r["Properties"]["ApiId"])) & apis}


def test_every_rest_route_is_on_the_http_api_and_reaches_its_actions_function(synth):
    routes = _http_routes(synth)
    functions = function_ids(synth.resources, HANDLERS)
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    assert DEFINITIONS.rest_routes
    for route in DEFINITIONS.rest_routes:
        key = f"{route.method} {route.path}"
        assert key in routes, key
        (integration_id,) = [ref for ref in refs(routes[key]["Target"]) if ref in integrations]
        target = integrations[integration_id]["Properties"]
        assert target["IntegrationType"] == "AWS_PROXY" and target["PayloadFormatVersion"] == "2.0"
        assert functions[route.function] in set(refs(target["IntegrationUri"])), key
        # no API Gateway authorizer: the function authenticates (a 401 carries the JSON error body)
        assert routes[key].get("AuthorizationType", "NONE") == "NONE", key


def test_api_gateway_may_invoke_each_rest_function_for_its_routes_only(synth):
    functions = function_ids(synth.resources, HANDLERS)
    permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    for name in DEFINITIONS.rest_functions():
        mine = [p for p in permissions if functions[name] in set(refs(p["FunctionName"]))]
        assert mine, name


def test_each_rest_function_can_look_an_api_key_up_and_verify_tokens(synth):
    roles = function_roles(synth.resources, HANDLERS)
    functions = function_ids(synth.resources, HANDLERS)
    statements = statements_by_role(synth.resources)
    for name in DEFINITIONS.rest_functions():
        reads_index = [s for s in statements[roles[name]]
                       if s.get("Sid") == "LookupIndex" and "dynamodb:Query" in actions(s)
                       and "/index/" in json.dumps(s["Resource"])]
        assert reads_index, name
        env = synth.resources[functions[name]]["Properties"]["Environment"]["Variables"]
        assert {"CLOUTAGENT_USER_POOL_ID", "CLOUTAGENT_USER_POOL_CLIENT_ID"} <= set(env), name


def test_the_api_url_is_an_output(synth):
    assert "ApiUrl" in synth.template.to_json()["Outputs"]
