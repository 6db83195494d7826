"""The executor task shares nothing between tenants, and reaches only its run's tenant's data.

Checked on the synthesized template: no shared file system, a task role that can only become the
tenant data role, that role's grants all naming ``${aws:PrincipalTag/tenantId}``, and a container
whose Claude Code runs under a uid of its own with the executor's environment out of its reach.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.constructs.executions import AGENT_UID, DOCKERFILE, EXECUTOR_CAPABILITIES
from infra.definitions import REPO_ROOT
from infra.policies import PROJECT_CONTEXT_KEYS, SESSION_TENANT, SESSION_TENANT_PARTITIONS
from tests.infra.cfn import actions, as_list, container_environment, executor_roles, getatt, refs, statements_by_role

pytestmark = pytest.mark.infra

# The platform's credential, for the executor's model gateway; the CLI never gets it.
PLATFORM_KEY_SECRET = "ANTHROPIC_API_KEY"
# What a Docker/Fargate container starts with; whatever of it is not kept must be dropped.
DEFAULT_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}
KEPT_CAPABILITIES = {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "KILL"}


@pytest.fixture(scope="module")
def task(synth) -> dict[str, Any]:
    (task,) = synth.of_type("AWS::ECS::TaskDefinition").values()
    return task["Properties"]


@pytest.fixture(scope="module")
def container(task) -> dict[str, Any]:
    (container,) = task["ContainerDefinitions"]
    return container


@pytest.fixture(scope="module")
def roles(synth) -> tuple[str, str]:
    return executor_roles(synth.resources)


@pytest.fixture(scope="module")
def policies(synth) -> dict[str, list[dict]]:
    return statements_by_role(synth.resources)


@pytest.fixture(scope="module")
def data_statements(policies, roles) -> list[dict]:
    _, data_role = roles
    return [s for s in policies[data_role] if s["Effect"] == "Allow"]


def _strings(node: Any) -> list[str]:
    """The literal parts of a value (an ARN is often an Fn::Join of intrinsics and text)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [] if set(node) & {"Ref", "Fn::GetAtt"} else [t for v in node.values() for t in _strings(v)]
    if isinstance(node, list):
        return [t for v in node for t in _strings(v)]
    return []


# -- nothing shared -----------------------------------------------------------------------------

def test_no_file_system_or_access_point_is_shared_across_tenants(synth, task, container):
    assert not [r["Type"] for r in synth.resources.values() if r["Type"].startswith("AWS::EFS::")]
    assert not task.get("Volumes") and not container.get("MountPoints") and not container.get("VolumesFrom")


def test_workspaces_live_on_the_tasks_own_ephemeral_storage(task, container):
    assert task["EphemeralStorage"] == {"SizeInGiB": 50}
    assert container_environment(container)["CLOUTAGENT_WORKSPACE_ROOT"] == "/mnt/workspaces"


# -- the task role can only become the data role ---------------------------------------------------

def test_the_task_role_may_do_nothing_but_assume_the_data_role(synth, policies, roles):
    task_role, data_role = roles
    (statement,) = policies[task_role]
    assert statement["Effect"] == "Allow"
    assert actions(statement) == {"sts:AssumeRole", "sts:TagSession"}
    assert getatt(statement["Resource"]) == (data_role, "Arn")
    assert "Condition" not in statement
    for role in roles:
        assert not {"ManagedPolicyArns", "Policies"} & set(synth.resources[role]["Properties"]), role


def test_only_the_task_role_may_assume_the_data_role_and_only_with_a_tenant_tag(synth, roles):
    task_role, data_role = roles
    (trust,) = synth.resources[data_role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow"
    assert set(as_list(trust["Action"])) == {"sts:AssumeRole", "sts:TagSession"}
    assert trust["Principal"] == {"AWS": {"Fn::GetAtt": [task_role, "Arn"]}}
    assert trust["Condition"] == {"StringLike": {"aws:RequestTag/tenantId": "?*"}}


def test_no_resource_policy_grants_the_executor_roles_anything(synth, roles):
    for lid, resource in synth.resources.items():
        if resource["Type"] in ("AWS::S3::BucketPolicy", "AWS::KMS::Key", "AWS::SQS::QueuePolicy"):
            assert not set(roles) & set(refs(resource["Properties"])), lid


# -- every grant of the data role names the session's tenant ---------------------------------------

def test_every_table_statement_is_confined_to_the_session_tenants_partitions(data_statements):
    table_statements = [s for s in data_statements if any(a.startswith("dynamodb:") for a in actions(s))]
    assert table_statements
    for statement in table_statements:
        (leading_keys,) = [
            values for operator, condition in statement["Condition"].items() if operator.startswith("ForAllValues:")
            for key, values in condition.items() if key == "dynamodb:LeadingKeys"
        ]
        assert leading_keys == list(SESSION_TENANT_PARTITIONS)
        assert all(key.startswith(f"T#{SESSION_TENANT}") for key in leading_keys)


def test_the_project_key_opens_only_the_session_tenants_secrets(synth, data_statements):
    (project_key,) = [
        getatt(alias["Properties"]["TargetKeyId"])[0] for alias in synth.of_type("AWS::KMS::Alias").values()
        if alias["Properties"]["AliasName"].endswith("-projects")
    ]
    (statement,) = [s for s in data_statements if getatt(s["Resource"]) == (project_key, "Arn")]
    assert actions(statement) == {"kms:Decrypt"}
    assert statement["Condition"]["StringEquals"] == {"kms:EncryptionContext:tenantId": SESSION_TENANT}
    assert statement["Condition"]["Null"] == {f"kms:EncryptionContext:{k}": "false" for k in PROJECT_CONTEXT_KEYS}


def test_every_object_and_listing_is_under_the_session_tenants_folders(data_statements):
    object_resources = [
        resource for s in data_statements if actions(s) & {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
        for resource in as_list(s["Resource"])
    ]
    assert len(object_resources) == 3
    for resource in object_resources:
        assert re.search(r"/(sessions|workspaces|diffs)/\$\{aws:PrincipalTag/tenantId\}/\*$", "".join(_strings(resource)))

    (listing,) = [s for s in data_statements if "s3:ListBucket" in actions(s)]
    prefixes = listing["Condition"]["StringLike"]["s3:prefix"]
    assert sorted(prefixes) == [f"diffs/{SESSION_TENANT}/*", f"sessions/{SESSION_TENANT}/*", f"workspaces/{SESSION_TENANT}/*"]
    assert not any(a.startswith("s3:") and a not in {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
                   for s in data_statements for a in actions(s))


def test_the_data_role_reaches_nothing_it_does_not_name(data_statements):
    granted = set().union(*(actions(s) for s in data_statements))
    services = {a.split(":")[0] for a in granted}
    assert services == {"dynamodb", "kms", "s3", "execute-api"}
    assert not any("*" in a for a in granted)


# -- the agent never sees the executor -------------------------------------------------------------

def test_claude_settings_reach_the_executor_only_as_the_platform_key_secret(container):
    names = set(container_environment(container)) | {s["Name"] for s in container.get("Secrets", [])}
    assert {n for n in names if n.startswith(("ANTHROPIC_", "CLAUDE_"))} == {PLATFORM_KEY_SECRET}
    assert PLATFORM_KEY_SECRET in {s["Name"] for s in container["Secrets"]}


def test_the_cli_runs_as_the_agent_uid_beside_a_root_executor(container):
    environment = container_environment(container)
    assert environment["CLOUTAGENT_SANDBOX"] == "user"
    assert environment["CLOUTAGENT_AGENT_UID"] == str(AGENT_UID)
    assert container.get("User", "0") in ("0", "root")
    assert container["LinuxParameters"]["InitProcessEnabled"] is True


def test_the_executor_keeps_only_the_capabilities_it_needs_to_drop_to_the_agent(container):
    capabilities = container["LinuxParameters"]["Capabilities"]
    assert not capabilities.get("Add")
    assert DEFAULT_CAPABILITIES - set(capabilities["Drop"]) == KEPT_CAPABILITIES
    assert {c.value for c in EXECUTOR_CAPABILITIES} == KEPT_CAPABILITIES


def test_the_image_has_the_agent_user_and_leaves_root_to_the_executor():
    dockerfile = (REPO_ROOT / DOCKERFILE).read_text()
    assert f"useradd --uid {AGENT_UID} " in dockerfile
    assert not re.search(r"^USER\s", dockerfile, re.MULTILINE)
    assert "-o root -g root -m 0755 /mnt/workspaces" in dockerfile
