"""Small readers for synthesized CloudFormation, shared by the infrastructure tests."""

from __future__ import annotations

from typing import Any, Iterator

ITEM_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def refs(node: Any) -> Iterator[str]:
    """Every logical id a value points at (Ref / Fn::GetAtt), however deeply nested."""
    if isinstance(node, dict):
        if "Ref" in node and isinstance(node["Ref"], str) and not node["Ref"].startswith("AWS::"):
            yield node["Ref"]
        if "Fn::GetAtt" in node:
            yield node["Fn::GetAtt"][0]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def getatt(node: Any) -> tuple[str, str] | None:
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
        return logical_id, attribute
    return None


def statements_by_role(resources: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Role logical id -> every statement granted to it (inline, attached and managed policies)."""
    by_role: dict[str, list[dict[str, Any]]] = {
        lid: [] for lid, r in resources.items() if r["Type"] == "AWS::IAM::Role"
    }
    for lid, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                by_role[lid].extend(as_list(policy["PolicyDocument"]["Statement"]))
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements = as_list(props["PolicyDocument"]["Statement"])
            for role in props.get("Roles", []):
                for role_id in refs(role):
                    by_role.setdefault(role_id, []).extend(statements)
    return by_role


def actions(statement: dict[str, Any]) -> set[str]:
    return set(as_list(statement.get("Action", [])))


def function_roles(resources: dict[str, dict[str, Any]], handlers: dict[str, str]) -> dict[str, str]:
    """routes.json function name -> logical id of its execution role (matched by handler string)."""
    by_handler = {
        r["Properties"].get("Handler"): getatt(r["Properties"]["Role"])[0]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    return {name: by_handler[handler] for name, handler in handlers.items()}


def function_ids(resources: dict[str, dict[str, Any]], handlers: dict[str, str]) -> dict[str, str]:
    """routes.json function name -> logical id of the function (matched by handler string)."""
    by_handler = {
        r["Properties"].get("Handler"): lid for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
    }
    return {name: by_handler[handler] for name, handler in handlers.items()}


def container_environment(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container.get("Environment", [])}


def executor_roles(resources: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """(task role, tenant data role) logical ids: the role the task runs as, the one it is told to assume."""
    (task,) = [r for r in resources.values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    (container,) = task["Properties"]["ContainerDefinitions"]
    data_role = getatt(container_environment(container)["CLOUTAGENT_TENANT_ROLE_ARN"])
    return getatt(task["Properties"]["TaskRoleArn"])[0], data_role[0]
