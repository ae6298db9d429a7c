"""The poller reconciles, it does not re-sync (shared.pipeline.poll_reconcile): after the events have
synced a load, a scheduled poll queues nothing; a change whose event was lost is still queued, and
synced; a backfill still queues everything it reads."""

from __future__ import annotations

import dataclasses

import pytest

from shared.config import parse_config
from shared.intents import WriteIntent
from shared.models import ChangeEvent, System
from shared.pipeline.dedupe.contacts import ContactSchema
from shared.pipeline.poll import ALL_TARGETS, Poller
from shared.pipeline.poll_reconcile import Polled, PollReconciler, holds_what_was_synced, salesforce_fields
from shared.times import EPOCH
from tests.fakes import ORG, PORTAL
from tests.unit.dedupe_support import LEAD, USER, at, link, schema
from tests.unit.test_pipeline import World


@pytest.fixture
def world() -> World:
    return World(parse_config(f"portals: [{PORTAL}]"))


def reconciling_poller(world: World, queued: list[ChangeEvent]) -> Poller:
    contact_schema = ContactSchema(world.config, world.sf, world.hs)
    return Poller(
        portal=PORTAL,
        org_id=ORG,
        salesforce=world.sf,
        hubspot=world.hs,
        state=world.state,
        enqueue=queued.extend,
        clock=world.clock,
        reconciler=PollReconciler(contact_schema, world.state, PORTAL),
    )


def loaded(world: World) -> tuple[str, str, str]:
    """Two contacts made in HubSpot, a Lead and a Contact made in Salesforce, all synced by events."""
    hs_id = world.hs.add(email="ada@example.com", firstname="Ada", lastname="Lovelace", company="Engines")
    world.hs.add(email="alan@example.com", firstname="Alan", lastname="Turing", company="Bletchley")
    lead = world.sf.add(
        "Lead", Email="grace@example.com", FirstName="Grace", LastName="Hopper", Company="Navy"
    )
    contact = world.sf.add("Contact", Email="kay@example.com", FirstName="Kay", LastName="Antonelli")
    world.sync()
    return hs_id, lead, contact


def test_a_poll_after_a_synced_load_queues_nothing_and_counts_what_it_left(world):
    loaded(world)
    queued: list[ChangeEvent] = []
    result = reconciling_poller(world, queued).poll(ALL_TARGETS)
    assert queued == []
    # HubSpot: 2 contacts made there, 2 made by hssync; Salesforce: 3 Leads (2 made by hssync), 1 Contact
    assert result.unchanged == {
        "poll:hubspot:contacts": 4,
        "poll:salesforce:Lead": 3,
        "poll:salesforce:Contact": 1,
    }
    assert set(result.cursors) == {"poll:hubspot:contacts", "poll:salesforce:Lead", "poll:salesforce:Contact"}


def test_a_poll_reads_every_salesforce_objects_first_page_in_one_call(world):
    """Leads and Contacts are read together (one Composite call), not one call per object; a later
    page of one object is still read on its own."""
    loaded(world)
    world.sf.calls = 0
    reconciling_poller(world, []).poll(ALL_TARGETS)
    assert world.sf.calls == 1
    for n in range(3):
        world.sf.add("Lead", Email=f"l{n}@example.com", LastName=f"L{n}", Company="C")
    queued: list[ChangeEvent] = []
    poller = reconciling_poller(world, queued)
    poller.max_records, world.sf.calls = 10_000, 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("shared.pipeline.poll.PAGE", 2)  # the 3 new Leads fill the first page
        poller.poll(ALL_TARGETS)
    assert world.sf.calls > 1  # the Leads' further pages, each a call of its own
    assert sorted(e.record_id for e in queued) == sorted(
        rid for rid, row in world.sf.rows.items() if row.fields.get("Email", "").startswith("l")
    )


def test_an_edit_whose_event_was_lost_is_queued_alone_and_synced(world):
    hs_id, lead, _ = loaded(world)
    world.hs.edit(hs_id, firstname="Augusta")
    world.sf.edit(lead, Company="US Navy")
    world.hs.drain_events(), world.sf.drain_events()  # the events are lost
    queued: list[ChangeEvent] = []
    reconciling_poller(world, queued).poll(ALL_TARGETS)
    assert sorted((e.system.value, e.record_id) for e in queued) == [("hubspot", hs_id), ("salesforce", lead)]
    world.hs.events.extend(e for e in queued if e.system is System.HUBSPOT)
    world.sf.events.extend(e for e in queued if e.system is System.SALESFORCE)
    world.sync()
    sf_lead = world.sf.rows[world.link_of_hubspot(hs_id).sf_id].fields
    assert sf_lead["FirstName"] == "Augusta"
    grace = world.hs.rows[str(world.hs.by_email("grace@example.com"))].properties
    assert grace["company"] == "US Navy"


def test_an_owner_change_or_a_record_without_a_link_is_queued(world):
    _, lead, _ = loaded(world)
    world.sf.edit(lead, OwnerId=USER)
    stranger = world.sf.add("Lead", Email="new@example.com", LastName="New", Company="N")
    world.sf.drain_events()
    queued: list[ChangeEvent] = []
    reconciling_poller(world, queued).poll(ALL_TARGETS)
    assert sorted(e.record_id for e in queued) == sorted([lead, stranger])


def test_a_backfill_reads_and_queues_everything(world):
    loaded(world)
    queued: list[ChangeEvent] = []
    result = reconciling_poller(world, queued).poll(ALL_TARGETS, since=EPOCH)
    assert len(queued) == 8
    assert result.unchanged == {}


def test_without_a_reconciler_the_poll_queues_everything_it_reads(world):
    loaded(world)
    queued: list[ChangeEvent] = []
    poller = reconciling_poller(world, queued)
    poller.reconciler = None
    poller.poll(ALL_TARGETS)
    assert len(queued) == 8


# -- the rule -----------------------------------------------------------------------------------
SYNCED = {
    "email": ("a@example.com", "a@example.com"),
    "lastname": ("Doe", "Doe"),
    "hs_email_optout": ("false", "false"),
}


def fully_synced(**changed: tuple[str | None, str | None]):
    """A Lead's link remembering every mapped property: ``SYNCED``, ``changed``, the rest empty."""
    mapped = {m.hubspot for m, _ in schema().fields.for_object("Lead")}
    return link(synced={p: (None, None) for p in mapped} | SYNCED | changed)


def test_the_rule_compares_each_side_with_its_own_remembered_value():
    s = schema()
    pair = fully_synced(firstname=("Jo", "Jo"))
    held: dict[str, object] = {f: None for _, f in s.fields.for_object("Lead")}
    held |= {"Email": "a@example.com", "LastName": "Doe", "FirstName": "Jo", "HasOptedOutOfEmail": False}
    assert holds_what_was_synced(pair, System.SALESFORCE, held, s)
    assert not holds_what_was_synced(pair, System.SALESFORCE, {**held, "FirstName": "Joe"}, s)
    assert not holds_what_was_synced(pair, System.SALESFORCE, {**held, "OwnerId": USER}, s)
    hs_values = {p: v[0] for p, v in pair.synced.items()}
    assert holds_what_was_synced(pair, System.HUBSPOT, hs_values, s)
    assert not holds_what_was_synced(pair, System.HUBSPOT, {**hs_values, "lastname": "Roe"}, s)


def test_a_write_in_flight_or_a_field_never_synced_means_a_read():
    s = schema()
    full = fully_synced()
    values = {p: v[0] for p, v in full.synced.items()}
    assert holds_what_was_synced(full, System.HUBSPOT, values, s)
    intent = WriteIntent(plan_id="p", lease_until=at(60), values={})
    assert not holds_what_was_synced(dataclasses.replace(full, intent=intent), System.HUBSPOT, values, s)
    assert not holds_what_was_synced(link(synced=SYNCED), System.HUBSPOT, values, s)


def test_a_converted_lead_or_a_duplicate_is_always_read(world):
    s = schema()
    reconciler = PollReconciler(s, world.state, PORTAL)
    world.state.save_links([fully_synced()])
    values = {"Email": "a@example.com", "LastName": "Doe", "HasOptedOutOfEmail": False}
    same = Polled(LEAD, at(1), values)
    assert reconciler.to_queue(System.SALESFORCE, "Lead", [same]) == []
    converted = Polled(LEAD, at(1), {**values, "IsConverted": True})
    assert reconciler.to_queue(System.SALESFORCE, "Lead", [converted]) == [converted]
    assert "IsConverted" in salesforce_fields(s, "Lead")
    assert "IsConverted" not in salesforce_fields(s, "Contact")


@pytest.mark.parametrize("sobject", ["Lead", "Contact"])
def test_the_poll_reads_the_mapped_fields_the_org_has_with_the_owner(sobject):
    s = schema()
    fields = salesforce_fields(s, sobject)
    assert {"Id", "SystemModstamp", "OwnerId", "Email", "LastName", "HasOptedOutOfEmail"} <= set(fields)


def test_a_salesforce_record_is_left_alone_only_when_every_portal_holds_what_was_synced(world):
    loaded(world)
    schema_ = ContactSchema(world.config, world.sf, world.hs)
    fields = salesforce_fields(schema_, "Lead")
    read = [Polled(r.id, EPOCH, r.fields) for r in world.sf.modified_since("Lead", EPOCH, fields, 100)]
    assert len(read) == 3
    alone = PollReconciler(schema_, world.state, PORTAL)
    assert alone.to_queue(System.SALESFORCE, "Lead", read) == []
    # a second portal where they are not linked: each is read again (dedupe decides for that portal)
    both = PollReconciler(schema_, world.state, PORTAL, [PORTAL, "1000002"])
    assert [p.id for p in both.to_queue(System.SALESFORCE, "Lead", read)] == [p.id for p in read]
