"""Turn a dollar amount into output tokens at the price the CLI charges for the request's model.

The executor's table (``cloutagent_executor.pricing``) is the one the platform budgets with and
is cross-checked against the CLI by tests/model; without it, the price the CLI gives any model
it does not know (that of its default model, claude-opus-5-5, in Claude Code 2.1.332).
"""

from __future__ import annotations

_INPUT_TOKENS = 3  # every scripted call reports a few input tokens, as real calls do
_FALLBACK_USD_PER_MTOK = (4.0, 20.0)  # input, output


def output_tokens_costing(model: str, usd: float) -> int:
    """Output tokens that, with the usual few input tokens, price to ``usd`` for ``model``."""
    input_price, output_price = _prices(model)
    spend = usd * 1_000_000 - _INPUT_TOKENS * input_price
    return max(0, round(spend / output_price))


def _prices(model: str) -> tuple[float, float]:
    try:
        from cloutagent_executor.pricing import price_for
    except ImportError:
        return _FALLBACK_USD_PER_MTOK
    price = price_for(model)
    return price.input, price.output
