"""A steady trickle of people's edits (issue 17): what adaptive batching spends and what it makes a
change wait, at a few arrival rates, on an org whose daily API limit is 100,000.

On one fresh stack: linked pairs are made first (new HubSpot contacts, synced as Leads); then, per
rate, edits arrive evenly for a while, each on its own pair (pairs of even index edited by a HubSpot
user, odd by a Salesforce user, so that a pair never has edits from both sides), and each is timed
from the save until the other side shows it. The calls are counted from the first edit of a rate
until the stack is idle after its last; the projected calls a day are that rate's calls per second
times 86,400 (a steady day, its first idle burst aside). Edits are made in-process through the
emulators' stores, as a user's save makes them: every call the emulators count is hssync's.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.pipeline import (
    SF_COLLECTION_WRITE,
    _hubspot_has,
    _salesforce_has,
    api_calls,
    create_hubspot_contacts,
    fresh_world,
    hubspot_user_edit,
    print_progress,
    salesforce_user_edit,
)
from bench.report import percentile, table
from infra.local_stack import LocalStack
from infra.sandbox.runner import Sandbox

ORG_DAILY_LIMIT = 100_000  # issue 17's org: 25,000 calls a day at the default allocation and share
RATES = (1.0, 5.0, 20.0, 100.0)
PROJECTED_RATE = 100_000 / 86_400  # 100,000 changes a day, spread evenly: 1.16 a second
SECONDS_PER_RATE = 60.0
PROJECTED_SECONDS = 600.0  # issue 17: measured for ten minutes
QUICK_SECONDS = 40.0
TARGET_CALLS_PER_DAY = 25_000
VISIBLE_TIMEOUT = 180.0
POLLER_PERIOD_SECONDS = 15 * 60  # the native connector's poll
SF_QUERY_ROWS = 2_000  # a SOQL query's batch of rows


@dataclass
class TrickleRun:
    rate: float
    seconds: float
    edits: int
    latencies: list[float] = field(default_factory=list, repr=False)
    superseded: int = 0  # edited again before the first edit showed: not timed
    late: int = 0  # not visible within VISIBLE_TIMEOUT
    salesforce_calls: int = 0
    hubspot_calls: int = 0
    calls_seconds: float = 0.0  # from the first edit until idle
    salesforce_breakdown: dict[str, int] = field(default_factory=dict)
    hubspot_breakdown: dict[str, int] = field(default_factory=dict)

    def per_1000(self, calls: int) -> float:
        return calls * 1000 / self.edits if self.edits else math.nan

    @property
    def projected_salesforce_per_day(self) -> float:
        """The Salesforce calls of a day of this rate: the calls per second of the run (its edits
        spread over their own span) times a day."""
        return self.salesforce_calls / self.seconds * 86_400 if self.seconds else math.nan

    def p(self, pct: float) -> float:
        return percentile(self.latencies, pct) if self.latencies else math.nan

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("latencies")
        return {
            **out,
            "p50_s": self.p(50),
            "p95_s": self.p(95),
            "salesforce_per_1000": self.per_1000(self.salesforce_calls),
            "hubspot_per_1000": self.per_1000(self.hubspot_calls),
            "projected_salesforce_per_day": self.projected_salesforce_per_day,
        }


def poller_calls_per_day(changes_per_day: float) -> int:
    """A 15-minute poller at the API's batch maxima: each poll reads the changes of its period (one
    query batch of 2,000 rows per side's read) and writes half of them to Salesforce (200 a call);
    the Salesforce calls of a day."""
    polls = 86_400 // POLLER_PERIOD_SECONDS
    per_side = changes_per_day / polls / 2
    return int(polls * (math.ceil(per_side / SF_QUERY_ROWS) + math.ceil(per_side / SF_COLLECTION_WRITE)))


class Watch:
    """Times edits until the other side shows them (checked every 50 ms in this process)."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[float, Callable[[], bool]]] = {}
        self.latencies: list[float] = []
        self.superseded = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def expect(self, pair: str, started: float, visible: Callable[[], bool]) -> None:
        with self.lock:
            if pair in self.pending:
                self.superseded += 1
            self.pending[pair] = (started, visible)

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                waiting = list(self.pending.items())
            now = time.monotonic()
            for pair, (started, visible) in waiting:
                if visible():
                    with self.lock:
                        if self.pending.get(pair, (None,))[0] == started:
                            del self.pending[pair]
                            self.latencies.append(now - started)
            time.sleep(0.05)

    def wait_empty(self, timeout: float) -> int:
        """Waits until every edit showed; the number that did not within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    return 0
            time.sleep(0.2)
        with self.lock:
            late = len(self.pending)
            self.pending.clear()
            return late


def _edit(sandbox: Sandbox, watch: Watch, pair: tuple[str, str, str], n: int, index: int) -> None:
    contact_id, sobject, sf_id = pair
    value = f"Trickle {n}"
    started = time.monotonic()
    if index % 2 == 0:
        hubspot_user_edit(sandbox, contact_id, {"jobtitle": value})
        watch.expect(contact_id, started, lambda: _salesforce_has(sandbox, sobject, sf_id, "Title", value))
    else:
        salesforce_user_edit(sandbox, sobject, sf_id, {"Title": value})
        watch.expect(contact_id, started, lambda: _hubspot_has(sandbox, contact_id, "jobtitle", value))


def _rate(
    sandbox: Sandbox, stack: LocalStack, pairs: list[tuple[str, str, str]], rate: float, seconds: float
) -> TrickleRun:
    edits = int(rate * seconds)
    run = TrickleRun(rate=rate, seconds=seconds, edits=edits)
    watch = Watch()
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    sf_before, hs_before = api_calls(sandbox)
    began = time.monotonic()
    for n in range(edits):
        due = began + n / rate
        time.sleep(max(0.0, due - time.monotonic()))
        index = n % len(pairs)
        _edit(sandbox, watch, pairs[index], n, index)
    run.late = watch.wait_empty(VISIBLE_TIMEOUT)
    stack.wait_idle(VISIBLE_TIMEOUT)
    run.calls_seconds = time.monotonic() - began
    watch.stop.set()
    watcher.join()
    sf_after, hs_after = api_calls(sandbox)
    run.latencies, run.superseded = watch.latencies, watch.superseded
    run.salesforce_calls = sum((sf_after - sf_before).values())
    run.hubspot_calls = sum((hs_after - hs_before).values())
    run.salesforce_breakdown = dict((sf_after - sf_before).most_common(6))
    run.hubspot_breakdown = dict((hs_after - hs_before).most_common(6))
    return run


def trickle_runs(
    quick: bool = False, progress: Callable[[str], None] = print_progress, pairs_count: int = 1_000
) -> list[TrickleRun]:
    """Each rate of :data:`RATES`, then 100,000 changes a day for ten minutes, on one stack."""
    seconds = QUICK_SECONDS if quick else SECONDS_PER_RATE
    plan = [(rate, seconds) for rate in RATES] + [(PROJECTED_RATE, seconds if quick else PROJECTED_SECONDS)]
    runs: list[TrickleRun] = []
    with fresh_world(salesforce_daily_api_limit=ORG_DAILY_LIMIT) as (sandbox, stack):
        ids = create_hubspot_contacts(sandbox, pairs_count, "trickle")
        if not stack.wait_idle(900):
            raise TimeoutError("the pairs of the trickle did not sync")
        links = stack.state.links_by_hubspot(str(sandbox.hs_creds.portal_id), ids)
        pairs = [(cid, links[cid].sf_object, links[cid].sf_id) for cid in ids if cid in links]
        progress(f"trickle: {len(pairs)} linked pairs")
        for rate, span in plan:
            progress(f"trickle: {rate:.2f} edits/s for {span:.0f} s ...")
            run = _rate(sandbox, stack, pairs, rate, span)
            progress(
                f"  {run.edits} edits: p95 {run.p(95):.1f} s, {run.salesforce_calls} Salesforce and "
                f"{run.hubspot_calls} HubSpot calls"
            )
            runs.append(run)
    return runs


def render_trickle(runs: list[TrickleRun]) -> str:
    rows = [
        (
            f"{run.rate:.2f}/s for {run.seconds:.0f} s",
            run.edits,
            run.p(50),
            run.p(95),
            run.per_1000(run.salesforce_calls),
            run.per_1000(run.hubspot_calls),
            run.projected_salesforce_per_day,
            poller_calls_per_day(run.rate * 86_400),
            run.superseded + run.late,
        )
        for run in runs
    ]
    headers = (
        "rate",
        "edits",
        "p50 s",
        "p95 s",
        "SF / 1,000",
        "HS / 1,000",
        "SF calls / day",
        "15-min poller SF / day",
        "untimed",
    )
    return "\n".join(
        [
            table(headers, rows),
            f"  (org daily limit {ORG_DAILY_LIMIT:,}; target for 100,000 changes a day: "
            f"<= {TARGET_CALLS_PER_DAY:,} Salesforce calls a day; untimed: edited again before "
            "showing, or not shown in time)",
        ]
    )
