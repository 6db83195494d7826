"""The executor pool in the template: a claim queue only when ``executorPoolSize`` asks for one,
the launcher may only send to it, the task role may only take claims from it."""

from __future__ import annotations

import pytest

from infra.app import build_app
from infra.stack import RUN_STARTERS
from tests.infra.cfn import actions, as_list, container_environment, executor_roles, function_roles, getatt, refs
from tests.infra.cfn import statements_by_role
from tests.infra.synthesis import hermetic_context

pytestmark = pytest.mark.infra

POOL = {"executorPoolSize": 3}


@pytest.fixture(scope="module")
def pooled(synthesized):
    return synthesized(**POOL)


def _claim_queues(synth) -> list[str]:
    return [lid for lid in synth.of_type("AWS::SQS::Queue") if lid.startswith("ExecutorPool")]


@pytest.fixture(scope="module")
def queue_id(pooled) -> str:
    (queue_id,) = _claim_queues(pooled)
    return queue_id


def _container(synth) -> dict:
    (task,) = synth.of_type("AWS::ECS::TaskDefinition").values()
    (container,) = task["Properties"]["ContainerDefinitions"]
    return container


def _environment(synth, function: str, definitions) -> dict:
    handler = definitions.routes.functions[function].handler
    (fn,) = [r for r in synth.of_type("AWS::Lambda::Function").values() if r["Properties"].get("Handler") == handler]
    return fn["Properties"]["Environment"]["Variables"]


def test_the_default_is_no_pool_every_run_cold_starts(synth, definitions):
    # GIVEN cdk.json as it is (executorPoolSize 0)
    assert _claim_queues(synth) == []
    assert "CLOUTAGENT_CLAIM_QUEUE_URL" not in container_environment(_container(synth))
    assert "CLOUTAGENT_EXECUTOR_POOL_SIZE" not in _environment(synth, "executions", definitions)


def test_a_pool_size_makes_an_encrypted_ssl_only_claim_queue_both_sides_are_told_of(pooled, queue_id, definitions):
    queue = pooled.resources[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["VisibilityTimeout"] == 30
    launcher = _environment(pooled, "executions", definitions)
    assert launcher["CLOUTAGENT_EXECUTOR_POOL_SIZE"] == "3"
    assert launcher["CLOUTAGENT_CLAIM_QUEUE_URL"] == {"Ref": queue_id}
    assert container_environment(_container(pooled))["CLOUTAGENT_CLAIM_QUEUE_URL"] == {"Ref": queue_id}
    (policy,) = [r for r in pooled.of_type("AWS::SQS::QueuePolicy").values() if queue_id in refs(r["Properties"])]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_launcher_may_only_send_claims_and_the_task_role_only_take_them(pooled, queue_id, definitions):
    policies = statements_by_role(pooled.resources)
    handlers = {name: d.handler for name, d in definitions.routes.functions.items()}
    roles = function_roles(pooled.resources, handlers)
    task_role, _ = executor_roles(pooled.resources)

    def queue_actions(role: str) -> set[str]:
        return set().union(*(actions(s) for s in policies[role] if queue_id in refs(s.get("Resource"))))

    # every function that starts runs (execute, a schedule's firing, a Git host comment) claims a task
    for name in RUN_STARTERS:
        assert queue_actions(roles[name]) == {"sqs:SendMessage"}, name
    assert queue_actions(task_role) == {"sqs:ReceiveMessage", "sqs:DeleteMessage"}
    # and no other function reaches the queue
    for name, role in roles.items():
        if name not in RUN_STARTERS:
            assert queue_actions(role) == set(), name


def test_with_a_pool_the_task_role_still_can_do_nothing_but_take_claims_and_assume_the_data_role(pooled, queue_id):
    task_role, data_role = executor_roles(pooled.resources)
    statements = statements_by_role(pooled.resources)[task_role]
    granted: dict[tuple[str, str], set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        for resource in as_list(statement["Resource"]):
            granted.setdefault(getatt(resource), set()).update(actions(statement))
    assert granted == {(data_role, "Arn"): {"sts:AssumeRole", "sts:TagSession"},
                       (queue_id, "Arn"): {"sqs:ReceiveMessage", "sqs:DeleteMessage"}}


def test_a_pooled_stack_passes_cdk_nag(pooled):
    report = pooled.validation_report()
    assert [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]] == []


@pytest.mark.parametrize("size", [-1, 101, "many"])
def test_a_pool_size_out_of_range_stops_synthesis(functions_root, tmp_path, size):
    with pytest.raises(ValueError):
        build_app(context=hermetic_context(functions_root, executorPoolSize=size), outdir=str(tmp_path))
