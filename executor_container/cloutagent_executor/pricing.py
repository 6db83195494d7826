"""What Claude tokens cost, per model, so a run can be priced while it streams.

The CLI reports the authoritative ``total_cost_usd`` only at the end of a turn; a budget check
that waits for it is too late. This table prices each streamed API call instead, the way the
CLI does (its baked-in model catalog and cost formula, checked against Claude Code 2.1.332 by
tests/model/test_cost_crosscheck.py): per-model tiers, a long-prompt tier, 1-hour cache writes,
the US-inference surcharge and web searches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    long_prompt: "LongPrompt | None" = None

    @property
    def cache_write_1h(self) -> float:
        # Every tier of the CLI's catalog prices 1-hour cache writes at twice the input price.
        return 2 * self.input


@dataclass(frozen=True)
class LongPrompt:
    """A dearer price for calls whose prompt (input + cache read + cache write) passes a size."""

    above_prompt_tokens: int
    price: Price


_OPUS_LEGACY = Price(input=15.0, output=75.0, cache_write=18.75, cache_read=1.50)
_OPUS = Price(input=5.0, output=25.0, cache_write=6.25, cache_read=0.50)
_OPUS_5_5 = Price(input=4.0, output=20.0, cache_write=5.0, cache_read=0.20)
_SONNET = Price(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30)
_SONNET_5 = Price(input=2.0, output=10.0, cache_write=2.5, cache_read=0.20)
_SONNET_5_5 = Price(input=2.0, output=10.0, cache_write=2.5, cache_read=0.10)
_HAIKU = Price(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10)
_HAIKU_3_5 = Price(input=0.80, output=4.0, cache_write=1.0, cache_read=0.08)
_HAIKU_5_5 = Price(input=0.10, output=0.50, cache_write=0.125, cache_read=0.01, long_prompt=LongPrompt(
    100_000, Price(input=0.50, output=2.50, cache_write=0.625, cache_read=0.05)))
_TIER_10_50 = Price(input=10.0, output=50.0, cache_write=12.5, cache_read=1.0)
_TIER_10_50_READ_0_25 = Price(input=10.0, output=50.0, cache_write=12.5, cache_read=0.25)
_TIER_8_40 = Price(input=8.0, output=40.0, cache_write=10.0, cache_read=0.20)

# The CLI's catalog: model id (also first-party ids without their date) -> price.
_BY_MODEL: dict[str, Price] = {
    "claude-3-5-haiku": _HAIKU_3_5, "claude-haiku-4-5": _HAIKU, "claude-haiku-5-5": _HAIKU_5_5,
    "claude-3-5-sonnet": _SONNET, "claude-3-7-sonnet": _SONNET, "claude-sonnet-4": _SONNET,
    "claude-sonnet-4-0": _SONNET, "claude-sonnet-4-5": _SONNET, "claude-sonnet-4-6": _SONNET,
    "claude-sonnet-5": _SONNET_5, "claude-sonnet-5-5": _SONNET_5_5,
    "claude-opus-4": _OPUS_LEGACY, "claude-opus-4-0": _OPUS_LEGACY, "claude-opus-4-1": _OPUS_LEGACY,
    "claude-opus-4-5": _OPUS, "claude-opus-4-6": _OPUS, "claude-opus-4-7": _OPUS, "claude-opus-4-8": _OPUS,
    "claude-opus-5": _OPUS, "claude-opus-5-5": _OPUS_5_5,
    "claude-fable-5": _TIER_10_50, "claude-fable-5-1": _TIER_10_50_READ_0_25, "claude-fable-5-2": _TIER_8_40,
    "claude-mythos-5": _TIER_10_50, "claude-mythos-5-1": _TIER_10_50_READ_0_25, "claude-mythos-5-2": _TIER_8_40,
}

# Names outside the catalog: CLI aliases ("opus", "sonnet[1m]") and models newer than this table
# are priced by family. (The CLI resolves aliases before calling the API, so streamed messages
# carry catalog ids; this only guesses for ids this table has not caught up with.)
_BY_FAMILY: dict[str, Price] = {"opus": _OPUS, "sonnet": _SONNET, "haiku": _HAIKU}

# A model with no family in its name is priced as the CLI prices any model it does not know:
# like its own default model (claude-opus-5-5 in Claude Code 2.1.332).
DEFAULT_PRICE = _OPUS_5_5

# "claude-opus-4-1-20250805" and "claude-3-5-sonnet-latest" are priced as their catalog id;
# "[1m]" (the 1M-context variant) does not change the price.
_SUFFIXES = re.compile(r"(\[[^\]]*\])$|(-\d{8}|-latest)$")
_US_INFERENCE_SURCHARGE = 1.1
_WEB_SEARCH_USD = 0.01


def price_for(model: str | None) -> Price:
    """The price of a model id or alias, falling back to a family and then the default."""
    name = _catalog_name(model)
    if name in _BY_MODEL:
        return _BY_MODEL[name]
    for family, price in _BY_FAMILY.items():
        if family in name:
            return price
    return DEFAULT_PRICE


def cost_usd(model: str | None, usage: Mapping[str, Any]) -> float:
    """Price one API call's usage (Anthropic API field names), as the CLI does."""
    price = _tier(price_for(model), usage)
    write_1h = min(_tokens(usage.get("cache_creation") or {}, "ephemeral_1h_input_tokens"),
                   _tokens(usage, "cache_creation_input_tokens"))
    per_token = (
        _tokens(usage, "input_tokens") * price.input
        + _tokens(usage, "output_tokens") * price.output
        + (_tokens(usage, "cache_creation_input_tokens") - write_1h) * price.cache_write
        + write_1h * price.cache_write_1h
        + _tokens(usage, "cache_read_input_tokens") * price.cache_read
    )
    surcharge = _US_INFERENCE_SURCHARGE if usage.get("inference_geo") == "us" else 1.0
    searches = _tokens(usage.get("server_tool_use") or {}, "web_search_requests")
    return per_token / 1_000_000 * surcharge + searches * _WEB_SEARCH_USD


def _catalog_name(model: str | None) -> str:
    name = (model or "").lower().strip()
    while (stripped := _SUFFIXES.sub("", name)) != name:
        name = stripped
    return name


def _tier(price: Price, usage: Mapping[str, Any]) -> Price:
    tier = price.long_prompt
    prompt = sum(_tokens(usage, key) for key in
                 ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"))
    return tier.price if tier is not None and prompt > tier.above_prompt_tokens else price


def _tokens(usage: Mapping[str, Any], name: str) -> int:
    value = usage.get(name) if isinstance(usage, Mapping) else None
    return int(value) if isinstance(value, (int, float)) else 0
