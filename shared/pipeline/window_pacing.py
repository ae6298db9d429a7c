"""Whether a dedupe window goes now, or waits for more changes to share its calls (issue 17).

The rule is :mod:`shared.pacing` (pure); this module gives it what it needs: what a window of changes
would cost each CRM (:class:`Window`), each CRM account's budget (from its daily limit as the
guardrails last saw it, its allocation and ``batching.budget_share``) and its bucket in the state
table. A CRM whose limit is not known yet (no answer seen, nothing stored) is not rationed.

Buckets are read and written without a condition: windows that run at the same moment (at most the
event source's concurrency) may spend one bucket's calls twice, which the next windows pay back.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.models import ChangeEvent, System
from shared.pacing import Bucket, Budget, Demand, Pacing, decide
from shared.pipeline.dedupe.batching import HUBSPOT_CHUNK
from shared.pipeline.dedupe.echo import made_in_hubspot_by_hssync, made_in_salesforce_by_hssync
from shared.pipeline.dedupe.records import READABLE
from shared.pipeline.plans import MAX_PLANS_PER_MESSAGE
from shared.times import utc_now

SALESFORCE_BATCH = MAX_PLANS_PER_MESSAGE  # one sObject Collection


@dataclass(frozen=True)
class Window:
    """The records of a window that cost calls (hssync's own changes coming back are answered
    without a call), counted once: what the window costs and whether it fills a batch follow."""

    salesforce: int  # records changed in Salesforce
    hubspot: int  # records changed in HubSpot

    @classmethod
    def of(cls, events: Sequence[ChangeEvent], own_app_id: str | None = None) -> Window:
        changed: dict[System, set[str]] = {System.SALESFORCE: set(), System.HUBSPOT: set()}
        for event in events:
            own = made_in_salesforce_by_hssync(event) or made_in_hubspot_by_hssync(event, own_app_id)
            if event.change_type in READABLE and not own:
                changed[event.system].add(f"{event.object_type}:{event.record_id}")
        return cls(len(changed[System.SALESFORCE]), len(changed[System.HUBSPOT]))

    @property
    def calls(self) -> dict[System, int]:
        """The calls the window makes on each CRM (at least; no estimate of the rarer ones): its
        records read where they changed (a whole batch per call), and their pairs looked up and
        written on the other side."""
        sf, hs = self.salesforce, self.hubspot
        return {
            System.SALESFORCE: _calls(sf, SALESFORCE_BATCH) + 2 * _calls(hs, SALESFORCE_BATCH),
            System.HUBSPOT: _calls(hs, HUBSPOT_CHUNK) + 2 * _calls(sf, HUBSPOT_CHUNK),
        }

    @property
    def full(self) -> bool:
        """Whether the changes of one side fill the largest batch their pairs are written in: 100
        Salesforce changes (HubSpot's batches) or 200 HubSpot changes (Salesforce's collections)."""
        return self.salesforce >= HUBSPOT_CHUNK or self.hubspot >= SALESFORCE_BATCH


def _calls(records: int, per_call: int) -> int:
    return math.ceil(records / per_call)


@dataclass(frozen=True)
class Account:
    """A CRM account a window calls, with its budget (None: its limit is not known yet)."""

    system: System
    account: str
    budget: Budget | None


class BucketStore(Protocol):
    def pacing_bucket(self, stage: str, system: str, account: str) -> Bucket | None: ...

    def put_pacing_bucket(self, stage: str, system: str, account: str, bucket: Bucket) -> None: ...


class WindowPacer:
    """Asks :func:`shared.pacing.decide` for a stage's window and keeps the buckets it spends.
    ``own_app_id``: hssync's HubSpot app id (read on first use: nothing is called when built)."""

    def __init__(
        self,
        *,
        stage: str,
        store: BucketStore,
        accounts: Callable[[], Sequence[Account]],
        own_app_id: Callable[[], str | None] = lambda: None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.stage = stage
        self.store = store
        self.accounts = accounts
        self.own_app_id = own_app_id
        self.clock = clock

    def pace(self, events: Sequence[ChangeEvent]) -> Pacing | None:
        """The decision for a window of ``events``; None: nothing to ration (no call, no budget)."""
        window = Window.of(events, self.own_app_id())
        calls = window.calls
        rationed = [a for a in self.accounts() if a.budget is not None and calls[a.system] > 0]
        if not rationed or not events:
            return None
        demands = [
            Demand(a.budget, self.store.pacing_bucket(self.stage, a.system.value, a.account), calls[a.system])
            for a in rationed
            if a.budget is not None
        ]
        now = self.clock()
        waited = max(0.0, (now - min(e.occurred_at for e in events)).total_seconds())
        pacing = decide(demands, now=now, full=window.full, waited_seconds=waited)
        for account, demand, after in zip(rationed, demands, pacing.buckets, strict=True):
            if after is not None and after != demand.bucket:
                self.store.put_pacing_bucket(self.stage, account.system.value, account.account, after)
        return pacing


class Guarded(Protocol):
    """What the budget needs of a CRM account's guard (``shared.guardrails.guard.CrmGuard``)."""

    system: System
    account: str

    @property
    def allocation_percent(self) -> int | None: ...

    def daily_limit(self) -> int | None: ...


def accounts_of(guards: Sequence[Guarded], budget_share: float, max_wait_seconds: float) -> list[Account]:
    """Each guarded CRM account with its budget: ``budget_share`` of its allocation of the daily
    limit its last answer (or its stored state) reported; None while the limit is not known."""
    out: list[Account] = []
    for guard in guards:
        limit = guard.daily_limit()
        budget = (
            Budget.of_allocation(limit, guard.allocation_percent or 100, budget_share, max_wait_seconds)
            if limit
            else None
        )
        out.append(Account(guard.system, guard.account, budget))
    return out
