"""Issue 11: the public webhook as an attacker and a careless sender probe it, through the stack.

Each malformed notification, and each notification of another portal, ends in the changes
dead-letter queue with its reason while the valid notifications of the same request are queued
exactly once, and HubSpot is answered 200 (it would retry an error in vain). Requests are bounded:
more than 1,000 notifications is 413 and the request is dead-lettered whole; a body over Lambda's
6 MB payload is 413 from the Function URL itself. Messages stay within SQS's 256 KiB. A replay of
a signed request within the timestamp window is queued again (the webhook keeps no state, and the
replay is indistinguishable from HubSpot's own retry), under the same change ids: nothing is
written twice.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

import pytest
import requests

from infra.sandbox.hubspot.signing import canonical_uri, sign_v3
from shared.inbound.hubspot import MAX_NOTIFICATIONS
from tests.e2e.conftest import World

UNKNOWN = 987_654_000  # no such contacts: each accepted notification is visible as one skip
SKIPPED = "skipped.HubSpot contact archived or gone"


def _note(world: World, event_id: int, object_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "subscriptionId": 1,
        "portalId": int(world.portal),
        "appId": int(world.sandbox.info.hubspot["app_id"]),
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": object_id,
        "propertyName": "jobtitle",
        "propertyValue": "Forger",
        "changeSource": "CRM_UI",
        "sourceId": "userId:7",
        **extra,
    }


def _signed(world: World, body: str) -> dict[str, str]:
    secret = str(world.sandbox.info.hubspot["client_secret"])
    url = world.stack.info.webhook_url
    now = int(time.time() * 1000)
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": str(now),
        "X-HubSpot-Signature-Version": "v3",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", canonical_uri(url), body, now),
    }


def _post(world: World, body: str, headers: dict[str, str] | None = None) -> requests.Response:
    headers = headers or _signed(world, body)
    return requests.post(world.stack.info.webhook_url, data=body.encode(), headers=headers, timeout=60)


def _changes_received(world: World) -> int:
    """Messages the dedupe function has been handed from the changes queues so far (both lanes: a
    request of several notifications from one source is a bulk load's)."""
    sources = world.stack.runtime.stats()["event_sources"]
    return sum(int(sources[f"DedupeFunction.{lane}"]["records"]) for lane in ("Changes", "BulkChanges"))


def _salesforce_events(world: World) -> int:
    """Salesforce change events relayed so far (each one change: the tests' records are single)."""
    return int(world.stack.runtime.stats()["event_sources"]["InboundEventsFunction.ChangeEvents"]["records"])


def _webhook_invocations(world: World) -> int:
    return int(world.stack.runtime.stats()["functions"]["InboundWebhookFunction"]["invocations"])


def _dead_letters(world: World) -> list[dict[str, Any]]:
    """Every message of the changes dead-letter queue, with its attributes."""
    sqs = world.stack._boto("sqs")
    url = world.stack.info.queues["ChangesDeadLetterQueue"]
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
        ).get("Messages")
        if not got:
            return out
        out += got


def _attribute(message: dict[str, Any], name: str) -> str:
    return str(message["MessageAttributes"][name]["StringValue"])


def _reasons(world: World) -> list[tuple[Any, str]]:
    """(body, reason) of each dead letter, every one from the webhook function."""
    dead = _dead_letters(world)
    assert {_attribute(m, "source") for m in dead} <= {"hubspot-webhook"}
    return sorted(((json.loads(m["Body"]), _attribute(m, "reason")) for m in dead), key=repr)


def _whole(world: World) -> list[tuple[str, str]]:
    """Dead letters put back together from their parts: (body, reason)."""
    parts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in _dead_letters(world):
        parts[_attribute(message, "dead-letter-id")].append(message)
    out = []
    for group in parts.values():
        group.sort(
            key=lambda m: int(_attribute(m, "part").split("/")[0]) if "part" in m["MessageAttributes"] else 0
        )
        out.append(("".join(m["Body"] for m in group), _attribute(group[0], "reason")))
    return out


def _probes(world: World) -> dict[str, tuple[Any, str]]:
    """Malformed notifications (and one of another portal) with the reason each is dead-lettered with."""
    missing_type = _note(world, 11, UNKNOWN + 11)
    del missing_type["subscriptionType"]
    return {
        "missing subscriptionType": (missing_type, "notification without subscriptionType"),
        "unknown type": (
            _note(world, 12, UNKNOWN + 12, subscriptionType="contact.foo"),
            "unsupported subscriptionType 'contact.foo'",
        ),
        "objectId null": (
            _note(world, 13, UNKNOWN + 13, objectId=None),
            "notification without objectId (contact.propertyChange)",
        ),
        "not an object": (
            ["contact.creation", 14],
            "notification is not an object: ['contact.creation', 14]",
        ),
        "occurredAt yesterday": (
            _note(world, 15, UNKNOWN + 15, occurredAt="yesterday"),
            "occurredAt is not epoch milliseconds: 'yesterday'",
        ),
        "another portal": (
            _note(world, 16, UNKNOWN + 16, portalId=424242),
            "portal 424242 is not synced by this stack",
        ),
    }


PROBES = [
    "missing subscriptionType",
    "unknown type",
    "objectId null",
    "not an object",
    "occurredAt yesterday",
    "another portal",
]


@pytest.mark.parametrize("probe", PROBES)
def test_a_malformed_notification_is_dead_lettered_and_the_valid_one_beside_it_queued_once(
    world: World, probe: str
) -> None:
    world.settle()
    received = _changes_received(world)
    bad, reason = _probes(world)[probe]
    response = _post(world, json.dumps([bad, _note(world, 1, UNKNOWN + 1)]))
    world.settle()

    assert response.status_code == 200  # HubSpot does not retry what can never succeed
    assert response.json() == {"message": "accepted 1 notifications as 1 changes"}
    assert _changes_received(world) - received == 1
    assert world.counters().get(SKIPPED) == 1
    assert _reasons(world) == [(bad, reason)]


def test_a_request_of_valid_and_invalid_notifications(world: World) -> None:
    world.settle()
    received = _changes_received(world)
    probes = _probes(world)
    valid = [_note(world, i, UNKNOWN + i) for i in range(1, 4)]
    body = [valid[0], *(bad for bad, _ in probes.values()), valid[1], valid[2]]
    response = _post(world, json.dumps(body))
    world.settle()

    assert response.status_code == 200
    assert _changes_received(world) - received == 3
    assert world.counters().get(SKIPPED) == 3
    assert _reasons(world) == sorted(probes.values(), key=repr)


def test_ten_thousand_notifications_are_413_queued_nowhere_and_dead_lettered_whole(world: World) -> None:
    world.settle()
    received = _changes_received(world)
    body = json.dumps([_note(world, i, UNKNOWN + i) for i in range(1, 10_001)])
    started = time.monotonic()
    response = _post(world, body)
    elapsed = time.monotonic() - started
    world.settle()

    assert response.status_code == 413
    assert response.json()["message"] == (
        f"request of 10000 notifications: more than the {MAX_NOTIFICATIONS} accepted"
        " (HubSpot sends at most 100)"
    )
    assert elapsed < 10  # answered well within the function's timeout
    assert _changes_received(world) == received
    assert world.counters().get(SKIPPED) is None
    ((dead, reason),) = _whole(world)
    assert (dead, reason) == (body, response.json()["message"])


def test_a_body_over_lambdas_6_mb_payload_is_413_before_the_function(world: World) -> None:
    world.settle()
    received, invocations = _changes_received(world), _webhook_invocations(world)
    # a hundred notifications each carrying HubSpot's longest property value: 6.5 MB
    body = json.dumps([_note(world, i, UNKNOWN + i, propertyValue="x" * 65_536) for i in range(1, 101)])
    assert len(body) > 6 * 1024 * 1024
    response = _post(world, body)
    world.settle()

    assert response.status_code == 413
    assert "smaller than 6291456 bytes" in response.json()["Message"]
    assert _webhook_invocations(world) == invocations  # AWS never invokes the function
    assert _changes_received(world) == received
    assert _dead_letters(world) == []


def test_long_text_values_are_queued_within_sqs_limits(world: World) -> None:
    """A legitimate 1.3 MB request (long text properties) is queued whole; a value too large for a
    message (65,000 four-byte characters: 260 KB) is queued with its ids only."""
    world.settle()
    received = _changes_received(world)
    notes = [_note(world, i, UNKNOWN + i, propertyValue="Long text " * 6_000) for i in range(1, 21)]
    notes.append(_note(world, 21, UNKNOWN + 21, propertyName="message", propertyValue="😀" * 65_000))
    body = json.dumps(notes, ensure_ascii=False)
    assert len(body.encode()) > 1_300_000
    response = _post(world, body)
    world.settle()

    assert response.status_code == 200
    assert response.json() == {"message": "accepted 21 notifications as 21 changes"}
    assert _changes_received(world) - received == 21
    assert world.counters().get(SKIPPED) == 21
    assert _dead_letters(world) == []


def test_a_replayed_request_is_queued_once_and_writes_nothing_twice(world: World) -> None:
    contact = world.hubspot_create(email="replay@example.com", lastname="Replay", jobtitle="Engineer")
    world.settle()
    (lead,) = world.salesforce_with_email("Lead", "replay@example.com")
    with world.events_paused():  # the edit is made; its notification is the attacker's to send
        world.hubspot_edit(contact, jobtitle="Architect")
    world.settle()
    before, received, relayed = world.pipeline_writes(), _changes_received(world), _salesforce_events(world)

    body = json.dumps([_note(world, 900_001, int(contact), propertyValue="Architect")])
    headers = _signed(world, body)
    first = _post(world, body, headers)
    replay = _post(world, body, headers)  # the same signed request again, within the window
    world.settle()

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.json()["message"] == "already received"
    # queued once (the other changes received: the Salesforce change events of hssync's write)
    assert (_changes_received(world) - received) - (_salesforce_events(world) - relayed) == 1
    # ... and written once
    assert world.salesforce_row("Lead", lead["Id"])["Title"] == "Architect"
    after = world.pipeline_writes()
    assert (after["salesforce"] - before["salesforce"], after["hubspot"] - before["hubspot"]) == (1, 0)
    # replayed once more, after the pipeline went quiet: still nothing queued or written
    assert _post(world, body, headers).status_code == 200
    world.settle()
    assert world.pipeline_writes() == after
    assert _dead_letters(world) == []
