"""Resync: the poll requests `hssync resync` builds, how the poller serves them (ids, lists, ranges),
the inclusion list's join poll (cursor, boundary, crash safety), and the poll function dead-lettering
what it can never serve. In-memory fakes only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from pydantic import ValidationError

from shared.errors import ApiFailure, ErrorCategory, TransientApiError
from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.poll import (
    MAX_IDS_PER_REQUEST,
    ListCursor,
    Poller,
    PollRequest,
    list_cursor_name,
)
from shared.pipeline.resync import (
    ResyncError,
    backfill_requests,
    bodies,
    describe,
    parse_record,
    resync_requests,
    salesforce_record,
)
from shared.state.keys import salesforce_id18
from shared.times import EPOCH
from tests.fakes import ORG, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState

LEAD15 = "00Q5g00000AbCdE"
CONTACT15 = "0035g00000XyZaB"


# -- building requests -----------------------------------------------------------------------------
def test_backfill_requests_are_the_three_polls_hssync_backfill_always_sent():
    requests = backfill_requests()
    assert [(r.system, r.object_type, r.since, r.reason) for r in requests] == [
        (System.HUBSPOT, "contacts", EPOCH, "backfill"),
        (System.SALESFORCE, "Lead", EPOCH, "backfill"),
        (System.SALESFORCE, "Contact", EPOCH, "backfill"),
    ]
    since = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert {r.since for r in backfill_requests(since)} == {since}
    # resync --all is the backfill
    assert [r.kind for r in resync_requests(everything=True, since=since)] == ["poll"] * 3
    assert {r.since for r in resync_requests(everything=True, since=since)} == {since}


def test_salesforce_ids_become_18_characters_and_their_object_comes_from_the_key_prefix():
    requests = resync_requests(
        salesforce_ids=[LEAD15, CONTACT15, salesforce_id18(LEAD15)], hubspot_ids=[" 42 "]
    )
    by_object = {r.object_type: r for r in requests}
    assert set(by_object) == {"Lead", "Contact", "contacts"}
    assert by_object["Lead"].ids == (salesforce_id18(LEAD15),)  # the 15 and 18 forms are one record
    assert by_object["Contact"].ids == (salesforce_id18(CONTACT15),)
    assert by_object["contacts"].ids == ("42",)
    assert all(r.reason == "resync" for r in requests)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"salesforce_ids": ["0015g00000AbCdE"]}, "neither a Lead nor a Contact id (key prefix 001"),
        ({"salesforce_ids": ["00Q-bad"]}, "is not a Salesforce id"),
        ({"hubspot_ids": ["12a"]}, "is not a HubSpot contact id"),
        ({"list_ids": ["my list"]}, "is not a HubSpot list id"),
        # Opportunities are synced with deal sync (issue 14): an object hssync never syncs instead
        ({"records": ["salesforce:Case:5005g00000AbCdE"]}, "does not sync salesforce Case"),
        ({"records": ["salesforce:Account:00Q5g00000AbCdE"]}, "is not a Account id (key prefix 00Q"),
        ({"records": ["hubspot:companies:12a"]}, "not a HubSpot company id"),
        ({"records": [f"salesforce:Contact:{LEAD15}"]}, "is a Lead id, not a Contact id"),
        (
            {"records": ["123"]},
            r"expected hubspot:contacts\|companies:ID or salesforce:Lead\|Contact\|Account",
        ),
        ({"since": dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "hubspot_ids": ["1"]}, "--since goes with --all"),
        ({}, "nothing to resync"),
    ],
)
def test_arguments_that_name_no_synced_record_are_clear_errors(kwargs, message):
    with pytest.raises(ResyncError, match=message.replace("(", r"\(")):
        resync_requests(**kwargs)


def test_a_company_or_an_account_is_resynced_by_id_in_the_sync_health_form():
    account = "0015g00000AbCdE"
    requests = resync_requests(records=["hubspot:companies:456", f"salesforce:Account:{account}"])
    by_object = {r.object_type: r for r in requests}
    assert by_object["companies"].ids == ("456",)
    assert by_object["Account"].ids == (salesforce_id18(account),)
    assert all(r.kind == "ids" for r in requests)


def test_a_deal_or_an_opportunity_is_resynced_by_id_and_backfilled_last_with_deals():
    opportunity = "0065g00000AbCdE"
    requests = resync_requests(records=["hubspot:deals:789", f"salesforce:Opportunity:{opportunity}"])
    by_object = {r.object_type: r for r in requests}
    assert by_object["deals"].ids == ("789",)
    assert by_object["Opportunity"].ids == (salesforce_id18(opportunity),)
    assert describe(requests) == ["1 HubSpot deal", "1 Salesforce Opportunity"]
    for bad, message in (
        ("hubspot:deals:12a", "not a HubSpot deal id"),
        (f"salesforce:Opportunity:{LEAD15}", "is not a Opportunity id (key prefix 00Q"),
    ):
        with pytest.raises(ResyncError, match=message.replace("(", r"\(")):
            resync_requests(records=[bad])
    targets = [(r.system, r.object_type) for r in backfill_requests(accounts=True, deals=True)]
    assert targets[-2:] == [(System.HUBSPOT, "deals"), (System.SALESFORCE, "Opportunity")]
    assert len(targets) == 7
    with pytest.raises(ValidationError):
        PollRequest(system=System.SALESFORCE, object_type="Opportunity", owner_id="0055g00000AbCdE")


def test_the_sync_health_form_is_accepted_as_is():
    assert str(parse_record("hubspot:contacts:123")) == "hubspot:contacts:123"
    assert parse_record(f"salesforce:Lead:{LEAD15}") == salesforce_record(LEAD15)
    requests = resync_requests(records=["hubspot:contacts:7"], hubspot_ids=["7", "8"])
    assert [r.ids for r in requests] == [("7", "8")]  # one request, each id once, in order


def test_many_ids_are_split_into_requests_that_fit_a_message_and_bodies_round_trip():
    ids = [str(i) for i in range(1, 2 * MAX_IDS_PER_REQUEST + 2)]
    requests = resync_requests(hubspot_ids=ids, list_ids=["12", "12"])
    assert [len(r.ids or ()) for r in requests if r.kind == "ids"] == [
        MAX_IDS_PER_REQUEST,
        MAX_IDS_PER_REQUEST,
        1,
    ]
    assert [r.list_id for r in requests if r.kind == "list"] == ["12"]
    messages = bodies(requests)
    assert all(len(m.encode()) < 64 * 1024 for m in messages)
    assert [PollRequest.model_validate_json(m) for m in messages] == requests
    assert json.loads(messages[-1]) == {"list_id": "12", "reason": "resync"}


def test_describe_says_what_was_requested():
    requests = resync_requests(
        hubspot_ids=["1", "2"], salesforce_ids=[LEAD15], list_ids=["9"], everything=True
    )
    assert describe(requests) == [
        "every HubSpot contact, Salesforce Lead, Salesforce Contact (everything)",
        "2 HubSpot contacts",
        "1 Salesforce Lead",
        "every member of HubSpot list 9",
    ]


# -- the request model -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        # what hssync backfill has always sent, and what a CDC GAP_OVERFLOW sends
        {
            "system": "hubspot",
            "object_type": "contacts",
            "since": "1970-01-01T00:00:00+00:00",
            "reason": "backfill",
        },
        {"system": "salesforce", "object_type": "Lead", "reason": "GAP_OVERFLOW"},
        {"system": "hubspot", "object_type": "contacts", "ids": ["1", "2"], "reason": "resync"},
        {"system": "salesforce", "object_type": "Contact", "ids": [CONTACT15]},
        {"list_id": "123", "reason": "resync"},
    ],
)
def test_valid_poll_requests(body):
    request = PollRequest.model_validate_json(json.dumps(body))
    assert request.kind == ("list" if "list_id" in body else "ids" if "ids" in body else "poll")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"system": "hubspot", "object_type": "contacts", "ids": []}, "at least 1 item"),
        ({"system": "salesforce", "object_type": "Lead", "ids": [CONTACT15]}, "is not a Lead id"),
        ({"system": "salesforce", "object_type": "Lead", "ids": ["nope"]}, "not a Salesforce id"),
        (
            {"system": "salesforce", "object_type": "Case", "ids": ["5005g00000AbCdE"]},
            "must be Lead or Contact or Account",
        ),
        ({"system": "salesforce", "object_type": "Account", "ids": [CONTACT15]}, "is not a Account id"),
        ({"system": "hubspot", "object_type": "contacts", "id": ["1"]}, "Extra inputs are not permitted"),
        ({"list_id": "12", "ids": ["1"]}, "takes no ids"),
        ({"list_id": "abc"}, "should match pattern"),
        ({"list_id": "12", "system": "salesforce"}, "a list resync is of HubSpot contacts"),
        ({"reason": "resync"}, "system and object_type are required"),
        (
            {"system": "hubspot", "object_type": "contacts", "ids": ["1"], "since": "2024-01-01T00:00:00Z"},
            "no since",
        ),
    ],
)
def test_malformed_poll_requests_are_refused_with_a_reason(body, reason):
    with pytest.raises(ValidationError, match=reason):
        PollRequest.model_validate_json(json.dumps(body))


# -- serving requests ------------------------------------------------------------------------------
@dataclass
class PollWorld:
    clock: Clock = field(default_factory=Clock)
    queued: list[ChangeEvent] = field(default_factory=list)
    fail_enqueue: bool = False
    sf: FakeSalesforce = field(init=False)
    hs: FakeHubSpot = field(init=False)
    state: MemoryState = field(init=False)

    def __post_init__(self) -> None:
        self.sf = FakeSalesforce(self.clock)
        self.hs = FakeHubSpot(self.clock)
        self.state = MemoryState(clock=self.clock)

    def enqueue(self, events: Sequence[ChangeEvent]) -> None:
        if self.fail_enqueue:
            raise TransientApiError("SQS is down")
        self.queued.extend(events)

    def poller(self, max_records: int = 10_000) -> Poller:
        return Poller(
            portal=PORTAL,
            org_id=ORG,
            salesforce=self.sf,
            hubspot=self.hs,
            state=self.state,
            enqueue=self.enqueue,
            max_records=max_records,
            clock=self.clock,
        )

    def drain(self) -> list[str]:
        out, self.queued = self.queued, []
        return [e.record_id for e in out]


@pytest.fixture
def pw() -> PollWorld:
    return PollWorld()


def test_a_resync_of_ids_queues_one_resync_event_per_record_without_an_api_call(pw):
    request = PollRequest(system=System.SALESFORCE, object_type="Lead", ids=(LEAD15, salesforce_id18(LEAD15)))
    result = pw.poller().serve(request)
    assert result.queued == {"resync:salesforce:Lead": 1}
    [event] = pw.queued
    assert (event.system, event.account, event.object_type) == (System.SALESFORCE, ORG, "Lead")
    assert (event.record_id, event.change_type) == (salesforce_id18(LEAD15), ChangeType.RESYNC)
    assert event.origin == "hssync:resync"
    pw.poller().serve(PollRequest(system=System.HUBSPOT, object_type="contacts", ids=("5", "6")))
    assert [(e.account, e.record_id) for e in pw.queued[1:]] == [(PORTAL, "5"), (PORTAL, "6")]
    assert (pw.sf.calls, pw.hs.calls) == (0, 0)
    assert pw.state.get_cursor(PORTAL, "poll:salesforce:Lead") is None  # a resync moves no cursor


def test_a_list_resync_queues_every_current_member(pw):
    a, b, c = pw.hs.add(email="a@x.com"), pw.hs.add(email="b@x.com"), pw.hs.add(email="c@x.com")
    list_id = pw.hs.add_list(a, c)
    result = pw.poller().serve(PollRequest(list_id=list_id, reason="resync"))
    assert result.queued == {f"resync:hubspot:list:{list_id}": 2}
    assert [(e.system, e.object_type, e.record_id) for e in pw.queued] == [
        (System.HUBSPOT, "contacts", a),
        (System.HUBSPOT, "contacts", c),
    ]
    assert b not in pw.drain()


QUEUE15 = "00G5g00000QuEuE"
USER15 = "0055g00000UsEr1"


def test_an_owner_entry_resyncs_the_records_it_owns(pw):
    """Sync health keeps one entry per owner (a queue may own thousands): its command resyncs them."""
    queue = salesforce_id18(QUEUE15)
    owned = pw.sf.add("Lead", LastName="Q", Company="X", Email="q@x.com", OwnerId=queue)
    pw.sf.add("Lead", LastName="Other", Company="X", Email="o@x.com", OwnerId="005000000000001AAA")
    contact = pw.sf.add("Contact", LastName="C", Email="c@x.com", OwnerId=queue)
    requests = resync_requests(records=[f"salesforce:Group:{QUEUE15}", f"salesforce:Group:{queue}"])
    assert [(r.object_type, r.owner_id, r.kind) for r in requests] == [
        ("Lead", queue, "owner"),
        ("Contact", queue, "owner"),
    ]
    assert describe(requests) == [f"every Lead and Contact owned by Salesforce queue {queue}"]
    assert [PollRequest.model_validate_json(b) for b in bodies(requests)] == requests
    for request in requests:
        pw.poller().serve(request)
    assert [(e.object_type, e.record_id, e.change_type) for e in pw.queued] == [
        ("Lead", owned, ChangeType.RESYNC),
        ("Contact", contact, ChangeType.RESYNC),
    ]
    assert pw.state.get_cursor(PORTAL, "poll:salesforce:Lead") is None


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (f"salesforce:Group:{USER15}", "is not a Group id"),
        ("salesforce:User:nope", "is not a Salesforce id"),
        (f"hubspot:User:{USER15}", "does not sync hubspot User"),
    ],
)
def test_owner_records_that_are_not_owners_are_refused(record, message):
    with pytest.raises(ResyncError, match=message):
        resync_requests(records=[record])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"system": "hubspot", "object_type": "contacts", "owner_id": USER15},
            "an owner resync is of Salesforce",
        ),
        ({"system": "salesforce", "object_type": "Lead", "owner_id": LEAD15}, "is not a user"),
        ({"system": "salesforce", "object_type": "Lead", "owner_id": USER15, "ids": [LEAD15]}, "without ids"),
    ],
)
def test_malformed_owner_requests_are_refused(body, reason):
    with pytest.raises(ValidationError, match=reason):
        PollRequest.model_validate_json(json.dumps(body))


def test_range_requests_still_poll_from_since_or_the_cursor(pw):
    old = pw.sf.add("Lead", LastName="Old", Company="X", Email="old@x.com")
    pw.clock.tick(60)
    new = pw.sf.add("Lead", LastName="New", Company="X", Email="new@x.com")
    poller = pw.poller()
    result = poller.serve(PollRequest(system=System.SALESFORCE, object_type="Lead", reason="GAP_OVERFLOW"))
    assert pw.drain() == [old, new]
    assert result.cursors["poll:salesforce:Lead"]
    poller.serve(PollRequest(system=System.SALESFORCE, object_type="Lead", reason="GAP_OVERFLOW"))
    assert pw.drain() == []  # nothing since the cursor
    poller.serve(backfill_requests()[1])
    assert pw.drain() == [old, new]  # a backfill reads from its since


# -- the inclusion list's joins --------------------------------------------------------------------
def test_list_joins_queue_every_member_once_then_only_new_joins(pw):
    a, b, c, d = (pw.hs.add(email=f"{n}@x.com") for n in "abcd")
    list_id = pw.hs.add_list(a, b)
    name = list_cursor_name(list_id)
    poller = pw.poller()

    first = poller.poll_list_joins(list_id)
    assert pw.drain() == [a, b]  # the first run: every member
    assert first.queued == {name: 2}
    assert poller.poll_list_joins(list_id).queued == {name: 0}  # nothing new: nothing queued
    assert pw.drain() == []

    pw.hs.join_list(list_id, c)
    poller.poll_list_joins(list_id)
    events = pw.queued
    assert pw.drain() == [c]
    assert (events[0].origin, events[0].change_type) == ("hssync:list-join", ChangeType.RESYNC)
    cursor = ListCursor.decode(pw.state.get_cursor(PORTAL, name))
    assert cursor is not None
    assert cursor.ids == {c}

    # d joins at the very millisecond c did (after the poll read): the boundary is inclusive
    pw.hs.join_list(list_id, d, at=cursor.joined_at)
    poller.poll_list_joins(list_id)
    assert pw.drain() == [d]
    poller.poll_list_joins(list_id)
    assert pw.drain() == []  # and c, d are not queued again


def test_leaving_and_rejoining_the_list_is_a_new_join(pw):
    a, b = pw.hs.add(email="a@x.com"), pw.hs.add(email="b@x.com")
    list_id = pw.hs.add_list(a, b)
    poller = pw.poller()
    poller.poll_list_joins(list_id)
    pw.drain()
    pw.hs.leave_list(list_id, a)
    poller.poll_list_joins(list_id)
    assert pw.drain() == []
    pw.hs.join_list(list_id, a)
    poller.poll_list_joins(list_id)
    assert pw.drain() == [a]


def test_a_crash_before_the_cursor_is_stored_queues_again_never_skips(pw):
    a = pw.hs.add(email="a@x.com")
    list_id = pw.hs.add_list(a)
    poller = pw.poller()
    poller.poll_list_joins(list_id)
    pw.drain()
    stored = pw.state.get_cursor(PORTAL, list_cursor_name(list_id))
    b, c = pw.hs.add(email="b@x.com"), pw.hs.add(email="c@x.com")
    pw.hs.join_list(list_id, b, c)

    pw.fail_enqueue = True
    with pytest.raises(TransientApiError):
        poller.poll_list_joins(list_id)
    assert pw.state.get_cursor(PORTAL, list_cursor_name(list_id)) == stored  # not moved

    pw.fail_enqueue = False
    poller.poll_list_joins(list_id)
    assert pw.drain() == [b, c]


def test_a_big_join_is_queued_over_several_runs_without_loss(pw):
    first = pw.hs.add(email="first@x.com")
    list_id = pw.hs.add_list(first)
    poller = pw.poller(max_records=3)
    poller.poll_list_joins(list_id)
    pw.drain()
    bulk = [pw.hs.add(email=f"bulk{i}@x.com") for i in range(7)]
    pw.hs.join_list(list_id, *bulk)  # one bulk add: seven joins with one timestamp
    runs = [pw.drain() for _ in range(4) if poller.poll_list_joins(list_id)]
    assert [len(r) for r in runs] == [3, 3, 1, 0]
    assert sorted(i for run in runs for i in run) == sorted(bulk)


def test_the_cursor_encoding_round_trips():
    cursor = ListCursor(dt.datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=dt.UTC), frozenset({"12", "3"}))
    assert ListCursor.decode(cursor.encode()) == cursor
    bare = ListCursor(dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    assert ListCursor.decode(bare.encode()) == bare
    assert ListCursor.decode(None) is None


# -- the poll function -----------------------------------------------------------------------------
class RecordingSqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []  # (queue url, body, attributes)

    def send_message(
        self, *, QueueUrl: str, MessageBody: str, MessageAttributes: Any = None
    ) -> dict[str, Any]:
        self.sent.append((QueueUrl, MessageBody, dict(MessageAttributes or {})))
        return {"MessageId": "x"}

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        for entry in Entries:
            self.sent.append((QueueUrl, entry["MessageBody"], {}))
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


class RejectingHubSpot(FakeHubSpot):
    def list_member_ids(self, list_id: str) -> list[str]:
        from shared.adapters.retry import RequestRejected

        failure = ApiFailure(
            "hubspot",
            "OBJECT_NOT_FOUND",
            f"List {list_id} does not exist.",
            ErrorCategory.OTHER,
            http_status=404,
        )
        raise RequestRejected(failure)


def _sqs_event(*bodies: str) -> dict[str, Any]:
    from infra.runtime.sqs_poller import lambda_record

    arn = "arn:aws:sqs:us-east-1:123456789012:PollRequestsQueue"
    sent = "1764360000000"
    attributes = {
        "SentTimestamp": sent,
        "ApproximateFirstReceiveTimestamp": sent,
        "ApproximateReceiveCount": "1",
    }
    return {
        "Records": [
            lambda_record(
                {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": body, "Attributes": attributes},
                arn,
                "us-east-1",
            )
            for i, body in enumerate(bodies)
        ]
    }


@dataclass
class PollFunctionWorld:
    """What the poll function's stage is given: fakes of both CRMs, and the sync configuration."""

    clock: Clock = field(default_factory=Clock)
    config: Any = None

    def __post_init__(self) -> None:
        self.hubspot = RejectingHubSpot(self.clock)


@pytest.fixture
def poll_world() -> PollFunctionWorld:
    return PollFunctionWorld()


@pytest.fixture
def poll_function(poll_world: PollFunctionWorld) -> Any:
    from functions.poll import app
    from shared.observability import metrics
    from shared.pipeline.stages.poll import PollStage
    from shared.queues import DeadLetterQueue, Queue

    clock = poll_world.clock
    sqs: Any = RecordingSqs()
    app.stage.use(
        PollStage(
            poller=lambda enqueue: Poller(
                portal=PORTAL,
                org_id=ORG,
                salesforce=FakeSalesforce(clock),
                hubspot=poll_world.hubspot,
                state=MemoryState(clock=clock),
                enqueue=enqueue,
            ),
            inclusion_list=lambda: poll_world.config.inclusion.list_id,
            changes=Queue(sqs, "changes"),
            dead_letter=DeadLetterQueue(sqs, "poll-dlq", "poll"),
        )
    )
    yield app, sqs
    app.stage.use(None)
    metrics.clear_metrics()


def test_the_poll_function_dead_letters_malformed_and_unservable_requests_with_their_reason(poll_function):
    app, sqs = poll_function
    event = _sqs_event(
        json.dumps({"system": "hubspot", "object_type": "contacts", "ids": ["7"], "reason": "resync"}),
        "not json",
        json.dumps({"system": "salesforce", "object_type": "Lead", "ids": [CONTACT15]}),
        json.dumps({"list_id": "404", "reason": "resync"}),
    )
    response = app.stage().handle(event, None)

    assert response == {"batchItemFailures": []}  # nothing is left to be redelivered
    changes = [json.loads(body) for url, body, _ in sqs.sent if url == "changes"]
    assert [(c["record_id"], c["change_type"]) for c in changes] == [("7", "resync")]
    dead = [(body, attrs) for url, body, attrs in sqs.sent if url == "poll-dlq"]
    assert len(dead) == 3
    reasons = [attrs["reason"]["StringValue"] for _, attrs in dead]
    assert reasons[0].startswith("invalid message")
    assert "is not a Lead id" in reasons[1]
    assert reasons[2] == "OBJECT_NOT_FOUND: List 404 does not exist."
    assert dead[1][0] == json.dumps({"system": "salesforce", "object_type": "Lead", "ids": [CONTACT15]})
    assert json.loads(dead[2][0]) == {"list_id": "404", "reason": "resync"}
    assert all(attrs["source"]["StringValue"] == "poll" for _, attrs in dead)


def test_the_poll_function_retries_only_the_request_that_met_a_transient_failure(poll_function, monkeypatch):
    app, sqs = poll_function

    def flaky_list_member_ids(list_id: str) -> list[str]:
        raise TransientApiError("hubspot list_members: 503 after 8 attempts")

    monkeypatch.setattr(
        RejectingHubSpot, "list_member_ids", lambda self, list_id: flaky_list_member_ids(list_id)
    )
    event = _sqs_event(
        json.dumps({"list_id": "12"}),
        json.dumps({"system": "hubspot", "object_type": "contacts", "ids": ["8"]}),
    )
    response = app.stage().handle(event, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert [json.loads(b)["record_id"] for url, b, _ in sqs.sent if url == "changes"] == ["8"]
    assert not [1 for url, _, _ in sqs.sent if url == "poll-dlq"]


def _scheduled(app: Any) -> Any:
    import inspect

    return inspect.unwrap(app.handler)({}, None)  # the handler without Powertools' decorators


def test_the_scheduled_poll_queues_the_inclusion_lists_new_members(poll_function, poll_world):
    from shared.config import parse_config

    app, sqs = poll_function
    hubspot = cast(FakeHubSpot, poll_world.hubspot)  # the poll_function fixture's fake
    member, other = hubspot.add(email="in@x.com"), hubspot.add(email="out@x.com")
    list_id = hubspot.add_list(member)
    config = parse_config(f'version: 1\nportals: [{PORTAL}]\ninclusion:\n  list_id: "{list_id}"\n')
    poll_world.config = config

    answer = _scheduled(app)
    assert answer["queued"][list_cursor_name(list_id)] == 1
    assert answer["queued"]["poll:hubspot:contacts"] == 2  # the contact poll still runs first
    events = [json.loads(body) for url, body, _ in sqs.sent if url == "changes"]
    assert [e["record_id"] for e in events if e["origin"] == "hssync:list-join"] == [member]
    assert other in {e["record_id"] for e in events}  # (through the contact poll, not the list)


def test_an_unreadable_inclusion_list_does_not_stop_the_scheduled_poll(
    poll_function, poll_world, monkeypatch
):
    from shared.adapters.retry import RequestRejected
    from shared.config import parse_config

    app, _sqs = poll_function
    cast(FakeHubSpot, poll_world.hubspot).add(email="someone@x.com")
    failure = ApiFailure("hubspot", "OBJECT_NOT_FOUND", "List 77 does not exist.", ErrorCategory.OTHER)

    def gone(list_id: str, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
        raise RequestRejected(failure)

    monkeypatch.setattr(poll_world.hubspot, "list_members_joined_since", gone)
    config = parse_config(f'version: 1\nportals: [{PORTAL}]\ninclusion:\n  list_id: "77"\n')
    poll_world.config = config
    answer = _scheduled(app)
    assert answer["queued"]["poll:hubspot:contacts"] == 1
    assert list_cursor_name("77") not in answer["queued"]


def test_a_resync_may_name_the_portal_of_its_hubspot_records():
    from shared.pipeline.resync import ResyncError, resync_requests

    requests = resync_requests(
        hubspot_ids=["12"], salesforce_ids=["00Q000000000001"], list_ids=["5"], portal="1000002"
    )
    assert [(r.kind, r.system, r.portal) for r in requests] == [
        ("ids", System.HUBSPOT, "1000002"),
        ("ids", System.SALESFORCE, None),
        ("list", None, "1000002"),
    ]
    with pytest.raises(ResyncError, match="not a HubSpot portal id"):
        resync_requests(hubspot_ids=["12"], portal="first")
