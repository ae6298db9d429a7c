"""HubSpot guardrails per portal (S3, shared.guardrails.gate): a portal that is paused or suspended
holds its own work only; a refusal names and suspends the portal it came from; the probe calls each
waiting portal with its own token; the org's state holds every portal's work."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.crm_state import CrmState, CrmStatus
from shared.errors import AuthenticationError, SuspendedError
from shared.guardrails.allocation import Allocation
from shared.guardrails.gate import Guards, refusals_of, run_guarded
from shared.guardrails.guard import CrmGuard
from shared.guardrails.probe import probe
from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.portals import portal_changes
from shared.times import EPOCH
from tests.memory_state import MemoryCrmStateStore

ORG, FIRST, SECOND = "00D000000000001", "1000001", "1000002"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _guard(states: MemoryCrmStateStore, system: System, account: str) -> CrmGuard:
    return CrmGuard(
        system=system,
        account=account,
        store=states,
        usage=lambda: None,
        allocation=Allocation(50),
        clock=lambda: NOW,
        shortest_wait=7,
    )


def _guards(states: MemoryCrmStateStore) -> Guards:
    return Guards(
        lambda: [_guard(states, System.SALESFORCE, ORG), _guard(states, System.HUBSPOT, FIRST)],
        portal_guard=lambda portal: _guard(states, System.HUBSPOT, portal),
    )


def _suspend(states: MemoryCrmStateStore, system: System, account: str) -> None:
    states.put_crm_state(CrmState(system, account, CrmStatus.SUSPENDED, NOW, NOW, reason="401"))


def test_a_suspended_portal_holds_its_work_only():
    states = MemoryCrmStateStore()
    guards = _guards(states)
    _suspend(states, System.HUBSPOT, SECOND)
    waited: list[list[str]] = []
    done = run_guarded(
        guards,
        ["a1", "b2", "s", "all"],
        lambda items: {f"did {i}" for i in items},
        lambda items, hold: waited.append(list(items)),
        portals=lambda item: {"a1": (FIRST,), "b2": (SECOND,), "s": ()}.get(item),
    )
    assert done == {"did a1", "did s"}
    assert waited == [["b2", "all"]]  # the second portal's work, and work of every portal
    assert guards.portals() == [FIRST, SECOND]  # the second portal's guard came with its work


def test_the_org_holds_every_portals_work():
    states = MemoryCrmStateStore()
    _suspend(states, System.SALESFORCE, ORG)
    waited: list[str] = []
    done = run_guarded(
        _guards(states),
        ["a1", "s"],
        lambda items: set(items),
        lambda items, hold: waited.extend(items),
        portals=lambda item: (FIRST,) if item == "a1" else (),
    )
    assert (done, waited) == (set(), ["a1", "s"])


def test_a_refusal_suspends_the_portal_it_came_from():
    states = MemoryCrmStateStore()
    guards = _guards(states)
    with pytest.raises(AuthenticationError) as raised, refusals_of(SECOND):
        raise AuthenticationError("401", system="hubspot", code="401")
    hold = guards.refused(raised.value)
    assert hold is not None
    assert states.crm_state(System.HUBSPOT, SECOND).status is CrmStatus.SUSPENDED  # type: ignore[union-attr]
    assert states.crm_state(System.HUBSPOT, FIRST) is None
    untagged = SuspendedError("hubspot", "DAILY_LIMIT", "spent")
    guards.refused(untagged)  # one portal's stack: its refusals name no portal, the first's
    assert states.crm_state(System.HUBSPOT, FIRST).status is CrmStatus.SUSPENDED  # type: ignore[union-attr]


def test_the_probe_calls_each_waiting_portal_with_its_own_probe():
    states = MemoryCrmStateStore()
    guards = Guards(
        [
            _guard(states, System.SALESFORCE, ORG),
            _guard(states, System.HUBSPOT, FIRST),
            _guard(states, System.HUBSPOT, SECOND),
        ]
    )
    _suspend(states, System.HUBSPOT, SECOND)
    called: list[tuple[System, str]] = []

    def probe_of(system: System, account: str):
        def call():
            called.append((system, account))
            return (10, 1000)

        return call

    guards.begin()
    assert probe(guards, probe_of) == {f"hubspot:{SECOND}": "running"}
    assert called == [(System.HUBSPOT, SECOND)]


def test_a_salesforce_change_of_the_org_becomes_a_change_per_portal():
    def change(system: System, account: str) -> ChangeEvent:
        return ChangeEvent(
            system=system,
            account=account,
            object_type="Lead" if system is System.SALESFORCE else "contacts",
            record_id="00Q000000000001AAA" if system is System.SALESFORCE else "7",
            change_type=ChangeType.UPDATE,
            occurred_at=EPOCH,
            source_event_id="e1",
        )

    org_change = change(System.SALESFORCE, ORG)
    assert [e.account for e in portal_changes(org_change, [FIRST, SECOND])] == [FIRST, SECOND]
    assert portal_changes(org_change, [FIRST]) == [org_change]
    follow_up = change(System.SALESFORCE, SECOND)
    assert portal_changes(follow_up, [FIRST, SECOND]) == [follow_up]
    hubspot = change(System.HUBSPOT, FIRST)
    assert portal_changes(hubspot, [FIRST, SECOND]) == [hubspot]
