"""Schedules in the template: the group, the role Scheduler invokes scheduled_run as, and who may do what."""

from __future__ import annotations

import pytest

from infra.definitions import load_definitions
from infra.stack import CONNECTION_POSTERS, TABLE_ACCESS
from tests.infra.cfn import actions, as_list, function_ids, function_roles, getatt, refs, statements_by_role

pytestmark = pytest.mark.infra

ROUTES = load_definitions().routes
SCHEDULE_ACTIONS = ("schedule.create", "schedule.list", "schedule.delete")


@pytest.fixture(scope="module")
def functions(synth) -> dict[str, str]:
    return function_ids(synth.resources, {name: f.handler for name, f in ROUTES.functions.items()})


@pytest.fixture(scope="module")
def roles(synth) -> dict[str, str]:
    return function_roles(synth.resources, {name: f.handler for name, f in ROUTES.functions.items()})


@pytest.fixture(scope="module")
def policies(synth) -> dict[str, list[dict]]:
    return statements_by_role(synth.resources)


@pytest.fixture(scope="module")
def invoke_role(synth) -> str:
    (role,) = [k for k, r in synth.of_type("AWS::IAM::Role").items()
               if any(s["Principal"].get("Service") == "scheduler.amazonaws.com"
                      for s in r["Properties"]["AssumeRolePolicyDocument"]["Statement"])]
    return role


def _allows(statements: list[dict]) -> list[dict]:
    return [s for s in statements if s["Effect"] == "Allow"]


def _env(synth, function_id: str) -> dict:
    return synth.resources[function_id]["Properties"]["Environment"]["Variables"]


def test_each_schedule_action_is_a_websocket_route_to_the_schedules_function(synth, functions):
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()}
    for action in SCHEDULE_ACTIONS:
        (integration_id,) = refs(routes[action]["Target"])
        uri = synth.resources[integration_id]["Properties"]["IntegrationUri"]
        assert functions["schedules"] in set(refs(uri)), action


def test_the_stage_has_one_schedule_group_its_functions_are_told_about(synth, functions):
    (group,) = synth.of_type("AWS::Scheduler::ScheduleGroup").values()
    name = group["Properties"]["Name"]
    assert _env(synth, functions["schedules"])["CLOUTAGENT_SCHEDULE_GROUP"] == name
    assert _env(synth, functions["scheduled_run"])["CLOUTAGENT_SCHEDULE_GROUP"] == name
    assert getatt(_env(synth, functions["schedules"])["CLOUTAGENT_SCHEDULED_RUN_ARN"]) == (functions["scheduled_run"], "Arn")


def test_only_scheduler_for_this_account_assumes_the_invoke_role_and_it_only_invokes_scheduled_run(
        synth, functions, policies, invoke_role):
    (trust,) = synth.resources[invoke_role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole" and trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (statement,) = _allows(policies[invoke_role])
    assert actions(statement) == {"lambda:InvokeFunction"}
    assert [getatt(r) for r in as_list(statement["Resource"])] == [(functions["scheduled_run"], "Arn")]
    # and the schedules function hands this role, and no other, to Scheduler
    assert getatt(_env(synth, functions["schedules"])["CLOUTAGENT_SCHEDULER_ROLE_ARN"]) == (invoke_role, "Arn")


def _scheduler_statements(statements: list[dict]) -> list[dict]:
    return [s for s in _allows(statements) if any(a.startswith("scheduler:") for a in actions(s))]


def _group_schedules_only(statement: dict) -> bool:
    (resource,) = as_list(statement["Resource"])
    text = str(resource)
    return "schedule/cloutagent-" in text and text.count("*") == 1 and "schedule-group" not in text


def test_the_schedules_function_manages_its_group_s_schedules_and_passes_only_the_invoke_role(
        policies, roles, invoke_role):
    statements = _allows(policies[roles["schedules"]])
    (manage,) = _scheduler_statements(statements)
    assert actions(manage) == {"scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"}
    assert _group_schedules_only(manage)
    (pass_role,) = [s for s in statements if "iam:PassRole" in actions(s)]
    assert [getatt(r) for r in as_list(pass_role["Resource"])] == [(invoke_role, "Arn")]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


def test_scheduled_run_may_only_remove_orphan_schedules_and_launch_runs_as_executions_does(synth, policies, roles):
    statements = _allows(policies[roles["scheduled_run"]])
    (remove,) = _scheduler_statements(statements)
    assert actions(remove) == {"scheduler:DeleteSchedule"} and _group_schedules_only(remove)
    (task_def_id,) = synth.of_type("AWS::ECS::TaskDefinition")
    (run,) = [s for s in statements if "ecs:RunTask" in actions(s)]
    assert run["Resource"] == {"Ref": task_def_id}
    (pass_role,) = [s for s in statements if "iam:PassRole" in actions(s)]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert TABLE_ACCESS["scheduled_run"] == TABLE_ACCESS["schedules"] == "write"
    assert "scheduled_run" in CONNECTION_POSTERS  # schedule.skipped and the run's first events


def test_no_other_role_touches_schedules(policies, roles, invoke_role):
    allowed = {roles["schedules"], roles["scheduled_run"]}
    for role_id, statements in policies.items():
        if role_id not in allowed:
            assert not _scheduler_statements(statements), role_id


def test_the_rest_routes_of_schedules_reach_the_schedules_function_which_authenticates_itself(synth, functions, policies, roles):
    # REST v1 has no API Gateway authorizer: the function checks the key or token (tests/infra/test_infra_rest_api.py).
    http_apis = {k for k, r in synth.of_type("AWS::ApiGatewayV2::Api").items() if r["Properties"].get("ProtocolType") == "HTTP"}
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
              if set(refs(r["Properties"]["ApiId"])) & http_apis}
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    for key in ("GET /v1/projects/{projectId}/schedules", "POST /v1/projects/{projectId}/schedules",
                "DELETE /v1/projects/{projectId}/schedules/{scheduleId}"):
        (integration_id,) = [ref for ref in refs(routes[key]["Target"]) if ref in integrations]
        assert functions["schedules"] in set(refs(integrations[integration_id]["Properties"]["IntegrationUri"])), key
    assert any(s.get("Sid") == "LookupIndex" and "dynamodb:Query" in actions(s) for s in _allows(policies[roles["schedules"]]))
    assert {"CLOUTAGENT_USER_POOL_ID", "CLOUTAGENT_USER_POOL_CLIENT_ID"} <= set(_env(synth, functions["schedules"]))
