"""Every Lambda function, built by one factory so the shared defaults live in one place.

Code packaging: each function's asset is the ``functions`` package filtered down to
``functions/__init__.py`` + ``functions/<name>/``. The handler string from routes.json
(``functions.<name>.handler.handler``) is therefore used verbatim, the import path is the same one
the local gateway uses, and a function's code hash only changes when its own folder (or the package
``__init__``) changes, so a deploy touches only the functions whose code changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Collection, Iterable, Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.definitions import FunctionDefinition
from infra.nag import acknowledge

LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_12
LAMBDA_PYTHON_VERSION = "3.12"  # must match LAMBDA_RUNTIME: the dependencies layer is built for it
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
METRICS_NAMESPACE = "cloutagent"

# Timeouts follow what invokes the function, not the function: a caller that gives up sooner makes
# a longer timeout pure cost.
TIMEOUTS = {
    "websocket": Duration.seconds(29),  # API Gateway's integration timeout
    "http": Duration.seconds(29),  # same, and Stripe retries slow webhooks anyway
    "websocket-authorizer": Duration.seconds(10),  # holds up every connection attempt
    "cognito-post-confirmation": Duration.seconds(5),  # Cognito waits 5 s for a trigger
    "dynamodb-stream": Duration.seconds(120),  # batches of outbox rows, each a Stripe call
    "eventbridge": Duration.seconds(60),
    "scheduler": Duration.seconds(60),  # EventBridge Scheduler invokes asynchronously; a start takes seconds
}

# The only actions a function role may hold on Resource "*" (they accept no resource ARN).
# tests/infra assert this, which is what makes the IAM5 acknowledgement below safe.
WILDCARD_RESOURCE_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"})


class Functions(Construct):
    """One function per entry in routes.json, each with its own role and log group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        definitions: Iterable[FunctionDefinition],
        code_root: Path,
        layers: Callable[[Sequence[str]], Sequence[lambda_.ILayerVersion]],
        stage: str,
        memory_mb: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self._code_root = code_root
        self._layers_for = layers  # dependency groups -> the layers a function gets
        self._stage = stage
        self._memory_mb = memory_mb
        self._log_retention = log_retention
        self._removal_policy = removal_policy
        self.by_name: dict[str, lambda_.Function] = {d.name: self._new_function(d) for d in definitions}

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.by_name[name]

    def add_environment(self, values: Mapping[str, str], *, except_for: Collection[str] = ()) -> None:
        for name, fn in self.by_name.items():
            if name not in except_for:
                for key, value in values.items():
                    fn.add_environment(key, value)

    def _new_function(self, definition: FunctionDefinition) -> lambda_.Function:
        name = definition.name
        if definition.trigger not in TIMEOUTS:
            raise ValueError(f"function {name}: unknown trigger {definition.trigger!r} in routes.json")
        scope = Construct(self, _construct_id(name))
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"cloutagent {self._stage} {name}: {definition.description}",
        )
        log_group = logs.LogGroup(
            scope, "Logs", retention=self._log_retention, removal_policy=self._removal_policy
        )
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): this group only.
        log_group.grant_write(role)
        fn = lambda_.Function(
            scope,
            "Function",
            description=definition.description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=definition.handler,
            code=self._code(name),
            layers=list(self._layers_for(definition.dependency_groups)),
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=TIMEOUTS[definition.trigger],
            memory_size=self._memory_mb,
            environment={
                **definition.environment,
                "POWERTOOLS_SERVICE_NAME": name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "CLOUTAGENT_STAGE": self._stage,
            },
        )
        acknowledge(
            fn,
            "AwsSolutions-L1",
            f"Pinned to {LAMBDA_RUNTIME.name}: the dependencies layer is built from cp312 wheels and the "
            "domain library is tested on it; LAMBDA_RUNTIME and LAMBDA_PYTHON_VERSION move together, on "
            "purpose, not whenever CDK learns a newer runtime.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Resource '*' carries only actions that accept no resource ARN: X-Ray PutTraceSegments/"
            "PutTelemetryRecords (active tracing) and, for the stream consumer, dynamodb:ListStreams. "
            "tests/infra fail if any other action is granted on '*'.",
        )
        return fn

    def _code(self, name: str) -> lambda_.Code:
        handler = self._code_root / "functions" / name / "handler.py"
        if not handler.is_file():
            raise FileNotFoundError(
                f"{handler} is missing. Every function in routes.json needs functions/{name}/handler.py "
                "under the functionsRoot context directory."
            )
        # Glob rules, last match wins: drop everything, bring back the package and one function.
        return lambda_.Code.from_asset(
            str(self._code_root),
            exclude=[
                "*",
                "!functions",
                "!functions/__init__.py",
                f"!functions/{name}",
                f"!functions/{name}/**",
                "__pycache__",
                "*.pyc",
            ],
        )


def _construct_id(name: str) -> str:
    pascal = "".join(part.capitalize() for part in name.split("_"))
    # CDK drops ids named "Default"/"Resource" from logical ids; keep every function's name visible.
    return f"{pascal}Function" if pascal in ("Default", "Resource") else pascal
