"""The dedupe coordinator (shared.pipeline.dedupe.coordinator): events go to the part of their
object kind, events no part takes are answered, decisions are gathered in order; a new kind of
object plugs in as a part."""

from __future__ import annotations

from collections.abc import Iterator

from shared.models import ChangeEvent, ChangeType
from shared.pipeline.dedupe import Batch, Decision, Deduper, DedupeResult, Planned, Retry, Skip
from shared.pipeline.dedupe.echo import ECHO
from shared.pipeline.plans import SyncPlan
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import LEAD, NOW, config, hs_event, sf_event


def _deduper(salesforce: FakeSalesforce | None = None) -> Deduper:
    clock = Clock(NOW)
    return Deduper(
        config=config(),
        portal=PORTAL,
        salesforce=salesforce or FakeSalesforce(clock),
        hubspot=FakeHubSpot(clock),
        state=MemoryState(clock=clock),
        own_app_id=APP_ID,
        clock=clock,
    )


def _company(record_id: str, change: ChangeType = ChangeType.UPDATE) -> ChangeEvent:
    return hs_event(record_id, change).model_copy(update={"object_type": "companies"})


class Companies:
    """A stand-in for the companies part: it takes company changes and decides them later."""

    made: list[Companies] = []

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.taken: list[ChangeEvent] = []
        Companies.made.append(self)

    def take(self, event: ChangeEvent) -> Decision | bool:
        if event.object_type != "companies":
            return False
        if event.record_id == "echo":
            return Skip("company echo")
        self.taken.append(event)
        return True

    def decide(self) -> Iterator[Decision]:
        for event in self.taken:
            yield (
                Retry(event)
                if event.record_id == "later"
                else Skip("company decided", f"company:{event.record_id}")
            )


def test_a_new_kind_of_object_plugs_in_as_a_part_and_gets_its_events():
    deduper = _deduper()
    deduper.parts = (*deduper.parts, Companies)
    Companies.made.clear()
    later = _company("later")
    result = deduper.process(
        [_company("1"), later, _company("echo"), hs_event("101", ChangeType.ASSOCIATION)]
    )
    [part] = Companies.made
    assert part.batch.portal == PORTAL
    assert part.batch.state is deduper.state
    assert result.skipped == {"company decided": 1, "company echo": 1, "association not synced": 1}
    assert result.statuses == {"company:1": "company decided"}
    assert result.retry == [later]
    deduper.process([_company("2")])
    assert len(Companies.made) == 2  # a new part for each batch


def test_events_no_part_takes_are_answered():
    result = _deduper().process(
        [
            _company("1"),
            hs_event("101", ChangeType.DELETE),
            sf_event(LEAD, ChangeType.ASSOCIATION),
            sf_event("001000000000001AAA", sobject="Account"),
            sf_event("001000000000002AAA", ChangeType.DELETE, sobject="Account"),
        ]
    )
    assert result.skipped == {
        "hubspot companies not synced": 1,
        "HubSpot deletion (never deletes in Salesforce)": 1,
        "association not synced": 1,
        "salesforce Account not synced": 1,
        "delete not synced": 1,
    }
    assert result.statuses == {"hubspot:contacts:101": "HubSpot deletion (never deletes in Salesforce)"}
    assert result.plans == []


def test_hssyncs_own_salesforce_writes_are_answered_from_the_event_alone():
    own = "com/salesforce/api/rest/59.0;client=hssync"
    salesforce = FakeSalesforce(Clock(NOW))
    result = _deduper(salesforce).process(
        [sf_event(LEAD, origin=own), sf_event(LEAD, ChangeType.CREATE, origin=own, n=1)]
    )
    assert result.skipped == {ECHO: 2}  # a creation without an owner reported: nothing to learn
    assert salesforce.calls == 0


def test_part_of_a_bulk_load_is_held_for_the_next_batch():
    bulk = [sf_event(f"00Q{i:012d}", n=i) for i in range(60)]
    result = _deduper().process(bulk)
    assert [e.record_id for e in result.held] == [e.record_id for e in bulk]
    assert result.plans == []
    assert result.skipped == {}


def test_the_result_gathers_each_kind_of_decision():
    result = DedupeResult()
    plan = SyncPlan(plan_id="p", portal=PORTAL, hubspot_id="101", sf_object="Lead", sf_id=LEAD)
    event = hs_event()
    for decision in (
        Planned(plan, status=("salesforce:Lead:x", "linked")),
        Planned(plan),
        Skip("no email", "hubspot:contacts:101"),
        Skip("already synced", count=3),
        Retry(event),
        None,
    ):
        result.record(decision)
    assert result.plans == [plan, plan]
    assert result.skipped == {"no email": 1, "already synced": 3}
    assert result.statuses == {"salesforce:Lead:x": "linked", "hubspot:contacts:101": "no email"}
    assert result.retry == [event]
