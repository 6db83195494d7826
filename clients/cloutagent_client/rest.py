"""A synchronous client of the REST API v1 (docs/protocol.md, "REST API v1"), on the standard library
alone: for a CI job or a script that starts a run and comes back for its outcome, without holding a
WebSocket open.

    from cloutagent_client import RestClient

    api = RestClient("https://abc.execute-api.eu-west-1.amazonaws.com", api_key="cla_…")
    run = api.start_run(project_id, "Fix the build")
    final = api.wait(project_id, run["executionId"], timeout=1800)  # "completed", "failed", …

A refusal raises the WebSocket SDK's exception for its code (``error_from_wire``: the codes are the
same on both transports). Only reads (GET) are retried, on a connection error, a timeout, a 5xx or a
429; a POST, which may have started a run, never is.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator, cast
from urllib.parse import quote, urlencode

from cloutagent_client.api import project_by_ref
from cloutagent_client.backoff import Backoff
from cloutagent_client.errors import (BadRequest, CloutagentError, ConnectionFailed, InternalError, RequestTimeout, WaitTimeout,
                                      error_from_wire)
from cloutagent_client.options import Credentials
from cloutagent_client.types import Event, EventPage, Execution, ExecutionStatus, Identity, Project, StartedRun

FINAL_STATUSES: frozenset[ExecutionStatus] = frozenset(
    {"completed", "failed", "cancelled", "timeout", "budget_exceeded"})

# An answer without the service's error body is API Gateway's own (a throttle, a crashed Lambda, a
# route it does not know): its status still says which exception.
_CODE_BY_STATUS = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
                   413: "MESSAGE_TOO_LARGE", 429: "RATE_LIMITED"}
_MAX_RETRY_AFTER = 30.0


class _Retryable(Exception):
    """A failure a read may try again: the exception to raise when it may not."""

    def __init__(self, error: CloutagentError, retry_after: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class RestClient:
    """``credentials`` (a function returning ``Credentials``) is called before every request, so a
    token can be refreshed during a long ``wait``; else give ``api_key`` or ``token``."""

    def __init__(self, base_url: str, api_key: str | None = None, token: str | None = None, timeout: float = 30.0,
                 *, credentials: Callable[[], Credentials] | None = None, retries: int = 3):
        if not base_url.startswith(("http://", "https://")):
            raise BadRequest(f"The REST API's URL is http(s)://…, not {base_url!r}", {"field": "apiUrl"})
        self.base_url = base_url.rstrip("/")
        if credentials is None and (api_key or token):
            fixed = Credentials(token=token, api_key=None if token else api_key)
            credentials = lambda: fixed  # noqa: E731
        self._credentials = credentials
        self.timeout = timeout
        self.retries = retries

    # -- session ------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/v1/health", "health")

    def whoami(self) -> Identity:
        return cast(Identity, self._call("GET", "/v1/whoami", "whoami"))

    # -- projects -----------------------------------------------------------------------------------
    def list_projects(self) -> list[Project]:
        return cast(list[Project], self._call("GET", "/v1/projects", "project.list")["projects"])

    def create_project(self, name: str, **fields: Any) -> Project:
        """Fields as in the Project object: description, path, agent, limits, repository (a dict)."""
        return cast(Project, self._call("POST", "/v1/projects", "project.create", {"name": name, **fields})["project"])

    def get_project(self, project_id: str) -> Project:
        return cast(Project, self._call("GET", _project(project_id), "project.get")["project"])

    def update_project(self, project_id: str, **fields: Any) -> Project:
        return cast(Project, self._call("PATCH", _project(project_id), "project.update", fields)["project"])

    def delete_project(self, project_id: str) -> dict[str, Any]:
        return self._call("DELETE", _project(project_id), "project.delete")

    def find_project(self, ref: str) -> Project:
        """A project by id, or by a name no other project of the tenant has."""
        return project_by_ref(self.list_projects(), ref)

    # -- executions ---------------------------------------------------------------------------------
    def start_run(self, project_id: str, prompt: str, *, options: dict[str, Any] | None = None,
                  branch: str | None = None, pull_request: bool | None = None) -> StartedRun:
        """Start a run (``execute``; 202): ``{"executionId", "status": "starting"}``. ``options``: maxTokens,
        maxCostUsd, timeoutSeconds, model. Sent once: a lost answer is not retried (see ``wait``)."""
        body: dict[str, Any] = {"prompt": prompt}
        options = {k: v for k, v in (options or {}).items() if v is not None}
        for key, value in (("options", options or None), ("branch", branch), ("pullRequest", pull_request)):
            if value is not None:
                body[key] = value
        return cast(StartedRun, self._call("POST", _project(project_id) + "/executions", "execute", body)["execution"])

    def get_execution(self, project_id: str, execution_id: str) -> Execution:
        return cast(Execution, self._call("GET", _execution(project_id, execution_id), "execution.get")["execution"])

    def list_executions(self, project_id: str, *, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        """``{"executions": [Execution, …] newest first, "nextCursor"}``."""
        query: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._call("GET", _project(project_id) + "/executions", "execution.list", query=query)

    def kill(self, project_id: str, execution_id: str) -> dict[str, Any]:
        """Stop that run, never a newer one: ``{"executionId", "status": "cancelling"}``; ``Conflict``
        when it is not the one running."""
        return self._call("POST", _execution(project_id, execution_id) + "/kill", "agent.kill")

    def execution_diff(self, project_id: str, execution_id: str) -> str:
        """The run's whole unified diff (every page); ``""`` when it changed nothing."""
        pages: list[str] = []
        query: dict[str, Any] = {}
        while True:
            page = self._call("GET", _execution(project_id, execution_id) + "/diff", "execution.diff", query=query)
            pages.append(page.get("diff") or "")
            if not page.get("nextCursor"):
                return "".join(pages)
            query = {"cursor": page["nextCursor"]}

    def wait(self, project_id: str, execution_id: str, *, timeout: float | None = None,
             poll_seconds: float = 2.0, max_poll_seconds: float = 15.0) -> Execution:
        """Poll the run until it is final (completed, failed, cancelled, timeout, budget_exceeded) and
        return it; the pause grows from ``poll_seconds`` to ``max_poll_seconds``, with jitter.
        ``WaitTimeout`` (``details``: its last ``status``) when ``timeout`` seconds pass first: the run
        goes on."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pauses = Backoff(poll_seconds, max(poll_seconds, max_poll_seconds))
        while True:
            execution = self.get_execution(project_id, execution_id)
            if execution["status"] in FINAL_STATUSES:
                return execution
            pause = pauses.next_delay()
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout(f"{execution_id} is still {execution['status']} after {timeout:g}s",
                                      {"executionId": execution_id, "status": execution["status"]})
                pause = min(pause, left)
            time.sleep(pause)

    # -- the event log ------------------------------------------------------------------------------
    def events(self, project_id: str, since_seq: int = 0, limit: int = 100, events: list[str] | None = None, *,
               cursor: str | None = None, since: str | None = None) -> EventPage:
        """One page of the stored log (``messages.get``): events with ``seq > since_seq``, in order;
        ``nextCursor`` is ``None`` on the last page."""
        query: dict[str, Any] = {"sinceSeq": since_seq, "limit": limit}
        for key, value in (("events", ",".join(events) if events else None), ("cursor", cursor), ("since", since)):
            if value is not None:
                query[key] = value
        return cast(EventPage, self._call("GET", _project(project_id) + "/events", "messages.get", query=query))

    def iter_events(self, project_id: str, since_seq: int = 0, events: list[str] | None = None, *,
                    since: str | None = None, page_size: int = 500) -> Iterator[Event]:
        """Every stored event after ``since_seq``, following ``nextCursor`` page by page."""
        cursor: str | None = None
        while True:
            page = self.events(project_id, since_seq, page_size, events, cursor=cursor, since=since)
            yield from page["events"]
            cursor = page["nextCursor"]
            if not cursor:
                return

    # -- the transport ------------------------------------------------------------------------------
    def _call(self, method: str, path: str, action: str, body: dict[str, Any] | None = None, *,
              query: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.base_url + path + ("?" + urlencode(query) if query else "")
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        attempts = 1 + self.retries if method == "GET" else 1
        backoff = Backoff(0.25, 4.0)
        for attempt in range(1, attempts + 1):
            try:
                return self._once(method, url, data, action)
            except _Retryable as failure:
                if attempt == attempts:
                    raise failure.error from None
                time.sleep(failure.retry_after if failure.retry_after is not None else backoff.next_delay())
        raise AssertionError("unreachable")

    def _headers(self, with_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "cloutagent-client"}
        if with_body:
            headers["Content-Type"] = "application/json"
        credentials = self._credentials() if self._credentials is not None else None
        if credentials is not None and credentials.token:
            headers["Authorization"] = f"Bearer {credentials.token}"
        elif credentials is not None and credentials.api_key:
            headers["X-API-Key"] = credentials.api_key
        return headers

    def _once(self, method: str, url: str, data: bytes | None, action: str) -> dict[str, Any]:
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers(data is not None))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # nosec B310: http(s) only (__init__)
                raw = answer.read()
        except urllib.error.HTTPError as refused:
            error = _refusal(refused.code, refused.read(), action)
            if refused.code == 429 or refused.code >= 500:
                raise _Retryable(error, _retry_after(refused.headers.get("Retry-After"))) from refused
            raise error from None
        except TimeoutError as exc:
            raise _Retryable(RequestTimeout(f"No answer from {self.base_url} within {self.timeout:g}s",
                                            action=action)) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retryable(RequestTimeout(f"No answer from {self.base_url} within {self.timeout:g}s",
                                                action=action)) from exc
            raise _Retryable(ConnectionFailed(f"Cannot reach {self.base_url}: {exc.reason}", action=action)) from exc
        except (OSError, http.client.HTTPException) as exc:  # reset or closed mid-answer
            raise _Retryable(ConnectionFailed(f"The connection to {self.base_url} failed: {exc}",
                                              action=action)) from exc
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise InternalError(f"The answer to {method} {url} was not a JSON object", action=action)
        return body


def _refusal(status: int, raw: bytes, action: str) -> CloutagentError:
    """The exception for an error answer: the service's ``{"error": {code, message, details}}``, or,
    from API Gateway itself, the code its status stands for."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return error_from_wire(body["error"], action)
    code = _CODE_BY_STATUS.get(status, "INTERNAL")
    said = body.get("message") if isinstance(body, dict) else raw[:200].decode("utf-8", "replace")
    return error_from_wire({"code": code, "message": f"HTTP {status}" + (f": {said}" if said else ""),
                            "details": {"status": status}}, action)


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), _MAX_RETRY_AFTER) if value else None
    except ValueError:  # an HTTP date: use our own backoff
        return None


def _project(project_id: str) -> str:
    return f"/v1/projects/{quote(project_id, safe='')}"


def _execution(project_id: str, execution_id: str) -> str:
    return f"{_project(project_id)}/executions/{quote(execution_id, safe='')}"
