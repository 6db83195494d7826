"""The vocabulary every directive's calls are built from: a call is a function of the conversation."""

from __future__ import annotations

from typing import Callable

from .conversation import Conversation
from .directives import Directive
from .reply import Reply

# One API call of a plan: builds its reply, possibly from what the previous call's tool did.
Call = Callable[[Conversation], Reply]
Action = Callable[[Directive, Conversation], list[Call]]


def fixed(reply_factory: Callable[[], Reply]) -> Call:
    """A call whose reply does not depend on the conversation (a fresh Reply each time)."""
    return lambda conversation: reply_factory()
