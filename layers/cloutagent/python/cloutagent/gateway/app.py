"""A tiny router for WebSocket actions, and the one place errors become wire frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ValidationError

from cloutagent.domain.identity import Identity, require_permission, require_project_scope
from cloutagent.errors import BadRequest, ServiceError, UnknownAction
from cloutagent.observability import annotate, lambda_handler, logger
from cloutagent.protocol.actions import Empty
from cloutagent.protocol.chunks import split_frame
from cloutagent.protocol.frames import (MAX_ACTION_CHARS, MAX_REQUEST_ID_CHARS, ClientFrame, error_frame,
                                        parse_json_object, response_frame)
from cloutagent.gateway import rest
from cloutagent.gateway.events import identity_from_event
from cloutagent.gateway.http import error_reply, json_reply

Handler = Callable[[Identity, Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    fn: Handler
    model: type[BaseModel]


class WebSocketApp:
    """Register actions with ``@app.action(name, Model)``; expose ``app.handler`` to Lambda."""

    def __init__(self, *, reply_sender: Callable[[], Any] | None = None,
                 authenticator: Callable[[], Any] | None = None, rate_limiter: Callable[[], Any] | None = None):
        self.routes: dict[str, Route] = {}
        self._reply_sender = reply_sender
        self._authenticator = authenticator
        self._rate_limiter = rate_limiter
        # Lambda's entry point: each request traced, its API Gateway request id (WebSocket or HTTP API:
        # the same key) the logs' correlation id.
        self.handler = lambda_handler(self.handle, correlation_id_path=correlation_paths.API_GATEWAY_REST)

    def action(self, name: str, model: type[BaseModel] = Empty) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes[name] = Route(fn, model)
            return fn

        return register

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        if rest.is_http_event(event):
            return self.rest_handler(event)
        action, request_id = None, None
        try:
            identity = identity_from_event(event)
            logger.thread_safe_append_keys(**identity.log_keys())
            annotate(tenant_id=identity.tenant_id)
            raw = parse_object(event.get("body"))
            action, request_id = readable_envelope(raw)  # for the reply, even if the frame is refused
            frame = parse_frame(raw)
            action, request_id = frame.action, frame.requestId
            logger.thread_safe_append_keys(action=action, request_id=request_id)
            route = self.routes.get(action)
            if route is None:
                raise UnknownAction(f"Unknown action '{action}'")
            require_permission(identity, action)
            self._limit_rate(identity, action)
            data = validate(route.model, frame.data)
            require_project_scope(identity, action, getattr(data, "projectId", None))
            result = route.fn(identity, data)
            reply = response_frame(action, request_id, result)
        except ServiceError as err:
            logger.info("request refused", extra={"code": err.code})
            reply = error_frame(action, request_id, err.code, err.message, err.details)
        except Exception:
            logger.exception("unhandled error")
            reply = error_frame(action, request_id, "INTERNAL", "Internal error", {})
        finally:
            logger.thread_safe_clear_keys()
        return self._reply(event, reply, request_id)

    def rest_handler(self, event: dict[str, Any]) -> dict[str, Any]:
        """A REST API v1 request (gateway/rest.py): the same action, answered as HTTP."""
        request_id = rest.request_id(event)
        try:
            route = rest.route_for(event)
            logger.thread_safe_append_keys(action=route.action, request_id=request_id, transport="rest")
            identity = None if route.public else rest.rest_identity(event, self._authenticate)
            if identity is not None:
                logger.thread_safe_append_keys(**identity.log_keys())
                annotate(tenant_id=identity.tenant_id)
            handler = self.routes.get(route.action)
            if handler is None:
                raise UnknownAction(f"Unknown action '{route.action}'")
            data = rest.request_data(route, event)
            if identity is not None:
                require_permission(identity, route.action)
                self._limit_rate(identity, route.action)
            valid = validate(handler.model, data)
            if identity is not None:
                require_project_scope(identity, route.action, getattr(valid, "projectId", None))
            result = handler.fn(identity, valid)
            return json_reply(route.status, result)
        except ServiceError as err:
            logger.info("request refused", extra={"code": err.code})
            return error_reply(err.code, err.message, err.details, request_id)
        except Exception:
            logger.exception("unhandled error")
            return error_reply("INTERNAL", "Internal error", None, request_id)
        finally:
            logger.thread_safe_clear_keys()

    def _limit_rate(self, identity: Identity, action: str) -> None:
        limiter = self._rate_limiter() if self._rate_limiter else _default_rate_limiter()
        limiter.check(identity, action)

    def _authenticate(self, headers: dict[str, str], query: dict[str, str]) -> Identity:
        authenticator = self._authenticator() if self._authenticator else _default_authenticator()
        return authenticator.authenticate(headers, query)

    def _reply(self, event: dict[str, Any], reply: dict[str, Any], request_id: str | None) -> dict[str, Any]:
        texts = split_frame(reply, f"r:{(event.get('requestContext') or {}).get('requestId', request_id)}")
        if len(texts) == 1:
            return {"statusCode": 200, "body": texts[0]}
        # Too big for one frame: send the chunks to the caller, answer the route with nothing.
        connection_id = event["requestContext"]["connectionId"]
        sender = self._reply_sender() if self._reply_sender else _default_sender()
        for text in texts:
            sender.post(connection_id, text)
        return {"statusCode": 200}


def parse_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, str) or not body:
        raise BadRequest("A frame must be a JSON object")
    return parse_json_object(body, "A frame")


def readable_envelope(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    """The action and requestId an error reply can echo, as far as they are valid on their own:
    a client waiting on its requestId hears at once why its frame was refused."""
    action, request_id = raw.get("action"), raw.get("requestId")
    ok_action = isinstance(action, str) and 0 < len(action) <= MAX_ACTION_CHARS
    ok_request = isinstance(request_id, str) and len(request_id) <= MAX_REQUEST_ID_CHARS
    return (action if ok_action else None), (request_id if ok_request else None)


def parse_frame(raw: dict[str, Any]) -> ClientFrame:
    if "action" not in raw:
        raise BadRequest("A frame needs an 'action'", {"field": "action"})
    return validate(ClientFrame, raw)


def validate(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise BadRequest("'data' must be a JSON object", {"field": "data"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)[:20]
        ]
        raise BadRequest("Some fields are not valid", {"errors": problems}) from exc


def _default_rate_limiter() -> Any:
    from cloutagent.wiring import get_container

    return get_container().rate_limiter


def _default_authenticator() -> Any:
    from cloutagent.wiring import get_container

    return get_container().authenticator


def _default_sender() -> Any:
    from cloutagent.wiring import get_container

    return get_container().sockets
