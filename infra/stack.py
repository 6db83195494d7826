"""The cloutagent stack: composes the constructs and wires who may do what. Nothing else.

Each function's permissions are listed in one place below (``_grant``), so a reviewer can read the
whole access matrix top to bottom; anything not listed is denied.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import policies
from infra.config import InfraConfig
from infra.constructs.api_gateway_account import ApiGatewayAccount
from infra.constructs.billing import Billing
from infra.constructs.console_hosting import ConsoleHosting
from infra.constructs.data import Data
from infra.constructs.executions import Executions
from infra.constructs.executor_pool import ExecutorPool
from infra.constructs.functions import METRICS_NAMESPACE, Functions
from infra.constructs.identity import Identity
from infra.constructs.layers import SharedLayers
from infra.constructs.monitoring import Monitoring
from infra.constructs.network import Network
from infra.constructs.notifications import Notifications
from infra.constructs.rest_api import RestApi
from infra.constructs.schedules import Schedules
from infra.constructs.websocket_api import WebSocketApi
from infra.definitions import LAYER_ROOT, Definitions

WORKSPACE_ROOT = "/mnt/workspaces"
EXECUTOR_CONTAINER = "executor"
# The executor's folders of the sessions bucket, each followed by the tenant id: transcripts
# (S3SessionStore), workspace snapshots and runs' diffs.
TENANT_FOLDERS = ("sessions/", "workspaces/", "diffs/")
DIFFS_FOLDER = "diffs/"

# Table access per function: "read" or "write" (write includes read). Absent: no table access.
TABLE_ACCESS = {
    "authorizer": "read",
    "connect": "write",
    "disconnect": "write",
    "projects": "write",
    "rooms": "write",
    "access": "write",
    "executions": "write",
    "secrets": "write",
    "notifications": "write",
    "notifier": "read",
    "triggers": "write",
    "git_trigger": "write",
    "git_follow_up": "read",
    "billing": "write",
    "stripe_webhook": "write",
    "usage_reporter": "write",
    "task_state": "write",
    "post_confirmation": "write",
    "schedules": "write",
    "scheduled_run": "write",
}
# Functions that find a tenant from outside it (user id, API-key hash, a pool task's ARN) on the lookup index.
LOOKUP_INDEX_USERS = ("authorizer", "connect", "post_confirmation", "access", "stripe_webhook", "usage_reporter",
                      "task_state")
# Functions that publish room events to connected clients.
CONNECTION_POSTERS = ("disconnect", "projects", "rooms", "access", "executions", "task_state", "stripe_webhook",
                      "notifications", "secrets", "scheduled_run", "git_trigger")
# Revoking a key, removing a member or changing a role closes that principal's connections.
CONNECTION_CLOSERS = ("access",)
# Powertools Idempotency's records for Stripe webhook deliveries (see services/billing/webhooks.py).
IDEMPOTENCY_PARTITION = "IDEMPOTENCY#stripe-webhook"
# One guard item per person (keys.PERSON_PK): written with a membership, so a person holds one.
PERSON_PARTITION = "PERSON"
PERSON_GUARD_WRITERS = ("access", "post_confirmation")
# Functions that read the Stripe credentials.
STRIPE_USERS = ("billing", "stripe_webhook", "usage_reporter")
# The encryption-context name webhook signing secrets are sealed under (domain/notifications.py):
# the only project-key use the webhook functions get, so they can open no project secret.
WEBHOOK_SECRET_CONTEXT_NAME = "@webhook"
# Git host triggers' shared secrets are sealed under a name of their own (domain/triggers.py).
TRIGGER_SECRET_CONTEXT_NAME = "@trigger"
# Functions that start runs (ExecutionService.start), so launch the executor task.
RUN_STARTERS = ("executions", "scheduled_run", "git_trigger")
# Functions that open a project's repository token (a project secret) to comment on its Git host.
REPOSITORY_TOKEN_READERS = ("git_trigger", "git_follow_up")


class CloutagentStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, config: InfraConfig, definitions: Definitions, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, description=f"cloutagent ({config.stage})", **kwargs)
        routes = definitions.routes
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        retention = logs.RetentionDays[_retention_name(config.log_retention_days)]

        network = Network(
            self, "Network", max_azs=config.max_azs, nat_gateways=config.nat_gateways,
            log_retention=retention, removal_policy=removal,
        )
        data = Data(
            self, "Data", stage=config.stage, table_definition=definitions.table,
            sessions_expiration_days=config.sessions_expiration_days, removal_policy=removal,
        )
        identity = Identity(
            self, "Identity", stage=config.stage, allowed_origins=config.allowed_origins,
            require_mfa=config.require_mfa, plus_tier=config.cognito_plus_tier, removal_policy=removal,
        )
        layers = SharedLayers(
            self, "Layers", layer_root=LAYER_ROOT, bundle_dependencies=config.bundle_dependencies,
            groups=[g for d in routes.functions.values() for g in d.dependency_groups],
        )
        functions = Functions(
            self, "Functions", definitions=routes.functions.values(), code_root=config.functions_root,
            layers=layers.for_groups, stage=config.stage, memory_mb=config.lambda_memory_mb,
            log_retention=retention, removal_policy=removal,
        )
        websocket = WebSocketApi(
            self, "WebSocket", stage_name=config.stage, route_table=routes, functions=functions.by_name,
            throttle_rate=config.ws_throttle_rate, throttle_burst=config.ws_throttle_burst,
            log_retention=retention, removal_policy=removal,
        )
        if config.api_gateway_account_role:
            account = ApiGatewayAccount(self, "ApiGatewayAccount")
            websocket.stage.node.add_dependency(account)
        billing = Billing(
            self, "Billing", stage=config.stage,
            webhooks=[(d, functions[d.name]) for d in routes.functions_with_trigger("http")],
            usage_reporter=functions["usage_reporter"], table=data.table,
            stripe_secret_name=config.stripe_secret_name,
            throttle_rate=config.webhook_throttle_rate, throttle_burst=config.webhook_throttle_burst,
            log_retention=retention, removal_policy=removal,
        )
        # REST v1 shares the HTTP API with the webhooks; each route goes to its action's function.
        rest = RestApi(self, "RestApi", http_api=billing.http_api, routes=definitions.rest_routes,
                       functions=functions.by_name)
        self.rest_functions = definitions.rest_functions()
        Notifications(
            self, "Notifications", notifier=functions["notifier"], table=data.table,
            stream_filter=routes.functions["notifier"].stream_filter or {},
        )
        Notifications(
            self, "GitFollowUp", notifier=functions["git_follow_up"], table=data.table,
            stream_filter=routes.functions["git_follow_up"].stream_filter or {},
        )
        # trigger.set gives out the endpoint a Git host posts to.
        functions["triggers"].add_environment("CLOUTAGENT_HTTP_API_URL", billing.http_api.api_endpoint)
        executions = Executions(
            self, "Executions", stage=config.stage, vpc=network.vpc, image=config.executor_image,
            cpu=config.executor_cpu, memory_mib=config.executor_memory_mib,
            ephemeral_storage_gib=config.executor_ephemeral_storage_gib, container_name=EXECUTOR_CONTAINER,
            environment={
                "CLOUTAGENT_STAGE": config.stage,
                "CLOUTAGENT_TABLE_NAME": data.table.table_name,
                "CLOUTAGENT_CONNECTIONS_URL": websocket.connections_url,
                "CLOUTAGENT_KMS_KEY_ID": data.project_key.key_arn,
                "CLOUTAGENT_SESSIONS_BUCKET": data.sessions_bucket.bucket_name,
                "CLOUTAGENT_WORKSPACE_ROOT": WORKSPACE_ROOT,
                # The name only (no read grant): finished runs are recorded for metering when set.
                "CLOUTAGENT_STRIPE_SECRET_NAME": billing.stripe_secret_name,
                "POWERTOOLS_SERVICE_NAME": "executor",
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            on_task_stopped=functions["task_state"], log_retention=retention, removal_policy=removal,
        )
        pool = None
        if config.executor_pool_size:
            pool = ExecutorPool(self, "ExecutorPool", size=config.executor_pool_size, container=executions.container)
            for key, value in pool.launcher_environment.items():
                functions["executions"].add_environment(key, value)

        # The schedules function makes Scheduler schedules; each fires scheduled_run, which starts runs
        # as execute does (so it launches executors as the executions function does).
        schedules = Schedules(self, "Schedules", stage=config.stage, target=functions["scheduled_run"])
        for key, value in schedules.environment.items():
            functions["schedules"].add_environment(key, value)
        functions["scheduled_run"].add_environment("CLOUTAGENT_SCHEDULE_GROUP", schedules.group_name)
        for key, value in (pool.launcher_environment.items() if pool else ()):
            functions["scheduled_run"].add_environment(key, value)
            functions["git_trigger"].add_environment(key, value)  # a Git host comment starts runs too

        # Cognito invokes this on confirmation; it gets no pool id in its environment (see Identity).
        identity.user_pool.add_trigger(
            cognito.UserPoolOperation.POST_CONFIRMATION, functions["post_confirmation"]
        )
        functions.add_environment(
            {
                "CLOUTAGENT_USER_POOL_ID": identity.user_pool.user_pool_id,
                "CLOUTAGENT_USER_POOL_CLIENT_ID": identity.client.user_pool_client_id,
            },
            except_for={"post_confirmation"},
        )
        functions.add_environment(
            {
                "CLOUTAGENT_TABLE_NAME": data.table.table_name,
                "CLOUTAGENT_CONNECTIONS_URL": websocket.connections_url,
                "CLOUTAGENT_KMS_KEY_ID": data.project_key.key_arn,
                "CLOUTAGENT_SESSIONS_BUCKET": data.sessions_bucket.bucket_name,
                "CLOUTAGENT_ECS_CLUSTER": executions.cluster.cluster_arn,
                "CLOUTAGENT_TASK_DEFINITION": executions.task_definition.task_definition_arn,
                "CLOUTAGENT_TASK_CONTAINER_NAME": executions.container.container_name,
                "CLOUTAGENT_SUBNETS": ",".join(network.task_subnets.subnet_ids),
                "CLOUTAGENT_SECURITY_GROUPS": network.executor_security_group.security_group_id,
                "CLOUTAGENT_STRIPE_SECRET_NAME": billing.stripe_secret_name,
                "CLOUTAGENT_STRIPE_PRICES": json.dumps(dict(config.stripe_prices), sort_keys=True),
            }
        )

        self._grant(
            functions=functions, data=data, identity=identity, websocket=websocket,
            billing=billing, executions=executions, pool=pool, schedules=schedules,
        )

        Monitoring(
            self, "Monitoring", stage=config.stage, functions=functions.by_name,
            websocket_api=websocket.api, websocket_stage=websocket.stage.stage_name,
            webhook_api=billing.http_api,
            dead_letter_queues={"usage-reporter": billing.usage_dlq, "task-state": executions.task_state_dlq},
            table=data.table, cluster=executions.cluster, alarm_email=config.alarm_email,
        )

        CfnOutput(self, "WebSocketUrl", value=websocket.url, description="wss:// URL clients connect to")
        CfnOutput(
            self, "ConnectionsUrl", value=websocket.connections_url,
            description="https:// API Gateway management endpoint (POST @connections)",
        )
        CfnOutput(
            self, "StripeWebhookUrl", value=billing.webhook_urls["stripe_webhook"],
            description="Endpoint to register in the Stripe dashboard",
        )
        CfnOutput(self, "ApiUrl", value=rest.url, description="https:// base URL of the REST API (GET /v1/health)")
        CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        if config.host_console:
            # Identity has no hosted UI domain yet, so the hosted console signs in with a key or token.
            console = ConsoleHosting(
                self, "Console", websocket_url=websocket.url, websocket_origin=websocket.api.api_endpoint,
                log_retention=retention, log_expiration=Duration.days(config.log_retention_days),
                removal_policy=removal,
            )
            CfnOutput(self, "ConsoleUrl", value=console.url, description="https:// URL of the web console")

    def _grant(
        self,
        *,
        functions: Functions,
        data: Data,
        identity: Identity,
        websocket: WebSocketApi,
        billing: Billing,
        executions: Executions,
        pool: ExecutorPool | None,
        schedules: Schedules,
    ) -> None:
        connections_arn = websocket.connections_arn("POST")
        for name, access in TABLE_ACCESS.items():
            role = functions[name].role
            write = access == "write"
            role.add_to_principal_policy(policies.tenant_items(data.table, write=write))
            role.add_to_principal_policy(policies.data_key_via(data.data_key, services=["dynamodb"], write=write))
        # REST routes authenticate API keys in their own function: the key lookup reads the index.
        for name in sorted(set(LOOKUP_INDEX_USERS) | set(self.rest_functions)):
            for index_name in data.lookup_index_names:
                functions[name].role.add_to_principal_policy(policies.lookup_index(data.table, index_name))
        # ... then reads the key's record consistently (a revocation cannot race the index) and notes its use.
        for name in sorted({"authorizer"} | set(self.rest_functions)):
            for statement in policies.api_key_checks(data.table):
                functions[name].role.add_to_principal_policy(statement)
        for name in CONNECTION_POSTERS:
            policies.post_to_connections(functions[name].role, connections_arn)
        for name in CONNECTION_CLOSERS:
            policies.close_connections(functions[name].role, websocket.connections_arn("DELETE"))
        for name in STRIPE_USERS:
            billing.stripe_secret.grant_read(functions[name])
        # Stripe deliveries are processed once: Powertools Idempotency keeps its records in this one
        # partition, the only non-tenant partition any function may write.
        functions["stripe_webhook"].role.add_to_principal_policy(
            policies.exact_partition(data.table, IDEMPOTENCY_PARTITION, sid="WebhookIdempotencyRecords")
        )

        # Invitations create no user: only the authorizer reads one, for the verified email of a
        # signed-in person who belongs to no tenant yet (services/auth.py, invitees).
        identity.user_pool.grant(functions["authorizer"], "cognito-idp:AdminGetUser")
        for name in PERSON_GUARD_WRITERS:
            functions[name].role.add_to_principal_policy(
                policies.exact_partition(data.table, PERSON_PARTITION, sid="PersonGuards"))
        # Project secrets are sealed and opened under their project's encryption context only.
        functions["secrets"].role.add_to_principal_policy(
            policies.project_key(data.project_key, actions=["kms:Encrypt", "kms:Decrypt"])
        )
        # Webhook signing secrets: sealed when set, opened to sign; no function does both.
        for name, action in (("notifications", "kms:Encrypt"), ("notifier", "kms:Decrypt")):
            functions[name].role.add_to_principal_policy(
                policies.webhook_secret_key(data.project_key, actions=[action], secret_name=WEBHOOK_SECRET_CONTEXT_NAME)
            )
        self._grant_launcher(functions["executions"].role, executions)
        # A schedule's firing starts its run through the same launcher; only schedules makes schedules.
        self._grant_launcher(functions["scheduled_run"].role, executions)
        schedules.grant_manage(functions["schedules"].role)
        schedules.grant_remove(functions["scheduled_run"].role)
        # A Git host comment starts its run through the same launcher. Trigger secrets are sealed when
        # set; the receiver opens them, and with the follow-up the repository token (a project secret:
        # Decrypt only, under its project's context).
        self._grant_launcher(functions["git_trigger"].role, executions)
        functions["triggers"].role.add_to_principal_policy(
            policies.webhook_secret_key(data.project_key, actions=["kms:Encrypt"], secret_name=TRIGGER_SECRET_CONTEXT_NAME)
        )
        for name in REPOSITORY_TOKEN_READERS:
            functions[name].role.add_to_principal_policy(policies.project_key(data.project_key, actions=["kms:Decrypt"]))
        self._grant_diff_reads(functions["executions"].role, data)
        self._grant_executor(executions, data=data, connections_arn=connections_arn)
        if pool is not None:
            # The launcher queues claims; a pool task takes one (and can do nothing else with the queue).
            pool.grant_send(functions["executions"].role)
            pool.grant_send(functions["scheduled_run"].role)
            pool.grant_send(functions["git_trigger"].role)
            pool.grant_claim(executions.task_role)

    @staticmethod
    def _grant_diff_reads(role: iam.IRole, data: Data) -> None:
        """execution.diff reads runs' diffs; the key names the caller's tenant (services/executions.py)."""
        diffs = data.sessions_bucket.arn_for_objects(f"{DIFFS_FOLDER}*")
        role.add_to_principal_policy(iam.PolicyStatement(sid="ReadRunDiffs", actions=["s3:GetObject"], resources=[diffs]))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="ReadRunDiffsKey", actions=["kms:Decrypt"], resources=[data.data_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{Stack.of(role).region}.amazonaws.com"}},
        ))
        policies.acknowledge_wildcard(role, diffs, "Diffs are written at run time as diffs/<tenantId>/<executionId>.diff; "
                                      "the function reads only the caller's tenant's key, after finding the execution.")

    def _grant_executor(self, executions: Executions, *, data: Data, connections_arn: str) -> None:
        """The task role may only become the data role; that role reaches the tagged tenant's data only."""
        executions.tenant_data_role.grant(executions.task_role, "sts:AssumeRole", "sts:TagSession")
        role = executions.tenant_data_role
        role.add_to_principal_policy(policies.session_tenant_items(data.table, write=True))
        role.add_to_principal_policy(policies.data_key_via(data.data_key, services=["dynamodb", "s3"], write=True))
        role.add_to_principal_policy(policies.session_tenant_project_key(data.project_key, actions=["kms:Decrypt"]))
        policies.session_tenant_objects(role, data.sessions_bucket, folders=TENANT_FOLDERS)
        policies.post_to_connections(
            role,
            connections_arn,
            reason="Connection ids are minted by API Gateway at $connect time, so this grant cannot be "
            "tenant-scoped: it is POST on this API's own stage; the tenant's connections come from its table items.",
        )

    def _grant_launcher(self, role: iam.IRole, executions: Executions) -> None:
        """The executions function starts, stops and inspects executor tasks, and nothing else in ECS."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RunExecutorTask",
                actions=["ecs:RunTask"],
                resources=[executions.task_definition.task_definition_arn],
                conditions={"ArnEquals": {"ecs:cluster": executions.cluster.cluster_arn}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ManageExecutorTasks",
                actions=["ecs:StopTask", "ecs:DescribeTasks"],
                resources=[executions.task_arns()],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TagExecutorTasksAtLaunch",
                actions=["ecs:TagResource"],
                resources=[executions.task_arns()],
                conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
            )
        )
        policies.acknowledge_wildcard(
            role,
            executions.task_arns(),
            "Task ids are assigned by ECS at launch; the pattern covers only tasks of this stage's "
            "executor cluster, and tagging is allowed only as part of RunTask.",
        )
        # agent.kill finds the execution's task by its startedBy tag (the id is never stored).
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FindExecutorTasks",
                actions=["ecs:ListTasks"],
                resources=[executions.container_instance_arns()],
                conditions={"ArnEquals": {"ecs:cluster": executions.cluster.cluster_arn}},
            )
        )
        policies.acknowledge_wildcard(
            role,
            executions.container_instance_arns(),
            "ListTasks is authorized per container instance; the pattern is this stage's executor "
            "cluster only, further pinned by the ecs:cluster condition.",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassExecutorRoles",
                actions=["iam:PassRole"],
                resources=[executions.task_role.role_arn, executions.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )


def _retention_name(days: int) -> str:
    names = {1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
             60: "TWO_MONTHS", 90: "THREE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR"}
    if days not in names:
        raise ValueError(f"logRetentionDays must be one of {sorted(names)}")
    return names[days]
