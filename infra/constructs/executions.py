"""Where Claude Code runs: an ECS cluster and the Fargate (arm64) task definition of the executor.

The image is either pulled from ECR (context executorImageTag set: CI built and pushed it) or built
by ``cdk deploy`` from the repository root with executor_container/Dockerfile. The root, not
executor_container/, is the build context because the image also installs the domain library from
layers/cloutagent; ``IMAGE_CONTEXT`` lists the only paths sent to Docker. Synthesis never needs
Docker in either mode: it only stages those files.

Isolation (docs/operations.md, "Security model and known gaps"): the task has no shared file
system, only its own ephemeral storage; its role may do nothing but assume the tenant data role,
tagged with the run's tenant, whose grants all name ``${aws:PrincipalTag/tenantId}`` (the stack
adds them); and the executor, root only to drop privileges, starts Claude Code as ``AGENT_UID``
(executor_container/Dockerfile), so the agent cannot read the executor's environment or files.

When a task stops, ECS emits a task-state-change event; a rule sends it to the ``task_state``
function, which finishes executions whose task died without reporting (OOM, spot reclaim, crash).
"""

from __future__ import annotations

import json
from typing import Mapping

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Size, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import ExecutorImage
from infra.definitions import REPO_ROOT
from infra.nag import acknowledge

DOCKERFILE = "executor_container/Dockerfile"
# Docker-ignore rules, last match wins: send nothing, then only what the image installs.
IMAGE_CONTEXT = (
    "*",
    "!executor_container",
    "!layers/cloutagent/python",
    "!pyproject.toml",
    "!README.md",
    "!requirements/executor.lock",  # the Dockerfile installs the dependencies from it, hashes checked
    "**/__pycache__",
    "**/*.pyc",
)
# The agent's uid: the `agent` user of executor_container/Dockerfile.
AGENT_UID = 10002
# All the executor itself needs as root: chown a run's folder to the agent, read and clean up what
# the agent left, switch to its uid (setpriv), and signal it. Everything else is dropped.
EXECUTOR_CAPABILITIES = frozenset({
    ecs.Capability.CHOWN, ecs.Capability.DAC_OVERRIDE, ecs.Capability.FOWNER,
    ecs.Capability.SETUID, ecs.Capability.SETGID, ecs.Capability.KILL,
})
DROPPED_CAPABILITIES = tuple(
    c for c in ecs.Capability if c is not ecs.Capability.ALL and c not in EXECUTOR_CAPABILITIES
)
TENANT_TAG = "tenantId"


def _placeholder_secret(scope: Construct, id: str, name: str, description: str, removal_policy: RemovalPolicy):
    secret = secretsmanager.Secret(
        scope, id, secret_name=name, description=description, removal_policy=removal_policy,
        # A value of the right shape; docs/operations.md says how to put the real one.
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template=json.dumps({}), generate_string_key="apiKey", exclude_punctuation=True),
    )
    acknowledge(
        secret,
        "AwsSolutions-SMG4",
        "Anthropic API keys are issued by Anthropic, not by AWS, so no rotation Lambda can roll them; "
        "docs/operations.md has the manual rotation procedure.",
    )
    return secret


class Executions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        vpc: ec2.IVpc,
        image: ExecutorImage,
        cpu: int,
        memory_mib: int,
        ephemeral_storage_gib: int,
        container_name: str,
        environment: Mapping[str, str],
        on_task_stopped: lambda_.IFunction,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        account, region = Stack.of(self).account, Stack.of(self).region

        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            cluster_name=f"cloutagent-{stage}",
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            enable_fargate_capacity_providers=True,
        )
        self.task_role = iam.Role(
            self,
            "TaskRole",
            description=f"cloutagent {stage} executor task (Claude Code runs)",
            assumed_by=iam.ServicePrincipal(
                "ecs-tasks.amazonaws.com",
                # Confused-deputy guard: only ECS acting for this account may assume the role.
                conditions={
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:{Stack.of(self).partition}:ecs:{region}:{account}:*"},
                },
            ),
        )
        self.tenant_data_role = self._tenant_data_role(stage)
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            family=f"cloutagent-{stage}-executor",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            # Workspaces live here for one run only (snapshots go to the sessions bucket): no file
            # system is shared between tasks, so none is shared between tenants.
            ephemeral_storage_gib=ephemeral_storage_gib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_role=self.task_role,
        )
        task_logs = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        self.anthropic_secret = self._anthropic_secret(stage, removal_policy)
        linux_parameters = ecs.LinuxParameters(self, "LinuxParameters", init_process_enabled=True)
        linux_parameters.drop_capabilities(*DROPPED_CAPABILITIES)
        self.container = self.task_definition.add_container(
            container_name,
            container_name=container_name,
            image=self._image(image),
            essential=True,
            environment={
                **environment,
                "CLOUTAGENT_TENANT_ROLE_ARN": self.tenant_data_role.role_arn,
                # The CLI runs as the agent uid with an environment of its own, never this one.
                "CLOUTAGENT_SANDBOX": "user",
                "CLOUTAGENT_AGENT_UID": str(AGENT_UID),
            },
            # Root only to drop to AGENT_UID; an init process reaps what the agent leaves behind.
            user="0",
            linux_parameters=linux_parameters,
            # The platform's Claude credentials reach the executor (never the CLI) as an ECS secret:
            # resolved by ECS at start, never in RunTask overrides, the plain environment or logs.
            secrets={"ANTHROPIC_API_KEY": ecs.Secret.from_secrets_manager(self.anthropic_secret, "apiKey")},
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="executor",
                log_group=task_logs,
                # A slow log pipe must never stall a run.
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
                max_buffer_size=Size.mebibytes(25),
            ),
            stop_timeout=Duration.seconds(60),
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The environment holds identifiers only (table, bucket, key ARN, role ARN, URLs, stage). "
            "Credentials come from the tenant data role; project secrets are decrypted at run time "
            "under KMS.",
        )
        execution_role = self.task_definition.obtain_execution_role()
        acknowledge(
            execution_role,
            "AwsSolutions-IAM5[Resource::*]",
            "Only ecr:GetAuthorizationToken is granted on '*' (added by the image pull grant); it has "
            "no resource-level form. Layer pulls are limited to the executor repository.",
        )
        self.execution_role = execution_role

        self.task_state_dlq = sqs.Queue(
            self,
            "TaskStateFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.task_state_dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the task-stopped rule target and the "
            "on-failure destination of task_state (neither is recognised by cdk-nag as a DLQ).",
        )
        # EventBridge's DLQ only catches events it could not deliver; an invocation that keeps
        # failing inside task_state lands here too, after Lambda's own async retries.
        on_task_stopped.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.task_state_dlq),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )
        events.Rule(
            self,
            "TaskStopped",
            description="Executor task stopped: let task_state finish the execution if it did not",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={"clusterArn": [self.cluster.cluster_arn], "lastStatus": ["STOPPED"]},
            ),
            targets=[
                targets.LambdaFunction(
                    on_task_stopped,
                    dead_letter_queue=self.task_state_dlq,
                    retry_attempts=8,
                    max_event_age=Duration.hours(6),
                )
            ],
        )

    def _tenant_data_role(self, stage: str) -> iam.Role:
        """What a run may touch: assumed by the task role only, and only tagged with a tenant."""
        return iam.Role(
            self,
            "TenantDataRole",
            description=f"cloutagent {stage} executor data access, scoped to the session's tenantId tag",
            assumed_by=iam.ArnPrincipal(self.task_role.role_arn)
            .with_session_tags()
            .with_conditions({"StringLike": {f"aws:RequestTag/{TENANT_TAG}": "?*"}}),
        )

    def _anthropic_secret(self, stage: str, removal_policy: RemovalPolicy) -> secretsmanager.ISecret:
        return _placeholder_secret(self, "AnthropicSecret", f"cloutagent/{stage}/anthropic",
                                   'Claude credentials for the executor: {"apiKey": "sk-ant-..."}', removal_policy)

    def _image(self, image: ExecutorImage) -> ecs.ContainerImage:
        if image.prebuilt:
            repository = ecr.Repository.from_repository_name(self, "Repository", image.repository_name)
            return ecs.ContainerImage.from_ecr_repository(repository, tag=image.tag)
        if not (REPO_ROOT / DOCKERFILE).is_file():
            raise FileNotFoundError(
                f"{DOCKERFILE} is missing; build it or pass -c executorImageTag=<tag> to use a pushed image"
            )
        return ecs.ContainerImage.from_asset(
            str(REPO_ROOT),
            file=DOCKERFILE,
            platform=ecr_assets.Platform.LINUX_ARM64,
            exclude=list(IMAGE_CONTEXT),
            ignore_mode=IgnoreMode.DOCKER,
        )

    def container_instance_arns(self) -> str:
        """ListTasks is authorized on container instances of the cluster (Fargate included)."""
        return Stack.of(self).format_arn(
            service="ecs", resource="container-instance", resource_name=f"{self.cluster.cluster_name}/*"
        )

    def task_arns(self) -> str:
        """Every task of this cluster (task ids are random, so this is a pattern)."""
        return Stack.of(self).format_arn(
            service="ecs", resource="task", resource_name=f"{self.cluster.cluster_name}/*"
        )
