"""Request ids the emulators hand out (API Gateway's requestId and messageId, Lambda's aws_request_id).

They only have to be unique and shaped like AWS's (a UUID), never unguessable: nothing is
authorized by them. ``uuid.uuid4()`` reads the kernel's random source without releasing the GIL
and cost the gateway emulator an eighth of its CPU (three per message); a seeded generator does not.
"""

from __future__ import annotations

import os
import random

_generator = random.Random(os.urandom(16))


def request_id() -> str:
    """A random version-4 UUID, as text."""
    text = f"{(_generator.getrandbits(128) & ~(0xF << 76) | (0x4 << 76)) & ~(0x3 << 62) | (0x2 << 62):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
