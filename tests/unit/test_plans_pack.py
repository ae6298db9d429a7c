"""pack() (shared/pipeline/plans.py): plans into writes messages, each within SQS's 256 KiB in UTF-8
bytes and one sObject Collection of plans."""

from __future__ import annotations

import json

import pytest

from shared.pipeline.plans import (
    MAX_MESSAGE_BYTES,
    MAX_PLANS_PER_MESSAGE,
    PlanBatch,
    PlanTooLarge,
    SyncPlan,
    pack,
    pack_sendable,
)
from shared.queues import message_bytes


def _plan(i: int, description: str = "") -> SyncPlan:
    return SyncPlan(
        plan_id=f"p{i}",
        portal="1000001",
        hubspot_id=str(i),
        sf_object="Lead",
        sf_id=None,
        create="salesforce",
        salesforce_writes={"LastName": f"L{i}", "Description": description},
    )


def _unpacked(bodies: list[str]) -> list[SyncPlan]:
    return [plan for body in bodies for plan in PlanBatch.model_validate_json(body).plans]


def test_plans_are_cut_by_count():
    plans = [_plan(i) for i in range(450)]
    bodies = pack(plans, attempt=2)
    assert [len(PlanBatch.model_validate_json(b).plans) for b in bodies] == [MAX_PLANS_PER_MESSAGE] * 2 + [50]
    assert _unpacked(bodies) == plans
    assert {PlanBatch.model_validate_json(b).attempt for b in bodies} == {2}


def test_plans_are_cut_by_utf8_bytes():
    plans = [_plan(i, "ü" * 30_000) for i in range(20)]  # 60 KB each in UTF-8, 30 K characters
    bodies = pack(plans)
    assert _unpacked(bodies) == plans
    assert all(message_bytes(b) <= MAX_MESSAGE_BYTES for b in bodies)
    assert len(bodies) == 5  # four plans a message


def test_a_message_is_filled_up_to_the_limit_exactly():
    one = pack([_plan(0)])[0]
    filler = MAX_MESSAGE_BYTES - message_bytes(one)
    (body,) = pack([_plan(0, "x" * filler)])
    assert message_bytes(body) == MAX_MESSAGE_BYTES
    assert len(pack([_plan(0, "x" * filler), _plan(1)])) == 2


def test_a_plan_too_large_for_any_message_is_refused():
    assert pack([]) == []
    with pytest.raises(PlanTooLarge, match="plan p1"):
        pack([_plan(0), _plan(1, "x" * MAX_MESSAGE_BYTES)])


def test_a_plan_too_large_is_set_aside_with_its_ids_and_the_rest_is_packed():
    one = pack([_plan(0)])[0]
    exactly = _plan(2, "x" * (MAX_MESSAGE_BYTES - message_bytes(one)))  # fills a message alone: sent
    plans = [_plan(0), _plan(1, "x" * MAX_MESSAGE_BYTES), exactly, _plan(3)]
    bodies, refused = pack_sendable(plans, attempt=1)
    assert _unpacked(bodies) == [plans[0], exactly, plans[3]]
    [(body, reason)] = refused
    assert json.loads(body) == {
        "plan_id": "p1", "portal": "1000001", "hubspot_id": "1", "sf_object": "Lead", "sf_id": None,
        "bytes": len(plans[1].model_dump_json().encode()),
    }  # fmt: skip
    assert message_bytes(body) < 1000  # the ids, not the values: a dead letter fits
    assert "more than an SQS message holds" in reason
    assert pack_sendable([]) == ([], [])
