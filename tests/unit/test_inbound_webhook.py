"""The webhook function's logic: verify, split, refuse; and log lines never show an address."""

from __future__ import annotations

import json

from shared.observability import mask_emails
from shared.pipeline.inbound import receive_webhook, request_url
from shared.webhook_signature import sign_v3

SECRET = "app-secret"
NOW = 1_764_360_000_000
URL = "https://abc.lambda-url.us-east-1.on.aws/"


def _notification(**extra):
    base = {"eventId": 7, "subscriptionId": 1, "portalId": 1000001, "occurredAt": NOW - 1000}
    return {
        **base,
        "subscriptionType": "contact.propertyChange",
        "objectId": 55,
        "propertyName": "email",
        **extra,
    }


def _call(body: str, *, timestamp: int = NOW, secret: str = SECRET, url: str = URL):
    headers = {
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", url, body, str(timestamp)),
        "X-HubSpot-Request-Timestamp": str(timestamp),
    }
    return receive_webhook(
        method="POST", url=URL, body=body, headers=headers, client_secret=SECRET, now_ms=NOW, portal="1000001"
    )


def test_a_signed_batch_becomes_change_events():
    outcome = _call(json.dumps([_notification(), _notification(eventId=8, objectId=56)]))
    assert outcome.status == 200
    assert [(e.record_id, e.changed_fields) for e in outcome.events] == [
        ("55", ("email",)),
        ("56", ("email",)),
    ]


def test_bad_signature_and_stale_timestamp_are_401_with_nothing_accepted():
    body = json.dumps([_notification()])
    forged = _call(body, secret="not-the-app-secret")
    stale = _call(body, timestamp=NOW - 6 * 60 * 1000)
    assert (forged.status, forged.events) == (401, [])
    assert (stale.status, stale.events) == (401, [])
    assert "older than 5 minutes" in stale.message


def test_a_body_that_is_not_an_array_is_400_and_bad_items_go_to_the_dead_letter_queue():
    assert _call('{"not": "an array"}').status == 400
    outcome = _call(json.dumps([_notification(), {"eventId": 9}, _notification(portalId=42)]))
    assert outcome.status == 200
    assert len(outcome.events) == 1
    reasons = [reason for _, reason in outcome.malformed]
    assert any("subscriptionType" in r for r in reasons)
    assert any("portal 42 is not synced" in r for r in reasons)


def test_the_signed_url_is_rebuilt_from_the_function_url_event():
    headers = {"Host": "abc.lambda-url.us-east-1.on.aws", "X-Forwarded-Proto": "https"}
    assert request_url(headers, "/hooks", "a=1") == "https://abc.lambda-url.us-east-1.on.aws/hooks?a=1"
    assert (
        request_url({"host": "127.0.0.1:9000", "x-forwarded-proto": "http"}, "/", "")
        == "http://127.0.0.1:9000/"
    )


def test_logs_mask_email_addresses():
    line = '{"message":"linked ada.lovelace@example.com to Grace.Hopper+x@navy.mil"}'
    assert mask_emails(line) == '{"message":"linked a***@example.com to G***@navy.mil"}'
