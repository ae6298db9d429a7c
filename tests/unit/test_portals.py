"""Several portals, one org (shared.pipeline.portals, S3): routing by portal, the fan-out of a
Salesforce change read once, and the stages' work split by a plan's portal."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from shared.models import ChangeEvent
from shared.owners.directory import OwnerDirectory
from shared.owners.stage import OwnerResult
from shared.pipeline.apply import ApplyResult
from shared.pipeline.dedupe import Deduper, DedupeResult
from shared.pipeline.plans import SyncPlan
from shared.pipeline.portals import (
    UNKNOWN_PORTAL,
    PortalAppliers,
    PortalDedupers,
    PortalOwners,
    SharedReads,
    by_portal,
    portals_of,
)
from tests.fakes import APP_ID, ORG, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import NOW, config, hs_event, sf_event

OTHER = "1000002"


def _plan(plan_id: str, portal: str) -> SyncPlan:
    return SyncPlan(plan_id=plan_id, portal=portal, hubspot_id="101", sf_object="Lead", sf_id=None)


def test_a_change_goes_to_its_portal_a_salesforce_change_to_every_portal():
    portals = [PORTAL, OTHER]
    assert portals_of(hs_event(), portals) == [PORTAL]
    assert portals_of(hs_event().model_copy(update={"account": OTHER}), portals) == [OTHER]
    assert portals_of(hs_event().model_copy(update={"account": "42"}), portals) == []
    assert portals_of(sf_event(), portals) == portals  # the org's change: fanned out
    # hssync's own follow-up of a plan names the plan's portal: that portal alone
    assert portals_of(sf_event().model_copy(update={"account": OTHER}), portals) == [OTHER]


def test_plans_are_grouped_by_portal_in_order():
    plans = [_plan("a", PORTAL), _plan("b", OTHER), _plan("c", PORTAL)]
    assert {p: [x.plan_id for x in g] for p, g in by_portal(plans).items()} == {
        PORTAL: ["a", "c"],
        OTHER: ["b"],
    }


def test_shared_reads_answer_a_read_once_whatever_the_order_of_its_ids():
    clock = Clock(NOW)
    salesforce = FakeSalesforce(clock)
    lead = salesforce.add("Lead", Email="ada@example.com", LastName="Lovelace", Company="X")
    lead_2 = salesforce.add("Lead", Email="bob@example.com", LastName="B", Company="Y")
    reads = SharedReads(salesforce)
    first = reads.retrieve("Lead", [lead, lead_2], ["Email"])
    again = reads.retrieve("Lead", [lead_2, lead], ["Email"])
    assert first == again
    assert set(first) == {lead, lead_2}
    assert salesforce.calls == 1
    reads.find_by_email("Lead", ["ada@example.com"], ["Email"])
    reads.find_by_email("Lead", ["ada@example.com"], ["Email"])
    assert salesforce.calls == 2
    reads.retrieve("Lead", [lead], ["Email"])  # another read
    assert salesforce.calls == 3
    first.clear()  # a caller's copy: what is remembered is not changed
    assert set(reads.retrieve("Lead", [lead, lead_2], ["Email"])) == {lead, lead_2}


class _Records:
    """A deduper that records what it was given and answers ``result``."""

    def __init__(self, result: DedupeResult | None = None) -> None:
        self.given: list[ChangeEvent] = []
        self.result = result or DedupeResult()

    def process(self, events: Sequence[ChangeEvent]) -> DedupeResult:
        self.given += events
        return dataclasses.replace(self.result, plans=list(self.result.plans))


def test_portal_dedupers_fan_out_salesforce_changes_and_route_hubspot_ones():
    held = sf_event(held=True)
    dedupers = {PORTAL: _Records(DedupeResult(held=[held])), OTHER: _Records(DedupeResult(held=[held]))}
    fanned = PortalDedupers([PORTAL, OTHER], dedupers.__getitem__)
    mine, theirs, unknown = (
        hs_event(),
        hs_event("201").model_copy(update={"account": OTHER}),
        hs_event("301").model_copy(update={"account": "42"}),
    )
    result = fanned.process([sf_event(), mine, theirs, unknown])
    assert dedupers[PORTAL].given == [sf_event(), mine]
    assert dedupers[OTHER].given == [sf_event(), theirs]
    assert result.skipped[UNKNOWN_PORTAL] == 1
    assert result.held == [held]  # given back by both portals, sent back once


def test_a_salesforce_change_is_read_once_and_planned_for_each_linked_portal():
    clock = Clock(NOW)
    salesforce = FakeSalesforce(clock)
    lead = salesforce.add("Lead", Email="ada@example.com", LastName="Lovelace", Company="Acme")
    state = MemoryState(clock=clock)
    hubspots = {PORTAL: FakeHubSpot(clock), OTHER: FakeHubSpot(clock)}
    for hubspot in hubspots.values():
        hubspot.add(email="ada@example.com", lastname="Lovelace", company="Acme")
    clock.tick()
    salesforce.edit(lead, LastName="King")
    change = salesforce.drain_events()[-1]
    sync = config().model_copy(update={"portals": (int(PORTAL), int(OTHER))})

    def deduper(portal: str, reads: SharedReads | FakeSalesforce) -> Deduper:
        return Deduper(
            config=sync.for_portal(portal),
            portal=portal,
            salesforce=reads,
            hubspot=hubspots[portal],
            state=state,
            own_app_id=APP_ID,
            clock=clock,
        )

    alone = deduper(PORTAL, salesforce).process([change])
    one_portal = salesforce.calls
    salesforce.calls = 0
    reads = SharedReads(salesforce)
    result = PortalDedupers([PORTAL, OTHER], lambda portal: deduper(portal, reads)).process([change])
    assert salesforce.calls == one_portal  # two portals: the Salesforce reads of one
    assert sorted(plan.portal for plan in result.plans) == [PORTAL, OTHER]
    assert [plan.sf_id for plan in result.plans] == [lead, lead]
    assert len(alone.plans) == 1
    assert ORG != PORTAL


class _Applies:
    def __init__(self, portal: str, refused: Exception | None = None) -> None:
        self.portal = portal
        self.refused = refused
        self.given: list[SyncPlan] = []

    def apply(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        self.given += plans
        result = ApplyResult(retry_plan_ids={plans[0].plan_id}, refused=self.refused)
        result.counters[f"written.{self.portal}"] += len(plans)
        return result


def test_portal_appliers_apply_each_portals_plans_with_its_applier():
    refused = RuntimeError("suspended")
    appliers = {PORTAL: _Applies(PORTAL), OTHER: _Applies(OTHER, refused)}
    result = PortalAppliers(appliers.__getitem__).apply(
        [_plan("a", PORTAL), _plan("b", OTHER), _plan("c", PORTAL)]
    )
    assert [p.plan_id for p in appliers[PORTAL].given] == ["a", "c"]
    assert [p.plan_id for p in appliers[OTHER].given] == ["b"]
    assert result.retry_plan_ids == {"a", "b"}
    assert dict(result.counters) == {f"written.{PORTAL}": 2, f"written.{OTHER}": 1}
    assert result.refused is refused


class _Owners:
    def __init__(self, portal: str) -> None:
        self.portal = portal
        self.refreshed = 0

    def process(self, plans: Sequence[SyncPlan]) -> OwnerResult:
        return OwnerResult(plans=list(plans), counters={"owners.decided": len(plans)}, refreshed=True)

    def refresh(self) -> OwnerDirectory:
        self.refreshed += 1
        return OwnerDirectory([], [])


def test_portal_owners_decide_each_portals_plans_and_refresh_the_configured_ones():
    owners = {PORTAL: _Owners(PORTAL), OTHER: _Owners(OTHER)}
    split = PortalOwners([PORTAL], owners.__getitem__)  # type: ignore[arg-type]
    result = split.process([_plan("a", PORTAL), _plan("b", OTHER)])
    assert [p.plan_id for p in result.plans] == ["a", "b"]
    assert result.counters == {"owners.decided": 2}
    assert result.refreshed
    split.refresh()
    assert (owners[PORTAL].refreshed, owners[OTHER].refreshed) == (1, 0)
