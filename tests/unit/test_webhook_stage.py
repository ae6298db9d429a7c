"""The webhook function's handler (shared/pipeline/stages/webhook.py) with a recording SQS: what is
queued, what is dead-lettered with which reason, and what HubSpot is answered."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from shared.inbound.hubspot import MAX_NOTIFICATIONS
from shared.models import ChangeEvent
from shared.observability import metrics
from shared.pipeline.stages.webhook import WebhookStage
from shared.queues import MAX_BYTES, DeadLetterQueue, Queue, message_bytes
from shared.times import from_epoch_ms
from shared.webhook_signature import sign_v3
from tests.fakes import PORTAL
from tests.memory_state import MemoryState
from tests.unit.handler_kit import LambdaContext, Sqs, function_url_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SECRET = "app-secret"
NOW_MS = 1_764_360_000_000


@pytest.fixture(autouse=True)
def _metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(metrics, "namespace", "hssync-test")
    yield
    metrics.clear_metrics()


@pytest.fixture
def sqs() -> Sqs:
    return Sqs()


@pytest.fixture
def received() -> MemoryState:
    return MemoryState(clock=lambda: from_epoch_ms(NOW_MS))


@pytest.fixture
def post(sqs: Sqs, received: MemoryState) -> Iterator[Any]:
    from functions.inbound_webhook import app

    app.stage.use(
        WebhookStage(
            portal=PORTAL,
            client_secret=lambda: SECRET,
            changes=Queue(sqs, "changes"),  # type: ignore[arg-type]
            dead_letter=DeadLetterQueue(sqs, "dlq", "hubspot-webhook", metric=None),  # type: ignore[arg-type]
            received=received,
            clock_ms=lambda: NOW_MS,
        )
    )

    def call(body: str, *, secret: str = SECRET, sent_ms: int = NOW_MS) -> tuple[int, str]:
        headers = {
            "x-hubspot-signature-v3": sign_v3(secret, "POST", "https://hooks.example/", body, str(sent_ms)),
            "x-hubspot-request-timestamp": str(sent_ms),
        }
        answer = app.handler(function_url_event(body, headers), LambdaContext())
        return int(answer["statusCode"]), str(json.loads(answer["body"])["message"])

    yield call
    app.stage.use(None)


def _note(event_id: int, object_id: Any = None, **extra: Any) -> dict[str, Any]:
    return {"eventId": event_id, "subscriptionId": 1, "portalId": int(PORTAL), "occurredAt": NOW_MS - 1000,
            "subscriptionType": "contact.propertyChange", "objectId": object_id or event_id,
            "propertyName": "jobtitle", "propertyValue": "CTO", **extra}  # fmt: skip


def _changes(sqs: Sqs) -> list[ChangeEvent]:
    return [ChangeEvent.model_validate_json(s.body) for s in sqs.to("changes")]


def _dead(sqs: Sqs) -> list[tuple[Any, str]]:
    return [(s.json, s.reason) for s in sqs.to("dlq")]


def test_valid_notifications_are_queued_once_and_invalid_ones_dead_lettered_with_their_reason(sqs, post):
    bad: Sequence[Any] = [
        {k: v for k, v in _note(2).items() if k != "subscriptionType"},
        _note(3, subscriptionType="contact.foo"),
        {**_note(4), "objectId": None},
        7,
        _note(5, occurredAt="yesterday"),
        _note(6, portalId=42),
    ]
    status, message = post(json.dumps([_note(1), *bad, _note(8)]))
    assert (status, message) == (200, "accepted 2 notifications as 2 changes")
    assert [c.record_id for c in _changes(sqs)] == ["1", "8"]
    assert _dead(sqs) == [
        (bad[0], "notification without subscriptionType"),
        (bad[1], "unsupported subscriptionType 'contact.foo'"),
        (bad[2], "notification without objectId (contact.propertyChange)"),
        (7, "notification is not an object: 7"),
        (bad[4], "occurredAt is not epoch milliseconds: 'yesterday'"),
        (bad[5], "portal 42 is not synced by this stack"),
    ]
    assert {s.source for s in sqs.to("dlq")} == {"hubspot-webhook"}


def test_a_request_over_the_bound_is_413_and_dead_lettered_whole_in_parts(sqs, post):
    body = json.dumps([_note(i, propertyValue="Chief " * 20) for i in range(1, MAX_NOTIFICATIONS + 2)])
    assert len(body) > MAX_BYTES  # more than one dead-letter message holds
    status, message = post(body)
    assert status == 413
    assert message == (
        f"request of {MAX_NOTIFICATIONS + 1} notifications: more than the {MAX_NOTIFICATIONS} accepted"
        " (HubSpot sends at most 100)"
    )
    assert sqs.to("changes") == []
    parts = sqs.to("dlq")
    assert "".join(p.body for p in parts) == body
    assert {p.reason for p in parts} == {message}
    assert len({p.attributes["dead-letter-id"]["StringValue"] for p in parts}) == 1
    assert all(message_bytes(p.body, p.attributes) <= MAX_BYTES for p in parts)


def test_a_signed_body_that_is_not_an_array_is_400_and_dead_lettered(sqs, post):
    assert post('{"eventId": 1}') == (400, "body is not a JSON array of notifications")
    assert _dead(sqs) == [({"eventId": 1}, "body is not a JSON array of notifications")]
    assert sqs.to("changes") == []


def test_an_unsigned_request_is_401_and_nothing_is_kept(sqs, post):
    status, _ = post(json.dumps([_note(1)] * (MAX_NOTIFICATIONS + 1)), secret="not-the-app-secret")
    assert status == 401
    assert sqs.sent == []


def test_a_change_too_large_for_a_message_is_queued_with_its_ids_only(sqs, post):
    long_text = "ü" * 70_000  # HubSpot's longest value: 65,536 characters; this one is 140 KB in UTF-8
    notes = [_note(1, 9, propertyName="notes", propertyValue=long_text),
             _note(2, 9, propertyName="bio", propertyValue=long_text), _note(3)]  # fmt: skip
    assert post(json.dumps(notes, ensure_ascii=False)) == (200, "accepted 3 notifications as 2 changes")
    folded, small = _changes(sqs)
    assert (folded.record_id, folded.reported, folded.changed_fields) == ("9", {}, ())
    assert small.reported == {"jobtitle": "CTO"}
    assert all(message_bytes(s.body) <= MAX_BYTES for s in sqs.sent)
    assert _dead(sqs) == []


def test_a_copy_of_a_signed_request_queues_nothing_while_hubspots_own_retry_is_queued(sqs, post):
    body = json.dumps([_note(1), {"eventId": 2}])
    assert post(body)[0] == 200
    assert post(body) == (200, "already received")  # a replay within the signature's window
    assert [c.record_id for c in _changes(sqs)] == ["1"]
    assert len(_dead(sqs)) == 1  # the invalid one of the first receipt, not again
    # HubSpot retries with a new timestamp, so a new signature: that request is received anew
    assert post(body, sent_ms=NOW_MS - 1)[0] == 200
    assert [c.record_id for c in _changes(sqs)] == ["1", "1"]


def test_a_request_whose_signature_fails_is_never_recorded_as_received(sqs, post, received):
    body = json.dumps([_note(1)])
    assert post(body, secret="forged")[0] == 401
    assert post(body)[0] == 200  # the genuine request, same timestamp, is not taken for a replay
    assert [c.record_id for c in _changes(sqs)] == ["1"]
