"""What Claude tokens cost, per model, so a run can be priced while it streams.

The CLI reports the authoritative ``total_cost_usd`` only at the end of a turn; a budget check
that waits for it is too late. This table prices each streamed API call instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float


_OPUS_LEGACY = Price(input=15.0, output=75.0, cache_write=18.75, cache_read=1.50)
_OPUS = Price(input=5.0, output=25.0, cache_write=6.25, cache_read=0.50)
_SONNET = Price(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30)
_HAIKU = Price(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10)

# Exact model-id prefixes whose price differs from their family's current price.
# Longest prefix wins, so "claude-opus-4-1-…" never falls through to the family.
_BY_PREFIX: dict[str, Price] = {
    "claude-opus-4-0": _OPUS_LEGACY,
    "claude-opus-4-1": _OPUS_LEGACY,
    "claude-opus-4-2025": _OPUS_LEGACY,
    "claude-3-opus": _OPUS_LEGACY,
    "claude-3-5-haiku": Price(input=0.80, output=4.0, cache_write=1.0, cache_read=0.08),
    "claude-3-haiku": Price(input=0.25, output=1.25, cache_write=0.30, cache_read=0.03),
}

# Newer models and CLI aliases ("opus", "sonnet[1m]") are priced by family.
_BY_FAMILY: dict[str, Price] = {"opus": _OPUS, "sonnet": _SONNET, "haiku": _HAIKU}

# Unknown models are priced like Sonnet: Claude Code's usual default, neither the cheapest
# (which would let a budget overrun) nor the dearest (which would stop runs early).
DEFAULT_PRICE = _SONNET


def price_for(model: str | None) -> Price:
    """The price of a model id or alias, falling back to a family and then the default."""
    name = (model or "").lower()
    for prefix in sorted(_BY_PREFIX, key=len, reverse=True):
        if name.startswith(prefix):
            return _BY_PREFIX[prefix]
    for family, price in _BY_FAMILY.items():
        if family in name:
            return price
    return DEFAULT_PRICE


def cost_usd(model: str | None, usage: Mapping[str, Any]) -> float:
    """Price one API call's usage (Anthropic API field names)."""
    price = price_for(model)
    per_token = (
        _tokens(usage, "input_tokens") * price.input
        + _tokens(usage, "output_tokens") * price.output
        + _tokens(usage, "cache_creation_input_tokens") * price.cache_write
        + _tokens(usage, "cache_read_input_tokens") * price.cache_read
    )
    return per_token / 1_000_000


def _tokens(usage: Mapping[str, Any], name: str) -> int:
    value = usage.get(name)
    return int(value) if isinstance(value, (int, float)) else 0
