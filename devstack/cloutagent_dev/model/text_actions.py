"""Directives that only talk: given or streamed texts, token and cost usage, big texts, stalls."""

from __future__ import annotations

from .calls import Call, fixed
from .conversation import Conversation
from .directives import Directive
from .pricing import output_tokens_costing
from .reply import Reply, Text, usage


def stream(directive: Directive, conversation: Conversation) -> list[Call]:
    """One call whose text blocks are written ``delay_ms`` apart; the CLI relays each as it ends."""
    count = max(1, directive.integer("n", 5))
    pause_s, stamp = directive.number("delay_ms", 0) / 1000, directive.flag("stamp", False)
    blocks = [Text(f"Streaming message {i} of {count}.", pause_s=pause_s, stamp=stamp) for i in range(1, count + 1)]
    return [fixed(lambda: Reply(list(blocks), usage(12 * count)))]


def tokens(directive: Directive, conversation: Conversation) -> list[Call]:
    """``messages`` calls sharing ``n`` output tokens, so a per-call budget check trips midway."""
    total, parts = max(0, directive.integer("n", 10_000)), max(1, directive.integer("messages", 10))
    pause_s = directive.number("delay_ms", 50) / 1000
    return [_token_call(i, parts, _share(total, parts, i), pause_s) for i in range(1, parts + 1)]


def _token_call(index: int, parts: int, output_tokens: int, pause_s: float) -> Call:
    return fixed(lambda: Reply([Text(f"Token chunk {index} of {parts}.", pause_s=pause_s)], usage(output_tokens)))


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (total % parts if index == parts else 0)


def cost(directive: Directive, conversation: Conversation) -> list[Call]:
    """Usage the CLI prices to ``usd`` in all.

    ``cli_budget=on``: one call per part, so the CLI's between-calls ``--max-budget-usd`` check
    can stop the run. ``off``: all parts are text blocks of a single call, so nothing can stop
    the CLI before the cost is spent (only a per-message check like the executor's sees it).
    """
    parts, usd = max(1, directive.integer("messages", 5)), max(0.0, directive.number("usd", 0.10))
    pause_s = directive.number("delay_ms", 100) / 1000
    texts = [f"Cost chunk {i} of {parts}." for i in range(1, parts + 1)]
    if not directive.flag("cli_budget", True):
        spent = usage(output_tokens_costing(conversation.model, usd))
        return [fixed(lambda: Reply([Text(t, pause_s=pause_s) for t in texts], dict(spent)))]
    share = usage(output_tokens_costing(conversation.model, usd / parts))
    return [fixed(lambda t=t: Reply([Text(t, pause_s=pause_s)], dict(share))) for t in texts]


def say(directive: Directive, conversation: Conversation) -> list[Call]:
    """One call whose only text is ``text`` as given (Markdown, markup: what a client must show)."""
    text = directive.text("text")
    return [fixed(lambda: Reply([Text(text)], usage(max(1, len(text) // 4))))]


def big(directive: Directive, conversation: Conversation) -> list[Call]:
    """One text block of exactly ``bytes`` ASCII characters."""
    size = max(0, directive.integer("bytes", 100_000))
    pattern = "The quick brown fox jumps over the lazy dog. "
    text = (pattern * (size // len(pattern) + 1))[:size]
    return [fixed(lambda: Reply([Text(text)], usage(max(1, size // 4))))]


def fixed_usage(directive: Directive, conversation: Conversation) -> list[Call]:
    """One text call reporting exactly the usage asked for (for price checks).

    ``cache_write_1h`` of the cache writes are 1-hour ones; ``geo=us`` marks US-only inference;
    ``start_output=N`` reports only N output tokens on message_start, as the real API does.
    """
    spent = usage(max(0, directive.integer("output", 10)), input_tokens=max(0, directive.integer("input", 3)),
                  cache_write=max(0, directive.integer("cache_write", 0)),
                  cache_read=max(0, directive.integer("cache_read", 0)))
    one_hour = min(max(0, directive.integer("cache_write_1h", 0)), spent["cache_creation_input_tokens"])
    if one_hour:
        spent["cache_creation"] = {"ephemeral_1h_input_tokens": one_hour,
                                   "ephemeral_5m_input_tokens": spent["cache_creation_input_tokens"] - one_hour}
    if directive.text("geo"):
        spent["inference_geo"] = directive.text("geo")
    text = "Usage: " + ", ".join(f"{k}={v}" for k, v in spent.items() if isinstance(v, int)) + "."
    start_output = directive.integer("start_output", -1)
    start = start_output if start_output >= 0 else None
    return [fixed(lambda: Reply([Text(text)], dict(spent), start_output_tokens=start))]


def sleep(directive: Directive, conversation: Conversation) -> list[Call]:
    """A text, then the response stalls mid-stream for ``seconds`` before its closing text."""
    seconds = max(0.0, directive.number("seconds", 30))
    blocks = [Text(f"Sleeping for {seconds:g} seconds."), Text(f"Woke up after {seconds:g} seconds.", pause_s=seconds)]
    return [fixed(lambda: Reply(list(blocks), usage(20)))]
