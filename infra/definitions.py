"""The definitions infra shares with the local stack, read from the domain layer (never copied).

``routes.json`` says which function serves which WebSocket route, ``table.json`` describes the one
DynamoDB table and ``plans.json`` lists the plans Stripe prices may map to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Mapping

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYER_ROOT = REPO_ROOT / "layers" / "cloutagent"
DEFINITIONS_DIR = LAYER_ROOT / "python" / "cloutagent" / "definitions"

# WebSocket lifecycle routes: API Gateway sends no reply to the client for these, so they get
# no route response (a two-way route only makes sense for frames the client sent).
LIFECYCLE_ROUTES = frozenset({"$connect", "$disconnect"})


@dataclass(frozen=True, kw_only=True)
class FunctionDefinition:
    name: str
    handler: str
    trigger: str
    description: str
    method: str | None = None
    path: str | None = None
    dependency_groups: tuple[str, ...] = ()
    # A stream consumer's Lambda filter pattern: which table stream records invoke it.
    stream_filter: Mapping[str, Any] | None = None
    # Variables every function runs with (routes.json functionEnvironment), beyond its settings.
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RouteTable:
    route_selection_expression: str
    authorizer: str
    functions: Mapping[str, FunctionDefinition]
    routes: Mapping[str, str]

    def functions_with_trigger(self, trigger: str) -> list[FunctionDefinition]:
        return [f for f in self.functions.values() if f.trigger == trigger]


@dataclass(frozen=True, kw_only=True)
class RestRoute:
    """A REST v1 route (rest.json): served by the function routes.json gives its action."""

    method: str
    path: str  # with the prefix
    action: str
    function: str
    public: bool = False


@dataclass(frozen=True, kw_only=True)
class KeyAttribute:
    name: str
    type: str


@dataclass(frozen=True, kw_only=True)
class GlobalSecondaryIndex:
    index_name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    projection: str


@dataclass(frozen=True, kw_only=True)
class TableDefinition:
    logical_name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    time_to_live_attribute: str | None
    stream: str | None
    global_secondary_indexes: tuple[GlobalSecondaryIndex, ...]


@dataclass(frozen=True, kw_only=True)
class Definitions:
    routes: RouteTable
    table: TableDefinition
    plans: Mapping[str, Any]
    default_plan: str
    rest_routes: tuple[RestRoute, ...] = ()

    def rest_functions(self) -> list[str]:
        """The functions that serve REST routes (and so authenticate API keys and tokens themselves)."""
        return sorted({route.function for route in self.rest_routes})


def _read(name: str, directory: Path) -> dict[str, Any]:
    return json.loads((directory / name).read_text(encoding="utf-8"))


def _key(raw: Mapping[str, str] | None) -> KeyAttribute | None:
    return KeyAttribute(name=raw["name"], type=raw["type"]) if raw else None


def _route_table(raw: Mapping[str, Any]) -> RouteTable:
    environment = {name: value for name, value in raw["functionEnvironment"].items() if not name.startswith("_")}
    functions = {
        name: FunctionDefinition(
            name=name,
            handler=spec["handler"],
            trigger=spec["trigger"],
            description=spec.get("description", ""),
            method=spec.get("method"),
            path=spec.get("path"),
            dependency_groups=tuple(spec.get("dependencyGroups", ())),
            stream_filter=spec.get("streamFilter"),
            environment=environment,
        )
        for name, spec in raw["functions"].items()
    }
    routes = dict(raw["routes"])
    unknown = sorted({fn for fn in routes.values() if fn not in functions})
    if unknown or raw["authorizer"] not in functions:
        # Fail at synth, not at deploy: a typo here would otherwise surface as a CloudFormation error.
        raise ValueError(f"routes.json names unknown functions: {unknown or [raw['authorizer']]}")
    return RouteTable(
        route_selection_expression=raw["routeSelectionExpression"],
        authorizer=raw["authorizer"],
        functions=functions,
        routes=routes,
    )


def _table(raw: Mapping[str, Any]) -> TableDefinition:
    return TableDefinition(
        logical_name=raw["logicalName"],
        partition_key=_key(raw["partitionKey"]),
        sort_key=_key(raw.get("sortKey")),
        time_to_live_attribute=raw.get("timeToLiveAttribute"),
        stream=raw.get("stream"),
        global_secondary_indexes=tuple(
            GlobalSecondaryIndex(
                index_name=gsi["indexName"],
                partition_key=_key(gsi["partitionKey"]),
                sort_key=_key(gsi.get("sortKey")),
                projection=gsi.get("projection", "ALL"),
            )
            for gsi in raw.get("globalSecondaryIndexes", [])
        ),
    )


def _rest_routes(raw: Mapping[str, Any], routes: RouteTable) -> tuple[RestRoute, ...]:
    found = []
    for spec in raw["routes"]:
        function = routes.routes.get(spec["action"])
        if function is None:
            raise ValueError(f"rest.json names an action routes.json does not route: {spec['action']}")
        found.append(RestRoute(method=spec["method"], path=raw["prefix"] + spec["path"], action=spec["action"],
                               function=function, public=spec.get("public", False)))
    return tuple(found)


@cache
def load_definitions(directory: Path = DEFINITIONS_DIR) -> Definitions:
    """Read routes.json, rest.json, table.json and plans.json from the domain layer."""
    plans = _read("plans.json", directory)
    routes = _route_table(_read("routes.json", directory))
    return Definitions(
        routes=routes,
        rest_routes=_rest_routes(_read("rest.json", directory), routes),
        table=_table(_read("table.json", directory)),
        plans=plans["plans"],
        default_plan=plans["defaultPlan"],
    )
