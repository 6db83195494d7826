"""The resources ops were promised, configured from the shared definitions and cdk.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from cloutagent import definitions
from cloutagent.settings import Settings
from infra.app import cdk_json_context
from infra.definitions import load_definitions
from tests.infra.cfn import function_ids, getatt, refs

pytestmark = pytest.mark.infra

DEFINITIONS = load_definitions()
ROUTES = DEFINITIONS.routes
FUNCTION_SETTINGS = {
    "TABLE_NAME", "CONNECTIONS_URL", "USER_POOL_ID", "USER_POOL_CLIENT_ID", "KMS_KEY_ID", "SESSIONS_BUCKET",
    "ECS_CLUSTER", "TASK_DEFINITION",
    "TASK_CONTAINER_NAME", "SUBNETS", "SECURITY_GROUPS", "STRIPE_SECRET_NAME", "STRIPE_PRICES", "STAGE",
}
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
# Settings only some functions read, beyond FUNCTION_SETTINGS.
EXTRA_SETTINGS = {
    "triggers": {"HTTP_API_URL"},  # the webhook URL trigger.set answers with
    "schedules": {"SCHEDULED_RUN_ARN", "SCHEDULER_ROLE_ARN", "SCHEDULE_GROUP"},  # makes Scheduler schedules
    "scheduled_run": {"SCHEDULE_GROUP"},  # removes an orphan schedule
}


@pytest.fixture(scope="module")
def functions(synth) -> dict[str, dict]:
    ids = function_ids(synth.resources, {name: f.handler for name, f in ROUTES.functions.items()})
    return {name: synth.resources[lid]["Properties"] for name, lid in ids.items()}


def _asset_files(synth, s3_key: str) -> set[str]:
    folder = synth.outdir / f"asset.{s3_key.removesuffix('.zip')}"
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# -- data -------------------------------------------------------------------------------------

def test_the_table_is_the_one_table_json_describes(synth):
    table = DEFINITIONS.table
    (gsi,) = table.global_secondary_indexes
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": table.partition_key.name, "KeyType": "HASH"},
                {"AttributeName": table.sort_key.name, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                Match.object_like({
                    "IndexName": gsi.index_name,
                    "KeySchema": [
                        {"AttributeName": gsi.partition_key.name, "KeyType": "HASH"},
                        {"AttributeName": gsi.sort_key.name, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": gsi.projection},
                })
            ],
            "TimeToLiveSpecification": {"AttributeName": table.time_to_live_attribute, "Enabled": True},
            "StreamSpecification": {"StreamViewType": table.stream},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
        },
    )


def test_the_table_is_encrypted_with_a_rotated_customer_managed_key(synth):
    (table,) = synth.of_type("AWS::DynamoDB::Table").values()
    key_id, _ = getatt(table["Properties"]["SSESpecification"]["KMSMasterKeyId"])
    assert synth.resources[key_id]["Type"] == "AWS::KMS::Key"
    for key in synth.of_type("AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


def test_the_sessions_bucket_is_private_encrypted_expiring_and_ssl_only(synth):
    (bucket_id,) = synth.template.find_resources(
        "AWS::S3::Bucket",
        {"Properties": {"BucketEncryption": {"ServerSideEncryptionConfiguration": [
            Match.object_like({"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})})
        ]}}},
    )
    bucket = synth.resources[bucket_id]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == cdk_json_context()["sessionsExpirationDays"]
    assert "LoggingConfiguration" in bucket

    (policy,) = [p for p in synth.of_type("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


# -- identity ---------------------------------------------------------------------------------

def test_confirmed_users_get_a_tenant_from_the_post_confirmation_function(synth):
    post_confirmation = function_ids(synth.resources, {"p": ROUTES.functions["post_confirmation"].handler})["p"]
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {"LambdaConfig": {"PostConfirmation": {"Fn::GetAtt": [post_confirmation, "Arn"]}}},
    )
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient", {"GenerateSecret": False, "PreventUserExistenceErrors": "ENABLED"}
    )


# -- functions --------------------------------------------------------------------------------

def test_every_function_shares_the_factory_defaults(functions):
    for name, fn in functions.items():
        assert fn["Runtime"] in ("python3.11", "python3.12"), name
        assert fn["Architectures"] == ["arm64"], name
        assert fn["TracingConfig"] == {"Mode": "Active"}, name
        assert fn["LoggingConfig"]["LogFormat"] == "JSON", name
        # the shared dependencies and domain layers, plus one per dependency group it declares
        assert len(fn["Layers"]) == 2 + len(ROUTES.functions[name].dependency_groups), name
        assert fn["Handler"] == ROUTES.functions[name].handler


def test_heavy_dependency_groups_reach_only_the_functions_that_declare_them(synth, functions):
    groups = {name: d.dependency_groups for name, d in ROUTES.functions.items()}
    assert groups["authorizer"] == ("auth",)
    assert {n for n, g in groups.items() if "billing" in g} == {"billing", "stripe_webhook", "usage_reporter"}
    layer_ids = {k for k in synth.of_type("AWS::Lambda::LayerVersion")}
    assert any("GroupAuth" in k for k in layer_ids) and any("GroupBilling" in k for k in layer_ids)
    plain = [fn for name, fn in functions.items() if not groups[name]]
    assert plain and all(len(fn["Layers"]) == 2 for fn in plain)


def test_functions_get_exactly_the_settings_they_read(functions):
    for name, fn in functions.items():
        variables = fn["Environment"]["Variables"]
        expected = FUNCTION_SETTINGS - ({"USER_POOL_ID", "USER_POOL_CLIENT_ID"} if name == "post_confirmation" else set())
        expected |= EXTRA_SETTINGS.get(name, set())
        shared = set(definitions.function_environment())  # routes.json functionEnvironment
        assert set(variables) == {f"CLOUTAGENT_{s}" for s in expected} | POWERTOOLS | shared, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == name
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "cloutagent"


def test_every_setting_set_is_one_the_settings_model_reads():
    for setting in FUNCTION_SETTINGS.union(*EXTRA_SETTINGS.values()):
        assert setting.lower() in Settings.model_fields, setting


def test_function_code_is_its_own_folder_of_the_functions_package(synth, functions):
    for name, fn in functions.items():
        assert _asset_files(synth, fn["Code"]["S3Key"]) == {
            "functions/__init__.py", f"functions/{name}/__init__.py", f"functions/{name}/handler.py",
        }


def test_the_domain_layer_leaves_laptop_only_packages_out(synth):
    layers = {
        r["Properties"]["Description"]: r["Properties"]["Content"]["S3Key"]
        for r in synth.of_type("AWS::Lambda::LayerVersion").values()
    }
    (domain_key,) = [key for description, key in layers.items() if "domain" in description]
    files = _asset_files(synth, domain_key)
    assert "python/cloutagent/settings.py" in files
    assert "python/cloutagent/definitions/routes.json" in files
    for excluded in ("local", "cli", "client"):
        assert not any(f.startswith(f"python/cloutagent/{excluded}/") for f in files), excluded
    assert not any("__pycache__" in f for f in files)


# -- executions -------------------------------------------------------------------------------

def test_the_executor_runs_on_fargate_arm64(synth):
    synth.template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "RequiresCompatibilities": ["FARGATE"],
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
            "ContainerDefinitions": [Match.object_like({
                "Name": "executor",
                "LogConfiguration": Match.object_like({"LogDriver": "awslogs"}),
            })],
        },
    )


def test_stopped_tasks_reach_task_state_with_a_dead_letter_queue(synth):
    task_state = function_ids(synth.resources, {"t": ROUTES.functions["task_state"].handler})["t"]
    (rule,) = [r for r in synth.of_type("AWS::Events::Rule").values() if "EventPattern" in r["Properties"]]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.ecs"]
    assert pattern["detail-type"] == ["ECS Task State Change"]
    assert pattern["detail"]["lastStatus"] == ["STOPPED"]
    (target,) = rule["Properties"]["Targets"]
    assert getatt(target["Arn"]) == (task_state, "Arn")
    assert "DeadLetterConfig" in target


# -- billing ----------------------------------------------------------------------------------

def test_usage_reporter_reads_the_stream_with_bisect_retries_and_a_failure_destination(synth):
    usage_reporter = function_ids(synth.resources, {"u": ROUTES.functions["usage_reporter"].handler})["u"]
    (mapping,) = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["FunctionName"] == {"Ref": usage_reporter}]
    props = mapping["Properties"]
    (table_id,) = synth.of_type("AWS::DynamoDB::Table")
    assert getatt(props["EventSourceArn"]) == (table_id, "StreamArn")
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 10
    (queue,) = refs(props["DestinationConfig"]["OnFailure"]["Destination"])
    assert synth.resources[queue]["Type"] == "AWS::SQS::Queue"


def test_the_stripe_secret_has_the_documented_shape(synth):
    secrets = {v["Properties"]["Name"]: v for v in synth.of_type("AWS::SecretsManager::Secret").values()}
    assert set(secrets) == {"cloutagent/dev/stripe", "cloutagent/dev/anthropic"}, set(secrets)
    generated = secrets["cloutagent/dev/stripe"]["Properties"]["GenerateSecretString"]
    assert set(json.loads(generated["SecretStringTemplate"])) | {generated["GenerateStringKey"]} == {
        "apiKey", "webhookSecret"
    }


# -- monitoring and outputs -------------------------------------------------------------------

def test_alarms_cover_errors_throttles_executions_webhooks_and_dead_letters(synth):
    names = {a["Properties"]["AlarmName"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()}
    prefix = f"cloutagent-{cdk_json_context()['stage']}-"
    for function in ROUTES.functions:
        assert {f"{prefix}{function}-errors", f"{prefix}{function}-throttles"} <= names
    assert {
        f"{prefix}execution-failures",
        f"{prefix}audit-record-failures",
        f"{prefix}stripe-webhook-5xx",
        f"{prefix}stripe-webhook-rejected",
        f"{prefix}usage-reporter-dlq",
        f"{prefix}task-state-dlq",
    } <= names
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"], alarm["Properties"]["AlarmName"]


def test_execution_failures_are_read_from_the_powertools_namespace(synth):
    (alarm,) = synth.template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": Match.string_like_regexp("execution-failures$")}}
    ).values()
    (query,) = alarm["Properties"]["Metrics"]
    assert query["Expression"] == 'SELECT SUM("ExecutionFailed") FROM "cloutagent"'


def test_a_lost_audit_entry_pages(synth):
    (alarm,) = synth.template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": Match.string_like_regexp("audit-record-failures$")}}
    ).values()
    (query,) = alarm["Properties"]["Metrics"]
    assert query["Expression"] == 'SELECT SUM("AuditRecordFailed") FROM "cloutagent"'


def test_a_dashboard_exists(synth):
    synth.template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_outputs_have_stable_names(synth):
    assert set(synth.template.to_json()["Outputs"]) == {
        "WebSocketUrl", "ConnectionsUrl", "StripeWebhookUrl", "UserPoolId", "UserPoolClientId", "ConsoleUrl", "ApiUrl",
    }


def test_hermetic_synthesis_bundles_the_dependencies_layer_locally_as_a_placeholder(synth):
    # Local bundling ran (no Docker): with bundleDependencies=false it writes a marker, not wheels.
    files = {p.name for p in Path(synth.outdir).glob("asset.*/python/*")}
    assert "DEPENDENCIES_NOT_BUNDLED.txt" in files
