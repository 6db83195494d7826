"""A REST v1 client for tests, like curl: every answer is checked against the served OpenAPI document
(its status is documented for the route, its body matches the route's schema for that status)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class RestClient:
    base_url: str  # the stack's httpUrl
    api_key: str | None = None
    bearer: str | None = None
    document: dict[str, Any] | None = None
    seen_routes: set[str] = field(default_factory=set)  # "GET /v1/projects/{projectId}" …

    def call(self, method: str, template: str, body: Any = None, query: str = "", raw: bytes | None = None,
             headers: dict[str, str] | None = None, **params: str) -> Answer:
        """``template`` as the document lists it (``/v1/projects/{projectId}``), ``params`` fill it."""
        path = template.format(**params)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(f"{self.base_url}{path}{'?' + query if query else ''}", data=data,
                                         method=method, headers={**self._credentials(), **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=20) as reply:
                answer = Answer(reply.status, json.loads(reply.read() or b"null"))
        except urllib.error.HTTPError as err:
            answer = Answer(err.code, json.loads(err.read() or b"null"))
        self._check(method, template, answer)
        return answer

    def ok(self, method: str, template: str, body: Any = None, **kwargs: Any) -> Any:
        answer = self.call(method, template, body, **kwargs)
        assert answer.status < 300, answer
        return answer.body

    def _credentials(self) -> dict[str, str]:
        if self.api_key:
            return {"X-API-Key": self.api_key}
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        return {}

    def _check(self, method: str, template: str, answer: Answer) -> None:
        if self.document is None:
            return
        operation = self.document["paths"][template][method.lower()]
        responses = operation["responses"]
        assert str(answer.status) in responses, (method, template, answer)
        schema = responses[str(answer.status)]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": self.document["components"]})
        problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(answer.body)]
        assert not problems, (method, template, problems[:5])
        self.seen_routes.add(f"{method} {template}")
