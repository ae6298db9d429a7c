"""Changes as queue messages (shared/pipeline/change_messages.py): each fits one SQS message; one
too large with its reported values travels with its ids only."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.change_messages import (
    MAX_CHANGE_BYTES,
    ChangeTooLarge,
    change_bodies,
    change_body,
)
from shared.queues import MAX_BYTES, message_bytes


def _change(value: str = "CTO", *, related: int = 0) -> ChangeEvent:
    return ChangeEvent(
        system=System.HUBSPOT,
        account="1000001",
        object_type="contacts",
        record_id="55",
        change_type=ChangeType.UPDATE,
        occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        origin="CRM_UI",
        source_event_id="7",
        changed_fields=("notes", "jobtitle"),
        related_ids=tuple(str(10**12 + i) for i in range(related)),
        reported={"notes": value, "jobtitle": "CTO"},
    )


def test_a_change_that_fits_travels_whole():
    change = _change()
    assert ChangeEvent.model_validate_json(change_body(change)) == change


def test_a_change_too_large_for_a_message_travels_with_its_ids_only():
    change = _change("ü" * 140_000)  # 280 KB in UTF-8: more than a message holds
    sent = ChangeEvent.model_validate_json(change_body(change))
    assert (sent.reported, sent.changed_fields) == ({}, ())
    assert sent.change_id == change.change_id  # the same change: dedupe reads the record
    assert sent.model_dump(exclude={"reported", "changed_fields"}) == change.model_dump(
        exclude={"reported", "changed_fields"}
    )


def test_the_budget_leaves_room_for_the_counters_a_change_comes_back_with():
    # the largest change sent whole, sent back by dedupe with its counters raised, still fits
    filler = MAX_CHANGE_BYTES - message_bytes(_change("").model_dump_json())
    change = _change("x" * filler)
    assert message_bytes(change_body(change)) == MAX_CHANGE_BYTES
    again = change.model_copy(update={"attempt": 99, "redecided": 99, "held": True})
    assert message_bytes(again.model_dump_json()) <= MAX_BYTES
    assert ChangeEvent.model_validate_json(change_body(_change("x" * (filler + 1)))).reported == {}


def test_a_change_too_large_even_with_its_ids_only_is_set_aside_with_the_reason():
    huge = _change(related=30_000)
    with pytest.raises(ChangeTooLarge, match="with its ids only"):
        change_body(huge)
    bodies, unsendable = change_bodies([_change(), huge, _change("big" * 100_000)])
    assert len(bodies) == 2
    ((body, reason),) = unsendable
    assert ChangeEvent.model_validate_json(body).change_id == huge.change_id
    assert "more than a message holds" in reason
