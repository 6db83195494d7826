"""The base of every domain object: snake_case fields, camelCase on the wire (``to_wire``)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class DomainModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)
    # Fields never sent to a client (the tenant, internal bookkeeping): to_wire and the OpenAPI
    # document (protocol/openapi.py) both leave them out.
    wire_exclude: ClassVar[frozenset[str]] = frozenset()

    def to_wire(self, exclude: set[str] | None = None) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude=set(self.wire_exclude) | (exclude or set()))
