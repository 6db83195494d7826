"""Workspace path rules: relative, normalized, inside the tenant's root, never nested."""

from __future__ import annotations

import re
import unicodedata

from cloutagent.errors import InvalidPath

MAX_PATH_CHARS = 256
_DRIVE = re.compile(r"^[A-Za-z]:")


def normalize_path(raw: str) -> str:
    """Return the canonical form of a workspace path or raise InvalidPath."""
    if not raw or len(raw) > MAX_PATH_CHARS:
        raise InvalidPath(f"A path must be 1 to {MAX_PATH_CHARS} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in raw):
        raise InvalidPath("A path may not contain control characters")
    if "\\" in raw or _DRIVE.match(raw):
        raise InvalidPath("Use forward slashes and no drive letters")
    if raw.startswith("/") or raw.startswith("~"):
        raise InvalidPath("A path must be relative to the tenant's workspace root")
    segments = [s for s in raw.split("/") if s not in ("", ".")]
    if any(s == ".." for s in segments):
        raise InvalidPath("A path may not contain '..'")
    if not segments:
        raise InvalidPath("A path must name a folder")
    return "/".join(segments)


def paths_overlap(a: str, b: str) -> bool:
    """True when a equals b or one contains the other."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def slugify(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:64].strip("-")
    return slug or "project"


def choose_default_path(name: str, taken: list[str]) -> str:
    """A slug of the name, suffixed until it overlaps no existing project path."""
    base = slugify(name)
    candidate, n = base, 1
    while any(paths_overlap(candidate, t) for t in taken):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def ensure_no_overlap(path: str, taken: list[str]) -> None:
    for other in taken:
        if paths_overlap(path, other):
            raise InvalidPath(f"'{path}' overlaps the path of another project ('{other}')")
