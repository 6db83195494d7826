"""What people type that other people will see: names and descriptions.

A name is shown in a teammate's terminal and console. Control characters there can run terminal
escape sequences (ESC, BEL) or break a line; format characters (bidi overrides such as U+202E,
zero-width marks) make one name look like another. Names refuse both; a description may span
lines and keep its tabs, nothing else.
"""

from __future__ import annotations

import unicodedata

# Unicode general categories that never belong in a name: controls, format characters (bidi
# controls, zero-width), line and paragraph separators, surrogates, private use, unassigned.
UNSHOWABLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
DESCRIPTION_WHITESPACE = frozenset("\n\t")
# Zero-width (non-)joiners are format characters that scripts and emoji need (Persian, Indic,
# 👩‍💻): allowed between two non-ASCII characters, where they join; next to ASCII they only hide.
JOINERS = frozenset("\u200c\u200d")


def first_unshowable(text: str, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first character of ``text`` that must not be shown to others as is, or None."""
    for i, char in enumerate(text):
        if char in allowed or unicodedata.category(char) not in UNSHOWABLE_CATEGORIES:
            continue
        if char in JOINERS and _joins(text, i):
            continue
        return char
    return None


def _joins(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and not text[i - 1].isascii() and not text[i + 1].isascii()


def check_name(name: str) -> str:
    """Pydantic AfterValidator: a one-line name of printable characters, not only spaces."""
    bad = first_unshowable(name)
    if bad is not None:
        raise ValueError(f"must not contain control or formatting characters (found U+{ord(bad):04X})")
    if not name.strip():
        raise ValueError("must not be blank")
    return name


def check_description(text: str) -> str:
    bad = first_unshowable(text, DESCRIPTION_WHITESPACE)
    if bad is not None:
        raise ValueError(f"must not contain control or formatting characters (found U+{ord(bad):04X})")
    return text
