"""The guardrails of a function (``shared.guardrails``): the CRM states it reads and writes, the work
that waits instead of failing, the probe that resumes a CRM, the notifications."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from shared.crm_state import CrmState, CrmStatus
from shared.errors import AuthenticationError, SuspendedError, TransientApiError
from shared.guardrails.allocation import Allocation, Lane, Verdict
from shared.guardrails.gate import Guards, Hold, run_guarded
from shared.guardrails.guard import CrmGuard, Usage, usage_worth_keeping
from shared.guardrails.probe import probe
from shared.models import System
from tests.memory_state import MemoryCrmStateStore

ORG = "00D000000000001EAA"
PORTAL = "1000001"
START = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


class World:
    def __init__(self) -> None:
        self.now = START
        self.store = MemoryCrmStateStore()
        self.usage: dict[System, Usage | None] = {System.SALESFORCE: None, System.HUBSPOT: None}
        self.notified: list[tuple[str, str]] = []

    def guard(self, system: System, account: str, percent: int = 50) -> CrmGuard:
        return CrmGuard(
            system=system,
            account=account,
            store=self.store,
            usage=lambda: self.usage[system],
            allocation=Allocation(percent),
            notify=lambda subject, message: self.notified.append((subject, message)),
            clock=lambda: self.now,
            shortest_wait=2,
            longest_wait=60,
        )

    def guards(self) -> Guards:
        return Guards([self.guard(System.SALESFORCE, ORG), self.guard(System.HUBSPOT, PORTAL)])

    def status(self, system: System, account: str) -> CrmStatus | None:
        state = self.store.crm_state(system, account)
        return state.status if state is not None else None


@pytest.fixture
def world() -> World:
    return World()


def test_usage_is_kept_once_per_invocation_without_any_call(world):
    guard = world.guard(System.SALESFORCE, ORG)
    guard.begin()
    assert guard.verdict() is Verdict.CALL
    world.usage[System.SALESFORCE] = (120, 2000)  # what the invocation's answers said
    guard.observe()
    state = world.store.crm_state(System.SALESFORCE, ORG)
    assert state is not None
    assert (state.status, state.api_used, state.api_max) == (
        CrmStatus.RUNNING,
        120,
        2000,
    )
    assert state.allocation_percent == 50
    samples = world.store.usage_samples(System.SALESFORCE, ORG, START)
    assert [(s.used, s.limit) for s in samples] == [(120, 2000)]
    guard.begin()
    guard.observe()  # no answer since: nothing written
    assert world.store.crm_state(System.SALESFORCE, ORG) == state


def test_the_allocation_spent_pauses_the_account_until_a_probe_sees_usage_fall(world):
    guard = world.guard(System.SALESFORCE, ORG)
    guard.begin()
    world.usage[System.SALESFORCE] = (1000, 2000)
    guard.observe()
    assert world.status(System.SALESFORCE, ORG) is CrmStatus.PAUSED
    guard.begin()
    assert guard.verdict() is Verdict.PAUSED
    world.now += dt.timedelta(seconds=20)
    assert guard.wait_seconds() == 20  # the waits grow with the pause
    guards = Guards([guard])
    guards.begin()
    assert probe(guards, {System.SALESFORCE: lambda: (1001, 2000)}) == {"salesforce": "paused"}
    guards.begin()
    assert probe(guards, {System.SALESFORCE: lambda: (3, 2000)}) == {"salesforce": "running"}
    assert world.status(System.SALESFORCE, ORG) is CrmStatus.RUNNING
    assert world.notified == []  # a pause and its end are no alarm


def test_a_refusal_suspends_with_what_to_do_and_the_first_good_probe_resumes(world):
    guards = world.guards()
    guards.begin()
    hold = guards.refused(SuspendedError("salesforce", "API_DISABLED_FOR_ORG", "no API in this edition"))
    assert hold == Hold(2, "salesforce", Verdict.SUSPENDED)
    state = world.store.crm_state(System.SALESFORCE, ORG)
    assert state is not None
    assert state.status is CrmStatus.SUSPENDED
    assert (state.reason, state.message, state.since) == (
        "API_DISABLED_FOR_ORG",
        "no API in this edition",
        START,
    )
    assert world.notified == [
        ("hssync: Salesforce suspended (API_DISABLED_FOR_ORG)", "no API in this edition")
    ]
    guards.begin()
    assert guards.hold() == Hold(2, "salesforce", Verdict.SUSPENDED)
    calls: list[str] = []

    def refused() -> Usage:
        calls.append("limits")
        raise SuspendedError("salesforce", "API_DISABLED_FOR_ORG", "no API in this edition")

    assert probe(guards, {System.SALESFORCE: refused}) == {"salesforce": "suspended"}
    assert calls == ["limits"]
    assert len(world.notified) == 1
    guards.begin()
    assert probe(guards, {System.SALESFORCE: lambda: (10, 2000)}) == {"salesforce": "running"}
    assert world.notified[-1][0] == "hssync: Salesforce resumed"
    guards.begin()
    assert guards.hold() is None


def test_revoked_credentials_suspend_the_crm_that_refused_them(world):
    guards = world.guards()
    guards.begin()
    guards.refused(AuthenticationError("401", system="hubspot", code="INVALID_AUTHENTICATION"))
    state = world.store.crm_state(System.HUBSPOT, PORTAL)
    assert state is not None
    assert state.status is CrmStatus.SUSPENDED
    assert "token" in (state.message or "")
    assert world.status(System.SALESFORCE, ORG) is None
    assert guards.refused(AuthenticationError("no system")) is None
    assert guards.refused(TransientApiError("503")) is None


def test_a_probe_that_fails_transiently_changes_nothing(world):
    guards = world.guards()
    guards.begin()
    guards.refused(SuspendedError("hubspot", "DAILY_LIMIT", "spent"))

    def unavailable() -> Usage:
        raise TransientApiError("503")

    guards.begin()
    assert probe(guards, {System.HUBSPOT: unavailable}) == {"hubspot": "suspended"}
    assert world.status(System.HUBSPOT, PORTAL) is CrmStatus.SUSPENDED


def _work(done: list[str]):
    def work(items: Sequence[tuple[str, str]]) -> set[str]:
        done.extend(item for _, item in items)
        return set()

    return work


def test_waiting_work_goes_back_as_new_messages_and_bulk_waits_first(world):
    guards = world.guards()
    world.store.put_crm_state(
        CrmState(System.SALESFORCE, ORG, CrmStatus.RUNNING, START, START, api_used=950, api_max=2000)
    )
    done: list[str] = []
    waited: list[tuple[list[str], int]] = []
    items = [("m0", "live"), ("m1", "bulk")]
    retry = run_guarded(
        guards,
        items,
        _work(done),
        lambda later, hold: waited.append(([i for _, i in later], hold.seconds)),
        lane=lambda item: Lane.BULK if item[1] == "bulk" else Lane.LIVE,
    )
    assert retry == set()  # nothing left to be received again
    assert done == ["live"]
    assert waited == [(["bulk"], 2)]


def test_a_refusal_during_the_work_makes_all_of_it_wait(world):
    guards = world.guards()
    waited: list[list[str]] = []

    def refused(_items: Sequence[tuple[str, str]]) -> set[str]:
        raise SuspendedError("salesforce", "REQUEST_LIMIT_EXCEEDED", "spent")

    assert (
        run_guarded(guards, [("m0", "a")], refused, lambda later, _h: waited.append([i for _, i in later]))
        == set()
    )
    assert waited == [["a"]]
    assert world.status(System.SALESFORCE, ORG) is CrmStatus.SUSPENDED

    def bug(_items: Sequence[tuple[str, str]]) -> set[str]:
        raise RuntimeError("bug")

    world.store = MemoryCrmStateStore()
    with pytest.raises(RuntimeError, match="bug"):
        run_guarded(world.guards(), [("m0", "a")], bug, lambda *_: None)


def test_without_guards_the_work_is_done_as_before():
    done: list[str] = []
    assert run_guarded(None, [("m0", "a")], _work(done), lambda *_: None) == set()
    assert done == ["a"]


def test_a_suspension_that_ends_with_usage_still_at_the_allocation_becomes_a_pause(world):
    guards = world.guards()
    guards.begin()
    guards.refused(SuspendedError("salesforce", "REQUEST_LIMIT_EXCEEDED", "spent"))
    guards.begin()
    assert probe(guards, {System.SALESFORCE: lambda: (1500, 2000)}) == {"salesforce": "paused"}
    state = world.store.crm_state(System.SALESFORCE, ORG)
    assert state is not None
    assert (state.status, state.reason, state.api_used) == (CrmStatus.PAUSED, "API_ALLOCATION", 1500)
    assert world.notified[-1][0] == "hssync: Salesforce resumed"
    assert "paused" in world.notified[-1][1]


def test_usage_far_from_the_allocation_is_kept_when_it_moved_and_near_it_always():
    half = Allocation(50)
    kept = CrmState(System.SALESFORCE, ORG, CrmStatus.RUNNING, START, START, api_used=100, api_max=2000)
    assert usage_worth_keeping(None, (100, 2000), half, START)
    assert not usage_worth_keeping(kept, (119, 2000), half, START)  # moved less than 1 % of the limit
    assert usage_worth_keeping(kept, (120, 2000), half, START)
    assert usage_worth_keeping(kept, (101, 2000), half, START + dt.timedelta(minutes=5))  # what operators see
    assert usage_worth_keeping(kept, (101, 4000), half, START)  # a new limit
    near = CrmState(System.SALESFORCE, ORG, CrmStatus.RUNNING, START, START, api_used=900, api_max=2000)
    assert usage_worth_keeping(near, (901, 2000), half, START)  # near the allocation: every invocation
