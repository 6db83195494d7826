"""Turn a prompt's directives into a plan: the API calls a fake turn replays, in order."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Callable, Mapping

from .directives import Directive, parse_directives
from cloutagent_executor.pricing import cost_usd, price_for

_ID_CHARS = string.ascii_letters + string.digits
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(24))


@dataclass
class ToolRun:
    """The tool call an API call asked for, as the CLI would execute it."""

    tool_use_id: str
    output: str
    busy_seconds: float = 0.0


@dataclass
class Step:
    """One API call: the content blocks it returns, its usage, and the tool it runs."""

    blocks: list[dict]
    usage: dict
    delay_s: float = 0.0
    tool: ToolRun | None = None
    cost_share: bool = False  # usage is filled in so the plan totals the [fake:cost] amount
    stamp: bool = False  # texts get the wall-clock time they are written (relay latency benchmark)


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    error_subtype: str | None = None
    crash_code: int | None = None
    final_cost_usd: float | None = None
    enforce_cli_budget: bool = True


@dataclass(frozen=True)
class PlanContext:
    model: str
    tools: list[str]
    env: Mapping[str, str]
    resumed_entries: int | None = None


def build_plan(prompt: str, context: PlanContext) -> Plan:
    """The plan for one turn; with no content directive, a short reply with one tool use."""
    plan = Plan()
    for directive in parse_directives(prompt):
        handler = _HANDLERS.get(directive.name)
        if handler is not None:
            handler(plan, directive, context)
    if not plan.steps:
        plan.steps = _default_reply(context)
    _fill_cost_shares(plan, context.model)
    return plan


def usage(output_tokens: int, *, input_tokens: int = 3, cache_write: int = 0,
          cache_read: int = 0) -> dict:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def tool_use_block(tool_use_id: str, name: str, tool_input: dict) -> dict:
    return {"type": "tool_use", "id": tool_use_id, "name": name, "input": tool_input}


def _stream(plan: Plan, directive: Directive, context: PlanContext) -> None:
    count, delay = directive.integer("n", 5), directive.number("delay_ms", 0) / 1000
    stamp = directive.flag("stamp", False)
    for index in range(1, count + 1):
        text = f"Streaming message {index} of {count}."
        plan.steps.append(Step([text_block(text)], usage(12), delay_s=delay, stamp=stamp))


def _tokens(plan: Plan, directive: Directive, context: PlanContext) -> None:
    total, chunks = directive.integer("n", 10_000), max(1, directive.integer("messages", 10))
    delay = directive.number("delay_ms", 50) / 1000
    for index in range(1, chunks + 1):
        share = total // chunks + (total % chunks if index == chunks else 0)
        text = f"Token chunk {index} of {chunks}."
        plan.steps.append(Step([text_block(text)], usage(share), delay_s=delay))


def _cost(plan: Plan, directive: Directive, context: PlanContext) -> None:
    chunks, delay = max(1, directive.integer("messages", 5)), directive.number("delay_ms", 100) / 1000
    plan.final_cost_usd = directive.number("usd", 0.10)
    plan.enforce_cli_budget = directive.flag("cli_budget", True)
    for index in range(1, chunks + 1):
        text = f"Cost chunk {index} of {chunks}."
        plan.steps.append(Step([text_block(text)], usage(0), delay_s=delay, cost_share=True))


def _big(plan: Plan, directive: Directive, context: PlanContext) -> None:
    size = directive.integer("bytes", 100_000)
    pattern = "The quick brown fox jumps over the lazy dog. "
    text = (pattern * (size // len(pattern) + 1))[:size]
    plan.steps.append(Step([text_block(text)], usage(max(1, size // 4))))


def _env(plan: Plan, directive: Directive, context: PlanContext) -> None:
    name = directive.params.get("name", "")
    if not _ENV_NAME.match(name):
        text = f"{name!r} is not a valid environment variable name."
    else:
        text = f"Environment variable {name} {_env_state(context.env.get(name))}."
    plan.steps.append(Step([text_block(text)], usage(15)))


def _env_state(value: str | None) -> str:
    # Whether it is there, never what it is.
    if value is None:
        return "is not set"
    return "is set" if value else "is set but empty"


def _sleep(plan: Plan, directive: Directive, context: PlanContext) -> None:
    seconds = directive.number("seconds", 30)
    tool_use_id = new_id("toolu_")
    command = {"command": f"sleep {seconds:g}", "description": "Wait for the long task"}
    blocks = [text_block("Running a long task."), tool_use_block(tool_use_id, "Bash", command)]
    plan.steps.append(Step(blocks, usage(40), tool=ToolRun(tool_use_id, "", seconds)))
    plan.steps.append(Step([text_block("The long task finished.")], usage(10)))


def _error(plan: Plan, directive: Directive, context: PlanContext) -> None:
    plan.error_subtype = directive.params.get("subtype", "error_during_execution")


def _crash(plan: Plan, directive: Directive, context: PlanContext) -> None:
    plan.crash_code = directive.integer("code", 3)


_HANDLERS: dict[str, Callable[[Plan, Directive, PlanContext], None]] = {
    "stream": _stream, "tokens": _tokens, "cost": _cost, "big": _big, "env": _env,
    "sleep": _sleep, "error": _error, "crash": _crash,
}

# What the default reply's one tool call looks like, per tool, in order of preference.
_DEFAULT_TOOL_CALLS = {
    "Bash": ({"command": "ls", "description": "List files"}, "README.md\nsrc\ntests"),
    "Glob": ({"pattern": "*"}, "README.md\nsrc\ntests"),
    "Read": ({"file_path": "README.md"}, "     1\t# Project\n     2\t"),
}


_LATENCY_S = 0.02  # enough for a non-zero duration, little enough to keep tests fast


def _default_reply(context: PlanContext) -> list[Step]:
    opening = "I'll take a look at the project first."
    if context.resumed_entries is not None:
        opening = f"Resumed session with {context.resumed_entries} earlier transcript entries. " + opening
    closing = "The project has a README, a src directory and tests. What should I do next?"
    tool = next((name for name in _DEFAULT_TOOL_CALLS if name in context.tools), None)
    if tool is None:
        return [Step([text_block(opening + " " + closing)], usage(60, cache_write=1200, cache_read=11_000),
                     delay_s=_LATENCY_S)]
    tool_input, output = _DEFAULT_TOOL_CALLS[tool]
    tool_use_id = new_id("toolu_")
    first = Step([text_block(opening), tool_use_block(tool_use_id, tool, tool_input)],
                 usage(85, cache_write=1200, cache_read=11_000), delay_s=_LATENCY_S,
                 tool=ToolRun(tool_use_id, output))
    second = Step([text_block(closing)], usage(40, input_tokens=6, cache_write=240, cache_read=12_200),
                  delay_s=_LATENCY_S)
    return [first, second]


def _fill_cost_shares(plan: Plan, model: str) -> None:
    """Give the [fake:cost] steps output tokens that price to the requested total."""
    shares = [step for step in plan.steps if step.cost_share]
    if not shares or plan.final_cost_usd is None:
        return
    others = sum(cost_usd(model, step.usage) for step in plan.steps if not step.cost_share)
    per_share = max(0.0, plan.final_cost_usd - others) / len(shares)
    price = price_for(model)
    input_cost = 3 * price.input / 1_000_000
    output_tokens = max(0, round((per_share - input_cost) * 1_000_000 / price.output))
    for step in shares:
        step.usage = usage(output_tokens)
