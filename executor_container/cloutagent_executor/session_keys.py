"""Where S3SessionStore keeps each session, as pure functions of the SessionKey.

    {prefix}{project}/transcripts/{session}/main/{part}        the main transcript
    {prefix}{project}/transcripts/{session}/sub/{subpath}/{part}  a subagent transcript
    {prefix}{project}/summaries/{session}.json                 list_session_summaries sidecar

S3 objects cannot be appended to, so every append writes one part; a part's name starts with
its write time in epoch ms, so listing order is append order. Key components are
percent-encoded, so no project or session id can reach into another's keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import quote, unquote

PART_SUFFIX = ".jsonl"
_STAMP_DIGITS = 13


def encode(component: str) -> str:
    return quote(component, safe="")


def encode_subpath(subpath: str) -> str:
    return "/".join(encode(segment) for segment in subpath.split("/"))


def decode_subpath(encoded: str) -> str:
    return "/".join(unquote(segment) for segment in encoded.split("/"))


def part_name(stamp_ms: int) -> str:
    # The random tail keeps two writers that share a millisecond from overwriting each other.
    return f"{stamp_ms:0{_STAMP_DIGITS}d}-{secrets.token_hex(4)}{PART_SUFFIX}"


def part_stamp(name: str) -> int:
    return int(name[:_STAMP_DIGITS])


@dataclass(frozen=True)
class KeyLayout:
    prefix: str

    def project(self, project_key: str) -> str:
        return f"{self.prefix}{encode(project_key)}/"

    def transcripts(self, project_key: str) -> str:
        return f"{self.project(project_key)}transcripts/"

    def session(self, project_key: str, session_id: str) -> str:
        return f"{self.transcripts(project_key)}{encode(session_id)}/"

    def subkeys(self, project_key: str, session_id: str) -> str:
        return f"{self.session(project_key, session_id)}sub/"

    def parts(self, project_key: str, session_id: str, subpath: str | None) -> str:
        """The folder holding one transcript's parts (and nothing else directly)."""
        if subpath:
            return f"{self.subkeys(project_key, session_id)}{encode_subpath(subpath)}/"
        return f"{self.session(project_key, session_id)}main/"

    def summaries(self, project_key: str) -> str:
        return f"{self.project(project_key)}summaries/"

    def summary(self, project_key: str, session_id: str) -> str:
        return f"{self.summaries(project_key)}{encode(session_id)}.json"

    def main_part_owner(self, project_key: str, key: str) -> tuple[str, int] | None:
        """(session id, write time) if ``key`` is a main-transcript part of the project."""
        segments = key[len(self.transcripts(project_key)):].split("/")
        if len(segments) != 3 or segments[1] != "main":
            return None
        return unquote(segments[0]), part_stamp(segments[2])

    def subpath_of(self, project_key: str, session_id: str, key: str) -> str:
        """The subpath a subagent part belongs to."""
        folder = key[len(self.subkeys(project_key, session_id)):].rsplit("/", 1)[0]
        return decode_subpath(folder)
