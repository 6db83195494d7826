"""Prompt directives that pick what the fake ``claude`` does: ``[fake:name key=value ...]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"\[fake:([a-z_]+)([^\]]*)\]")
_PARAM = re.compile(r"([a-z_]+)=([^\s\]]+)")


@dataclass(frozen=True)
class Directive:
    name: str
    params: dict[str, str]

    def integer(self, key: str, default: int) -> int:
        return int(self.params.get(key, default))

    def number(self, key: str, default: float) -> float:
        return float(self.params.get(key, default))

    def flag(self, key: str, default: bool) -> bool:
        raw = self.params.get(key)
        return default if raw is None else raw.lower() not in ("0", "off", "false", "no")


def parse_directives(prompt: str) -> list[Directive]:
    """Every directive in the prompt, in the order written."""
    return [
        Directive(match.group(1), dict(_PARAM.findall(match.group(2))))
        for match in _DIRECTIVE.finditer(prompt)
    ]
