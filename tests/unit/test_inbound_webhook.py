"""The webhook function's logic: verify, split, refuse; and log lines never show an address."""

from __future__ import annotations

import json

from shared.observability import mask_emails
from shared.pipeline.inbound import accept_notifications, receive_webhook, request_url
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
        method="POST",
        url=URL,
        body=body,
        headers=headers,
        client_secret=SECRET,
        now_ms=NOW,
        portals={"1000001"},
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


def test_a_signed_body_that_is_not_an_array_is_refused_whole_for_the_dead_letter_queue():
    outcome = _call('{"not": "an array"}')
    assert (outcome.status, outcome.refused, outcome.events) == (400, '{"not": "an array"}', [])
    assert "JSON array" in outcome.message
    assert _call("not json").refused == "not json"


def test_more_notifications_than_the_bound_are_refused_whole_with_413():
    from shared.inbound.hubspot import MAX_NOTIFICATIONS

    at_bound = json.dumps([_notification(eventId=i, objectId=i) for i in range(1, MAX_NOTIFICATIONS + 1)])
    accepted = _call(at_bound)
    assert (accepted.status, len(accepted.events)) == (200, MAX_NOTIFICATIONS)
    over = json.dumps([_notification(eventId=i, objectId=i) for i in range(1, MAX_NOTIFICATIONS + 2)])
    refused = _call(over)
    assert (refused.status, refused.events, refused.malformed, refused.refused) == (413, [], [], over)
    assert f"request of {MAX_NOTIFICATIONS + 1} notifications" in refused.message


def test_a_body_over_the_size_bound_is_413_and_an_unsigned_one_is_401_whatever_its_size(monkeypatch):
    from shared.inbound import hubspot

    monkeypatch.setattr(hubspot, "MAX_BODY_BYTES", 1000)
    body = json.dumps([_notification(propertyValue="x" * 1000)])
    refused = _call(body)
    assert (refused.status, refused.refused) == (413, body)
    assert "request body of" in refused.message
    forged = _call(body, secret="not-the-app-secret")
    assert (forged.status, forged.refused) == (401, None)


def test_valid_and_invalid_notifications_of_one_request_are_parted():
    body = json.dumps(
        [
            _notification(eventId=1, objectId=1),
            {k: v for k, v in _notification(eventId=2).items() if k != "subscriptionType"},
            _notification(eventId=3, subscriptionType="contact.foo"),
            _notification(eventId=4, objectId=None),
            "not an object",
            _notification(eventId=5, occurredAt="yesterday"),
            _notification(eventId=6, portalId=42),
            _notification(eventId=7, objectId=7),
        ]
    )
    outcome = _call(body)
    assert outcome.status == 200
    assert [e.record_id for e in outcome.events] == ["1", "7"]
    assert [reason for _, reason in outcome.malformed] == [
        "notification without subscriptionType",
        "unsupported subscriptionType 'contact.foo'",
        "notification without objectId (contact.propertyChange)",
        "notification is not an object: not an object",
        "occurredAt is not epoch milliseconds: 'yesterday'",
        "portal 42 is not synced by this stack",
    ]
    assert json.loads(outcome.malformed[3][0]) == "not an object"


def test_a_notification_repeated_within_a_request_is_one_change():
    deletion = _notification(subscriptionType="contact.deletion", propertyName=None)
    outcome = _call(json.dumps([deletion, deletion, _notification(eventId=8), _notification(eventId=8)]))
    assert [(e.change_type.value, e.source_event_id) for e in outcome.events] == [
        ("delete", "7"),
        ("update", "8"),
    ]


def test_the_notifications_of_every_configured_portal_are_accepted_the_others_refused():
    body = [
        _notification(),
        _notification(eventId=8, objectId=56, portalId=1000002),
        _notification(portalId=7),
    ]
    outcome = accept_notifications(body, portals={"1000001", "1000002"})
    assert sorted((e.account, e.record_id) for e in outcome.events) == [("1000001", "55"), ("1000002", "56")]
    assert [reason for _, reason in outcome.malformed] == ["portal 7 is not synced by this stack"]
