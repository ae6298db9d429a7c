"""Every function's handler, as Lambda calls it (Powertools' decorators included), with its stage
built from in-memory fakes: what goes to which queue, partial batch failures, dead-lettering with
the reason, and the retries of failures that may pass."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from shared.adapters.retry import RequestRejected
from shared.config import SyncConfig, parse_config
from shared.errors import ApiFailure, ErrorCategory, SuspendedError, TransientApiError
from shared.models import ChangeEvent, ChangeType, System
from shared.observability import logger, metrics
from shared.owners.directory import HubSpotOwner, SalesforceOwner
from shared.owners.stage import OwnerStage
from shared.pipeline.apply import Applier, ApplyResult
from shared.pipeline.dedupe import Deduper, DedupeResult
from shared.pipeline.dedupe.outcome import Skip
from shared.pipeline.plans import PlanBatch, SyncPlan, pack
from shared.pipeline.poll import Poller
from shared.pipeline.stages.apply import MAX_ATTEMPTS, RETRY_DELAY_SECONDS, ApplyStage
from shared.pipeline.stages.change_events import ChangeEventStage
from shared.pipeline.stages.dedupe import MAX_DEFERRALS, DedupeStage, deferral_delay
from shared.pipeline.stages.owners import OwnersStage
from shared.pipeline.stages.poll import Enqueue, PollStage
from shared.pipeline.stages.webhook import WebhookStage
from shared.queues import DeadLetterQueue, Queue
from shared.state.cache import cache_name
from shared.webhook_signature import sign_v3
from tests.fakes import APP_ID, ORG, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryCache, MemoryState
from tests.unit.handler_kit import LambdaContext, MemoryOnce, Sqs, function_url_event, sqs_event

# a handler without metrics of its own flushes none (Powertools warns)
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

CONFIG = parse_config(f"portals: [{PORTAL}]")
EVENT_ORG = "00D5g00000SbxSyEAJ"  # the org Event Relay names in the events' source


@pytest.fixture(autouse=True)
def _metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(metrics, "namespace", "hssync-test")  # the template's POWERTOOLS_METRICS_NAMESPACE
    yield
    metrics.clear_metrics()


@dataclass
class World:
    """Fakes of both CRMs, the state and SQS, shared by the stages of one test."""

    clock: Clock = field(default_factory=Clock)
    sqs: Sqs = field(default_factory=Sqs)
    config: SyncConfig = CONFIG

    def __post_init__(self) -> None:
        self.sf = FakeSalesforce(self.clock)
        self.hs = FakeHubSpot(self.clock)
        self.state = MemoryState(clock=self.clock)

    def queue(self, name: str) -> Queue:
        return Queue(self.sqs, name)  # type: ignore[arg-type]

    def dead_letter(self, source: str, metric: str | None = "DeadLettered") -> DeadLetterQueue:
        return DeadLetterQueue(self.sqs, "dlq", source, metric)  # type: ignore[arg-type]

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

    def plans(self, *emails: str) -> list[SyncPlan]:
        for email in emails:
            self.hs.add(email=email, lastname="Handler")
        return self.deduper().process(self.hs.drain_events()).plans


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def use() -> Iterator[Callable[[Any, Any], Callable[..., Any]]]:
    """Installs a stage in a function's handler; returns the handler, called as Lambda calls it."""
    installed: list[Any] = []

    def install(app: Any, stage: Any) -> Callable[..., Any]:
        app.stage.use(stage)
        installed.append(app)
        return lambda event, context=None: app.handler(event, context or LambdaContext())

    yield install
    for app in installed:
        app.stage.use(None)


# -- inbound webhook --------------------------------------------------------------------------------
SECRET = "app-secret"
NOW_MS = 1_764_360_000_000


def _notification(event_id: int, object_id: int, portal: int = int(PORTAL)) -> dict[str, Any]:
    return {"eventId": event_id, "subscriptionId": 1, "portalId": portal, "occurredAt": NOW_MS - 1000,
            "subscriptionType": "contact.propertyChange", "objectId": object_id, "propertyName": "jobtitle",
            "propertyValue": "CTO"}  # fmt: skip


def _webhook_request(notifications: Sequence[dict[str, Any]], *, secret: str = SECRET) -> dict[str, Any]:
    body = json.dumps(list(notifications))
    headers = {
        "x-hubspot-signature-v3": sign_v3(secret, "POST", "https://hooks.example/", body, str(NOW_MS)),
        "x-hubspot-request-timestamp": str(NOW_MS),
    }
    return function_url_event(body, headers)


def _webhook(world: World, use: Any) -> Any:
    from functions.inbound_webhook import app

    stage = WebhookStage(
        portal=PORTAL,
        client_secret=lambda: SECRET,
        changes=world.queue("changes"),
        dead_letter=world.dead_letter("hubspot-webhook", metric=None),
        clock_ms=lambda: NOW_MS,
    )
    return use(app, stage)


def test_the_webhook_queues_a_change_per_contact_and_dead_letters_another_portals_notification(world, use):
    handler = _webhook(world, use)
    answer = handler(_webhook_request([_notification(1, 55), _notification(2, 56), _notification(3, 57, 42)]))
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"message": "accepted 2 notifications as 2 changes"}
    changes = [ChangeEvent.model_validate_json(s.body) for s in world.sqs.to("changes")]
    assert [(c.record_id, c.change_type, c.account) for c in changes] == [
        ("55", ChangeType.UPDATE, PORTAL),
        ("56", ChangeType.UPDATE, PORTAL),
    ]
    (dead,) = world.sqs.to("dlq")
    assert dead.json["objectId"] == 57
    assert (dead.reason, dead.source) == ("portal 42 is not synced by this stack", "hubspot-webhook")


def test_the_webhook_answers_401_to_a_forged_request_and_queues_nothing(world, use):
    handler = _webhook(world, use)
    answer = handler(_webhook_request([_notification(1, 55)], secret="not-the-app-secret"))
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["message"].startswith("invalid signature")
    assert world.sqs.sent == []


# -- inbound events (Salesforce CDC through Event Relay) ------------------------------------------
def _relayed(change: str, *ids: str, entity: str = "Lead", source_org: str | None = EVENT_ORG) -> str:
    header = {"entityName": entity, "changeType": change, "recordIds": list(ids),
              "commitTimestamp": 1764360000000, "transactionKey": "t", "sequenceNumber": 1}  # fmt: skip
    source = f"aws.partner/salesforce.com/{source_org}/0YLxx0000000001" if source_org else "aws.partner"
    return json.dumps({"version": "0", "id": "e1", "detail-type": f"{entity}ChangeEvent", "source": source,
                       "account": "123456789012", "time": "2026-11-28T20:00:00Z", "region": "us-east-1",
                       "resources": [], "detail": {"payload": {"ChangeEventHeader": header}}})  # fmt: skip


def _change_events(world: World, use: Any) -> Any:
    from functions.inbound_events import app

    stage = ChangeEventStage(
        org_id=ORG,
        changes=world.queue("changes"),
        poll_requests=world.queue("poll-requests"),
        dead_letter=world.dead_letter("salesforce-change-event", metric="MalformedChangeEvents"),
    )
    return use(app, stage)


def test_change_events_are_relayed_gaps_become_poll_requests_and_bad_messages_are_dead_lettered(world, use):
    handler = _change_events(world, use)
    event = sqs_event(
        _relayed("UPDATE", "00Q000000000001AAA", "00Q000000000002AAA"),
        _relayed("GAP_OVERFLOW", entity="Contact"),
        "{not json",
        _relayed("CREATE", "00Q000000000003AAA", source_org=None),
    )
    assert handler(event) == {"batchItemFailures": []}
    changes = [ChangeEvent.model_validate_json(s.body) for s in world.sqs.to("changes")]
    assert [(c.record_id, c.change_type, c.account) for c in changes] == [
        ("00Q000000000001AAA", ChangeType.UPDATE, EVENT_ORG),
        ("00Q000000000002AAA", ChangeType.UPDATE, EVENT_ORG),
        ("00Q000000000003AAA", ChangeType.CREATE, ORG),  # no org in its source: the stack's own
    ]
    assert [s.json for s in world.sqs.to("poll-requests")] == [
        {"system": "salesforce", "object_type": "Contact", "reason": "GAP_OVERFLOW"}
    ]
    (dead,) = world.sqs.to("dlq")
    assert dead.body == "{not json"
    assert dead.reason.startswith("message body is not JSON")
    assert dead.source == "salesforce-change-event"


def test_a_batch_that_cannot_be_relayed_comes_back_whole(world, use):
    handler = _change_events(world, use)
    world.sqs.fail = RuntimeError("SQS is unavailable")
    event = sqs_event(_relayed("UPDATE", "00Q000000000001AAA"), _relayed("GAP_OVERFLOW"))
    assert handler(event) == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


# -- poll -----------------------------------------------------------------------------------------
class ListHubSpot(FakeHubSpot):
    """A HubSpot whose lists fail as the test says."""

    list_error: Exception | None = None

    def list_member_ids(self, list_id: str) -> list[str]:
        if self.list_error is not None:
            raise self.list_error
        return super().list_member_ids(list_id)


def _poll(world: World, use: Any, hubspot: FakeHubSpot | None = None) -> Any:
    from functions.poll import app

    def poller(enqueue: Enqueue) -> Poller:
        return Poller(portal=PORTAL, org_id=ORG, salesforce=world.sf, hubspot=hubspot or world.hs,
                      state=world.state, enqueue=enqueue, clock=world.clock)  # fmt: skip

    stage = PollStage(
        poller=poller,
        inclusion_list=lambda: world.config.inclusion.list_id,
        changes=world.queue("changes"),
        dead_letter=world.dead_letter("poll"),
    )
    return use(app, stage)


def test_the_scheduled_poll_queues_what_changed_in_both_crms(world, use):
    handler = _poll(world, use)
    contact = world.hs.add(email="polled@example.com")
    lead = world.sf.add("Lead", Email="polled@example.org", LastName="Polled")
    world.clock.tick(60)
    answer = handler({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}})
    assert answer["queued"]["poll:hubspot:contacts"] == 1
    changes = [ChangeEvent.model_validate_json(s.body) for s in world.sqs.to("changes")]
    assert {(c.system, c.account, c.record_id, c.change_type) for c in changes} == {
        (System.HUBSPOT, PORTAL, contact, ChangeType.RESYNC),
        (System.SALESFORCE, ORG, lead, ChangeType.RESYNC),
    }


def test_poll_requests_are_served_retried_or_dead_lettered_one_by_one(world, use):
    hubspot = ListHubSpot(world.clock)
    handler = _poll(world, use, hubspot)
    hubspot.list_error = TransientApiError("hubspot list_members: 503 after 8 attempts")
    event = sqs_event(
        json.dumps({"system": "hubspot", "object_type": "contacts", "ids": ["7"], "reason": "resync"}),
        json.dumps({"list_id": "12"}),
        "not json",
    )
    assert handler(event) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}  # the list: again later
    assert [s.json["record_id"] for s in world.sqs.to("changes")] == ["7"]
    (dead,) = world.sqs.to("dlq")
    assert (dead.body, dead.source) == ("not json", "poll")
    assert dead.reason.startswith("invalid message")

    failure = ApiFailure("hubspot", "OBJECT_NOT_FOUND", "List 12 does not exist.", ErrorCategory.OTHER)
    hubspot.list_error = RequestRejected(failure)
    assert handler(sqs_event(json.dumps({"list_id": "12"}))) == {"batchItemFailures": []}
    assert world.sqs.to("dlq")[-1].reason == "OBJECT_NOT_FOUND: List 12 does not exist."


# -- dedupe ---------------------------------------------------------------------------------------
def _dedupe(world: World, use: Any, deduper: Callable[[], Any] | None = None) -> Any:
    from functions.dedupe import app

    stage = DedupeStage(
        deduper=deduper or world.deduper,
        state=world.state,
        portal=PORTAL,
        plans=world.queue("owners"),
        changes=world.queue("changes"),
        dead_letter=world.dead_letter("dedupe"),
    )
    return use(app, stage)


def test_dedupe_sends_its_plans_to_the_owners_queue_and_dead_letters_an_invalid_message(world, use):
    handler = _dedupe(world, use)
    world.hs.add(email="new@example.com", lastname="New")
    bodies = [e.model_dump_json() for e in world.hs.drain_events()]
    assert handler(sqs_event(*bodies, '{"system": "hubspot"}')) == {"batchItemFailures": []}
    (message,) = world.sqs.to("owners")
    (plan,) = PlanBatch.model_validate_json(message.body).plans
    assert (plan.create, plan.salesforce_writes["Email"]) == ("salesforce", "new@example.com")
    (dead,) = world.sqs.to("dlq")
    assert (dead.body, dead.source) == ('{"system": "hubspot"}', "dedupe")
    assert dead.reason.startswith("invalid message: account: Field required")


def _change(record_id: str, attempt: int = 0, redecided: int = 0) -> ChangeEvent:
    return ChangeEvent(system=System.HUBSPOT, account=PORTAL, object_type="contacts", record_id=record_id,
                       change_type=ChangeType.UPDATE, occurred_at=Clock()(), source_event_id=record_id,
                       attempt=attempt, redecided=redecided)  # fmt: skip


def test_dedupe_defers_changes_with_a_growing_pause_then_gives_up_with_the_reason(world, use):
    waiting = [_change("1"), _change("2", attempt=5), _change("3", attempt=MAX_DEFERRALS)]
    held = [_change("4")]
    result = DedupeResult(retry=waiting, held=held)
    result.record(Skip("outside the inclusion list", "hubspot:contacts:5"))
    handler = _dedupe(world, use, deduper=lambda: _Returns(result))
    assert handler(sqs_event(_change("9").model_dump_json())) == {"batchItemFailures": []}
    again = [(s.json["record_id"], s.json["attempt"], s.delay) for s in world.sqs.to("changes")]
    assert again == [("1", 1, deferral_delay(0)), ("2", 6, deferral_delay(5)), ("4", 0, 0)]
    assert (deferral_delay(0), deferral_delay(5), deferral_delay(MAX_DEFERRALS - 1)) == (2, 4, 64)
    (dead,) = world.sqs.to("dlq")
    assert dead.json["record_id"] == "3"
    assert dead.reason == "waited too long for a creation claim or a write in flight"
    assert world.state.counters(PORTAL)["skipped.outside the inclusion list"] == 1
    assert world.state.statuses(PORTAL, ["hubspot:contacts:5"]) == {
        "hubspot:contacts:5": "outside the inclusion list"
    }
    assert world.sqs.to("owners") == []


def test_dedupe_sends_what_fits_and_dead_letters_a_plan_too_large_for_a_message(world, use):
    def plan(i: int, text: str) -> SyncPlan:
        writes = {"LastName": "L", "Description": text}
        return SyncPlan(plan_id=f"p{i}", portal=PORTAL, hubspot_id=str(i), sf_object="Lead", sf_id=None,
                        create="salesforce", salesforce_writes=writes)  # fmt: skip

    result = DedupeResult(plans=[plan(1, "short"), plan(2, "ü" * 200_000), plan(3, "short")])
    handler = _dedupe(world, use, deduper=lambda: _Returns(result))
    assert handler(sqs_event(_change("9").model_dump_json())) == {"batchItemFailures": []}
    (message,) = world.sqs.to("owners")
    assert [p["hubspot_id"] for p in message.json["plans"]] == ["1", "3"]
    (dead,) = world.sqs.to("dlq")
    assert (dead.json["hubspot_id"], dead.json["plan_id"]) == ("2", "p2")
    assert "more than an SQS message holds" in dead.reason


@dataclass
class _Returns:
    """A deduper (or applier) whose answer, or failure, the test chose."""

    result: Any

    def process(self, events: Sequence[ChangeEvent]) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    def apply(self, plans: Sequence[SyncPlan]) -> Any:
        return self.process([])


@pytest.mark.parametrize(
    "error",
    [TransientApiError("503 after 8 attempts"), SuspendedError("salesforce", "API_DISABLED_FOR_ORG", "off")],
)
def test_dedupe_hands_the_whole_batch_back_when_an_api_may_answer_later(world, use, error):
    handler = _dedupe(world, use, deduper=lambda: _Returns(error))
    event = sqs_event(_change("1").model_dump_json(), "not json", _change("2").model_dump_json())
    assert handler(event) == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}]}
    assert [s.url for s in world.sqs.sent] == ["dlq"]  # the invalid message only
    # a batch whose every message is to come back fails the invocation (Powertools' batch
    # processor): SQS delivers it all again
    with pytest.raises(BatchProcessingError):
        handler(sqs_event(_change("1").model_dump_json()))


def test_a_bug_in_dedupe_fails_the_invocation(world, use):
    handler = _dedupe(world, use, deduper=lambda: _Returns(RuntimeError("bug")))
    with pytest.raises(RuntimeError, match="bug"):
        handler(sqs_event(_change("1").model_dump_json()))


# -- owners ---------------------------------------------------------------------------------------
def _owners(world: World, use: Any, cache: MemoryCache | None = None) -> Any:
    from functions.owners import app

    shared_cache = cache or MemoryCache()

    def owners() -> OwnerStage:
        return OwnerStage(portal=PORTAL, salesforce=world.sf, hubspot=world.hs, cache=shared_cache)

    stage = OwnersStage(
        owners=owners,
        state=world.state,
        portal=PORTAL,
        writes=world.queue("writes"),
        dead_letter=world.dead_letter("owners"),
    )
    return use(app, stage)


def test_owners_pass_the_plans_on_to_the_writes_queue_keeping_their_attempt(world, use):
    handler = _owners(world, use)
    first, second = world.plans("one@example.com"), world.plans("two@example.com")
    event = sqs_event(pack(first)[0], pack(second, attempt=3)[0])
    assert handler(event) == {"batchItemFailures": []}
    (message,) = world.sqs.to("writes")
    batch = PlanBatch.model_validate_json(message.body)
    assert [p.plan_id for p in batch.plans] == [p.plan_id for p in first + second]
    assert batch.attempt == 3


def test_the_owners_schedule_refreshes_the_shared_owner_cache(world, use):
    cache = MemoryCache()
    handler = _owners(world, use, cache)
    world.sf.owner_rows = [SalesforceOwner("005000000000001AAA", "User", "Ada"), SalesforceOwner(
        "00G000000000001AAA", "Queue", "Leads")]  # fmt: skip
    world.hs.owner_rows = [HubSpotOwner("77", "ada@example.com")]
    assert handler({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}) == {
        "salesforce": 2,
        "hubspot": 1,
    }
    assert cache.get(cache_name("owners", PORTAL)) is not None  # the directory, shared


def test_owners_hand_the_whole_batch_back_when_a_crm_is_suspended(world, use, monkeypatch):
    handler = _owners(world, use)
    plans = [p.model_copy(update={"owner": p.owner or _owner_state()}) for p in world.plans("o@example.com")]

    def suspended() -> list[Any]:
        raise SuspendedError("salesforce", "REQUEST_LIMIT_EXCEEDED", "the daily limit is spent")

    monkeypatch.setattr(world.sf, "owners", suspended)
    assert handler(sqs_event(*pack(plans), "{}")) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert [(s.url, s.source) for s in world.sqs.sent] == [("dlq", "owners")]  # the invalid message


def _owner_state() -> Any:
    from shared.owners.decide import OwnerState

    return OwnerState(hubspot="77")


# -- apply ----------------------------------------------------------------------------------------
def _apply(
    world: World, use: Any, applier: Callable[[Any], Any] | None = None, once: MemoryOnce | None = None
) -> Any:
    from functions.apply import app

    def real(running_for: Any) -> Applier:
        return Applier(salesforce=world.sf, hubspot=world.hs, state=world.state, clock=world.clock,
                       running_for=running_for)  # fmt: skip

    records = once or MemoryOnce()
    stage = ApplyStage(
        applier=applier or real,
        once=lambda: records,
        state=world.state,
        portal=PORTAL,
        writes=world.queue("writes"),
        changes=world.queue("changes"),
        dead_letter=world.dead_letter("apply"),
    )
    return use(app, stage)


def test_apply_writes_a_message_once_however_often_it_is_delivered(world, use):
    handler = _apply(world, use)
    event = sqs_event(*pack(world.plans("a@example.com", "b@example.com")))
    assert handler(event) == {"batchItemFailures": []}
    assert sorted(r.fields["Email"] for r in world.sf.rows.values()) == ["a@example.com", "b@example.com"]
    writes = list(world.sf.writes)
    assert handler(event) == {"batchItemFailures": []}  # delivered again
    assert world.sf.writes == writes
    assert world.state.counters(PORTAL)["hubspot_to_salesforce.created"] == 2


def test_apply_decides_a_pair_again_after_a_pause_when_its_write_failed_transiently(world, use):
    handler = _apply(world, use)
    world.sf.transient_calls = 1
    (body,) = pack(world.plans("flaky@example.com"))
    assert handler(sqs_event(body)) == {"batchItemFailures": []}
    assert world.sf.rows == {}
    (again,) = world.sqs.to("changes")
    assert again.delay == RETRY_DELAY_SECONDS
    assert (again.json["origin"], again.json["redecided"]) == ("hssync:decide-again", 1)


def test_apply_sends_plans_to_retry_round_again_a_bounded_number_of_times(world, use):
    plans = world.plans("r1@example.com", "r2@example.com")
    result = ApplyResult(retry_plan_ids={plans[0].plan_id})
    result.redecide.append(_change("8", redecided=MAX_ATTEMPTS))
    result.followups.append(_change("9"))
    handler = _apply(world, use, applier=lambda _running_for: _Returns(result))
    fresh, last = pack(plans), pack(plans, attempt=MAX_ATTEMPTS - 1)
    assert handler(sqs_event(fresh[0], last[0])) == {"batchItemFailures": []}
    (retry,) = world.sqs.to("writes")
    assert retry.delay == RETRY_DELAY_SECONDS
    batch = PlanBatch.model_validate_json(retry.body)
    assert ([p.plan_id for p in batch.plans], batch.attempt) == ([plans[0].plan_id], 1)
    assert [(s.json["record_id"], s.delay) for s in world.sqs.to("changes")] == [("9", 0)]
    reasons = sorted(s.reason for s in world.sqs.to("dlq"))
    assert reasons == [
        f"not written after being decided {MAX_ATTEMPTS} times",
        f"still failing after {MAX_ATTEMPTS} attempts (API errors that may pass)",
    ]
    assert {s.source for s in world.sqs.to("dlq")} == {"apply"}


def test_apply_hands_the_batch_back_and_frees_its_messages_when_an_api_may_answer_later(world, use):
    once = MemoryOnce()
    error = TransientApiError("salesforce: 503 after 8 attempts")
    handler = _apply(world, use, applier=lambda _running_for: _Returns(error), once=once)
    event = sqs_event(*pack(world.plans("t1@example.com")), "[]", *pack(world.plans("t2@example.com")))
    assert handler(event) == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}]}
    assert once.records == {}  # the next delivery applies them
    assert [s.url for s in world.sqs.sent] == ["dlq"]  # the invalid message only


def test_apply_dead_letters_a_message_that_is_not_a_plan_batch(world, use):
    handler = _apply(world, use)
    assert handler(sqs_event('{"plans": []}')) == {"batchItemFailures": []}
    (dead,) = world.sqs.to("dlq")
    assert dead.reason.startswith("invalid message: plans:")
    assert dead.source == "apply"


# -- one logger: no stage writes an email address to a log line -----------------------------------
ADDRESS = "ada.lovelace@example.com"
MASKED = "a***@example.com"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")  # an address not masked


@pytest.fixture
def log_output(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Everything the functions log: the Powertools logger's lines (JSON, through its masking
    formatter), the records of any other logger (which Lambda's root handler would print as they
    are), and what is printed."""
    handler = cast(logging.StreamHandler, logger.registered_handler)  # type: ignore[type-arg]
    lines = io.StringIO()
    previous = handler.setStream(lines)
    caplog.set_level(logging.DEBUG)

    def output() -> list[str]:
        # pytest's own capture is the one root handler Powertools does not filter its records from
        others = [caplog.handler.format(r) for r in caplog.records if r.name.split(".")[0] != logger.name]
        return [lines.getvalue(), *others, *capsys.readouterr()]

    try:
        yield output
    finally:
        handler.setStream(previous)


def _webhook_with_an_address(world: World, use: Any) -> str:
    handler = _webhook(world, use)
    email = {**_notification(1, 55), "propertyName": "email", "propertyValue": ADDRESS}
    handler(_webhook_request([email, {**email, "portalId": 42}]))
    handler(_webhook_request([email], secret="forged"))
    return ""  # the webhook logs no address at all, not even masked


def _change_events_with_an_address(world: World, use: Any) -> str:
    handler = _change_events(world, use)
    world.sqs.fail = RuntimeError(f"could not send the change of {ADDRESS}")
    handler(sqs_event(_relayed("UPDATE", "00Q000000000001AAA")))
    return MASKED


def _poll_with_an_address(world: World, use: Any) -> str:
    handler = _poll(world, use)
    world.hs.add(email=ADDRESS)
    handler(sqs_event(json.dumps({"system": "salesforce", "object_type": "Lead", "ids": [ADDRESS]})))
    handler({})
    return MASKED


def _dedupe_with_an_address(world: World, use: Any) -> str:
    world.hs.add(email=ADDRESS, lastname="Lovelace")
    _dedupe(world, use)(sqs_event(*[e.model_dump_json() for e in world.hs.drain_events()]))
    failing = _dedupe(world, use, deduper=lambda: _Returns(TransientApiError(f"reading {ADDRESS}: 503")))
    with contextlib.suppress(BatchProcessingError):
        failing(sqs_event(_change("1").model_dump_json()))
    return MASKED


def _owners_with_an_address(world: World, use: Any) -> str:
    handler = _owners(world, use)
    plans = [p.model_copy(update={"owner": _owner_state()}) for p in world.plans(ADDRESS)]

    def suspended() -> list[Any]:
        raise SuspendedError("salesforce", "INVALID_SESSION_ID", f"revoked for {ADDRESS}")

    world.sf.owners = suspended  # type: ignore[method-assign]
    with contextlib.suppress(BatchProcessingError):
        handler(sqs_event(*pack(plans)))
    return MASKED


def _apply_with_an_address(world: World, use: Any) -> str:
    handler = _apply(world, use)
    rejected = ApiFailure("salesforce", "DUPLICATES_DETECTED", f"{ADDRESS} exists", ErrorCategory.DUPLICATES)
    world.sf.reject = lambda _o, fields: rejected if fields.get("Email") == ADDRESS else None
    handler(sqs_event(*pack(world.plans(ADDRESS))))  # a sync-health line

    def unavailable(*_args: Any, **_kwargs: Any) -> Any:
        raise TransientApiError(f"creating {ADDRESS.upper()}: 503 after 8 attempts")

    world.sf.create = unavailable  # type: ignore[method-assign]
    handler(sqs_event(*pack(world.plans("grace.hopper@example.com"))))  # shared.pipeline.apply's own
    return MASKED


@pytest.mark.parametrize(
    "drive",
    [
        _webhook_with_an_address,
        _change_events_with_an_address,
        _poll_with_an_address,
        _dedupe_with_an_address,
        _owners_with_an_address,
        _apply_with_an_address,
    ],
    ids=lambda f: f.__name__.removeprefix("_").removesuffix("_with_an_address"),
)
def test_no_stage_writes_an_email_address_to_a_log_line(world, use, log_output, drive):
    masked = drive(world, use)
    output = log_output()
    assert not [text for text in output if EMAIL.search(text)]
    assert masked in output[0]  # the line that carried it went through the masking formatter
