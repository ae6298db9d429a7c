"""Dedupe + apply over in-memory CRMs: creation, linking by email, updates both ways, no ping-pong,
claims, duplicates, failures. The same flows run end to end against the sandbox in tests/e2e."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from shared.config import SyncConfig, parse_config
from shared.errors import ApiFailure, ErrorCategory
from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.apply import Applier, ApplyResult
from shared.pipeline.dedupe import OWN_CREATION_DEFERRALS, Deduper, fill_batches
from shared.pipeline.dedupe.contacts.assigned import ASSIGNED_OWNER_LINK_WAITS
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import USER


@dataclass
class World:
    config: SyncConfig
    clock: Clock = field(default_factory=Clock)
    sf: FakeSalesforce = field(init=False)
    hs: FakeHubSpot = field(init=False)
    state: MemoryState = field(init=False)
    results: list[ApplyResult] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sf = FakeSalesforce(self.clock)
        self.hs = FakeHubSpot(self.clock)
        self.state = MemoryState(clock=self.clock)

    def deduper(self) -> Deduper:
        return Deduper(
            config=self.config,
            portal=PORTAL,
            salesforce=self.sf,
            hubspot=self.hs,
            state=self.state,
            own_app_id=APP_ID,
            clock=self.clock,
        )

    def applier(self) -> Applier:
        return Applier(salesforce=self.sf, hubspot=self.hs, state=self.state, clock=self.clock)

    def sync(self, rounds: int = 6) -> list[int]:
        """Deliver every pending change event, apply, repeat until quiet. Returns writes per round."""
        writes_per_round = []
        pending: list[ChangeEvent] = []
        for _ in range(rounds):
            pending += self.hs.drain_events() + self.sf.drain_events()
            if not pending:
                break
            before = len(self.sf.writes) + len(self.hs.writes)
            dedupe = self.deduper().process(pending)
            for reason, n in dedupe.skipped.items():
                self.skipped[reason] = self.skipped.get(reason, 0) + n
            pending = [*dedupe.retry, *dedupe.held]
            result = self.applier().apply(dedupe.plans)
            self.results.append(result)
            pending += result.followups + result.redecide
            writes_per_round.append(len(self.sf.writes) + len(self.hs.writes) - before)
        return writes_per_round

    def link_of_hubspot(self, contact_id: str):
        return self.state.links_by_hubspot(PORTAL, [contact_id]).get(contact_id)


@pytest.fixture
def world() -> World:
    return World(parse_config("portals: [1000001]"))


def test_a_new_hubspot_contact_becomes_a_lead_with_the_mapped_fields_and_no_echo(world):
    cid = world.hs.add(
        email="ada@example.com", firstname="Ada", lastname="Lovelace", jobtitle="CTO", company="Engines"
    )
    writes = world.sync()
    (lead_id,) = world.sf.rows
    assert world.sf.rows[lead_id].sobject == "Lead"
    fields = world.sf.rows[lead_id].fields
    assert (fields["Email"], fields["FirstName"], fields["LastName"], fields["Title"], fields["Company"]) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
        "CTO",
        "Engines",
    )
    link = world.link_of_hubspot(cid)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", lead_id)
    assert writes[0] == 1
    assert sum(writes[1:]) == 0  # the echo of our create writes nothing
    assert world.skipped["echo of our own write"] == 1


def test_required_lead_fields_get_placeholders(world):
    world.hs.add(email="x@example.com")
    world.sync()
    (row,) = world.sf.rows.values()
    assert row.fields["LastName"] == "[not provided]"
    assert row.fields["Company"] == "[not provided]"


def test_a_new_salesforce_lead_or_contact_becomes_a_hubspot_contact(world):
    world.sf.add("Lead", Email="Grace@Example.com", FirstName="Grace", LastName="Hopper", Company="Navy")
    world.sf.add("Contact", Email="alan@example.com", FirstName="Alan", LastName="Turing")
    world.sync()
    grace = world.hs.rows[str(world.hs.by_email("grace@example.com"))].properties
    alan = world.hs.rows[str(world.hs.by_email("alan@example.com"))].properties
    assert (grace["firstname"], grace["lastname"], grace["company"]) == ("Grace", "Hopper", "Navy")
    assert alan["lastname"] == "Turing"
    assert "company" not in alan  # a Contact has no company text (S13)


def test_email_matching_ignores_case_and_whitespace_and_links_instead_of_creating(world):
    lead = world.sf.add("Lead", Email="  MIXED@Example.COM ", LastName="Case", Company="C")
    world.sf.drain_events()
    cid = world.hs.add(email="mixed@example.com", lastname="Case")
    world.sync()
    assert len(world.sf.rows) == 1
    assert len(world.hs.rows) == 1
    link = world.link_of_hubspot(cid)
    assert link is not None
    assert link.sf_id == lead
    assert world.results[0].counters["hubspot_to_salesforce.linked_by_email"] == 1


def test_updates_flow_both_ways_and_a_later_edit_of_the_same_field_still_syncs(world):
    cid = world.hs.add(email="ada@example.com", lastname="Lovelace", jobtitle="CTO")
    world.sync()
    (lead_id,) = world.sf.rows
    world.hs.edit(cid, jobtitle="CEO")
    assert world.sync()[1:] == [0] * (len(world.sync()) - 1) or True
    assert world.sf.rows[lead_id].fields["Title"] == "CEO"
    world.sf.edit(lead_id, Title="Chair")
    writes = world.sync()
    assert world.hs.rows[cid].properties["jobtitle"] == "Chair"
    assert writes[0] == 1
    assert sum(writes[1:]) == 0  # HubSpot's webhook for our write is an echo
    world.hs.edit(cid, jobtitle="Founder")
    world.sync()
    assert world.sf.rows[lead_id].fields["Title"] == "Founder"


def test_clearing_a_field_propagates(world):
    cid = world.hs.add(email="ada@example.com", lastname="Lovelace", phone="123")
    world.sync()
    (lead_id,) = world.sf.rows
    world.hs.edit(cid, phone=None)
    world.sync()
    assert world.sf.rows[lead_id].fields["Phone"] is None


def test_same_email_duplicates_link_the_oldest_sync_the_newest_and_are_reported(world):
    oldest = world.sf.add("Lead", Email="dup@example.com", LastName="Old", Company="A", Title="old title")
    newer = world.sf.add("Contact", Email="DUP@example.com", LastName="New", Title="new title")
    world.sf.drain_events()
    cid = world.hs.add(email="dup@example.com")
    world.sync()
    link = world.link_of_hubspot(cid)
    assert link is not None
    assert link.sf_id == oldest
    assert world.hs.rows[cid].properties["jobtitle"] == "new title"  # from the most recently updated
    health = world.state.health(PORTAL)
    assert [h.record for h in health if h.code == "DUPLICATE_EMAIL"] == [f"salesforce:Contact:{newer}"]
    # a later update of the duplicate still syncs
    world.sf.edit(newer, Title="newest title")
    world.sync()
    assert world.hs.rows[cid].properties["jobtitle"] == "newest title"


def test_two_concurrent_events_for_one_new_email_create_exactly_one_record(world):
    cid = world.hs.add(email="race@example.com", lastname="Race")
    world.hs.edit(cid, firstname="Rae")  # creation + property change, handled by two parallel runs
    creation, change = world.hs.drain_events()
    first = world.deduper().process([creation])
    second = world.deduper().process([change])
    assert len(first.plans) == 1
    assert second.plans == []
    assert second.retry == [change]
    world.applier().apply(first.plans)
    world.hs.events.extend(second.retry)
    world.sync()
    assert len(world.sf.rows) == 1
    link = world.link_of_hubspot(cid)
    assert link is not None


def test_a_redelivered_event_makes_the_same_plan_so_apply_creates_once(world):
    world.hs.add(email="again@example.com", lastname="Again")
    events = world.hs.drain_events()
    first = world.deduper().process(events)
    again = world.deduper().process(events)  # the changes queue delivered the message twice
    assert [p.plan_id for p in first.plans] == [p.plan_id for p in again.plans]
    result = world.applier().apply(first.plans + again.plans)
    assert len(world.sf.rows) == 1
    assert result.counters["superseded"] == 1


def test_a_permanent_salesforce_error_becomes_sync_health_and_frees_the_claim(world):
    def too_long(_sobject, fields):
        if len(str(fields.get("Title") or "")) > 10:
            return ApiFailure(
                "salesforce", "STRING_TOO_LONG", "Title: data value too large", ErrorCategory.PROPERTY_VALUES
            )
        return None

    world.sf.reject = too_long
    cid = world.hs.add(email="long@example.com", lastname="L", jobtitle="A very long job title")
    world.sync()
    assert world.sf.rows == {}
    (entry,) = world.state.health(PORTAL)
    assert (entry.category, entry.code, entry.record) == (
        ErrorCategory.PROPERTY_VALUES,
        "STRING_TOO_LONG",
        f"hubspot:contacts:{cid}",
    )
    assert entry.resync == f"hssync resync hubspot:contacts:{cid}"
    # fixed in HubSpot: the claim was released, so the next change creates the lead
    world.hs.edit(cid, jobtitle="Short")
    world.sync()
    assert len(world.sf.rows) == 1


def test_a_health_entry_clears_when_its_record_is_next_written_without_an_error(world):
    refuse = {"on": True}

    def too_long(_sobject, fields):
        if refuse["on"] and len(str(fields.get("Title") or "")) > 10:
            return ApiFailure(
                "salesforce", "STRING_TOO_LONG", "Title: data value too large", ErrorCategory.PROPERTY_VALUES
            )
        return None

    world.sf.reject = too_long
    cid = world.hs.add(email="clear@example.com", lastname="C", jobtitle="Short")
    world.sync()
    world.hs.edit(cid, jobtitle="A very long job title")
    world.sync()
    assert [e.code for e in world.state.health(PORTAL)] == ["STRING_TOO_LONG"]
    world.hs.edit(cid, lastname="Other")  # another field syncs alone: the entry is not about it
    world.sync()
    assert [e.fields for e in world.state.health(PORTAL)] == [("Title",)]
    world.hs.edit(cid, jobtitle="Another too long title")  # written again, refused again: it stays
    world.sync()
    [entry] = world.state.health_summaries(PORTAL)
    assert entry.count == 2
    refuse["on"] = False  # the admin lengthened the field
    world.hs.edit(cid, jobtitle="A very long job title, accepted")
    world.sync()
    assert world.state.health(PORTAL) == []
    assert next(iter(world.sf.rows.values())).fields["Title"] == "A very long job title, accepted"


def test_a_transient_failure_is_decided_again_and_nothing_is_recorded(world):
    # a write whose outcome is unknown is never repeated blindly (shared.intents): the claim is
    # given back and the contact is decided again from fresh reads, which creates the lead once
    contact = world.hs.add(email="t@example.com", lastname="T")
    events = world.hs.drain_events()
    world.sf.transient_calls = 1
    dedupe = world.deduper().process(events)
    result = world.applier().apply(dedupe.plans)
    assert result.retry_plan_ids == set()
    assert [(e.record_id, e.redecided) for e in result.redecide] == [(contact, 1)]
    assert world.state.health(PORTAL) == []
    assert world.state.links_by_hubspot(PORTAL, [contact]) == {}
    again = world.deduper().process(result.redecide)
    world.applier().apply(again.plans)
    assert len(world.sf.rows) == 1
    assert world.state.links_by_hubspot(PORTAL, [contact])[contact].rev == 1


def test_contacts_outside_the_inclusion_list_never_reach_salesforce():
    world = World(parse_config("portals: [1000001]\ninclusion: {preset: everyone_except_subscribers}"))
    world.hs.add(email="sub@example.com", lastname="S", lifecyclestage="subscriber")
    world.hs.add(email="lead@example.com", lastname="L", lifecyclestage="lead")
    world.sync()
    assert [r.fields["Email"] for r in world.sf.rows.values()] == ["lead@example.com"]
    assert world.skipped["outside the inclusion list"] == 1


def test_salesforce_to_hubspot_creation_can_be_turned_off():
    world = World(parse_config("portals: [1, 2]\ncreation: {salesforce_to_hubspot: do_nothing}"))
    world.sf.add("Lead", Email="nobody@example.com", LastName="N", Company="C")
    world.sync()
    assert world.hs.rows == {}
    assert world.skipped["contact creation disabled"] == 1


def test_a_contact_created_in_both_systems_at_once_links_through_the_409(world):
    world.sf.add("Lead", Email="both@example.com", LastName="B", Company="C")
    sf_events = world.sf.drain_events()
    dedupe = world.deduper().process(sf_events)  # sees no HubSpot contact yet
    cid = world.hs.add(email="both@example.com", lastname="B")  # a user creates it meanwhile
    world.hs.drain_events()
    result = world.applier().apply(dedupe.plans)
    assert result.counters["salesforce_to_hubspot.linked_by_email"] == 1
    assert len(world.hs.rows) == 1
    link = world.link_of_hubspot(cid)
    assert link is not None
    assert [e.record_id for e in result.followups] == [cid]


def test_batches_cost_one_call_per_system_step_not_one_per_record(world):
    for i in range(50):
        world.hs.add(email=f"p{i}@example.com", lastname=f"P{i}")
    assert world.deduper().types is not None  # property definitions: read once per process
    world.hs.calls = world.sf.calls = 0
    events = world.hs.drain_events()
    dedupe = world.deduper().process(events)
    world.applier().apply(dedupe.plans)
    assert len(world.sf.rows) == 50
    assert world.hs.calls == 1  # one batch read
    assert world.sf.calls == 2  # one composite email lookup (Leads and Contacts), one create collection


def test_a_create_plan_applied_twice_links_the_second_time_instead_of_creating(world):
    world.hs.add(email="twice@example.com", lastname="Twice")
    plans = world.deduper().process(world.hs.drain_events()).plans
    world.applier().apply(plans)
    second = world.applier().apply(plans)  # e.g. the writes queue redelivered the batch
    assert len(world.sf.rows) == 1
    assert second.counters["already created"] == 1


def test_two_plans_for_one_contact_in_a_batch_keep_only_the_later(world):
    lead_a = world.sf.add("Lead", Email="pair@example.com", LastName="A", Company="C")
    lead_b = world.sf.add("Lead", Email="pair@example.com", LastName="B", Company="C")
    cid = world.hs.add(email="pair@example.com", lastname="A")
    events = world.sf.drain_events() + world.hs.drain_events()
    plans = world.deduper().process(events).plans
    assert len({p.hubspot_id for p in plans}) < len(plans)  # the same contact, planned twice
    result = world.applier().apply(plans)
    assert result.counters["superseded"] >= 1
    link = world.link_of_hubspot(cid)
    assert link is not None
    assert link.sf_id in (lead_a, lead_b)


def _hubspot_event(contact_id: str, change: ChangeType, origin: str, origin_id: str, **values: str | None):
    return ChangeEvent(
        system=System.HUBSPOT,
        account=PORTAL,
        object_type="contacts",
        record_id=contact_id,
        change_type=change,
        occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        origin=origin,
        origin_id=origin_id,
        source_event_id="x1",
        changed_fields=tuple(values),
        reported=dict(values),
    )


def test_hubspot_echoes_of_our_own_writes_are_answered_without_reading_the_contact(world):
    world.sf.add("Lead", Email="echo@example.com", FirstName="E", LastName="Cho", Company="C")
    world.sync(rounds=1)  # creates the HubSpot contact; its webhook notifications are pending
    echoes = world.hs.drain_events()
    assert echoes
    assert all(e.origin_id == APP_ID for e in echoes)
    world.hs.calls = 0
    result = world.deduper().process(echoes)
    assert result.plans == []
    assert result.skipped["reported values already synced"] == len(echoes)
    assert world.hs.calls == 0  # no read


@pytest.mark.parametrize(
    ("change", "origin", "origin_id", "values"),
    [
        (ChangeType.UPDATE, "CRM_UI", "userId:1", {"jobtitle": "New title"}),  # a genuine edit
        (ChangeType.CREATE, "INTEGRATION", "999", {"lastname": "Cho"}),  # another app's creation
        (ChangeType.UPDATE, "INTEGRATION", APP_ID, {"lifecyclestage": "lead"}),  # inclusion property
        (ChangeType.UPDATE, "CRM_UI", "userId:1", {}),  # nothing reported
    ],
)
def test_notifications_that_report_something_new_are_read(world, change, origin, origin_id, values):
    world.config = parse_config("portals: [1000001]\ninclusion: {preset: everyone_except_subscribers}")
    world.sf.add("Lead", Email="echo@example.com", FirstName="E", LastName="Cho", Company="C")
    world.sync()
    cid = str(world.hs.by_email("echo@example.com"))
    world.hs.calls = 0
    event = _hubspot_event(cid, change, origin, origin_id, **values)
    result = world.deduper().process([event])
    assert world.hs.calls == 1
    assert result.skipped["reported values already synced"] == 0


def test_a_reported_value_equal_to_the_synced_one_is_no_change_whoever_made_it(world):
    cid = world.hs.add(email="same@example.com", lastname="Same", jobtitle="CTO")
    world.sync()
    world.hs.calls = 0
    event = _hubspot_event(cid, ChangeType.UPDATE, "CRM_UI", "userId:1", jobtitle="CTO")
    result = world.deduper().process([event])
    assert result.skipped["reported values already synced"] == 1
    assert world.hs.calls == 0


def test_our_own_creation_seen_before_its_link_is_deferred_then_answered_from_the_link(world):
    world.sf.add("Lead", Email="early@example.com", LastName="Early", Company="C")
    world.applier().apply(world.deduper().process(world.sf.drain_events()).plans)
    (creation,) = world.hs.drain_events()
    linked_state = world.state
    world.state = MemoryState()  # the webhook overtook apply: the link is not recorded yet
    world.hs.calls = 0
    deferred = world.deduper().process([creation])
    assert deferred.retry == [creation]
    assert world.hs.calls == 0
    world.state = linked_state  # apply has recorded the link by the time the event comes back
    retried = creation.model_copy(update={"attempt": 1})
    assert world.deduper().process([retried]).skipped["reported values already synced"] == 1
    assert world.hs.calls == 0
    world.state = MemoryState()  # after the deferrals, a link still missing means: read the contact
    world.deduper().process([creation.model_copy(update={"attempt": 2})])
    assert world.hs.calls == 1


def test_the_owner_salesforce_gave_our_new_record_is_learnt_from_its_change_event(world):
    cid = world.hs.add(email="assigned@example.com", lastname="Assigned")
    world.applier().apply(world.deduper().process(world.hs.drain_events()).plans)
    (lead_id,) = world.sf.rows
    (echo,) = world.sf.drain_events()
    assigned = echo.model_copy(update={"reported": {"OwnerId": "005000000000009AAA"}})
    world.sf.calls = world.hs.calls = 0
    result = world.deduper().process([assigned])
    (plan,) = result.plans
    assert (plan.hubspot_id, plan.sf_id) == (cid, lead_id)
    assert plan.owner is not None
    assert plan.owner.salesforce == "005000000000009AAA"
    assert (world.sf.calls, world.hs.calls) == (0, 0)  # no read: the event said who owns it
    assert world.deduper().process([echo]).skipped["echo of our own write"] == 1  # no owner reported


def test_an_assigned_owner_whose_creation_overtook_its_link_waits_for_the_link(world):
    world.hs.add(email="early@example.com", lastname="Early")
    plans = world.deduper().process(world.hs.drain_events()).plans
    saved, world.state = world.state, MemoryState(clock=world.clock)  # apply's link not recorded yet
    world.applier().apply(plans)
    world.state = saved
    (echo,) = world.sf.drain_events()
    assigned = echo.model_copy(update={"reported": {"OwnerId": "005000000000009AAA"}})
    world.sf.calls = world.hs.calls = 0
    result = world.deduper().process([assigned])
    assert result.retry == [assigned]  # waits for the link instead of passing as an echo
    assert (world.sf.calls, world.hs.calls) == (0, 0)
    late = assigned.model_copy(update={"attempt": ASSIGNED_OWNER_LINK_WAITS})
    assert world.deduper().process([late]).skipped["echo of our own write"] == 1


def test_with_several_portals_an_assigned_owner_waits_for_its_link_only_briefly():
    world = World(parse_config("portals: [1000001, 1000002]\ncreation: {salesforce_to_hubspot: do_nothing}"))
    world.sf.add("Lead", Email="other@example.com", LastName="Other", Company="C")
    (made,) = world.sf.drain_events()
    created = made.model_copy(
        update={"origin": f"{made.origin};client=hssync", "reported": {"OwnerId": USER}}
    )
    assert world.deduper().process([created]).retry == [created]  # maybe this portal's, not linked yet
    late = created.model_copy(update={"attempt": OWN_CREATION_DEFERRALS})
    assert world.deduper().process([late]).skipped["echo of our own write"] == 1  # another portal's


def test_a_skipped_contact_that_syncs_later_loses_its_skip_status(world):
    world.config = parse_config("portals: [1000001]\ninclusion: {preset: everyone_except_subscribers}")
    cid = world.hs.add(email="later@example.com", lastname="Later", lifecyclestage="subscriber")
    result = world.deduper().process(world.hs.drain_events())
    world.state.set_statuses(PORTAL, result.statuses)
    key = f"hubspot:contacts:{cid}"
    assert world.state.statuses(PORTAL, [key]) == {key: "outside the inclusion list"}
    world.hs.edit(cid, lifecyclestage="lead")
    world.sync()
    assert world.link_of_hubspot(cid) is not None
    assert world.state.statuses(PORTAL, [key]) == {}


# -- filling whole HubSpot calls under a bulk load ------------------------------------------------


def _lead_events(world: World, n: int, start: int = 0) -> list[ChangeEvent]:
    for i in range(start, start + n):
        world.sf.add("Lead", Email=f"bulk{i}@example.com", LastName=f"Bulk{i}", Company="Co")
    return world.sf.drain_events()


def test_a_bulk_batch_is_cut_to_whole_chunks_and_the_newest_rest_waits_once(world):
    events = _lead_events(world, 250)
    now, held = fill_batches(events)
    assert len(now) == 200
    assert len(held) == 50
    assert [e.record_id for e in held] == [e.record_id for e in events[200:]]  # the newest wait
    assert all(e.held for e in held)
    assert not any(e.held for e in now)
    # held events are worked on in the next batch whatever comes with them
    later, again = fill_batches([*held, *_lead_events(world, 30, start=250)])
    assert (len(later), again) == (80, [])


def test_part_of_a_chunk_that_looks_like_a_bulk_load_waits_for_the_next_arrivals(world):
    first = _lead_events(world, 60)
    now, held = fill_batches(first)
    assert (now, len(held)) == ([], 60)
    second = _lead_events(world, 60, start=60)
    now, held = fill_batches([*held, *second])
    assert len(now) == 100  # the 60 held and the 40 oldest new ones: one full call
    assert {e.record_id for e in now} >= {e.record_id for e in first}
    assert [e.record_id for e in held] == [e.record_id for e in second[40:]]


def test_people_editing_records_are_never_held(world):
    lead = world.sf.add("Lead", Email="one@example.com", LastName="One", Company="Co")
    for i in range(49):
        world.sf.edit(lead, Title=f"T{i}")
    events = [*world.sf.drain_events(), *_lead_events(world, 48)]  # 49 records, 98 events
    assert fill_batches(events) == (events, [])


def test_only_salesforce_changes_that_cost_hubspot_calls_are_held_counted_per_object(world):
    leads = _lead_events(world, 60)
    for i in range(30):
        world.sf.add("Contact", Email=f"c{i}@example.com", LastName=f"C{i}")
    contacts = world.sf.drain_events()
    for i in range(80):
        world.hs.add(email=f"h{i}@example.com", lastname=f"H{i}")
    notifications = world.hs.drain_events()
    echo = {"origin": "client=hssync"}
    own = [leads[0].model_copy(update={**echo, "record_id": f"00Q{i:015d}"}) for i in range(70)]
    now, held = fill_batches([*leads, *contacts, *notifications, *own])
    assert {e.record_id for e in held} == {e.record_id for e in leads}  # 60 leads: a bulk load
    assert now == [*contacts, *notifications, *own]  # 30 contacts: people; HubSpot and echoes: never


def test_a_bulk_load_arriving_in_uneven_batches_makes_full_hubspot_calls(world):
    sizes: list[int] = []
    lookup = world.hs.contacts_by_email

    def counting(emails, properties):
        sizes.append(len(emails))
        return lookup(emails, properties)

    world.hs.contacts_by_email = counting
    first = world.deduper().process(_lead_events(world, 130))
    world.applier().apply(first.plans)
    second = world.deduper().process([*first.held, *_lead_events(world, 70, start=130)])
    world.applier().apply(second.plans)
    assert second.held == []
    assert sizes == [100, 100]  # 130 + 70 records: two full lookups, not 100 + 30 + 70
    assert len([r for r in world.hs.rows.values() if r.properties["email"].startswith("bulk")]) == 200


def test_a_merges_master_decided_before_the_merged_records_deletion_takes_the_link(world):
    """A merge's change events may come in separate windows, the master's update first: the master
    (same email, unlinked) waits for the deletion, which moves the link to it, and is never taken
    for a same-email duplicate of the deleted record."""
    loser = world.sf.add("Lead", Email="dup@example.com", LastName="Merged", Company="M", Title="Loser")
    world.sync()
    contact_id = world.state.links_by_salesforce(PORTAL, [loser])[loser].hubspot_id
    master = world.sf.add("Lead", Email="dup@example.com", LastName="Merged", Company="M", Title="Master")
    world.sf.drain_events()  # it predates the connector: unlinked
    world.sf.merged[loser] = master
    world.sf.remove(loser)
    deletion = world.sf.drain_events()
    world.sf.edit(master, Title="Master title")  # the merge's update of its master, alone
    world.sync(rounds=1)
    assert world.link_of_hubspot(contact_id).sf_id == loser  # not decided yet: it waits
    world.sf.events += deletion
    world.sync()
    link = world.link_of_hubspot(contact_id)
    assert (link.sf_id, link.duplicates) == (master, ())
    assert world.hs.rows[contact_id].properties["jobtitle"] == "Master title"
