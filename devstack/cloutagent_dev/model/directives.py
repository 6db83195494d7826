"""Find the ``[fake:NAME key=value ...]`` directives a prompt uses to script the model's replies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_OPEN = "[fake:"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class _Malformed(Exception):
    """A directive that does not parse: the text stays plain text."""


@dataclass(frozen=True)
class Directive:
    """One directive: its name and its raw parameter values (``input`` holds parsed JSON)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, key: str, default: str = "") -> str:
        value = self.params.get(key, default)
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, key: str, default: int) -> int:
        try:
            return int(float(self.params.get(key, default)))
        except (TypeError, ValueError):
            return default

    def number(self, key: str, default: float) -> float:
        try:
            return float(self.params.get(key, default))
        except (TypeError, ValueError):
            return default

    def flag(self, key: str, default: bool) -> bool:
        raw = self.params.get(key)
        if not isinstance(raw, str):
            return default
        return raw.lower() not in ("0", "off", "false", "no")


def parse_directives(text: str) -> list[Directive]:
    """Every well-formed directive in ``text``, in the order written; malformed ones are skipped."""
    found: list[Directive] = []
    position = text.find(_OPEN)
    while position != -1:
        try:
            directive, end = _parse_one(text, position + len(_OPEN))
        except _Malformed:
            # Skip just the opener so a directive later in the text is still seen.
            position = text.find(_OPEN, position + 1)
            continue
        found.append(directive)
        position = text.find(_OPEN, end)
    return found


def _parse_one(text: str, start: int) -> tuple[Directive, int]:
    name_match = _NAME.match(text, start)
    if not name_match:
        raise _Malformed
    params: dict[str, Any] = {}
    position = name_match.end()
    while True:
        position = _skip_spaces(text, position)
        if position >= len(text):
            raise _Malformed
        if text[position] == "]":
            return Directive(name_match.group(0), params), position + 1
        key, value, position = _parse_param(text, position)
        params[key] = value


def _parse_param(text: str, position: int) -> tuple[str, Any, int]:
    key_match = _KEY.match(text, position)
    if not key_match or not text.startswith("=", key_match.end()):
        raise _Malformed
    key, position = key_match.group(0), key_match.end() + 1
    if text.startswith('"', position):
        value, position = _parse_quoted(text, position + 1)
    elif text.startswith("{", position):
        value, position = _parse_json_object(text, position)
    else:
        value, position = _parse_bare(text, position)
    return key, value, position


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _parse_bare(text: str, position: int) -> tuple[str, int]:
    end = position
    while end < len(text) and not text[end].isspace() and text[end] != "]":
        end += 1
    return text[position:end], end


def _parse_quoted(text: str, position: int) -> tuple[str, int]:
    """A double-quoted value; ``\\"``, ``\\\\``, ``\\n`` and ``\\t`` are escapes."""
    out: list[str] = []
    while position < len(text):
        char = text[position]
        if char == '"':
            return "".join(out), position + 1
        if char == "\\" and position + 1 < len(text):
            following = text[position + 1]
            # An unknown escape keeps its backslash, so Windows-ish paths survive.
            out.append(_ESCAPES.get(following, "\\" + following))
            position += 2
            continue
        out.append(char)
        position += 1
    raise _Malformed


def _parse_json_object(text: str, position: int) -> tuple[Any, int]:
    """A JSON object: find its balanced closing brace (ignoring braces in strings), then decode."""
    end = _matching_brace(text, position)
    try:
        value = json.loads(text[position:end])
    except ValueError as error:
        raise _Malformed from error
    if not isinstance(value, dict):
        raise _Malformed
    return value, end


def _matching_brace(text: str, position: int) -> int:
    depth, in_string, escaped = 0, False, False
    for index in range(position, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    raise _Malformed
