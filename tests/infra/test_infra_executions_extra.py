"""The executor gets Claude credentials as an ECS secret, never as plain environment."""

import pytest

pytestmark = pytest.mark.infra


def test_the_anthropic_key_reaches_the_executor_only_as_an_ecs_secret(synth):
    [task] = synth.of_type("AWS::ECS::TaskDefinition").values()
    [container] = task["Properties"]["ContainerDefinitions"]
    assert [s["Name"] for s in container.get("Secrets", [])] == ["ANTHROPIC_API_KEY"]
    assert all("ANTHROPIC" not in e["Name"] for e in container.get("Environment", []))
