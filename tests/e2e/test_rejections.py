"""Acceptance 6: what must not be synced is refused, dead-lettered with its reason, or reported."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from infra.sandbox.hubspot.signing import canonical_uri, sign_v3
from tests.e2e.conftest import World

UNKNOWN_CONTACT = 987654321  # no such contact: an accepted notification is visible as a skip


def _notification(world: World, event_id: int) -> list[dict[str, Any]]:
    info = world.sandbox.info.hubspot
    return [
        {
            "eventId": event_id,
            "subscriptionId": 1,
            "portalId": int(world.portal),
            "appId": int(info["app_id"]),
            "occurredAt": int(time.time() * 1000),
            "subscriptionType": "contact.propertyChange",
            "attemptNumber": 0,
            "objectId": UNKNOWN_CONTACT,
            "propertyName": "jobtitle",
            "propertyValue": "Forger",
            "changeSource": "CRM_UI",
        }
    ]


def _post_webhook(world: World, body: str, *, secret: str, timestamp_ms: int) -> requests.Response:
    url = world.stack.info.webhook_url
    return requests.post(
        url,
        data=body.encode(),
        headers={
            "Content-Type": "application/json",
            "X-HubSpot-Request-Timestamp": str(timestamp_ms),
            "X-HubSpot-Signature-Version": "v3",
            "X-HubSpot-Signature-v3": sign_v3(secret, "POST", canonical_uri(url), body, timestamp_ms),
        },
        timeout=10,
    )


def _changes_received(world: World) -> int:
    """Messages the dedupe function has been handed from the changes queue so far."""
    return int(world.stack.runtime.stats()["event_sources"]["DedupeFunction.Changes"]["records"])


def test_bad_signature_or_stale_timestamp_gets_401_and_enqueues_nothing(world: World) -> None:
    secret = str(world.sandbox.info.hubspot["client_secret"])
    world.settle()
    received = _changes_received(world)
    now = int(time.time() * 1000)

    forged = _post_webhook(
        world, json.dumps(_notification(world, 1)), secret="not-the-app-secret", timestamp_ms=now
    )
    stale = _post_webhook(
        world, json.dumps(_notification(world, 2)), secret=secret, timestamp_ms=now - 6 * 60 * 1000
    )
    body = json.dumps(_notification(world, 3))
    response = _post_webhook(world, body, secret=secret, timestamp_ms=now)
    tampered = requests.post(
        world.stack.info.webhook_url,
        data=body.replace("Forger", "Admin").encode(),
        headers={
            k: v
            for k, v in response.request.headers.items()
            if k.lower().startswith(("x-hubspot", "content-type"))
        },
        timeout=10,
    )
    world.settle()

    assert (forged.status_code, stale.status_code, tampered.status_code) == (401, 401, 401)
    # the genuine request (same shape, right secret, fresh) is accepted and queued: exactly one more
    assert response.status_code == 200
    assert _changes_received(world) - received == 1
    assert world.counters().get("skipped.HubSpot contact archived or gone") == 1
    assert world.queue_messages("ChangesDeadLetterQueue") == []


def test_a_malformed_change_message_ends_in_the_dead_letter_queue_with_its_reason(world: World) -> None:
    sqs = world.stack._boto("sqs")
    changes = world.stack.info.queues["ChangesQueue"]
    sqs.send_message(QueueUrl=changes, MessageBody='{"system": "hubspot", "record_id": ')  # not JSON
    sqs.send_message(
        QueueUrl=changes, MessageBody=json.dumps({"system": "myspace", "object_type": "contacts"})
    )  # JSON, but no change event
    world.settle()

    dead = world.queue_messages("ChangesDeadLetterQueue", wait=1)
    dead += world.queue_messages("ChangesDeadLetterQueue")
    assert len(dead) == 2
    reasons = {m["Body"]: m["MessageAttributes"]["reason"]["StringValue"] for m in dead}
    assert all(reason.startswith("invalid message") for reason in reasons.values()), reasons
    assert "system" in reasons[json.dumps({"system": "myspace", "object_type": "contacts"})]
    # nothing else happened because of them
    assert world.hubspot_contacts() == []
    assert world.salesforce_rows("Lead") == []


def test_permanent_api_errors_become_sync_health_entries(world: World) -> None:
    world.sandbox_post(
        "salesforce",
        "settings",
        {
            "validation_rules": [
                {
                    "object": "Lead",
                    "field": "Title",
                    "equals": "Intern",
                    "message": "Leads may not be interns",
                    "name": "No_Interns",
                }
            ]
        },
    )
    blocked = world.hubspot_create(email="intern@example.com", lastname="Newbie", jobtitle="Intern")
    too_long = world.hubspot_create(email="verbose@example.com", lastname="Wordy", jobtitle="Chief " * 30)
    fine = world.hubspot_create(email="fine@example.com", lastname="Okay", jobtitle="Engineer")
    world.settle()

    # Salesforce refuses the intern lead (a validation rule): it is not created, and is reported.
    # A title longer than Lead.Title allows (describe: 128) is known before writing: the lead is
    # created without it, and the refused value is reported
    leads = {r["Email"]: r for r in world.salesforce_rows("Lead")}
    assert sorted(leads) == ["fine@example.com", "verbose@example.com"]
    assert leads["verbose@example.com"].get("Title") is None
    health = {h.record: h for h in world.health()}
    assert set(health) == {f"hubspot:contacts:{blocked}", f"hubspot:contacts:{too_long}"}
    validation = health[f"hubspot:contacts:{blocked}"]
    assert (validation.system, validation.category.value) == ("salesforce", "custom_code")
    assert validation.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert "Leads may not be interns" in validation.message
    length = health[f"hubspot:contacts:{too_long}"]
    assert (length.system, length.category.value, length.code) == (
        "salesforce",
        "property_values",
        "STRING_TOO_LONG",
    )
    assert "Title" in length.message
    assert world.link_of(fine) is not None
    assert world.link_of(too_long) is not None
    assert world.link_of(blocked) is None
    assert world.counters().get("errors") == 1  # the API's refusal; the other was never sent
    # not retried forever: nothing left queued, nothing dead-lettered
    assert world.queue_messages("WritesDeadLetterQueue") == []


def test_a_malformed_salesforce_change_event_ends_in_the_dead_letter_queue_with_its_reason(
    world: World,
) -> None:
    from infra.local_stack import EVENT_BUS

    event = {
        "source": "aws.partner/salesforce.com/00D000000000001AAA/0YL000000000001",
        "detail-type": "LeadChangeEvent",
        "detail": {"payload": {"LastName": "No header"}},
    }
    ingress = f"{world.stack.runtime.eventbridge_ingress_url}/{EVENT_BUS}"
    entries = requests.post(ingress, json=event, timeout=10).json()["Entries"]
    assert entries[0]["Targets"] == ["SalesforceEventsQueue"]
    world.settle()

    dead = world.queue_messages("ChangesDeadLetterQueue", wait=1)
    assert len(dead) == 1
    assert json.loads(dead[0]["Body"])["detail"] == event["detail"]
    assert "ChangeEventHeader" in dead[0]["MessageAttributes"]["reason"]["StringValue"]
    assert world.hubspot_contacts() == []
