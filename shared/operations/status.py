"""``hssync status`` and the console's overview: per CRM account whether hssync runs, is paused or
suspended (and why), its API usage of the last 24 hours against the limit and hssync's allocation;
per queue the backlog; per dead-letter queue its depth and reasons; the poller's cursor lag. Then
whether something needs the operator's attention (the command's exit code).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.crm_state import CrmState, CrmStateStore, CrmStatus, UsageSample
from shared.models import System
from shared.observability import metric_name
from shared.operations.progress import OUTCOMES
from shared.operations.queues import QUEUES
from shared.pipeline.activity import seen_cursor
from shared.pipeline.poll import ALL_TARGETS

OLDEST_MESSAGE_ALERT = dt.timedelta(minutes=15)  # a change waiting longer than this needs a look
CURSOR_LAG_ALERT = dt.timedelta(hours=2)  # the scheduled poll runs every few minutes


SOURCES = {System.HUBSPOT: "HubSpot webhooks", System.SALESFORCE: "Salesforce change events"}


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    oldest_age: float | None = None  # seconds; None: not known
    delayed: int = 0  # sent with a delay (work waiting: deferred, held, or waiting for a CRM)


class QueueStats(Protocol):
    def depth(self, logical_id: str) -> QueueDepth: ...

    def dead_letter_reasons(self, logical_id: str) -> dict[str, int]: ...


@dataclass(frozen=True)
class CrmLine:
    state: CrmState
    usage: list[UsageSample]  # the last 24 hours, oldest first

    @property
    def used(self) -> int | None:
        return self.usage[-1].used if self.usage else self.state.api_used

    @property
    def limit(self) -> int | None:
        return self.usage[-1].limit if self.usage else self.state.api_max

    @property
    def allocation(self) -> int | None:
        """The calls hssync may make of the limit (its allocation percent of it)."""
        if self.limit is None or self.state.allocation_percent is None:
            return None
        return self.limit * self.state.allocation_percent // 100


@dataclass(frozen=True)
class QueueLine:
    name: str
    logical_id: str
    depth: QueueDepth


@dataclass(frozen=True)
class DeadLetterLine:
    name: str
    logical_id: str
    source_queue: str | None
    depth: int
    reasons: dict[str, int]


@dataclass(frozen=True)
class StatusReport:
    crms: list[CrmLine]
    queues: list[QueueLine]
    dead_letters: list[DeadLetterLine]
    cursors: dict[str, dt.timedelta | None]  # poll target -> how far behind now (None: never polled)
    at: dt.datetime
    last_seen: dict[str, dt.datetime | None] = field(default_factory=dict)  # source -> its last change
    last_hour: dict[str, int] | None = None  # outcome -> records (None: not known, no metrics kept)
    last_day: dict[str, int] | None = None
    attention: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)


def running(system: System, account: str, now: dt.datetime) -> CrmState:
    """The state of an account nothing was ever stored for: running."""
    return CrmState(system=system, account=account, status=CrmStatus.RUNNING, since=now, updated_at=now)


def crm_lines(
    store: CrmStateStore, accounts: Sequence[tuple[System, str]], now: dt.datetime
) -> list[CrmLine]:
    """The stack's accounts (and any other stored), each with its last day's usage samples."""
    stored = {(s.system, s.account): s for s in store.crm_states()}
    for system, account in accounts:
        stored.setdefault((system, account), running(system, account, now))
    since = now - dt.timedelta(hours=24)
    return [
        CrmLine(state, store.usage_samples(state.system, state.account, since))
        for _, state in sorted(stored.items(), key=lambda item: (item[0][0].value, item[0][1]))
    ]


def cursor_lags(get_cursor: Callable[[str], str | None], now: dt.datetime) -> dict[str, dt.timedelta | None]:
    lags: dict[str, dt.timedelta | None] = {}
    for target in ALL_TARGETS:
        value = get_cursor(target.cursor_name)
        lags[target.cursor_name] = now - dt.datetime.fromisoformat(value) if value else None
    return lags


def attention(report: StatusReport) -> list[str]:
    """What needs the operator: a CRM not running or over its allocation, dead letters, a stale backlog."""
    found: list[str] = []
    for line in report.crms:
        state = line.state
        if state.needs_attention:
            found.append(
                f"{state.system.value} {state.account} is {state.status.value}: {state.reason or '?'}"
            )
        if line.allocation is not None and line.used is not None and line.used >= line.allocation:
            found.append(
                f"{state.system.value} {state.account} used {line.used} of its {line.allocation} calls"
            )
    for dlq in report.dead_letters:
        if dlq.depth:
            found.append(f"{dlq.depth} dead letter(s) in {dlq.name} (hssync dlq list {dlq.name})")
    for queue in report.queues:
        age = queue.depth.oldest_age
        if age is not None and age > OLDEST_MESSAGE_ALERT.total_seconds():
            found.append(f"the oldest message of {queue.name} waits for {age / 60:.0f} min")
    return found


class Activity(Protocol):
    """Where the poller's cursors and the last changes seen are (``DynamoState``)."""

    def get_cursor(self, portal: str, name: str) -> str | None: ...


# the metrics (stage, name) of what synced, per outcome: the apply stage's counters, dedupe's skips
SYNCED_METRICS: tuple[tuple[str, str, str], ...] = (
    *(
        ("apply", metric_name(f"{direction}.{what}"), outcome)
        for direction in ("hubspot_to_salesforce", "salesforce_to_hubspot")
        for what, outcome in (("created", "created"), ("updated", "updated"), ("linked_by_email", "linked"))
    ),
    ("apply", metric_name("errors"), "failed"),
    ("dedupe", "Skipped", "skipped"),
)


class SyncedCounts(Protocol):
    def sums(
        self, metrics: Sequence[tuple[str, str]], since: dt.datetime, now: dt.datetime
    ) -> list[int] | None:
        """The sum of each (stage, metric) since ``since``; None: not known (no metrics kept)."""
        ...


def synced_since(counts: SyncedCounts, since: dt.datetime, now: dt.datetime) -> dict[str, int] | None:
    """Records per outcome since ``since`` (None: not known)."""
    sums = counts.sums([(stage, name) for stage, name, _ in SYNCED_METRICS], since, now)
    if sums is None:
        return None
    done = dict.fromkeys(OUTCOMES, 0)
    for (_, _, outcome), total in zip(SYNCED_METRICS, sums, strict=True):
        done[outcome] += total
    return done


def gather(
    *,
    crm_store: CrmStateStore,
    accounts: Sequence[tuple[System, str]],
    queues: QueueStats,
    activity: Activity,
    synced: SyncedCounts,
    portal: str,
    now: dt.datetime,
) -> StatusReport:
    queue_lines = [QueueLine(p.name, p.queue, queues.depth(p.queue)) for p in QUEUES if p.queue is not None]
    dead_letters = []
    for pair in QUEUES:
        depth = queues.depth(pair.dead_letter)
        total = depth.visible + depth.in_flight
        found = queues.dead_letter_reasons(pair.dead_letter) if total else {}
        dead_letters.append(DeadLetterLine(pair.name, pair.dead_letter, pair.queue, total, found))
    report = StatusReport(
        crms=crm_lines(crm_store, accounts, now),
        queues=queue_lines,
        dead_letters=dead_letters,
        cursors=cursor_lags(lambda name: activity.get_cursor(portal, name), now),
        at=now,
        last_seen={
            label: _stamp(activity.get_cursor(portal, seen_cursor(s))) for s, label in SOURCES.items()
        },
        last_hour=synced_since(synced, now - dt.timedelta(hours=1), now),
        last_day=synced_since(synced, now - dt.timedelta(days=1), now),
    )
    report.attention.extend(attention(report))
    return report


def _stamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
