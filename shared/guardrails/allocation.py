"""The rule of the API allocation (DESIGN C3), in one place: whether a stage may call a CRM now, and
how long work that may not waits before it is looked at again.

A CRM account's usage (``used`` of its daily ``limit``) is what its last answer said
(``Sforce-Limit-Info``, HubSpot's daily headers), kept in its :class:`~shared.crm_state.CrmState`.
hssync may use ``percent`` of the limit. Live changes (a person's edit) may use all of it; bulk work
(a backfill, a resync, a list join) stops at :data:`BULK_SHARE` of it, so that under pressure the
last part of the allocation is left to people's edits.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from shared.crm_state import CrmState, CrmStatus
from shared.models import RESYNC_ORIGIN

BULK_SHARE = 0.9  # bulk work stops at 90 % of the allocation; live changes may use the rest
SHORTEST_WAIT_SECONDS = 30
LONGEST_WAIT_SECONDS = 900  # SQS's longest message delay (15 minutes)
# origins of hssync's own bulk changes (hssync resync, list joins); the poller's
# changes are live (without Event Relay it is how Salesforce edits arrive)
BULK_ORIGINS = frozenset({RESYNC_ORIGIN, "hssync:list-join"})


class Lane(StrEnum):
    LIVE = "live"  # a person's edit, as a webhook or a change event brings it
    BULK = "bulk"  # a backfill, a resync, a list join


def lane_of(origin: str | None) -> Lane:
    """The lane of a change by its origin (``ChangeEvent.origin``)."""
    return Lane.BULK if origin in BULK_ORIGINS else Lane.LIVE


@dataclass(frozen=True)
class Allocation:
    """The share of a CRM account's daily API limit hssync may use (1-100 %)."""

    percent: int

    def __post_init__(self) -> None:
        if not 1 <= self.percent <= 100:
            raise ValueError(f"an API allocation is 1-100 %, got {self.percent}")

    def line(self, limit: int, lane: Lane = Lane.LIVE) -> int:
        """The usage at which ``lane`` stops calling (calls below it are allowed)."""
        share = self.percent / 100 * (BULK_SHARE if lane is Lane.BULK else 1.0)
        return math.floor(limit * share)

    def spent(self, used: int, limit: int, lane: Lane = Lane.LIVE) -> bool:
        """``N >= M x percent`` (for bulk work: of its smaller share)."""
        return limit > 0 and used >= self.line(limit, lane)


class Verdict(StrEnum):
    CALL = "call"  # go ahead
    WAIT = "wait"  # this lane waits; the CRM account stays running (bulk under pressure)
    PAUSE = "pause"  # the allocation is spent: the account is paused, every lane waits
    SUSPENDED = "suspended"  # the CRM refuses: only the scheduled probe calls it
    PAUSED = "paused"  # already paused: wait for the probe (or a lower usage) to resume it


def may_call(state: CrmState | None, allocation: Allocation | None, lane: Lane = Lane.LIVE) -> Verdict:
    """Whether a stage working on ``lane`` may call the CRM account whose stored state is ``state``
    (None: never stored, i.e. running with unknown usage)."""
    if state is None:
        return Verdict.CALL
    if state.status is CrmStatus.SUSPENDED:
        return Verdict.SUSPENDED
    if state.status is CrmStatus.PAUSED:
        return Verdict.PAUSED
    if allocation is None or state.api_used is None or not state.api_max:
        return Verdict.CALL
    if allocation.spent(state.api_used, state.api_max, Lane.LIVE):
        return Verdict.PAUSE
    if allocation.spent(state.api_used, state.api_max, lane):
        return Verdict.WAIT
    return Verdict.CALL


def wait_seconds(
    waited: dt.timedelta, *, shortest: int = SHORTEST_WAIT_SECONDS, longest: int = LONGEST_WAIT_SECONDS
) -> int:
    """How long waiting work waits before it is looked at again, given how long its CRM account has
    been paused or suspended: about as long again (so the waits double), from ``shortest`` up to
    ``longest`` (at most SQS's 15 minutes)."""
    longest = max(1, min(longest, LONGEST_WAIT_SECONDS))
    shortest = max(1, min(shortest, longest))
    return max(shortest, min(longest, math.ceil(waited.total_seconds())))
