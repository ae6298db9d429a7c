"""The fast lane for people (shared/pipeline/lanes.py, issue 17): which changes are a bulk load,
and every stage sends what it passes on, holds, defers or sends back to the queue of its lane."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any

import pytest

from shared.models import RESYNC_ORIGIN, ChangeEvent, ChangeType
from shared.owners.directory import OwnerDirectory
from shared.owners.stage import OwnerResult
from shared.pipeline.dedupe import DedupeResult
from shared.pipeline.dedupe.batching import BULK_CHANGES
from shared.pipeline.lanes import (
    HUBSPOT_IMPORT,
    POLLER_ORIGINS,
    LaneQueues,
    all_bulk,
    classify,
    split,
)
from shared.pipeline.plans import PlanBatch, SyncPlan, pack
from shared.pipeline.stages.apply import ApplyStage
from shared.pipeline.stages.change_events import ChangeEventStage
from shared.pipeline.stages.dedupe import DedupeStage
from shared.pipeline.stages.owners import OwnersStage
from shared.queues import Queue
from tests.fakes import ORG, PORTAL
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import LEAD, hs_event, sf_event
from tests.unit.handler_kit import TEMPLATE, Sqs, environment, sqs_event, template_environment

API = "com/salesforce/api/rest/59.0"


def _leads(n: int, origin: str = API, *, one_event: bool = True) -> list[ChangeEvent]:
    """``n`` leads of one Salesforce transaction: one change event naming them all, or (an import's
    new records, whose values differ) one event each, numbered in the transaction."""
    events = [sf_event(f"00Q{i:015d}", origin=origin, n=i) for i in range(n)]
    if one_event:
        return [e.model_copy(update={"transaction_records": n}) for e in events]
    return [e.model_copy(update={"transaction_records": i + 1}) for i, e in enumerate(events)]


def _integration(contacts: int, notes: int = 1, origin: str = "INTEGRATION") -> list[ChangeEvent]:
    """An integration's batch write of ``contacts``, ``notes`` notifications each."""
    return [hs_event(str(100 + c), origin=origin, origin_id="app:7", note=str(k)) for c in range(contacts)
            for k in range(notes)]  # fmt: skip


def _plan(i: int) -> SyncPlan:
    return SyncPlan(plan_id=f"p{i}", portal=PORTAL, hubspot_id=str(i), sf_object="Lead", sf_id=None,
                    create="salesforce", salesforce_writes={"LastName": f"L{i}"})  # fmt: skip


# -- the rule ----------------------------------------------------------------------------------------
def test_a_persons_edit_is_in_the_fast_lane():
    assert [e.bulk for e in classify([hs_event(), sf_event()])] == [False, False]


def test_a_hubspot_app_or_user_changing_several_records_in_one_request_is_a_load():
    assert {e.bulk for e in classify(_integration(2))} == {True}
    assert {e.bulk for e in classify(_integration(1, notes=5))} == {False}  # one record: a save
    assert {e.bulk for e in classify(_integration(1))} == {False}


def test_hubspot_changes_of_no_single_writer_are_not_counted_together():
    """Changes folded from notifications of several sources name no writer."""
    folded = [e.model_copy(update={"origin": None, "origin_id": None}) for e in _integration(5)]
    assert {e.bulk for e in classify(folded)} == {False}


def test_a_persons_edit_delivered_with_a_bulk_load_keeps_the_fast_lane():
    edit = hs_event("7", origin="CRM_UI")
    load = _integration(BULK_CHANGES)
    lanes = classify([*load[:10], edit, *load[10:]])
    assert [e.record_id for e in lanes if not e.bulk] == ["7"]


def test_a_salesforce_transaction_of_several_records_is_a_load():
    """One change event naming several records, or an event after the first of its transaction (an
    import's new records: one event each, 200 a transaction); the first of them alone keeps the
    fast lane, as a person's save would."""
    assert {e.bulk for e in classify(_leads(2))} == {True}
    assert [e.bulk for e in classify(_leads(4, one_event=False))] == [False, True, True, True]
    for event in _leads(10, one_event=False)[1:]:  # the relay often sees one event at a time
        assert classify([event])[0].bulk


def test_a_merge_travels_in_one_lane_and_a_mass_delete_is_a_load():
    """A merge updates its master (the first event of its transaction), then deletes up to two
    losers: the deletions must reach dedupe with the update, not after it in the other lane."""
    master = sf_event("00Q000000000000001", origin=API)
    losers = [
        sf_event(f"00Q00000000000000{i}", origin=API, n=i).model_copy(
            update={"change_type": ChangeType.DELETE, "transaction_records": 2}
        )
        for i in (2, 3)
    ]
    assert {e.bulk for e in classify([master, *losers])} == {False}
    mass_delete = [e.model_copy(update={"transaction_records": 3}) for e in losers]
    assert {e.bulk for e in classify(mass_delete)} == {True}


def test_a_persons_salesforce_saves_stay_fast_even_beside_a_load_of_the_same_api_client():
    saves = [sf_event(f"00Q{i:015d}", origin=API, n=i) for i in range(BULK_CHANGES)]
    assert {e.bulk for e in classify(saves)} == {False}
    mixed = classify([*_leads(10), saves[0]])
    assert [e.bulk for e in mixed] == [True] * 10 + [False]


def test_an_import_the_pollers_changes_and_a_resync_are_bulk_by_origin():
    assert classify([hs_event(origin=HUBSPOT_IMPORT)])[0].bulk
    for origin in sorted(POLLER_ORIGINS):
        assert classify([sf_event(origin=origin)])[0].bulk, origin
    assert classify([sf_event(origin=RESYNC_ORIGIN)])[0].bulk
    assert classify([sf_event()], bulk_source=True)[0].bulk


def test_a_bulk_change_stays_bulk_and_split_keeps_the_order():
    bulk = sf_event().model_copy(update={"bulk": True})
    (again,) = classify([bulk])
    assert again.bulk
    events = [hs_event("1"), bulk, hs_event("2")]
    fast, slow = split(events)
    assert ([e.record_id for e in fast], slow) == (["1", "2"], [bulk])


def test_what_a_stage_makes_of_a_batch_is_bulk_only_when_all_of_it_was():
    assert all_bulk([True, True])
    assert not all_bulk([True, False])
    assert not all_bulk([])


def test_without_a_bulk_queue_both_lanes_share_the_fast_one():
    sqs = Sqs()
    fast, bulk = Queue(sqs, "fast"), Queue(sqs, "bulk")  # type: ignore[arg-type]
    assert LaneQueues(fast).of(True) is fast
    lanes = LaneQueues(fast, bulk)
    assert (lanes.of(False), lanes.of(True)) == (fast, bulk)
    lanes.send([], bulk=True)
    lanes.send(["b"], bulk=True, delay_seconds=3)
    assert [(s.url, s.body, s.delay) for s in sqs.sent] == [("bulk", "b", 3)]


# -- the stages ----------------------------------------------------------------------------------------
def _queues(sqs: Sqs, *names: str) -> list[Queue]:
    return [Queue(sqs, name) for name in names]  # type: ignore[arg-type]


class _Deduper:
    def __init__(self, result: DedupeResult) -> None:
        self.result = result

    def process(self, events: Sequence[ChangeEvent]) -> DedupeResult:
        return self.result


def _dedupe(sqs: Sqs, result: DedupeResult) -> DedupeStage:
    plans, changes, bulk_plans, bulk_changes = _queues(
        sqs, "owners", "changes", "bulk-owners", "bulk-changes"
    )
    return DedupeStage(deduper=lambda: _Deduper(result), state=MemoryState(), portal=PORTAL, plans=plans,
                       changes=changes, dead_letter=lambda body, reason: None, bulk_plans=bulk_plans,
                       bulk_changes=bulk_changes)  # fmt: skip


@pytest.mark.parametrize("bulk", [False, True])
def test_dedupe_sends_plans_held_and_deferred_changes_in_the_lane_they_came_in(bulk):
    sqs = Sqs()
    held = sf_event(held=True).model_copy(update={"bulk": bulk})
    deferred = sf_event("00Q000000000000009").model_copy(update={"bulk": bulk})
    stage = _dedupe(sqs, DedupeResult(plans=[_plan(1)], held=[held], retry=[deferred]))
    event = sf_event(LEAD).model_copy(update={"bulk": bulk})
    stage.work([("m1", event)])
    prefix = "bulk-" if bulk else ""
    assert {s.url for s in sqs.sent} == {f"{prefix}owners", f"{prefix}changes"}
    (plans,) = sqs.to(f"{prefix}owners")
    assert PlanBatch.model_validate_json(plans.body).bulk is bulk
    assert {ChangeEvent.model_validate_json(s.body).bulk for s in sqs.to(f"{prefix}changes")} == {bulk}


class _Owners:
    def process(self, plans: Sequence[SyncPlan]) -> OwnerResult:
        return OwnerResult(plans=list(plans))

    def refresh(self) -> OwnerDirectory:
        raise AssertionError("not refreshed")


@pytest.mark.parametrize("bulk", [False, True])
def test_owners_pass_plans_on_in_their_lane(bulk):
    sqs = Sqs()
    writes, bulk_writes = _queues(sqs, "writes", "bulk-writes")
    stage = OwnersStage(owners=_Owners, state=MemoryState(), portal=PORTAL, writes=writes,
                        dead_letter=lambda body, reason: None, bulk_writes=bulk_writes)  # fmt: skip
    (body,) = pack([_plan(1)], bulk=bulk)
    stage.work([("m1", PlanBatch.model_validate_json(body))])
    (sent,) = sqs.sent
    assert (sent.url, PlanBatch.model_validate_json(sent.body).bulk) == (
        "bulk-writes" if bulk else "writes",
        bulk,
    )


def test_apply_decides_again_in_the_lane_of_the_plans():
    sqs = Sqs()
    writes, changes, bulk_writes, bulk_changes = _queues(
        sqs, "writes", "changes", "bulk-writes", "bulk-changes"
    )
    stage = ApplyStage(applier=lambda running_for: None, once=lambda: None, state=MemoryState(),  # type: ignore[arg-type,return-value]
                       portal=PORTAL, writes=writes, changes=changes, dead_letter=lambda body, reason: None,
                       bulk_writes=bulk_writes, bulk_changes=bulk_changes)  # fmt: skip
    stage.decide_again([sf_event()], delay_seconds=0, bulk=True)
    stage.decide_again([sf_event()], delay_seconds=0)
    assert [(s.url, json.loads(s.body)["bulk"]) for s in sqs.sent] == [
        ("bulk-changes", True),
        ("changes", False),
    ]


def _relayed(*ids: str, origin: str = "", transaction: str = "t", sequence: int = 1) -> str:
    header = {"entityName": "Lead", "changeType": "UPDATE", "recordIds": list(ids), "changeOrigin": origin,
              "commitTimestamp": 1764360000000, "transactionKey": transaction,
              "sequenceNumber": sequence}  # fmt: skip
    return json.dumps({"version": "0", "id": "e1", "detail-type": "LeadChangeEvent",
                       "source": f"aws.partner/salesforce.com/{ORG}/0YLxx0000000001", "account": "1",
                       "time": "2026-11-28T20:00:00Z", "region": "us-east-1", "resources": [],
                       "detail": {"payload": {"ChangeEventHeader": header}}})  # fmt: skip


def test_a_change_event_naming_many_records_goes_to_the_bulk_lane_a_single_edit_to_the_fast_one():
    sqs = Sqs()
    changes, polls, bulk_changes = _queues(sqs, "changes", "poll-requests", "bulk-changes")
    stage = ChangeEventStage(org_id=ORG, changes=changes, poll_requests=polls,
                             dead_letter=lambda body, reason: None, bulk_changes=bulk_changes)  # fmt: skip
    load = [f"00Q{i:015d}" for i in range(BULK_CHANGES)]
    edit = "00Q999999999999999"
    api = "com/salesforce/api/rest/59.0;client=DataLoader"
    # an import's transaction (one event naming many records, and one event per new record), and a
    # user's save (no changeOrigin)
    import_events = [_relayed(*load[:10], origin=api, transaction="load")]
    import_events += [
        _relayed(record, origin=api, transaction="load", sequence=n) for n, record in enumerate(load[10:], 2)
    ]
    event = sqs_event(*import_events, _relayed(edit, transaction="save"))
    result: dict[str, Any] = stage.handle(event, None)
    assert result == {"batchItemFailures": []}
    assert [json.loads(s.body)["record_id"] for s in sqs.to("changes")] == [edit]
    assert len(sqs.to("bulk-changes")) == BULK_CHANGES


# -- the template ------------------------------------------------------------------------------------
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
# each stage's queue in the fast lane -> its twin in the bulk lane, and the function consuming both
TWINS = {
    "ChangesQueue": ("BulkChangesQueue", "DedupeFunction"),
    "OwnersQueue": ("BulkOwnersQueue", "OwnersFunction"),
    "WritesQueue": ("BulkWritesQueue", "ApplyFunction"),
}


def _source(function: str, queue: str) -> dict[str, Any]:
    events = RESOURCES[function]["Properties"]["Events"]
    (found,) = [
        e["Properties"]
        for e in events.values()
        if e["Properties"].get("Queue") == {"Fn::GetAtt": [queue, "Arn"]}
    ]
    return dict(found)


@pytest.mark.parametrize("fast", sorted(TWINS))
def test_each_stage_has_a_bulk_queue_with_its_own_dead_letter_queue_and_event_source(fast):
    bulk, function = TWINS[fast]
    fast_queue, bulk_queue = RESOURCES[fast]["Properties"], RESOURCES[bulk]["Properties"]
    fast_dlq = fast_queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    bulk_dlq = bulk_queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert bulk_dlq != fast_dlq
    assert bulk_queue["VisibilityTimeout"] == fast_queue["VisibilityTimeout"]
    fast_source, bulk_source = _source(function, fast), _source(function, bulk)
    # a bulk load's batches are never smaller than people's edits'
    assert bulk_source["BatchSize"] >= fast_source["BatchSize"]
    # the fast lane never waits for a batch: a lone edit goes at once
    assert fast_source.get("MaximumBatchingWindowInSeconds", 0) == 0
    assert bulk_source.get("MaximumBatchingWindowInSeconds", 0) <= 1


def test_windows_waiting_for_the_budget_come_back_through_a_queue_that_gathers_them():
    # SQS delays are whole seconds: the windows due together come back up to a second apart, and
    # only a batching window joins them into one batch (the fast lane has none)
    paced = _source("DedupeFunction", "PacedChangesQueue")
    assert paced["MaximumBatchingWindowInSeconds"] >= 1
    assert paced["BatchSize"] >= _source("DedupeFunction", "ChangesQueue")["BatchSize"]
    queue = RESOURCES["PacedChangesQueue"]["Properties"]
    assert queue["VisibilityTimeout"] == RESOURCES["ChangesQueue"]["Properties"]["VisibilityTimeout"]
    worked = ("PacedChangesQueue", *TWINS, *(bulk for bulk, _ in TWINS.values()))
    redrives = [RESOURCES[q]["Properties"]["RedrivePolicy"] for q in worked]
    dead_letters = {redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] for redrive in redrives}
    assert len(dead_letters) == 1 + 2 * len(TWINS)  # a dead-letter queue of its own


def test_the_fast_lane_of_dedupe_has_concurrency_of_its_own():
    fast, bulk = _source("DedupeFunction", "ChangesQueue"), _source("DedupeFunction", "BulkChangesQueue")
    assert fast["ScalingConfig"]["MaximumConcurrency"] >= 2
    assert bulk["ScalingConfig"]["MaximumConcurrency"] >= 2


# the stages that route by lane: attribute -> (fast variable, bulk variable)
LANES: dict[str, dict[str, tuple[str, str]]] = {
    "InboundWebhookFunction": {"lanes": ("CHANGES_QUEUE_URL", "BULK_CHANGES_QUEUE_URL")},
    "InboundEventsFunction": {"lanes": ("CHANGES_QUEUE_URL", "BULK_CHANGES_QUEUE_URL")},
    "PollFunction": {"lanes": ("CHANGES_QUEUE_URL", "BULK_CHANGES_QUEUE_URL")},
    "DedupeFunction": {
        "plan_lanes": ("OWNERS_QUEUE_URL", "BULK_OWNERS_QUEUE_URL"),
        "change_lanes": ("CHANGES_QUEUE_URL", "BULK_CHANGES_QUEUE_URL"),
    },
    "OwnersFunction": {"write_lanes": ("WRITES_QUEUE_URL", "BULK_WRITES_QUEUE_URL")},
    "ApplyFunction": {
        "write_lanes": ("WRITES_QUEUE_URL", "BULK_WRITES_QUEUE_URL"),
        "change_lanes": ("CHANGES_QUEUE_URL", "BULK_CHANGES_QUEUE_URL"),
    },
}
MODULES = {
    "InboundWebhookFunction": "functions.inbound_webhook.app",
    "InboundEventsFunction": "functions.inbound_events.app",
    "PollFunction": "functions.poll.app",
    "DedupeFunction": "functions.dedupe.app",
    "OwnersFunction": "functions.owners.app",
    "ApplyFunction": "functions.apply.app",
}
LAMBDA = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
          "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}  # fmt: skip


@pytest.mark.parametrize("logical_id", sorted(LANES))
def test_each_stage_sends_each_lane_to_the_queue_the_template_names(logical_id, monkeypatch):
    from shared import wiring
    from shared.observability import metrics

    monkeypatch.setattr(metrics, "namespace", "hssync-test")
    module = importlib.import_module(MODULES[logical_id])
    env = template_environment(logical_id)
    module.stage.use(None)
    try:
        with environment(monkeypatch, {**env, **LAMBDA}):
            stage = module.stage()
        for attribute, (fast, bulk) in LANES[logical_id].items():
            lanes = getattr(stage, attribute)
            assert (lanes.of(False).url, lanes.of(True).url) == (env[fast], env[bulk]), attribute
        if logical_id == "DedupeFunction":  # windows waiting for the budget
            assert stage.paced_changes.url == env["PACED_CHANGES_QUEUE_URL"]
        if logical_id == "OwnersFunction":  # plans that wait for a CRM: back in their lane
            assert (stage.plans.url, stage.bulk_plans.url) == (
                env["OWNERS_QUEUE_URL"],
                env["BULK_OWNERS_QUEUE_URL"],
            )
    finally:
        module.stage.use(None)
        metrics.clear_metrics()
        wiring.sqs.cache_clear()
