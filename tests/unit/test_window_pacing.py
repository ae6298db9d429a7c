"""The dedupe windows' pacing (``shared.pipeline.window_pacing``): what a window costs each CRM, its
budget from the guardrails' view of the daily limit, its bucket kept between windows, and the stage
that sends a waiting window's changes to the paced changes queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from shared.models import ChangeEvent, ChangeType, System
from shared.observability import metrics
from shared.pacing import Budget, Why
from shared.pipeline.dedupe.echo import INTEGRATION_SOURCE, OWN_CLIENT_MARKER
from shared.pipeline.stages.dedupe import DedupeStage
from shared.pipeline.window_pacing import Account, Window, WindowPacer, accounts_of
from tests.fakes import ORG, PORTAL, Clock
from tests.memory_state import MemoryCrmStateStore
from tests.unit.handler_kit import LambdaContext
from tests.unit.handler_kit import sqs_event as event_of
from tests.unit.test_handlers import World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
APP = "4242"
BUDGET = Budget(calls_per_day=25_000, max_wait_seconds=60)  # 100,000 a day, 50 % allocation, half of it


@pytest.fixture(autouse=True)
def _metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(metrics, "namespace", "hssync-test")
    yield
    metrics.clear_metrics()


def change(system: System, record_id: str, at: dt.datetime, **update: object) -> ChangeEvent:
    event = ChangeEvent(
        system=system,
        account=ORG if system is System.SALESFORCE else PORTAL,
        object_type="Lead" if system is System.SALESFORCE else "contacts",
        record_id=record_id,
        change_type=ChangeType.UPDATE,
        occurred_at=at,
        source_event_id=f"e-{record_id}",
    )
    return event.model_copy(update=update)


def test_a_window_costs_a_read_where_its_records_changed_and_a_lookup_and_write_on_the_other_side() -> None:
    now = Clock()()
    sf = [change(System.SALESFORCE, f"00Q{i:015d}", now) for i in range(150)]
    hs = [change(System.HUBSPOT, str(i), now) for i in range(3)]
    # 150 leads: 1 Salesforce read, 2 HubSpot lookups and 2 writes; 3 contacts: 1 HubSpot read,
    # 1 Salesforce lookup and 1 write
    assert Window.of(sf + hs).calls == {System.SALESFORCE: 1 + 2, System.HUBSPOT: 1 + 4}
    assert Window.of(hs + hs).calls == {System.SALESFORCE: 2, System.HUBSPOT: 1}  # a record counts once


def test_hssyncs_own_changes_coming_back_cost_nothing() -> None:
    now = Clock()()
    own = [
        change(System.SALESFORCE, "00Q000000000000001", now, origin=f"client={OWN_CLIENT_MARKER}"),
        change(System.HUBSPOT, "7", now, origin=INTEGRATION_SOURCE, origin_id=APP),
    ]
    assert Window.of(own, APP).calls == {System.SALESFORCE: 0, System.HUBSPOT: 0}
    assert Window.of(own, "another app").calls == {System.SALESFORCE: 2, System.HUBSPOT: 1}


def test_a_hundred_salesforce_or_two_hundred_hubspot_changes_fill_a_batch() -> None:
    now = Clock()()
    leads = [change(System.SALESFORCE, f"00Q{i:015d}", now) for i in range(100)]
    contacts = [change(System.HUBSPOT, str(i), now) for i in range(200)]
    assert not Window.of(leads[:99] + contacts[:199]).full
    assert Window.of(leads).full  # their HubSpot lookups and writes take 100 a call
    assert Window.of(contacts).full  # their Salesforce writes take 200 a call


@dataclass
class FakeGuard:
    system: System
    account: str
    limit: int | None
    allocation_percent: int | None = 50

    def daily_limit(self) -> int | None:
        return self.limit


def test_a_budget_is_the_share_of_the_allocation_of_the_limit_last_seen() -> None:
    guards = [FakeGuard(System.SALESFORCE, ORG, 100_000), FakeGuard(System.HUBSPOT, PORTAL, None)]
    salesforce, hubspot = accounts_of(guards, budget_share=0.5, max_wait_seconds=60)
    assert salesforce == Account(System.SALESFORCE, ORG, BUDGET)
    assert hubspot == Account(System.HUBSPOT, PORTAL, None)  # not known yet: not rationed


def pacer(clock: Clock, store: MemoryCrmStateStore, budget: Budget | None = BUDGET) -> WindowPacer:
    accounts = [Account(System.SALESFORCE, ORG, budget), Account(System.HUBSPOT, PORTAL, None)]
    return WindowPacer(stage="dedupe", store=store, accounts=lambda: accounts, clock=clock)


def test_a_lone_change_goes_at_once_and_a_trickle_waits_for_the_budget() -> None:
    clock, store = Clock(), MemoryCrmStateStore()
    paced = pacer(clock, store)
    gone = 0
    for n in range(30):  # a HubSpot edit every second: 2 Salesforce calls a window
        pacing = paced.pace([change(System.HUBSPOT, str(n), clock())])
        assert pacing is not None
        if not pacing.go:
            break
        gone += 1
        clock.tick()
    assert 5 <= gone < 30  # the idle bucket's burst went at once, then the budget holds the windows
    assert pacing is not None
    assert pacing.why is Why.RATIONED
    assert 0 < pacing.wait_seconds <= 60
    bucket = store.pacing_bucket("dedupe", "salesforce", ORG)
    assert bucket is not None
    assert bucket.calls < 2


def test_a_waiting_window_goes_at_its_longest_wait() -> None:
    clock, store = Clock(), MemoryCrmStateStore()
    paced = pacer(clock, store, Budget(calls_per_day=10, max_wait_seconds=60))
    first = clock()
    while (pacing := paced.pace([change(System.HUBSPOT, "1", clock())])) is not None and pacing.go:
        clock.tick()
    late = paced.pace([change(System.HUBSPOT, "2", first)])  # arrived a while ago
    clock.tick(60)
    forced = paced.pace([change(System.HUBSPOT, "2", first)])
    assert late is not None
    assert not late.go
    assert forced is not None
    assert (forced.go, forced.why) == (True, Why.MAX_WAIT)


def test_nothing_is_rationed_while_no_limit_is_known() -> None:
    clock, store = Clock(), MemoryCrmStateStore()
    assert pacer(clock, store, budget=None).pace([change(System.HUBSPOT, "1", clock())]) is None
    assert store.pacing_bucket("dedupe", "salesforce", ORG) is None


def test_the_stage_sends_a_waiting_windows_changes_back_with_the_wait() -> None:
    world = World()
    store = MemoryCrmStateStore()
    paced = pacer(world.clock, store, Budget(calls_per_day=10, max_wait_seconds=60))
    stage = DedupeStage(
        deduper=world.deduper,
        state=world.state,
        portal=PORTAL,
        plans=world.queue("owners"),
        changes=world.queue("changes"),
        dead_letter=world.dead_letter("dedupe"),
        pacer=paced,
        paced_changes=world.queue("paced-changes"),
    )
    world.hs.add(email="first@example.com", lastname="First")
    (first,) = world.hs.drain_events()
    stage.handle(event_of(first.model_dump_json()), LambdaContext())
    assert len(world.sqs.to("owners")) == 1  # the idle bucket lets the lone change go at once
    for n in range(10):  # spend the idle bucket
        paced.pace([change(System.HUBSPOT, f"x{n}", world.clock())])
    world.hs.add(email="second@example.com", lastname="Second")
    (second,) = world.hs.drain_events()
    assert stage.handle(event_of(second.model_dump_json()), LambdaContext()) == {"batchItemFailures": []}
    # to the paced queue, whose batching window gathers the windows due together, not its lane's
    assert world.sqs.to("changes") == []
    (waiting,) = world.sqs.to("paced-changes")
    assert waiting.json["record_id"] == second.record_id
    assert waiting.json["attempt"] == 0  # a wait is no deferral
    assert 0 < waiting.delay <= 60
    assert len(world.sqs.to("owners")) == 1  # nothing planned for it yet
