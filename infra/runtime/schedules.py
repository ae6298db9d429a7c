"""Schedules (SAM ``Schedule`` = EventBridge rule, ``ScheduleV2`` = EventBridge Scheduler).

``rate(...)`` and ``cron(...)`` are honoured as written (cron: AWS's six fields, UTC, with ``*``, ``?``,
lists, ranges, steps, names, ``L`` and ``#``), unless the runtime is given a ``period``: then every
schedule fires every ``period`` seconds, so a laptop does not wait for a 5-minute poller. Each firing is
an asynchronous invocation with the event EventBridge would send.
"""

from __future__ import annotations

import calendar
import datetime as dt
import heapq
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.runtime.intrinsics import TemplateError
from infra.runtime.template import FunctionSpec, ScheduleSpec

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def scheduled_event(function: FunctionSpec, schedule: ScheduleSpec, region: str, account: str) -> Any:
    """The event a scheduled invocation carries (the schedule's Input, when it has one)."""
    if schedule.input is not None:
        return schedule.input
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if schedule.scheduler:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": account,
            "time": now,
            "region": region,
            "resources": [f"arn:aws:scheduler:{region}:{account}:schedule/default/{schedule.rule_name}"],
            "detail": "{}",
        }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now,
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{schedule.rule_name}"],
        "detail": {},
    }


class CronExpression:
    """An AWS cron expression: minutes hours day-of-month month day-of-week year (UTC)."""

    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) != 6:
            raise TemplateError(f"cron({expression}) needs six fields")
        self.expression = expression
        self.minutes = self._values(fields[0], 0, 59, {})
        self.hours = self._values(fields[1], 0, 23, {})
        self.dom_field, self.dow_field = fields[2], fields[4]
        self.months = self._values(fields[3], 1, 12, _MONTHS)
        self.years = self._values(fields[5], 1970, 2199, {})
        if (self.dom_field == "?") == (self.dow_field == "?"):
            raise TemplateError(
                f"cron({expression}): exactly one of day-of-month and day-of-week must be '?'"
            )

    @staticmethod
    def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
        values: set[int] = set()
        for part in field.split(","):
            step = 1
            if "/" in part:
                part, step_text = part.split("/", 1)
                step = int(step_text)
            if part in ("*", "?"):
                start, end = low, high
            elif "-" in part:
                first, last = part.split("-", 1)
                start, end = _number(first, names), _number(last, names)
            else:
                start = _number(part, names)
                end = high if step > 1 else start
            if not (low <= start <= high and low <= end <= high):
                raise TemplateError(f"cron field {field!r} is out of range {low}-{high}")
            values.update(range(start, end + 1, step))
        return values

    def _day_matches(self, day: dt.date) -> bool:
        last_day = calendar.monthrange(day.year, day.month)[1]
        if self.dom_field != "?":
            if self.dom_field == "L":
                return day.day == last_day
            if "W" in self.dom_field:
                raise TemplateError(f"cron({self.expression}): 'W' is not supported locally; use a period")
            return day.day in self._values(self.dom_field, 1, 31, {})
        weekday = (day.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        field = self.dow_field
        if "#" in field:
            name, nth = field.split("#", 1)
            return weekday == _number(name, _DAYS) and (day.day - 1) // 7 + 1 == int(nth)
        if field.endswith("L") and field != "L":
            return weekday == _number(field[:-1], _DAYS) and day.day + 7 > last_day
        if field == "L":
            return weekday == 7
        return weekday in self._values(field, 1, 7, _DAYS)

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        candidate = moment.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        limit = candidate + dt.timedelta(days=366 * 5)
        while candidate < limit:
            if candidate.year not in self.years or candidate.month not in self.months:
                candidate = (candidate.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(
                    day=1
                )
                continue
            if not self._day_matches(candidate.date()):
                candidate = candidate.replace(hour=0, minute=0) + dt.timedelta(days=1)
                continue
            if candidate.hour not in self.hours:
                candidate = candidate.replace(minute=0) + dt.timedelta(hours=1)
                continue
            if candidate.minute in self.minutes:
                return candidate
            candidate += dt.timedelta(minutes=1)
        raise TemplateError(f"cron({self.expression}) never fires")


def _number(text: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in {k.upper(): v for k, v in names.items()}:
        return {k.upper(): v for k, v in names.items()}[upper]
    try:
        return int(text)
    except ValueError:
        raise TemplateError(f"cron value {text!r} is not understood") from None


def next_fire(expression: str, now: dt.datetime) -> dt.datetime:
    rate = _RATE.match(expression.strip())
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        return now + dt.timedelta(seconds=amount * _UNIT_SECONDS[unit])
    cron = _CRON.match(expression.strip())
    if cron:
        return CronExpression(cron.group(1)).next_after(now)
    raise TemplateError(f"schedule expression {expression!r} is not rate(...) or cron(...)")


@dataclass(order=True)
class _Entry:
    due: float
    index: int
    function: FunctionSpec
    schedule: ScheduleSpec


class Scheduler:
    """Fires enabled schedules on time (or every ``period`` seconds) through ``fire``."""

    def __init__(
        self,
        entries: list[tuple[FunctionSpec, ScheduleSpec]],
        fire: Callable[[FunctionSpec, ScheduleSpec], None],
        *,
        period: float | None,
    ) -> None:
        for _function, schedule in entries:
            next_fire(schedule.expression, dt.datetime.now(dt.UTC))  # reject bad expressions up front
        self._entries = [(f, s) for f, s in entries if s.enabled]
        self._fire = fire
        self.period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _due(self, schedule: ScheduleSpec, now: dt.datetime) -> float:
        if self.period is not None:
            return now.timestamp() + self.period
        return next_fire(schedule.expression, now).timestamp()

    def start(self) -> None:
        if self._thread is None and self._entries:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        now = dt.datetime.now(dt.UTC)
        heap = [_Entry(self._due(s, now), i, f, s) for i, (f, s) in enumerate(self._entries)]
        heapq.heapify(heap)
        while heap and not self._stop.is_set():
            entry = heap[0]
            wait = entry.due - dt.datetime.now(dt.UTC).timestamp()
            if wait > 0:
                self._stop.wait(min(wait, 1.0))
                continue
            heapq.heappop(heap)
            self._fire(entry.function, entry.schedule)
            heapq.heappush(
                heap,
                _Entry(
                    self._due(entry.schedule, dt.datetime.now(dt.UTC)),
                    entry.index,
                    entry.function,
                    entry.schedule,
                ),
            )

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
