"""Stripe in and out: the webhook HTTP API, the usage reporter on the table stream, the Stripe secret.

Webhook routes come from routes.json (functions whose trigger is ``http`` name a method and path).
The usage reporter reads the outbox rows off the table stream; a batch that keeps failing is split
(bisect) to isolate the poison record, retried a bounded number of times, and then parked on a
dead-letter queue (alarmed) instead of blocking the shard behind it.
"""

from __future__ import annotations

import json
from typing import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.access_logs import JsonAccessLogs
from infra.definitions import FunctionDefinition
from infra.nag import acknowledge

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
}


class Billing(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        webhooks: Sequence[tuple[FunctionDefinition, lambda_.IFunction]],
        usage_reporter: lambda_.IFunction,
        table: dynamodb.ITable,
        stripe_secret_name: str,
        throttle_rate: int,
        throttle_burst: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        # The plain name, not the secret's token: functions look the secret up by this exact string.
        self.stripe_secret_name = stripe_secret_name or f"cloutagent/{stage}/stripe"
        self.stripe_secret = self._stripe_secret(stripe_secret_name, removal_policy)

        self.http_api = apigwv2.HttpApi(
            self,
            "WebhookApi",
            api_name=f"cloutagent-{stage}-webhooks",
            description="Inbound webhooks (routes.json) and the REST API v1 (rest.json)",
            create_default_stage=False,
        )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=removal_policy)
        self.http_stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
            access_log_settings=JsonAccessLogs(log_group=access_logs, fields=ACCESS_LOG_FIELDS),
        )
        self.webhook_urls: dict[str, str] = {}
        for definition, fn in webhooks:
            if not (definition.method and definition.path):
                raise ValueError(f"http function {definition.name} needs a method and a path in routes.json")
            routes = self.http_api.add_routes(
                path=definition.path,
                methods=[apigwv2.HttpMethod[definition.method.upper()]],
                integration=integrations.HttpLambdaIntegration(f"{definition.name}-integration", fn),
            )
            for route in routes:
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    "Stripe cannot sign requests with AWS credentials or a bearer token; the function "
                    "verifies the Stripe-Signature header with the webhook signing secret and rejects "
                    "anything else. The stage is throttled.",
                )
            self.webhook_urls[definition.name] = f"{self.http_api.api_endpoint}{definition.path}"

        self.usage_dlq = sqs.Queue(
            self,
            "UsageReporterFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.usage_dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter destination of the usage_reporter stream mapping "
            "(on-failure destination, which cdk-nag does not recognise as a DLQ).",
        )
        usage_reporter.add_event_source(
            event_sources.DynamoEventSource(
                table,
                # From the oldest record: a recreated mapping must not skip unreported usage.
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                max_batching_window=Duration.seconds(5),
                bisect_batch_on_error=True,
                retry_attempts=5,
                max_record_age=Duration.hours(24),
                report_batch_item_failures=True,
                on_failure=event_sources.SqsDlq(self.usage_dlq),
                # Only new outbox records wake the reporter, not every write to the table.
                filters=[lambda_.FilterCriteria.filter({
                    "dynamodb": {"NewImage": {"SK": {"S": [{"prefix": "METER#"}]}, "status": {"S": ["pending"]}}}
                })],
            )
        )
        # A sweep for records the stream gave up on (after its DLQ): anything pending > 2 minutes.
        events.Rule(
            self, "UsageSweep", description="Report metered usage the stream did not deliver",
            schedule=events.Schedule.rate(Duration.minutes(5)),
            targets=[targets.LambdaFunction(usage_reporter)],
        )

    def _stripe_secret(self, existing_name: str, removal_policy: RemovalPolicy) -> secretsmanager.ISecret:
        if existing_name:
            return secretsmanager.Secret.from_secret_name_v2(self, "StripeSecret", existing_name)
        secret = secretsmanager.Secret(
            self,
            "StripeSecret",
            secret_name=self.stripe_secret_name,
            description='Stripe credentials: {"apiKey": "sk_...", "webhookSecret": "whsec_..."}',
            # Placeholder values of the right shape; docs/operations.md says how to put the real ones.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"apiKey": "sk_replace_me"}),
                generate_string_key="webhookSecret",
                exclude_punctuation=True,
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Stripe API keys and webhook signing secrets are issued by Stripe, not by AWS, so no "
            "rotation Lambda can roll them; docs/operations.md has the manual rotation procedure.",
        )
        return secret
