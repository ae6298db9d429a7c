"""Adaptive batching: when a stage works on the changes waiting for it (issue 17).

A batch is worked on in a *window*: one round of batched reads and writes, ``k`` API calls however
few changes it holds. On a steady trickle, one window per change would spend calls without end, so
the windows a CRM's budget allows are rationed:

- The budget is a share of the API allocation per day (``batching.budget_share`` of it). A window that
  makes ``k`` calls may open at most ``budget / k`` times a day. It is kept as a bucket of calls that
  refills at ``budget / 86,400`` calls per second and holds at most one longest wait's worth of calls
  (at least one window's), so a change that arrives alone into an idle stack goes at once.
- A window that finds too few calls in the bucket waits until the bucket holds them, but never longer
  than ``batching.max_wait_seconds`` after its oldest change arrived; meanwhile more changes join it,
  so a trickle pays latency, not calls. The first window that waits sets the bucket's next window;
  the windows that wait after it come back at that same moment, so that they are worked on as one.
- A batch that fills the API's largest request goes at once and spends nothing of the bucket: its
  calls are already at the floor, waiting would not make them cheaper, and a bulk load must not make
  the people's edits after it wait (the API allocation's guardrails bound bulk work).
- A window that goes at its longest wait without the calls in the bucket leaves the bucket in debt,
  down to one burst: the windows after it wait longer.

Each CRM has its own bucket (its own limit and allocation); a window goes when every bucket it calls
lets it. The function is pure: the stage keeps the buckets in the state table and reports each
decision (go or wait, how long, why) as a metric.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

SECONDS_PER_DAY = 86_400.0
MIN_BURST_CALLS = 10.0  # an idle bucket holds at least this many calls


class Why(StrEnum):
    BUDGET = "budget"  # the budget had the calls: go now
    FULL = "full_batch"  # the batch fills the API's largest request: go now
    MAX_WAIT = "max_wait"  # the oldest change waited the longest wait: go now
    RATIONED = "rationed"  # wait for the budget to hold the window's calls


@dataclass(frozen=True)
class Budget:
    """One CRM's share of calls for a stage's windows."""

    calls_per_day: float
    max_wait_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.calls_per_day <= 0:
            raise ValueError(f"a batching budget needs calls per day > 0, got {self.calls_per_day}")
        if self.max_wait_seconds < 0:
            raise ValueError(f"the longest wait cannot be negative, got {self.max_wait_seconds}")

    @property
    def refill_per_second(self) -> float:
        return self.calls_per_day / SECONDS_PER_DAY

    def burst(self, need: float) -> float:
        """What an idle bucket holds: a longest wait's worth of calls, and at least one window's."""
        return max(MIN_BURST_CALLS, need, self.refill_per_second * self.max_wait_seconds)

    @classmethod
    def of_allocation(
        cls, daily_limit: int, allocation_percent: int, share: float, max_wait_seconds: float
    ) -> Budget:
        """``share`` (0-1) of ``allocation_percent`` % of a daily API limit."""
        calls = daily_limit * allocation_percent / 100 * share
        return cls(calls_per_day=max(calls, 1.0), max_wait_seconds=max_wait_seconds)


@dataclass(frozen=True)
class Bucket:
    """Calls available at ``at`` (negative: in debt); ``next_window``: when the windows waiting for
    this bucket come back, all at once, to be worked on as one."""

    calls: float
    at: dt.datetime
    next_window: dt.datetime | None = None


@dataclass(frozen=True)
class Demand:
    """What a window would cost one CRM."""

    budget: Budget
    bucket: Bucket | None  # None: never used, i.e. full
    calls: int  # the calls the window would make on this CRM


@dataclass(frozen=True)
class Pacing:
    go: bool
    why: Why
    wait_seconds: float  # how long the window waits (0 when it goes)
    buckets: tuple[Bucket | None, ...]  # the buckets after the decision (unchanged when it waits)


def available(demand: Demand, now: dt.datetime) -> float:
    """The calls in the demand's bucket at ``now``, refilled since it was last used."""
    burst = demand.budget.burst(demand.calls)
    if demand.bucket is None:
        return burst
    elapsed = max(0.0, (now - demand.bucket.at).total_seconds())
    return min(burst, demand.bucket.calls + elapsed * demand.budget.refill_per_second)


def _spend(demand: Demand, now: dt.datetime) -> Bucket:
    burst = demand.budget.burst(demand.calls)
    return Bucket(calls=max(-burst, available(demand, now) - demand.calls), at=now)


def _shortfall_seconds(demand: Demand, now: dt.datetime) -> float:
    missing = demand.calls - available(demand, now)
    return max(0.0, missing / demand.budget.refill_per_second)


def decide(demands: list[Demand], *, now: dt.datetime, full: bool, waited_seconds: float) -> Pacing:
    """Whether a window goes now: ``demands`` per CRM it calls, ``full`` when its batch fills the
    API's largest request, ``waited_seconds`` the age of its oldest change."""
    costly = [d for d in demands if d.calls > 0]
    wait = max((_shortfall_seconds(d, now) for d in costly), default=0.0)
    if wait <= 0:
        why = Why.BUDGET
    elif full:
        return Pacing(True, Why.FULL, 0.0, tuple(d.bucket for d in demands))
    else:
        longest = min((d.budget.max_wait_seconds for d in costly), default=0.0)
        left = longest - waited_seconds
        if left > 0:
            return _wait(demands, now, min(wait, left), left)
        why = Why.MAX_WAIT
    spent = tuple(_spend(d, now) if d.calls > 0 else d.bucket for d in demands)
    return Pacing(True, why, 0.0, spent)


def _wait(demands: list[Demand], now: dt.datetime, wait: float, left: float) -> Pacing:
    """The window waits: until the next window already set (never past its own longest wait), else
    ``wait`` seconds, which become the next window of the buckets it waits for."""
    set_before = [
        d.bucket.next_window
        for d in demands
        if d.calls > 0
        and d.bucket is not None
        and d.bucket.next_window is not None
        and d.bucket.next_window > now
    ]
    if set_before:
        seconds = math.ceil(min(left, max((at - now).total_seconds() for at in set_before)))
        return Pacing(False, Why.RATIONED, seconds, tuple(d.bucket for d in demands))
    seconds = math.ceil(wait)
    next_window = now + dt.timedelta(seconds=seconds)
    buckets = tuple(Bucket(available(d, now), now, next_window) if d.calls > 0 else d.bucket for d in demands)
    return Pacing(False, Why.RATIONED, seconds, buckets)
