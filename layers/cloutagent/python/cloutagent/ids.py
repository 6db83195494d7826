"""Identifier and time helpers shared by every layer."""

from __future__ import annotations

import os
import secrets
import time
from datetime import datetime, timezone

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str = "") -> str:
    """A time-sortable, URL-safe id (48-bit millisecond time + 80 random bits, base32)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return prefix + "".join(reversed(chars))


def new_secret_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def iso_millis(moment: datetime) -> str:
    """The one timestamp format we store, so that string order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso_millis(datetime.now(timezone.utc))


def epoch_seconds() -> int:
    return int(time.time())
