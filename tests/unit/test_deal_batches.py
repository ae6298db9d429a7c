"""A bulk load of Opportunities and contact roles fills dedupe's batches (``shared.pipeline.dedupe.
deals.batches`` on the rule of ``batching``): whole chunks of 200 Opportunities and 400 roles, the
rest held once; a person's edits are never held; with deal sync off nothing of deals is held. And
deals not linked yet are read without property history (100 a call)."""

from __future__ import annotations

import pytest

from shared.models import OPPORTUNITY, OPPORTUNITY_CONTACT_ROLE, ChangeEvent, ChangeType
from shared.pipeline.dedupe import Deduper
from shared.pipeline.dedupe.batching import BULK_CHANGES, fill_batches
from shared.pipeline.dedupe.deals.batches import DEAL_CHUNKS, OPPORTUNITY_CHUNK, ROLE_CHUNK
from shared.state.keys import salesforce_id18
from tests import fakes
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import config, sf_event
from tests.unit.test_deals_part import FakeDeals, FakeRoles, World


def _changes(count: int, sobject: str, prefix: str, *, held: bool = False) -> list[ChangeEvent]:
    return [
        sf_event(salesforce_id18(f"{prefix}{i:012d}"), ChangeType.CREATE, sobject=sobject, held=held)
        for i in range(count)
    ]


def test_opportunities_and_roles_fill_whole_chunks_of_their_own_size():
    opportunities = _changes(OPPORTUNITY_CHUNK + 30, OPPORTUNITY, "006")
    roles = _changes(ROLE_CHUNK + 70, OPPORTUNITY_CONTACT_ROLE, "00K")
    now, held = fill_batches([*opportunities, *roles], objects=DEAL_CHUNKS, chunks=DEAL_CHUNKS)
    assert now == [*opportunities[:OPPORTUNITY_CHUNK], *roles[:ROLE_CHUNK]]
    assert [e.record_id for e in held] == [e.record_id for e in (*opportunities[-30:], *roles[-70:])]


def test_a_part_of_a_chunk_that_looks_like_a_bulk_load_waits_once_and_edits_never_wait():
    roles = _changes(ROLE_CHUNK - 1, OPPORTUNITY_CONTACT_ROLE, "00K")
    assert fill_batches(roles, objects=DEAL_CHUNKS, chunks=DEAL_CHUNKS)[0] == []
    again = [e.model_copy(update={"held": True}) for e in roles]
    assert fill_batches(again, objects=DEAL_CHUNKS, chunks=DEAL_CHUNKS) == (again, [])
    edits = _changes(BULK_CHANGES - 1, OPPORTUNITY, "006")
    assert fill_batches(edits, objects=DEAL_CHUNKS, chunks=DEAL_CHUNKS) == (edits, [])


def _deduper(text: str) -> Deduper:
    clock = Clock()
    return Deduper(config=config(text), portal=PORTAL, salesforce=FakeSalesforce(clock),
                   hubspot=FakeHubSpot(clock), state=MemoryState(clock=clock), own_app_id=APP_ID,
                   clock=clock, deals=FakeDeals(clock), opportunities=FakeRoles())  # fmt: skip


def test_the_deduper_fills_deal_batches_only_with_deal_sync_on():
    opportunities = _changes(OPPORTUNITY_CHUNK + 30, OPPORTUNITY, "006")
    held = _deduper("deals: {enabled: true}").process(opportunities).held
    assert [e.record_id for e in held] == [e.record_id for e in opportunities[-30:]]
    assert _deduper("").process(opportunities).held == []


def test_new_deals_are_read_without_history_and_linked_ones_with_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(fakes.PREFIX, OPPORTUNITY, "006")
    world = World("portals: [1000001]\ndeals: {enabled: true}\n")
    first = world.deals.add(dealname="First", dealstage="appointmentscheduled")
    world.sync()
    assert world.deals.calls.count("read_deals_now") == 1  # a deal not linked yet: no history
    assert "read_deals" not in world.deals.calls
    world.deals.calls.clear()
    world.deals.edit(first, dealname="First, renamed")
    world.deals.add(dealname="Second", dealstage="appointmentscheduled")
    world.sync()
    assert world.deals.calls.count("read_deals") == 1  # the linked one, with history
    assert world.deals.calls.count("read_deals_now") == 1
    assert sorted(r["Name"] for r in world.opportunities().values()) == ["First, renamed", "Second"]
