"""REST API v1 on the deployment's HTTP API: one route per rest.json entry, integrated with the
function that serves the route's WebSocket action (routes.json), so both transports run one handler.

No API Gateway authorizer sits in front: the functions authenticate ``X-API-Key`` or a Bearer token
with the same Authenticator as the WebSocket's ``$connect`` (gateway/rest.py), because an HTTP API
authorizer can answer neither 401 with the JSON error body nor accept one of two headers.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.definitions import RestRoute
from infra.nag import acknowledge


class RestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        http_api: apigwv2.HttpApi,
        routes: Sequence[RestRoute],
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, id)
        self.url = f"{http_api.api_endpoint}"
        by_function: dict[str, integrations.HttpLambdaIntegration] = {}
        for route in routes:
            integration = by_function.get(route.function)
            if integration is None:
                integration = integrations.HttpLambdaIntegration(f"rest-{route.function}", functions[route.function])
                by_function[route.function] = integration
            for added in http_api.add_routes(path=route.path, methods=[apigwv2.HttpMethod[route.method]],
                                             integration=integration):
                acknowledge(
                    added, "AwsSolutions-APIG4",
                    "Public route (health, the OpenAPI document)" if route.public else
                    "The function authenticates X-API-Key or a Cognito Bearer token itself, with the same "
                    "Authenticator as the WebSocket authorizer, so that a refusal is a 401 with the JSON "
                    "error body (an HTTP API authorizer cannot answer that). The stage is throttled.",
                )
