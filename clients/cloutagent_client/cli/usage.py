"""``cloutagent usage``: the tenant's plan and what it used this period, in words."""

from __future__ import annotations

from typing import Any

from cloutagent_client import Client
from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output, shown

# Entitlements in the order and words people read them; unknown ones follow with their own key.
_ENTITLEMENTS = [
    ("projects", "projects", "{:,}"), ("members", "members", "{:,}"),
    ("concurrentExecutions", "runs at once", "{:,}"), ("monthlySpendCapUsd", "spend cap a month", "${:,.2f}"),
    ("maxExecutionTimeoutSeconds", "longest run", "{}"), ("connectionsPerUser", "connections per person", "{:,}"),
    ("eventRetentionDays", "history kept", "{} days"), ("maxSecretsPerProject", "secrets per project", "{:,}"),
]


def _duration(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"


def _date(value: str | None) -> str:
    return value[:10] if value else ""


def plan_lines(plan: dict[str, Any]) -> list[str]:
    effective = plan.get("effectivePlan") or plan.get("plan")
    head = f"plan      {effective} ({plan.get('status', 'active')})"
    if plan.get("plan") and plan["plan"] != effective:
        head += f", subscribed to {plan['plan']}"
    if plan.get("trialEnd"):
        head += f", trial until {_date(plan['trialEnd'])}"
    if plan.get("periodEnd"):
        head += f", {'ends' if plan.get('cancelAtPeriodEnd') else 'renews'} {_date(plan['periodEnd'])}"
    if plan.get("paymentRequired"):
        head += f" — payment required{', grace until ' + _date(plan['graceEndsAt']) if plan.get('graceEndsAt') else ''}"
    lines = [shown(head), "limits"]
    entitlements = dict(plan.get("entitlements") or {})
    for key, words, form in _ENTITLEMENTS:
        if key in entitlements:
            value = entitlements.pop(key)
            text = _duration(value) if key == "maxExecutionTimeoutSeconds" else form.format(value)
            lines.append(f"  {words:<24} {text}")
    lines += [f"  {shown(key):<24} {shown(str(value))}" for key, value in entitlements.items()]
    return lines


def usage_lines(used: dict[str, Any]) -> list[str]:
    spend = f"${used.get('spendUsd', 0):,.4f}"
    if used.get("capUsd") is not None:
        spend += f" of ${used['capUsd']:,.2f} (${used.get('remainingUsd', 0):,.2f} left)"
    return [f"usage     {used.get('month', '')}", f"  {'spend':<24} {spend}",
            f"  {'runs':<24} {used.get('executions', 0):,}", f"  {'tokens':<24} {used.get('tokens', 0):,}"]


async def usage(client: Client, args: Any, out: Output) -> int:
    plan = await client.plan()
    used = await client.usage(args.month)
    if out.json:
        out.item({"plan": plan, "usage": used})
        return exit_codes.OK
    for line in plan_lines(plan) + usage_lines(used):
        out.line(line)
    return exit_codes.OK
