"""Schedules: what an expression may say, what a schedule is, and whom its runs are attributed to.

Expressions are EventBridge Scheduler's own (``cron(min hour dom month dow year)``,
``rate(N minute|minutes|hour|hours|day|days)``), so AWS keeps the clock and the local stack reads
the same text. They are checked here, field by field, before anything reaches Scheduler: a client
hears BAD_REQUEST with the reason, not a Scheduler error after a half-made schedule.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cloutagent.domain.base import DomainModel
from cloutagent.domain.identity import Identity, Role

MAX_SCHEDULES_PER_PROJECT = 20
SCHEDULE_ID_PATTERN = r"^s_[a-z0-9]{26}$"
ScheduleOutcome = Literal["started", "skipped", "failed"]

_RATE = re.compile(r"^(?:rate\()?\s*(\d{1,6})\s+(minute|minutes|hour|hours|day|days)\s*\)?$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}  # EventBridge: 1 is Sunday


# -- expressions ----------------------------------------------------------------------------------
def rate_expression(text: str) -> str:
    """``5 minutes`` or ``rate(5 minutes)`` -> ``rate(5 minutes)``; 1 takes the singular unit, as in AWS."""
    match = _RATE.match(text.strip())
    if not match or text.strip().startswith("rate(") != text.strip().endswith(")"):
        raise ValueError("a rate is 'rate(N minute|minutes|hour|hours|day|days)', e.g. rate(15 minutes)")
    value, unit = int(match[1]), match[2]
    if value < 1:
        raise ValueError("a rate is at least 1 minute")
    if (value == 1) != (not unit.endswith("s")):
        raise ValueError(f"write rate(1 {unit.rstrip('s')}) for one, rate(N {unit.rstrip('s')}s) for more")
    return f"rate({value} {unit})"


def rate_seconds(expression: str) -> int:
    """The period of a ``rate(...)`` expression, in seconds."""
    match = _RATE.match(expression)
    if not match:
        raise ValueError(f"not a rate expression: {expression}")
    return int(match[1]) * _UNIT_SECONDS[match[2].rstrip("s")]


@dataclass(frozen=True)
class CronField:
    """One field of a cron expression: the values it allows, and its specials (L, W, #) if any."""

    values: frozenset[int]
    any: bool = False  # '*' or '?'
    specials: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cron:
    minutes: CronField
    hours: CronField
    days_of_month: CronField
    months: CronField
    days_of_week: CronField
    years: CronField

    def matches(self, moment: datetime) -> bool:
        """Whether the minute ``moment`` (in the schedule's own time zone) is one the cron names."""
        return (moment.minute in self.minutes.values and moment.hour in self.hours.values
                and moment.month in self.months.values and moment.year in self.years.values
                and _day_matches(self, moment))


_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}), ("hours", 0, 23, {}), ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS), ("day-of-week", 1, 7, _DAYS), ("year", 1970, 2199, {}),
)
_DOM_SPECIAL = re.compile(r"^(L|LW|([1-9]|[12]\d|3[01])W)$")
_DOW_SPECIAL = re.compile(r"^(L|[1-7A-Z]{1,3}L|[1-7A-Z]{1,3}#[1-5])$")


def cron_expression(text: str) -> str:
    """``0 9 ? * MON-FRI *`` or ``cron(0 9 ? * MON-FRI *)`` -> the ``cron(...)`` form, each field checked."""
    inner = text.strip()
    if inner.startswith("cron(") and inner.endswith(")"):
        inner = inner[5:-1]
    fields = inner.split()
    if len(fields) != 6:
        raise ValueError("a cron is 'cron(minutes hours day-of-month month day-of-week year)': six fields")
    parse_cron(" ".join(fields))
    return f"cron({' '.join(fields)})"


def parse_cron(inner: str) -> Cron:
    """The six fields of a cron expression (without ``cron(...)``), or ValueError saying which is wrong."""
    fields = inner.upper().split()
    if len(fields) != 6:
        raise ValueError("a cron has six fields")
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    parsed = [_parse_field(value, *spec) for value, spec in zip(fields, _FIELDS)]
    return Cron(*parsed)


def _parse_field(text: str, label: str, low: int, high: int, names: dict[str, int]) -> CronField:
    if text in ("*", "?"):
        if text == "?" and label not in ("day-of-month", "day-of-week"):
            raise ValueError(f"'?' is only for day-of-month or day-of-week, not {label}")
        return CronField(frozenset(range(low, high + 1)), any=True)
    values: set[int] = set()
    specials: list[str] = []
    for item in text.split(","):
        if label == "day-of-month" and _DOM_SPECIAL.match(item):
            specials.append(item)
            continue
        if label == "day-of-week" and _DOW_SPECIAL.match(item):
            base = item.rstrip("L").split("#")[0]
            if base:
                _number(base, label, low, high, names)
            specials.append(item)
            continue
        values |= _parse_item(item, label, low, high, names)
    return CronField(frozenset(values), specials=tuple(specials))


def _parse_item(item: str, label: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    span, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or not 1 <= int(step_text) <= high:
            raise ValueError(f"bad step '{step_text}' in {label}")
        step = int(step_text)
    if span == "*":
        start, end = low, high
    elif "-" in span:
        first, last = span.split("-", 1)
        start, end = _number(first, label, low, high, names), _number(last, label, low, high, names)
        if start > end:
            raise ValueError(f"range {span} in {label} runs backwards")
    else:
        start = _number(span, label, low, high, names)
        end = high if step_text else start
    return set(range(start, end + 1, step))


def _number(text: str, label: str, low: int, high: int, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"'{text}' is not a {label} value ({low}-{high})")
    return int(text)


def _day_matches(cron: Cron, moment: datetime) -> bool:
    last_day = calendar.monthrange(moment.year, moment.month)[1]
    weekday = moment.isoweekday() % 7 + 1  # EventBridge numbering: SUN=1 .. SAT=7
    dom, dow = cron.days_of_month, cron.days_of_week
    if not dom.any:
        if moment.day in dom.values:
            return True
        # W ("nearest weekday") is taken as the day itself, L and LW as the month's last day.
        return any(moment.day == (last_day if s.startswith("L") else int(s[:-1])) for s in dom.specials)
    if weekday in dow.values:
        return True
    for special in dow.specials:
        if special == "L":  # the week's last day: Saturday
            if weekday == 7:
                return True
            continue
        base, _, nth = special.rstrip("L").partition("#")
        day = _DAYS.get(base) or int(base or 7)
        if weekday != day:
            continue
        if nth and (moment.day - 1) // 7 + 1 == int(nth):
            return True
        if special.endswith("L") and moment.day + 7 > last_day:
            return True
    return False


def check_timezone(name: str) -> str:
    """An IANA time zone name Scheduler knows (the runtime's own tz database decides)."""
    if name == "UTC":
        return name
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}", name):
        raise ValueError("a time zone is an IANA name such as Europe/Paris")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name}") from None
    return name


# -- schedules ------------------------------------------------------------------------------------
class Schedule(DomainModel):
    """A project's recurring run, and what happened when it last fired."""

    wire_exclude: ClassVar[frozenset[str]] = frozenset({"tenant_id"})
    tenant_id: str
    project_id: str
    schedule_id: str
    name: str | None = None
    expression: str
    timezone: str = "UTC"
    prompt: str
    options: dict[str, Any] = {}
    branch: str | None = None
    pull_request: bool | None = None
    created_by: str
    created_at: str
    last_fired_at: str | None = None
    last_outcome: ScheduleOutcome | None = None
    last_execution_id: str | None = None
    last_error: str | None = None  # the error code of a skipped or failed firing
    started_count: int = 0
    skipped_count: int = 0
    failed_count: int = 0

    @property
    def attribution(self) -> str:
        """The ``createdBy`` of the runs this schedule starts."""
        return schedule_user_id(self.schedule_id)

    def identity(self) -> Identity:
        """Whom a firing acts as: the schedule itself, a member of its tenant (it may start runs, no more)."""
        return Identity(tenant_id=self.tenant_id, user_id=self.attribution, role=Role.member, auth_type="schedule",
                        display_name=f"schedule {self.name or self.expression}")


def schedule_user_id(schedule_id: str) -> str:
    return f"schedule:{schedule_id}"


@dataclass(frozen=True)
class Firing:
    """What one firing did: started a run, or was skipped or failed (with the error's code)."""

    outcome: ScheduleOutcome
    execution_id: str | None = None
    code: str | None = None
    message: str | None = None
