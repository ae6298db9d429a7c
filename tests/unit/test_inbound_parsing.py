"""Inbound parsing of HubSpot notifications and Salesforce change events, against the recorded examples."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from shared.inbound.errors import MalformedPayload
from shared.inbound.hubspot import merge_notifications, parse_notification, parse_webhook_body
from shared.inbound.salesforce import parse_change_event
from shared.models import ChangeType, System
from shared.pipeline.inbound import relay_batch


@pytest.fixture(scope="module")
def hubspot_examples(api_specs):
    return json.loads((api_specs / "hubspot" / "payload_examples.json").read_text())


def _relay(payload: dict[str, Any], replay_id: int = 42) -> dict[str, Any]:
    entity = payload["ChangeEventHeader"]["entityName"]
    return {
        "version": "0",
        "id": "6c1a9f8e-0000-0000-0000-000000000000",
        "detail-type": f"{entity}ChangeEvent",
        "source": "aws.partner/salesforce.com/00D5g00000SbxSyEAJ/0YLxx0000000001",
        "account": "123456789012",
        "time": "2026-11-28T20:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"payload": payload, "event": {"replayId": replay_id}},
    }


def test_hubspot_property_change_example_becomes_an_update(hubspot_examples):
    (raw,) = hubspot_examples["contact.propertyChange"]
    event = parse_notification(raw)
    assert event.system is System.HUBSPOT
    assert event.account == "891472211"
    assert (event.object_type, event.record_id) == ("contacts", "847297356")
    assert event.change_type is ChangeType.UPDATE
    assert event.changed_fields == ("passport_number",)
    assert event.origin == "CRM_UI"
    assert event.occurred_at == dt.datetime(2024, 5, 8, 21, 18, 21, 896000, tzinfo=dt.UTC)


def test_hubspot_creation_example_and_stable_change_id(hubspot_examples):
    (raw,) = hubspot_examples["contact.creation"]
    first, again = parse_notification(raw), parse_notification(dict(raw))
    assert first.change_type is ChangeType.CREATE
    assert first.change_id == again.change_id == "hubspot:62515:contacts:123:1"


def test_hubspot_merge_names_the_survivor_and_the_merged():
    event = parse_notification(
        {"eventId": 9, "portalId": 1, "occurredAt": 1, "subscriptionType": "contact.merge", "objectId": 5,
         "primaryObjectId": 5, "mergedObjectIds": [5, 7], "newObjectId": 11, "changeSource": "CRM_UI"}
    )  # fmt: skip
    assert (event.change_type, event.record_id, event.related_ids) == (ChangeType.MERGE, "11", ("5", "7"))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "not JSON"),
        ('{"eventId": 1}', "JSON array"),
    ],
)
def test_hubspot_bodies_that_are_not_arrays_are_malformed(raw, reason):
    with pytest.raises(MalformedPayload, match=reason):
        parse_webhook_body(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"portalId": 1, "occurredAt": 1, "subscriptionType": "contact.creation", "objectId": 1}, "eventId"),
        ({"eventId": 1, "portalId": 1, "occurredAt": 1, "subscriptionType": "ticket.creation", "objectId": 1},
         "unsupported"),
        ({"eventId": 1, "portalId": 1, "occurredAt": "soon", "subscriptionType": "contact.creation",
          "objectId": 1}, "epoch"),
        ([1, 2], "not an object"),
    ],
)  # fmt: skip
def test_hubspot_notifications_missing_essentials_are_malformed(raw, reason):
    with pytest.raises(MalformedPayload, match=reason):
        parse_notification(raw)


def test_salesforce_update_example_in_a_relay_envelope(api_specs):
    payload = json.loads((api_specs / "salesforce" / "change-events" / "cdc_update_contact.json").read_text())
    parsed = parse_change_event(_relay(payload), org_id="fallback")
    (event,) = parsed.events
    assert event.system is System.SALESFORCE
    assert event.account == "00D5g00000SbxSyEAJ"  # from the partner event source
    assert (event.object_type, event.record_id) == ("Contact", "003ak00000IiFInAAN")
    assert event.change_type is ChangeType.UPDATE
    assert "Name.LastName" in event.changed_fields
    assert event.origin == "com/salesforce/api/soap/63.0;client=SfdcInternalAPI/"
    assert event.source_event_id == "42"


def test_salesforce_create_example_as_a_bare_payload(api_specs):
    payload = json.loads((api_specs / "salesforce" / "change-events" / "cdc_new_account.json").read_text())
    parsed = parse_change_event(payload, org_id="00Dorg")
    (event,) = parsed.events
    assert (event.account, event.change_type, event.record_id) == (
        "00Dorg",
        ChangeType.CREATE,
        "0015f00002J9YYEAA3",
    )


def test_one_event_for_several_records_fans_out():
    header = {"entityName": "Lead", "changeType": "UPDATE", "recordIds": ["00Q1", "00Q2", "00Q3"],
              "commitTimestamp": 1764360000000, "transactionKey": "t", "sequenceNumber": 1}  # fmt: skip
    parsed = parse_change_event(_relay({"ChangeEventHeader": header}), org_id="x")
    assert [e.record_id for e in parsed.events] == ["00Q1", "00Q2", "00Q3"]


def test_gap_events_are_resyncs_and_overflow_asks_for_a_poll():
    gap = {"entityName": "Lead", "changeType": "GAP_UPDATE", "recordIds": ["00Q1"], "commitTimestamp": 1}
    overflow = {"entityName": "Contact", "changeType": "GAP_OVERFLOW", "recordIds": [], "commitTimestamp": 1}
    gap_parsed = parse_change_event(_relay({"ChangeEventHeader": gap}), org_id="x")
    assert [(e.change_type, e.record_id) for e in gap_parsed.events] == [(ChangeType.RESYNC, "00Q1")]
    over_parsed = parse_change_event(_relay({"ChangeEventHeader": overflow}), org_id="x")
    assert (over_parsed.events, over_parsed.poll_objects) == ([], ["Contact"])


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"detail": {"payload": {"Name": "x"}}}, "ChangeEventHeader"),
        ({"detail": "{not json"}, "not JSON"),
        ({"detail": {"payload": {"ChangeEventHeader": {"entityName": "Lead"}}}}, "lacks"),
    ],
)
def test_salesforce_events_without_a_usable_header_are_malformed(event, reason):
    with pytest.raises(MalformedPayload, match=reason):
        parse_change_event(event, org_id="x")


def _note(event_id: int, kind: str, object_id: int, at: int, **extra: Any) -> dict[str, Any]:
    return {"eventId": event_id, "portalId": 62515, "occurredAt": at, "subscriptionType": f"contact.{kind}",
            "objectId": object_id, "changeSource": "INTEGRATION", "sourceId": "2000001", **extra}  # fmt: skip


def test_the_notifications_of_one_new_contact_fold_into_one_change():
    raw = [
        _note(5, "propertyChange", 1, 1002, propertyName="jobtitle", propertyValue="CEO"),
        _note(1, "creation", 1, 1000),
        _note(3, "propertyChange", 1, 1000, propertyName="jobtitle", propertyValue="CTO"),
        _note(2, "propertyChange", 1, 1000, propertyName="email", propertyValue="a@example.com"),
        _note(4, "propertyChange", 2, 1001, propertyName="lastname", propertyValue="B"),
        _note(6, "deletion", 2, 1003),
    ]
    events = merge_notifications([parse_notification(r) for r in raw])
    assert [(e.record_id, e.change_type) for e in events] == [
        ("1", ChangeType.CREATE),
        ("2", ChangeType.UPDATE),
        ("2", ChangeType.DELETE),  # deletions, merges and associations never fold
    ]
    new = events[0]
    assert set(new.changed_fields) == {"jobtitle", "email"}
    assert new.reported == {"jobtitle": "CEO", "email": "a@example.com"}  # the latest value of each
    assert (new.origin, new.origin_id) == ("INTEGRATION", "2000001")
    assert new.occurred_at == dt.datetime.fromtimestamp(1.002, tz=dt.UTC)
    # HubSpot's redelivery of the same notifications, in another order, is the same change
    again = merge_notifications([parse_notification(r) for r in reversed(raw)])
    assert next(e for e in again if e.record_id == "1").change_id == new.change_id
    fewer = merge_notifications([parse_notification(r) for r in raw[1:]])
    assert fewer[0].change_id != new.change_id


def test_a_folded_change_keeps_its_origin_only_when_all_notifications_share_it():
    raw = [
        _note(1, "propertyChange", 1, 1000, propertyName="jobtitle", propertyValue="CTO"),
        {**_note(2, "propertyChange", 1, 1001, propertyName="phone", propertyValue="1"),
         "changeSource": "CRM_UI", "sourceId": "userId:7"},
    ]  # fmt: skip
    (event,) = merge_notifications([parse_notification(r) for r in raw])
    assert (event.origin, event.origin_id) == (None, None)
    assert parse_notification(raw[1]).origin_id == "userId:7"


def test_a_property_change_reports_its_value_unless_hubspot_left_it_out(hubspot_examples):
    (raw,) = hubspot_examples["contact.propertyChange"]
    assert parse_notification(raw).reported == {"passport_number": "REDACTED"}
    bare = {k: v for k, v in raw.items() if k != "propertyValue"}
    assert parse_notification(bare).reported == {}


def test_a_batch_of_relayed_events_yields_every_change_and_sets_aside_what_is_not_an_event():
    def header(change: str, *ids: str) -> dict[str, Any]:
        return {"entityName": "Lead", "changeType": change, "recordIds": list(ids),
                "commitTimestamp": 1764360000000, "transactionKey": "t", "sequenceNumber": 1}  # fmt: skip

    bodies = [
        json.dumps(_relay({"ChangeEventHeader": header("UPDATE", "00Q1", "00Q2")}, replay_id=1)),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({**_relay({"ChangeEventHeader": header("UPDATE", "00Q9")}), "detail": {"payload": {}}}),
        json.dumps(_relay({"ChangeEventHeader": header("GAP_OVERFLOW")}, replay_id=3)),
        json.dumps(_relay({"ChangeEventHeader": header("CREATE", "00Q3")}, replay_id=4)),
    ]
    records = [{"messageId": f"m{i}", "body": body} for i, body in enumerate(bodies)]
    batch = relay_batch(records, org_id="fallback")
    assert batch.message_ids == [f"m{i}" for i in range(6)]
    assert [(e.record_id, e.change_type) for e in batch.events] == [
        ("00Q1", ChangeType.UPDATE),
        ("00Q2", ChangeType.UPDATE),
        ("00Q3", ChangeType.CREATE),
    ]
    assert batch.poll_objects == ["Lead"]
    reasons = dict(batch.malformed)
    assert list(reasons) == bodies[1:4]
    assert reasons["{not json"].startswith("message body is not JSON")
    assert reasons[bodies[2]] == "message body is not an EventBridge event"
    assert "ChangeEventHeader" in reasons[bodies[3]]
