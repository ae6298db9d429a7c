"""The stages under their guardrails (``shared.guardrails``), as Lambda calls their handlers: work
that waits for a CRM goes back to its queue as a new, delayed message (nothing fails, nothing is
dead-lettered, no attempt counted), a create hands its claim over, a refusal suspends the CRM."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.crm_state import CrmState, CrmStatus
from shared.errors import SuspendedError
from shared.guardrails.allocation import Allocation
from shared.guardrails.gate import Guards
from shared.guardrails.guard import CrmGuard
from shared.models import System
from shared.observability import metrics
from shared.pipeline.apply import Applier
from shared.pipeline.plans import PlanBatch, pack
from shared.pipeline.stages.apply import ApplyStage
from shared.pipeline.stages.dedupe import DedupeStage
from tests.fakes import ORG, PORTAL
from tests.memory_state import MemoryCrmStateStore
from tests.unit.handler_kit import LambdaContext, MemoryOnce
from tests.unit.handler_kit import sqs_event as event_of
from tests.unit.test_handlers import World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(autouse=True)
def _metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(metrics, "namespace", "hssync-test")
    yield
    metrics.clear_metrics()


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def states() -> MemoryCrmStateStore:
    return MemoryCrmStateStore()


def _guards(world: World, states: MemoryCrmStateStore) -> Guards:
    def guard(system: System, account: str, usage: Callable[[], Any]) -> CrmGuard:
        return CrmGuard(
            system=system,
            account=account,
            store=states,
            usage=usage,
            allocation=Allocation(50),
            clock=world.clock,
            shortest_wait=7,
        )

    return Guards(
        [guard(System.SALESFORCE, ORG, world.sf.api_usage), guard(System.HUBSPOT, PORTAL, lambda: None)]
    )


def _suspend(world: World, states: MemoryCrmStateStore) -> None:
    now = world.clock()
    states.put_crm_state(
        CrmState(System.SALESFORCE, ORG, CrmStatus.SUSPENDED, now, now, reason="API_DISABLED_FOR_ORG")
    )


def _apply(world: World, states: MemoryCrmStateStore) -> Callable[[dict[str, Any]], Any]:
    stage = ApplyStage(
        applier=lambda running_for: Applier(
            salesforce=world.sf,
            hubspot=world.hs,
            state=world.state,
            clock=world.clock,
            running_for=running_for,
        ),
        once=MemoryOnce,
        state=world.state,
        portal=PORTAL,
        writes=world.queue("writes"),
        changes=world.queue("changes"),
        dead_letter=world.dead_letter("apply"),
        guards=_guards(world, states),
        clock=world.clock,
    )
    return lambda event: stage.handle(event, LambdaContext())


def test_a_suspended_crm_makes_plans_wait_and_a_create_hands_its_claim_over(world, states):
    plans = world.plans("new@example.com")
    (plan,) = plans
    assert plan.create == "salesforce"
    _suspend(world, states)
    calls = world.sf.calls
    assert _apply(world, states)(event_of(*pack(plans))) == {"batchItemFailures": []}
    assert world.sf.calls == calls  # not one call to a suspended org
    assert world.sqs.to("dlq") == []
    (again,) = world.sqs.to("changes")  # the creation goes back to dedupe, after the wait
    assert again.delay == 7
    assert (again.json["origin"], again.json["redecided"]) == ("hssync:decide-again", 0)  # not a failure
    # its claim is free: the next decision (a resync, this change again) claims it at once
    assert world.state.claim_creation(PORTAL, "salesforce", "new@example.com", "hubspot:other") is None


def test_plans_that_create_nothing_wait_in_the_writes_queue_with_their_attempt(world, states):
    plans = [
        p.model_copy(
            update={"create": None, "claim_email": None, "claimant": None, "sf_id": "00Q000000000001AAA"}
        )
        for p in world.plans("w@example.com")
    ]
    _suspend(world, states)
    assert _apply(world, states)(event_of(*pack(plans, attempt=3))) == {"batchItemFailures": []}
    (waiting,) = world.sqs.to("writes")
    assert waiting.delay == 7
    batch = PlanBatch.model_validate_json(waiting.body)
    assert (batch.attempt, [p.plan_id for p in batch.plans]) == (3, [p.plan_id for p in plans])


def test_a_refusal_in_the_middle_of_a_write_suspends_the_org_and_strands_no_record(world, states):
    plans = world.plans("a@example.com", "b@example.com")

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        world.sf.calls += 1
        raise SuspendedError("salesforce", "REQUEST_LIMIT_EXCEEDED", "the daily limit is spent")

    world.sf.create = refused
    assert _apply(world, states)(event_of(*pack(plans))) == {"batchItemFailures": []}
    state = states.crm_state(System.SALESFORCE, ORG)
    assert state is not None
    assert (state.status, state.reason) == (CrmStatus.SUSPENDED, "REQUEST_LIMIT_EXCEEDED")
    again = world.sqs.to("changes")
    assert sorted(a.json["redecided"] for a in again) == [0, 0]  # waiting is not failing
    assert {a.delay for a in again} == {7}
    for email in ("a@example.com", "b@example.com"):  # every claim given back
        assert world.state.claim_creation(PORTAL, "salesforce", email, "hubspot:other") is None
    assert world.sqs.to("dlq") == []


def test_dedupe_lets_live_changes_through_and_bulk_ones_wait_under_pressure(world, states):
    now = world.clock()
    states.put_crm_state(
        CrmState(System.SALESFORCE, ORG, CrmStatus.RUNNING, now, now, api_used=950, api_max=2000)
    )
    world.hs.add(email="live@example.com", lastname="Live")
    world.hs.add(email="bulk@example.com", lastname="Bulk")
    live, bulk = world.hs.drain_events()
    bulk = bulk.model_copy(update={"origin": "hssync:resync"})
    stage = DedupeStage(
        deduper=world.deduper,
        state=world.state,
        portal=PORTAL,
        plans=world.queue("owners"),
        changes=world.queue("changes"),
        dead_letter=world.dead_letter("dedupe"),
        guards=_guards(world, states),
    )
    result = stage.handle(event_of(live.model_dump_json(), bulk.model_dump_json()), LambdaContext())
    assert result == {"batchItemFailures": []}
    (waiting,) = world.sqs.to("changes")
    assert (waiting.json["record_id"], waiting.json["attempt"], waiting.delay) == (bulk.record_id, 0, 7)
    (planned,) = world.sqs.to("owners")
    assert [p.hubspot_id for p in PlanBatch.model_validate_json(planned.body).plans] == [live.record_id]
