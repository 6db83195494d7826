"""The REST API's OpenAPI 3.1 document, generated from ``rest.json``, the request models the actions
validate with (``protocol/actions.py``) and the reply models (``protocol/responses.py``).

Served at ``GET /v1/openapi.json``; ``tests/e2e/test_rest_api.py`` validates it as OpenAPI 3.1 and
checks each route's real answers against it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from cloutagent.domain.base import DomainModel
from cloutagent.gateway.http import STATUS
from cloutagent.gateway.rest import RestRoute, rest_routes
from cloutagent.protocol import actions as a
from cloutagent.protocol import responses as r

# Each REST action: the model its data is validated with, and the model of its reply.
# (tests/unit/test_openapi.py checks the request models are the ones the functions register.)
REST_ACTIONS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "health": (a.Empty, r.HealthReply),
    "openapi": (a.Empty, r.OpenApiReply),
    "whoami": (a.Empty, r.WhoamiReply),
    "audit.list": (a.AuditList, r.AuditReply),
    "project.list": (a.Empty, r.ProjectsReply),
    "project.create": (a.ProjectCreate, r.ProjectReply),
    "project.get": (a.ProjectRef, r.ProjectReply),
    "project.update": (a.ProjectUpdate, r.ProjectReply),
    "project.delete": (a.ProjectRef, r.ProjectDeletedReply),
    "execute": (a.Execute, r.ExecutionStartedReply),
    "execution.list": (a.PageRequest, r.ExecutionsReply),
    "execution.get": (a.ExecutionRef, r.ExecutionReply),
    "agent.kill": (a.AgentKill, r.ExecutionKilledReply),
    "execution.diff": (a.ExecutionDiff, r.DiffReply),
    "messages.get": (a.MessagesGet, r.EventsReply),
    "secret.list": (a.ProjectRef, r.SecretsReply),
    "schedule.create": (a.ScheduleCreate, r.ScheduleReply),
    "schedule.list": (a.ProjectRef, r.SchedulesReply),
    "schedule.delete": (a.ScheduleRef, r.ScheduleDeletedReply),
}

REF_TEMPLATE = "#/components/schemas/{model}"
ERROR_STATUSES = sorted({status for status in STATUS.values() if status < 500} | {500})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@cache
def document(version: str) -> dict[str, Any]:
    """The whole document (built once per process: it only changes with the code)."""
    routes = list(rest_routes().values())
    schemas = _schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "cloutagent REST API", "version": version,
                 "description": "Each route runs the WebSocket action it names (docs/protocol.md): "
                                "the same validation, roles, tenancy and error codes."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "An API key (cla_…), from apikey.create"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "A Cognito access token"},
            },
        },
        "security": [{"apiKey": []}, {"bearer": []}],
    }


def _schemas(routes: list[RestRoute]) -> dict[str, Any]:
    models = {model for route in routes for model in REST_ACTIONS[route.action]} | {r.ErrorReply}
    by_mode = [(model, "validation") for model in models if model not in _reply_models()]
    by_mode += [(model, "serialization") for model in _reply_models() | {r.ErrorReply}]
    _, top = models_json_schema(by_mode, by_alias=True, ref_template=REF_TEMPLATE)
    schemas = top.get("$defs", {})
    for name, schema in schemas.items():
        _drop_wire_excluded(name, schema)
    return schemas


def _reply_models() -> set[type[BaseModel]]:
    return {reply for _, reply in REST_ACTIONS.values()}


def _drop_wire_excluded(name: str, schema: dict[str, Any]) -> None:
    """A domain model on the wire leaves out its ``wire_exclude`` fields (DomainModel.to_wire)."""
    model = _domain_models().get(name)
    if model is None:
        return
    for field_name in model.wire_exclude:
        alias = model.model_fields[field_name].alias or field_name
        schema.get("properties", {}).pop(alias, None)
        if alias in schema.get("required", []):
            schema["required"].remove(alias)


def _domain_models() -> dict[str, type[DomainModel]]:
    found: dict[str, type[DomainModel]] = {}
    pending = list(DomainModel.__subclasses__())
    while pending:
        model = pending.pop()
        found[model.__name__] = model
        pending.extend(model.__subclasses__())
    return found


def _operation(route: RestRoute, schemas: dict[str, Any]) -> dict[str, Any]:
    request_model, reply_model = REST_ACTIONS[route.action]
    operation: dict[str, Any] = {
        "operationId": route.action.replace(".", "_"),
        "summary": f"The `{route.action}` action",
        "parameters": _parameters(route, schemas.get(request_model.__name__, {})),
        "responses": {str(route.status): _json_response(reply_model.__name__, "Success")},
    }
    for status in ERROR_STATUSES if not route.public else [500]:
        operation["responses"][str(status)] = _json_response(r.ErrorReply.__name__, "Refused; see error.code")
    if route.public:
        operation["security"] = []
    if route.method in BODY_METHODS:
        body = _body_schema(route, schemas.get(request_model.__name__, {}))
        operation["requestBody"] = {"required": bool(body.get("required")),
                                    "content": {"application/json": {"schema": body}}}
    return operation


def _parameters(route: RestRoute, request_schema: dict[str, Any]) -> list[dict[str, Any]]:
    properties = request_schema.get("properties", {})
    params = [{"name": name, "in": "path", "required": True,
               "schema": properties.get(name, {"type": "string"})} for name in route.path_parameters]
    if route.method not in BODY_METHODS:
        required = set(request_schema.get("required", []))
        for name, schema in properties.items():
            if name in route.path_parameters:
                continue
            if name in route.query_lists:
                schema = {"type": "string", "description": "comma-separated"}
            params.append({"name": name, "in": "query", "required": name in required, "schema": schema})
    return params


def _body_schema(route: RestRoute, request_schema: dict[str, Any]) -> dict[str, Any]:
    """The request model without the fields the path already carries."""
    body = copy.deepcopy(request_schema)
    for name in route.path_parameters:
        body.get("properties", {}).pop(name, None)
        if name in body.get("required", []):
            body["required"].remove(name)
    return body


def _json_response(model_name: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=model_name)}}}}
