"""The WebSocket API, generated from the route table in routes.json.

Every route key becomes a route whose integration is the function routes.json names; frames the
client sends get a route response, so the function's return body goes back to the sender. Only
``$connect`` carries the authorizer: API Gateway evaluates WebSocket authorizers on connect only,
and every later frame rides on that authorized connection.
"""

from __future__ import annotations

from typing import Mapping

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.access_logs import JsonAccessLogs
from infra.definitions import LIFECYCLE_ROUTES, RouteTable
from infra.nag import acknowledge

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "connectionId": "$context.connectionId",
    "status": "$context.status",
    "sourceIp": "$context.identity.sourceIp",
    "tenantId": "$context.authorizer.tenantId",
    "authorizerError": "$context.authorizer.error",
    "integrationStatus": "$context.integration.status",
    "integrationError": "$context.integration.error",
    "errorMessage": "$context.error.message",
}


class WebSocketApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        route_table: RouteTable,
        functions: Mapping[str, lambda_.IFunction],
        throttle_rate: int,
        throttle_burst: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        if "$connect" not in route_table.routes:
            raise ValueError("routes.json has no $connect route, so nothing would be authorized")

        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"cloutagent-{stage_name}",
            description="cloutagent WebSocket API (routes generated from routes.json)",
            route_selection_expression=route_table.route_selection_expression,
        )
        self.authorizer = authorizers.WebSocketLambdaAuthorizer(
            "ConnectAuthorizer",
            functions[route_table.authorizer],
            # No identity sources: the token may come from the `token`/`apiKey` query parameters or
            # the Authorization/X-API-Key headers, and API Gateway would reject a connect missing
            # any listed source before the authorizer could look at the others.
            identity_source=[],
        )
        # One integration per function, shared by all of its routes.
        by_function: dict[str, integrations.WebSocketLambdaIntegration] = {}
        self.routes: dict[str, apigwv2.WebSocketRoute] = {}
        for route_key, function_name in route_table.routes.items():
            integration = by_function.get(function_name)
            if integration is None:
                integration = integrations.WebSocketLambdaIntegration(
                    f"{function_name}-integration", functions[function_name]
                )
                by_function[function_name] = integration
            route = self.api.add_route(
                route_key,
                integration=integration,
                authorizer=self.authorizer if route_key == "$connect" else None,
                return_response=route_key not in LIFECYCLE_ROUTES,
            )
            self.routes[route_key] = route
            if route_key != "$connect":
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    "WebSocket APIs only run authorizers on $connect; this route is reachable only over "
                    "a connection the $connect authorizer accepted, and its handler reads the tenant "
                    "from that authorizer context.",
                )
        self._remove_identity_sources()

        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=removal_policy)
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
            access_log_settings=JsonAccessLogs(log_group=access_logs, fields=ACCESS_LOG_FIELDS),
        )

    @property
    def url(self) -> str:
        """wss:// URL clients connect to."""
        return self.stage.url

    @property
    def connections_url(self) -> str:
        """https:// management endpoint for posting to connections."""
        return self.stage.callback_url

    def connections_arn(self, method: str = "POST") -> str:
        """ARN of every connection of this stage, for execute-api:ManageConnections."""
        return Stack.of(self).format_arn(
            service="execute-api",
            resource=self.api.api_id,
            resource_name=f"{self.stage.stage_name}/{method}/@connections/*",
        )

    def _remove_identity_sources(self) -> None:
        # The L2 renders `IdentitySource: []`; leave the property out entirely instead.
        for child in self.api.node.find_all():
            if isinstance(child, apigwv2.CfnAuthorizer):
                child.add_property_deletion_override("IdentitySource")
