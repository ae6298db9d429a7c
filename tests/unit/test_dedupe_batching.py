"""Bulk-load batching (shared.pipeline.dedupe.batching): whole HubSpot calls under a bulk load,
never a wait for a person's edit, and never more than one extra batch for anything."""

from __future__ import annotations

from shared.models import ChangeEvent, ChangeType
from shared.pipeline.dedupe.batching import BULK_CHANGES, HUBSPOT_CHUNK, fill_batches
from shared.state.keys import salesforce_id18
from tests.unit.dedupe_support import hs_event, sf_event


def _leads(count: int, *, start: int = 0, held: bool = False, sobject: str = "Lead") -> list[ChangeEvent]:
    prefix = "00Q" if sobject == "Lead" else "003"
    return [
        sf_event(salesforce_id18(f"{prefix}{i:012d}"), sobject=sobject, held=held)
        for i in range(start, start + count)
    ]


def test_more_than_a_chunk_works_on_whole_chunks_and_holds_the_newest_rest_once():
    events = _leads(2 * HUBSPOT_CHUNK + 30)
    now, held = fill_batches(events)
    assert now == events[: 2 * HUBSPOT_CHUNK]
    assert [e.record_id for e in held] == [e.record_id for e in events[2 * HUBSPOT_CHUNK :]]
    assert all(e.held for e in held)


def test_a_part_of_a_chunk_that_looks_like_a_bulk_load_waits_for_what_comes_next():
    now, held = fill_batches(_leads(BULK_CHANGES + 10))
    assert now == []
    assert len(held) == BULK_CHANGES + 10


def test_people_editing_records_are_never_held():
    events = _leads(BULK_CHANGES - 1)
    assert fill_batches(events) == (events, [])


def test_records_held_before_are_worked_on_now_and_fill_the_chunk_first():
    before = _leads(30, held=True)
    fresh = _leads(HUBSPOT_CHUNK, start=30)
    now, held = fill_batches([*before, *fresh])
    # 130 records: one whole chunk now; the held ones are in it, the newest fresh ones wait
    assert now[:30] == before
    assert len(now) == HUBSPOT_CHUNK
    assert [e.record_id for e in held] == [e.record_id for e in fresh[HUBSPOT_CHUNK - 30 :]]
    assert fill_batches(_leads(BULK_CHANGES + 10, held=True)) == (_leads(BULK_CHANGES + 10, held=True), [])


def test_distinct_records_count_per_object_and_a_records_events_travel_together():
    leads = _leads(BULK_CHANGES // 2)
    again = [e.model_copy(update={"source_event_id": "again"}) for e in leads]
    contacts = _leads(BULK_CHANGES - 1, sobject="Contact")
    # 25 leads changed twice are 25 records, not 50; 49 contacts are people editing: nothing waits
    assert fill_batches([*leads, *again, *contacts]) == ([*leads, *again, *contacts], [])
    bulk = _leads(BULK_CHANGES)
    now, held = fill_batches(
        [*bulk, *[e.model_copy(update={"source_event_id": "2"}) for e in bulk], *contacts]
    )
    assert now == contacts
    assert len(held) == 2 * BULK_CHANGES


def test_hubspot_notifications_deletions_and_hssyncs_own_changes_are_never_held():
    own = [e.model_copy(update={"origin": "com/salesforce/api/rest/59.0;client=hssync"}) for e in _leads(60)]
    deletions = [e.model_copy(update={"change_type": ChangeType.DELETE}) for e in _leads(60, start=100)]
    hubspot = [hs_event(str(i)) for i in range(200)]
    events = [*own, *deletions, *hubspot]
    assert fill_batches(events) == (events, [])
