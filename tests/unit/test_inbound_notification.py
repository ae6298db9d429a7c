"""The strict model of one HubSpot notification (shared/inbound/notification.py): what validates,
and the reason given for what does not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.inbound.errors import MalformedPayload
from shared.inbound.hubspot import parse_notification
from shared.inbound.notification import (
    MAX_EPOCH_MS,
    MAX_MERGED_IDS,
    MAX_NAME_CHARS,
    SUBSCRIPTION_TYPES,
    validate_notification,
)
from shared.models import ChangeType


def _note(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": 7,
        "subscriptionId": 1,
        "portalId": 1000001,
        "appId": 42,
        "occurredAt": 1_764_360_000_000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 55,
        "propertyName": "jobtitle",
        "propertyValue": "CTO",
        "changeSource": "CRM_UI",
        "sourceId": "userId:9",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def _reason(raw: Any) -> str:
    with pytest.raises(MalformedPayload) as caught:
        validate_notification(raw)
    return str(caught.value)


def test_a_complete_notification_validates_and_unknown_fields_are_ignored():
    note = validate_notification(_note(changeFlag="NEW", objectTypeId="0-1", somethingNew={"a": 1}))
    assert (note.event_id, note.portal_id, note.record_id) == (7, 1000001, 55)
    assert (note.object_type, note.change_type) == ("contacts", ChangeType.UPDATE)
    assert note.property_value == "CTO"


def test_every_supported_subscription_type_validates():
    for subscription_type in sorted(SUBSCRIPTION_TYPES):
        assert validate_notification(_note(subscriptionType=subscription_type)).subscription_type == (
            subscription_type
        )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"subscriptionType": ...}, "notification without subscriptionType"),
        ({"subscriptionType": "contact.foo"}, "unsupported subscriptionType 'contact.foo'"),
        ({"subscriptionType": "ticket.creation"}, "unsupported subscriptionType 'ticket.creation'"),
        ({"subscriptionType": "object.creation"}, "unsupported subscriptionType 'object.creation'"),
        ({"subscriptionType": 5}, "subscriptionType is not a supported subscription type: 5"),
        ({"objectId": None}, "notification without objectId (contact.propertyChange)"),
        ({"objectId": ...}, "notification without objectId (contact.propertyChange)"),
        ({"objectId": "55"}, "objectId is not a positive integer: '55'"),
        ({"objectId": 0}, "objectId is not a positive integer: 0"),
        ({"objectId": -3}, "objectId is not a positive integer: -3"),
        ({"objectId": 5.0}, "objectId is not a positive integer: 5.0"),
        ({"objectId": True}, "objectId is not a positive integer: True"),
        ({"objectId": 2**63}, "objectId is not a positive integer"),
        ({"occurredAt": "yesterday"}, "occurredAt is not epoch milliseconds: 'yesterday'"),
        ({"occurredAt": "1764360000000"}, "occurredAt is not epoch milliseconds: '1764360000000'"),
        ({"occurredAt": -1}, "occurredAt is not epoch milliseconds: -1"),
        ({"occurredAt": MAX_EPOCH_MS + 1}, "occurredAt is not epoch milliseconds"),
        ({"occurredAt": ...}, "notification without occurredAt"),
        ({"portalId": ...}, "notification without portalId"),
        ({"portalId": "1000001"}, "portalId is not a positive integer: '1000001'"),
        ({"eventId": ...}, "notification without eventId"),
        ({"eventId": None}, "eventId is not a positive integer: None"),
        ({"attemptNumber": -1}, "attemptNumber is not a non-negative integer: -1"),
        ({"propertyValue": 12}, "propertyValue is not a string or null: 12"),
        ({"propertyName": "x" * (MAX_NAME_CHARS + 1)}, "propertyName is not a string of at most"),
        ({"sourceId": ["a"]}, "sourceId is not a string of at most 1000 characters or an integer: ['a']"),
    ],
)
def test_each_malformed_field_is_named_in_the_reason(fields, reason):
    assert reason in _reason(_note(**fields))


def test_every_offending_field_is_named_once():
    reason = _reason({"eventId": "x", "occurredAt": "yesterday", "objectId": None})
    assert reason == (
        "eventId is not a positive integer: 'x'; notification without subscriptionType; "
        "notification without portalId; occurredAt is not epoch milliseconds: 'yesterday'"
    )  # a missing objectId is said once the rest is valid (which id names the record depends on the type)


@pytest.mark.parametrize("item", [5, "contact.creation", None, [1, 2], True])
def test_an_array_item_that_is_not_an_object_is_malformed(item):
    assert _reason(item).startswith("notification is not an object")


def test_merges_and_association_changes_name_their_records():
    merge = validate_notification(
        _note(subscriptionType="contact.merge", objectId=..., primaryObjectId=5, mergedObjectIds=[5, 7],
              newObjectId=11, propertyName=..., propertyValue=...)
    )  # fmt: skip
    assert (merge.record_id, merge.related_ids) == (11, ("5", "7"))
    association = validate_notification(
        _note(subscriptionType="contact.associationChange", objectId=..., fromObjectId=3, toObjectId=4,
              associationType="CONTACT_TO_COMPANY", associationRemoved=False)
    )  # fmt: skip
    assert (association.record_id, association.related_ids) == (3, ("4",))
    assert "notification without objectId (contact.associationChange)" in _reason(
        _note(subscriptionType="contact.associationChange", objectId=None, toObjectId=4)
    )
    assert "mergedObjectIds is not a list of at most" in _reason(
        _note(subscriptionType="contact.merge", newObjectId=11, mergedObjectIds=[1] * (MAX_MERGED_IDS + 1))
    )
    assert "mergedObjectIds is not a list of at most" in _reason(
        _note(subscriptionType="contact.merge", newObjectId=11, mergedObjectIds=["5"])
    )


def test_an_association_change_says_whether_the_association_was_removed():
    fields = {"subscriptionType": "contact.associationChange", "objectId": ..., "propertyName": ...,
              "propertyValue": ..., "fromObjectId": 3, "toObjectId": 4}  # fmt: skip
    added = parse_notification(_note(**fields, associationRemoved=False))
    removed = parse_notification(_note(**fields, associationRemoved=True))
    assert (added.change_type, added.related_ids, added.association_removed) == (
        ChangeType.ASSOCIATION,
        ("4",),
        False,
    )
    assert removed.association_removed
    assert not parse_notification(_note(**fields)).association_removed
    malformed = _note(**fields, associationRemoved="yes")
    assert "associationRemoved is not true or false: 'yes'" in _reason(malformed)


def test_a_numeric_source_id_is_kept_as_text():
    event = parse_notification(_note(changeSource="INTEGRATION", sourceId=2000001))
    assert (event.origin, event.origin_id) == ("INTEGRATION", "2000001")


def test_a_property_change_reports_null_when_hubspot_says_null():
    assert parse_notification(_note(propertyValue=None)).reported == {"jobtitle": None}
    assert parse_notification(_note(propertyValue=...)).reported == {}


def test_the_reason_never_carries_more_than_a_short_excerpt_of_a_value():
    reason = _reason(_note(objectId="9" * 5000))
    assert len(reason) < 200
    assert json.dumps(reason)  # plain text for a message attribute
