"""Timestamps and ids in what the CRMs send: epoch milliseconds, and a change event's own id."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.inbound.errors import MalformedPayload
from shared.inbound.hubspot import parse_notification
from shared.inbound.salesforce import parse_change_event
from shared.inbound.times import parse_epoch_ms


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        (1764360000000, dt.datetime(2025, 11, 28, 20, tzinfo=dt.UTC)),
        ("1764360000123", dt.datetime(2025, 11, 28, 20, 0, 0, 123000, tzinfo=dt.UTC)),
        (0, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
    ],
)
def test_epoch_milliseconds(value, moment):
    assert parse_epoch_ms(value, "occurredAt") == moment


@pytest.mark.parametrize("value", [None, "soon", "1.5", 10**30, [1]])
def test_what_is_not_epoch_milliseconds_is_malformed_and_named(value):
    with pytest.raises(MalformedPayload, match=r"^commitTimestamp is not epoch milliseconds: "):
        parse_epoch_ms(value, "commitTimestamp")


def test_both_inbound_parsers_name_their_bad_timestamp():
    notification = {"subscriptionType": "contact.creation", "occurredAt": "soon", "objectId": 1,
                    "portalId": 1, "eventId": 1}  # fmt: skip
    with pytest.raises(MalformedPayload, match="occurredAt is not epoch milliseconds: 'soon'"):
        parse_notification(notification)
    header = {"entityName": "Lead", "changeType": "UPDATE", "recordIds": ["00Q1"], "commitTimestamp": "x"}
    with pytest.raises(MalformedPayload, match="commitTimestamp is not epoch milliseconds: 'x'"):
        parse_change_event({"ChangeEventHeader": header}, org_id="o")


def test_a_change_event_is_known_by_its_replay_id_else_by_its_transaction_and_sequence():
    header = {"entityName": "Lead", "changeType": "UPDATE", "recordIds": ["00Q1"],
              "commitTimestamp": 1, "transactionKey": "tx", "sequenceNumber": 3}  # fmt: skip
    relayed = {"detail": {"payload": {"ChangeEventHeader": header}, "event": {"replayId": 0}}}
    assert parse_change_event(relayed, org_id="o").events[0].source_event_id == "0"
    bare = {"ChangeEventHeader": header}
    assert parse_change_event(bare, org_id="o").events[0].source_event_id == "tx:3"
    unwrapped = {"detail": {"payload": {"ChangeEventHeader": header}}}
    assert parse_change_event(unwrapped, org_id="o").events[0].source_event_id == "tx:3"
