"""Git host triggers in the template: the webhook route reaches git_trigger with no API Gateway
authorizer (the delivery's signature is the credential, checked in the function), and trigger.set
knows the HTTP API's URL it gives out."""

from __future__ import annotations

import pytest

from infra.definitions import load_definitions
from tests.infra.cfn import function_ids, refs

pytestmark = pytest.mark.infra

ROUTES = load_definitions().routes
HANDLERS = {name: f.handler for name, f in ROUTES.functions.items()}


def test_the_hook_route_reaches_the_receiver_through_the_http_api(synth):
    http_apis = {k for k, r in synth.of_type("AWS::ApiGatewayV2::Api").items()
                 if r["Properties"].get("ProtocolType") == "HTTP"}
    spec = ROUTES.functions["git_trigger"]
    key = f"{spec.method} {spec.path}"
    assert key == "POST /v1/hooks/{provider}/{tenantId}/{projectId}"
    [route] = [r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
               if r["Properties"]["RouteKey"] == key and set(refs(r["Properties"]["ApiId"])) & http_apis]
    assert route.get("AuthorizationType", "NONE") == "NONE"
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    (integration_id,) = [ref for ref in refs(route["Target"]) if ref in integrations]
    target = integrations[integration_id]["Properties"]
    assert target["PayloadFormatVersion"] == "2.0"
    assert function_ids(synth.resources, HANDLERS)["git_trigger"] in set(refs(target["IntegrationUri"]))


def test_trigger_set_knows_the_http_api_url_and_the_receiver_can_launch_runs(synth):
    functions = function_ids(synth.resources, HANDLERS)
    http_apis = {k for k, r in synth.of_type("AWS::ApiGatewayV2::Api").items()
                 if r["Properties"].get("ProtocolType") == "HTTP"}
    environment = synth.resources[functions["triggers"]]["Properties"]["Environment"]["Variables"]
    assert set(refs(environment["CLOUTAGENT_HTTP_API_URL"])) & http_apis
    receiver = synth.resources[functions["git_trigger"]]["Properties"]["Environment"]["Variables"]
    for name in ("CLOUTAGENT_ECS_CLUSTER", "CLOUTAGENT_TASK_DEFINITION", "CLOUTAGENT_KMS_KEY_ID"):
        assert name in receiver, name
