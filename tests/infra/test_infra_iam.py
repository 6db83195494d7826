"""Least privilege, checked on the synthesized policies rather than on the code that builds them."""

from __future__ import annotations

import pytest

from infra.constructs.functions import WILDCARD_RESOURCE_ACTIONS
from infra.definitions import load_definitions
from infra.policies import ITEM_WRITE_ACTIONS, PROJECT_CONTEXT_KEYS, SESSION_TENANT_PARTITIONS, TENANT_PARTITIONS
from infra.policies import API_KEY_READ_ATTRIBUTES
from infra.stack import (
    CONNECTION_POSTERS, IDEMPOTENCY_PARTITION, LOOKUP_INDEX_USERS, PERSON_GUARD_WRITERS, PERSON_PARTITION,
    REPOSITORY_TOKEN_READERS, RUN_STARTERS, TABLE_ACCESS,
)
from tests.infra.cfn import (
    ITEM_ACTIONS, actions, as_list, executor_roles, function_roles, getatt, refs, statements_by_role,
)

pytestmark = pytest.mark.infra

ROUTES = load_definitions().routes
# Besides the function roles: the ECS execution role pulls the image (no resource form either).
ALLOWED_ON_ANY_RESOURCE = WILDCARD_RESOURCE_ACTIONS | {"ecr:GetAuthorizationToken"}


@pytest.fixture(scope="module")
def policies(synth) -> dict[str, list[dict]]:
    return statements_by_role(synth.resources)


@pytest.fixture(scope="module")
def roles(synth) -> dict[str, str]:
    """routes.json function name -> role logical id."""
    return function_roles(synth.resources, {name: f.handler for name, f in ROUTES.functions.items()})


@pytest.fixture(scope="module")
def table_id(synth) -> str:
    (table,) = synth.of_type("AWS::DynamoDB::Table")
    return table


@pytest.fixture(scope="module")
def data_role(synth) -> str:
    """The role the executor's AWS calls are made as (tagged with the run's tenant)."""
    return executor_roles(synth.resources)[1]


@pytest.fixture(scope="module")
def keys(synth) -> dict[str, str]:
    """'data' / 'projects' -> KMS key logical id (told apart by their aliases)."""
    return {
        alias["Properties"]["AliasName"].rsplit("-", 1)[-1]: getatt(alias["Properties"]["TargetKeyId"])[0]
        for alias in synth.of_type("AWS::KMS::Alias").values()
    }


API_KEY_SIDS = {"ApiKeyRecordRead", "ApiKeyLastUse"}  # policies.api_key_checks


def _allows(statements: list[dict]) -> list[dict]:
    return [s for s in statements if s["Effect"] == "Allow"]


def _on_table(statement: dict, table_id: str) -> bool:
    return any(getatt(r) == (table_id, "Arn") for r in as_list(statement["Resource"]))


def test_every_function_has_a_role_of_its_own(roles):
    assert len(set(roles.values())) == len(ROUTES.functions)


def test_function_roles_use_no_aws_managed_policies(synth, roles):
    for role_id in roles.values():
        assert "ManagedPolicyArns" not in synth.resources[role_id]["Properties"]


def test_no_role_anywhere_can_scan(policies):
    for role_id, statements in policies.items():
        for statement in _allows(statements):
            granted = actions(statement)
            assert not granted & {"dynamodb:Scan", "dynamodb:*", "*"}, f"{role_id} may scan: {granted}"
            assert not any(a.startswith("dynamodb:PartiQL") for a in granted), f"{role_id}: PartiQL bypasses keys"


def test_item_level_table_access_is_confined_to_tenant_partitions(policies, table_id, data_role):
    # Every grant of item-level actions on the table, in any role, carries the LeadingKeys condition.
    checked = 0
    for role_id, statements in policies.items():
        for statement in _allows(statements):
            if actions(statement) & ITEM_ACTIONS and _on_table(statement, table_id):
                checked += 1
                if statement.get("Sid") == "WebhookIdempotencyRecords":
                    # the one exception: exactly the webhook's idempotency partition, no wildcard
                    assert statement["Condition"] == {
                        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [IDEMPOTENCY_PARTITION]}}
                    continue
                if statement.get("Sid") == "PersonGuards":
                    # one membership per person: exactly the guard partition, no wildcard
                    assert statement["Condition"] == {
                        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [PERSON_PARTITION]}}
                    continue
                if statement.get("Sid") in API_KEY_SIDS:
                    # an API key's record and lastUsedAt (api_key_checks): tenant partitions, named attributes
                    assert statement["Condition"]["ForAllValues:StringLike"] == {
                        "dynamodb:LeadingKeys": [TENANT_PARTITIONS]}, f"{role_id} reaches non-tenant partitions"
                    continue
                if role_id == data_role:
                    # the executor: only the partitions of the tenant its session is tagged with
                    assert statement["Condition"] == {
                        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(SESSION_TENANT_PARTITIONS)}}
                    continue
                assert statement.get("Condition") == {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TENANT_PARTITIONS]}
                }, f"{role_id} reaches non-tenant partitions"
    assert checked >= len(TABLE_ACCESS)


@pytest.mark.parametrize("name", sorted(TABLE_ACCESS))
def test_data_plane_functions_get_tenant_scoped_item_access(policies, roles, table_id, name):
    granted = set().union(
        *(actions(s) for s in _allows(policies[roles[name]])
          if _on_table(s, table_id) and s.get("Sid") not in API_KEY_SIDS)
    )
    assert granted & ITEM_ACTIONS
    assert bool(granted & set(ITEM_WRITE_ACTIONS)) == (TABLE_ACCESS[name] == "write")


def test_functions_that_never_read_data_have_no_table_access(policies, roles):
    # default only rejects unknown actions; session answers ping/health/whoami from the request,
    # and over REST authenticates its caller first: the lookup index, then the key's own record
    # (named attributes, never its hash) and its lastUsedAt: no other item, no other attribute.
    assert not any(a.startswith("dynamodb:") for s in policies[roles["default"]] for a in actions(s))
    session = {s.get("Sid"): s for s in policies[roles["session"]] if any(a.startswith("dynamodb:") for a in actions(s))}
    assert set(session) == {"LookupIndex"} | API_KEY_SIDS
    assert actions(session["LookupIndex"]) == {"dynamodb:Query"}
    read, use = session["ApiKeyRecordRead"], session["ApiKeyLastUse"]
    assert actions(read) == {"dynamodb:GetItem"} and actions(use) == {"dynamodb:UpdateItem"}
    assert "keyHash" not in read["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert read["Condition"]["StringEqualsIfExists"] == {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
    assert use["Condition"]["ForAllValues:StringEquals"] == {"dynamodb:Attributes": ["PK", "SK", "lastUsedAt"]}
    assert use["Condition"]["StringEqualsIfExists"] == {"dynamodb:ReturnValues": "NONE"}


def test_the_api_key_attributes_granted_are_the_ones_the_adapter_reads():
    from cloutagent.adapters.dynamo.access import API_KEY_READ_ATTRIBUTES as READ
    from cloutagent.domain.models import ApiKey

    assert API_KEY_READ_ATTRIBUTES == READ
    assert set(READ) == {field.alias or name for name, field in ApiKey.model_fields.items()}


def test_only_tenant_lookups_may_query_the_lookup_index(policies, roles):
    def queries_index(role_id: str) -> bool:
        return any(
            "/index/" in str(s["Resource"]) and "dynamodb:Query" in actions(s) for s in _allows(policies[role_id])
        )

    # ... and the REST functions, which authenticate API keys themselves (infra/constructs/rest_api.py)
    rest_functions = set(load_definitions().rest_functions())
    assert {name for name, role in roles.items() if queries_index(role)} == set(LOOKUP_INDEX_USERS) | rest_functions


def test_wildcard_resources_only_carry_actions_without_resource_scoping(policies):
    for role_id, statements in policies.items():
        for statement in _allows(statements):
            if "*" in as_list(statement["Resource"]):
                assert actions(statement) <= ALLOWED_ON_ANY_RESOURCE, f"{role_id}: {actions(statement)} on '*'"


def test_only_publishers_may_post_to_connections(policies, roles):
    posters = {
        name for name, role in roles.items()
        if any("execute-api:ManageConnections" in actions(s) for s in _allows(policies[role]))
    }
    assert posters == set(CONNECTION_POSTERS)


def _decrypt_statements(statements: list[dict]) -> list[dict]:
    return [s for s in _allows(statements) if actions(s) & {"kms:Decrypt", "kms:*"}]


def _requires_project_context(statement: dict) -> bool:
    null = statement.get("Condition", {}).get("Null", {})
    return all(null.get(f"kms:EncryptionContext:{key}") == "false" for key in PROJECT_CONTEXT_KEYS)


def test_the_executor_decrypts_only_under_a_project_encryption_context(policies, data_role, keys):
    decrypts = _decrypt_statements(policies[data_role])
    assert decrypts

    for statement in decrypts:
        (key,) = list(refs(statement["Resource"]))
        if key == keys["projects"]:
            # Direct KMS use: only with a tenantId and a projectId in the encryption context.
            assert _requires_project_context(statement)
        else:
            # The data key: only as DynamoDB/S3 use it on the task's behalf, never a direct Decrypt.
            assert key == keys["data"]
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]


def test_only_the_secrets_function_uses_the_project_key_and_only_with_context(policies, roles, keys):
    users = set()
    for name, role in roles.items():
        for statement in _allows(policies[role]):
            if keys["projects"] in set(refs(statement["Resource"])):
                users.add(name)
                assert _requires_project_context(statement), name
    assert users == {"secrets", *WEBHOOK_KEY_USERS, "triggers", *REPOSITORY_TOKEN_READERS}


WEBHOOK_KEY_USERS = {"notifications": {"kms:Encrypt"}, "notifier": {"kms:Decrypt"}}


@pytest.mark.parametrize("name", sorted(WEBHOOK_KEY_USERS))
def test_the_webhook_functions_use_the_project_key_for_webhook_secrets_only(policies, roles, keys, name):
    from cloutagent.domain.notifications import WEBHOOK_SECRET_NAME
    from infra.stack import WEBHOOK_SECRET_CONTEXT_NAME

    assert WEBHOOK_SECRET_CONTEXT_NAME == WEBHOOK_SECRET_NAME  # infra does not import the runtime
    [statement] = [s for s in _allows(policies[roles[name]]) if keys["projects"] in set(refs(s["Resource"]))]
    # one direction each (seal when set, open to sign), and never a project secret (another name)
    assert actions(statement) == WEBHOOK_KEY_USERS[name]
    assert statement["Condition"]["StringEquals"] == {"kms:EncryptionContext:name": WEBHOOK_SECRET_NAME}


def test_trigger_set_seals_trigger_secrets_only_and_the_git_host_functions_only_open(policies, roles, keys):
    from cloutagent.domain.triggers import TRIGGER_SECRET_NAME
    from infra.stack import TRIGGER_SECRET_CONTEXT_NAME

    assert TRIGGER_SECRET_CONTEXT_NAME == TRIGGER_SECRET_NAME
    [sealing] = [s for s in _allows(policies[roles["triggers"]]) if keys["projects"] in set(refs(s["Resource"]))]
    assert actions(sealing) == {"kms:Encrypt"}
    assert sealing["Condition"]["StringEquals"] == {"kms:EncryptionContext:name": TRIGGER_SECRET_NAME}
    # the receiver and the follow-up open the trigger secret and the repository token: never seal anything
    for name in REPOSITORY_TOKEN_READERS:
        [opening] = [s for s in _allows(policies[roles[name]]) if keys["projects"] in set(refs(s["Resource"]))]
        assert actions(opening) == {"kms:Decrypt"} and _requires_project_context(opening), name


@pytest.mark.parametrize("name", RUN_STARTERS)
def test_run_starters_launch_only_the_executor_task(synth, policies, roles, name):
    (task_def_id,) = synth.of_type("AWS::ECS::TaskDefinition")
    statements = _allows(policies[roles[name]])

    (run,) = [s for s in statements if "ecs:RunTask" in actions(s)]
    assert run["Resource"] == {"Ref": task_def_id}
    assert "ecs:cluster" in run["Condition"]["ArnEquals"]

    (pass_role,) = [s for s in statements if "iam:PassRole" in actions(s)]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    (task,) = synth.of_type("AWS::ECS::TaskDefinition").values()
    passed = {getatt(r)[0] for r in as_list(pass_role["Resource"])}
    assert passed == {getatt(task["Properties"]["TaskRoleArn"])[0], getatt(task["Properties"]["ExecutionRoleArn"])[0]}


def test_no_other_function_touches_ecs_or_passes_roles(policies, roles):
    for name, role in roles.items():
        if name in RUN_STARTERS:
            continue
        granted = set().union(*(actions(s) for s in policies[role]))
        if name == "schedules":  # hands Scheduler its invoke role (tests/infra/test_infra_schedules.py)
            granted -= {"iam:PassRole"}
        assert not any(a.startswith(("ecs:", "iam:")) for a in granted), name


def test_only_membership_writers_reach_the_person_guards_and_only_the_authorizer_reads_cognito(policies, roles):
    from cloutagent.adapters.dynamo.keys import PERSON_PK

    assert PERSON_PARTITION == PERSON_PK
    for name, role_id in roles.items():
        statements = _allows(policies.get(role_id, []))
        guards = [s for s in statements if s.get("Sid") == "PersonGuards"]
        assert bool(guards) == (name in PERSON_GUARD_WRITERS), name
        cognito = set().union(*(actions(s) for s in statements)) & {
            a for s in statements for a in actions(s) if a.startswith("cognito-idp:")}
        # invitations create no user anywhere; the authorizer reads one person's verified email
        assert cognito == ({"cognito-idp:AdminGetUser"} if name == "authorizer" else set()), name


def test_every_counted_invitee_action_is_served_by_a_function_that_may_write_their_rate_window(definitions):
    # An invitee's rate window sits in the PERSON partition (keys.person_rate_sk): a function that
    # served a counted invitee action without the PersonGuards grant would fail every such request.
    from cloutagent.domain.identity import INVITEE_ACTIONS
    from cloutagent.domain.rate_limits import UNCOUNTED_ACTIONS

    serving = {definitions.routes.routes[action] for action in INVITEE_ACTIONS - UNCOUNTED_ACTIONS}
    assert serving and serving <= set(PERSON_GUARD_WRITERS)
