"""The WebSocket and webhook APIs are exactly what routes.json describes."""

from __future__ import annotations

import json

import pytest

from infra.app import cdk_json_context
from infra.definitions import LIFECYCLE_ROUTES, load_definitions
from tests.infra.cfn import function_ids, getatt, refs

pytestmark = pytest.mark.infra

ROUTES = load_definitions().routes


@pytest.fixture(scope="module")
def functions(synth) -> dict[str, str]:
    """routes.json function name -> function logical id (matched by its handler string)."""
    return function_ids(synth.resources, {name: f.handler for name, f in ROUTES.functions.items()})


@pytest.fixture(scope="module")
def websocket_routes(synth) -> dict[str, dict]:
    (api_id,) = [k for k, r in synth.of_type("AWS::ApiGatewayV2::Api").items() if r["Properties"].get("ProtocolType") == "WEBSOCKET"]
    return {
        r["Properties"]["RouteKey"]: {"id": k, **r["Properties"]}
        for k, r in synth.of_type("AWS::ApiGatewayV2::Route").items()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }


def _integrated_function(synth, route: dict) -> str:
    (integration_id,) = refs(route["Target"])
    uri = synth.resources[integration_id]["Properties"]["IntegrationUri"]
    (function_id,) = [lid for lid in refs(uri) if synth.resources[lid]["Type"] == "AWS::Lambda::Function"]
    return function_id


def test_route_selection_comes_from_routes_json(synth):
    synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": ROUTES.route_selection_expression},
    )


def test_the_api_has_exactly_the_routes_of_routes_json(websocket_routes):
    assert set(websocket_routes) == set(ROUTES.routes)


@pytest.mark.parametrize("route_key", sorted(ROUTES.routes))
def test_each_route_integrates_with_the_function_routes_json_names(synth, websocket_routes, functions, route_key):
    route = websocket_routes[route_key]

    assert _integrated_function(synth, route) == functions[ROUTES.routes[route_key]]


def test_each_function_is_invokable_by_api_gateway_for_its_routes(synth, websocket_routes, functions):
    permitted = {
        getatt(p["Properties"]["FunctionName"])[0]
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    assert {functions[name] for name in set(ROUTES.routes.values())} <= permitted


def test_frames_from_clients_get_two_way_route_responses(synth, websocket_routes):
    responses = {
        r["Properties"]["RouteId"]["Ref"]: r["Properties"]["RouteResponseKey"]
        for r in synth.of_type("AWS::ApiGatewayV2::RouteResponse").values()
    }
    for key, route in websocket_routes.items():
        if key in LIFECYCLE_ROUTES:
            assert route["id"] not in responses, f"{key} cannot answer the client"
        else:
            assert responses.get(route["id"]) == "$default", f"{key} has no route response"
            assert route["RouteResponseSelectionExpression"] == "$default"


def test_connect_is_guarded_by_the_request_authorizer_from_routes_json(synth, websocket_routes, functions):
    connect = websocket_routes["$connect"]
    assert connect["AuthorizationType"] == "CUSTOM"

    (authorizer_id,) = refs(connect["AuthorizerId"])
    authorizer = synth.resources[authorizer_id]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert functions[ROUTES.authorizer] in set(refs(authorizer["AuthorizerUri"]))
    # The token may arrive in a query parameter or a header: no source may be mandatory.
    assert "IdentitySource" not in authorizer


def test_only_connect_carries_an_authorizer(websocket_routes):
    assert {k for k, r in websocket_routes.items() if r.get("AuthorizationType") != "NONE"} == {"$connect"}


def test_the_stage_is_throttled_and_access_logged(synth):
    context = cdk_json_context()
    stage = synth.template.find_resources(
        "AWS::ApiGatewayV2::Stage", {"Properties": {"StageName": context["stage"]}}
    )
    (props,) = [s["Properties"] for s in stage.values()]

    assert props["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": context["wsThrottleBurst"],
        "ThrottlingRateLimit": context["wsThrottleRate"],
    }
    (log_group,) = refs(props["AccessLogSettings"]["DestinationArn"])
    assert synth.resources[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.requestId" in json.loads(props["AccessLogSettings"]["Format"]).values()


def test_webhook_routes_come_from_routes_json(synth, functions):
    http_functions = ROUTES.functions_with_trigger("http")
    assert http_functions, "routes.json declares the Stripe webhook"
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()}

    for definition in http_functions:
        route = routes[f"{definition.method} {definition.path}"]
        assert _integrated_function(synth, route) == functions[definition.name]
