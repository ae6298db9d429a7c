"""Key layout of the state table and the record keys (Salesforce ids: tests/unit/test_ids.py)."""

from __future__ import annotations

import pytest

from shared.state import keys


def test_documented_layout():
    assert keys.link_by_hubspot("123", "501") == ("P#123#HS#501", "LINK")
    assert keys.link_by_salesforce("123", "00Q000000000001") == ("P#123#SF#00Q000000000001EAA", "LINK")
    assert keys.claim("123", "salesforce:Lead", " Ann@Example.COM ") == (
        "P#123#CLAIM#salesforce:Lead#ann@example.com",
        "CLAIM",
    )
    assert keys.cursor("123", "salesforce:Lead") == ("P#123#CURSOR", "salesforce:Lead")
    assert keys.health("123", "duplicates", "salesforce:Lead:00Q1", "DUPLICATES_DETECTED") == (
        "P#123#HEALTH",
        "duplicates#salesforce:Lead:00Q1#DUPLICATES_DETECTED",
    )
    assert keys.counters("123") == ("P#123#COUNTERS", "TOTAL")
    assert keys.counter_attribute("hs_to_sf.created") == "c#hs_to_sf.created"


def test_emails_with_a_separator_stay_unambiguous_in_the_last_position():
    assert keys.claim("1", "Lead", "a#b@example.com").pk == "P#1#CLAIM#Lead#a#b@example.com"
    with pytest.raises(ValueError, match="target"):
        keys.claim("1", "Lead#a", "b@example.com")


@pytest.mark.parametrize(
    "build",
    [
        lambda: keys.link_by_hubspot("1#2", "5"),
        lambda: keys.link_by_hubspot("", "5"),
        lambda: keys.link_by_hubspot("1", "5#6"),
        lambda: keys.claim("1", "Lead", "   "),
        lambda: keys.cursor("1", ""),
        lambda: keys.health("1", "other", "hubspot:contacts:1#2", "X"),
        lambda: keys.health("1", "other", "hubspot:contacts:1", ""),
        lambda: keys.counter_attribute(""),
    ],
)
def test_ambiguous_or_empty_components_are_refused(build):
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build()


def test_record_keys_name_records_the_way_resync_reads_them():
    from shared.pipeline.resync import parse_record

    assert keys.hubspot_record_key("501") == "hubspot:contacts:501"
    assert keys.salesforce_record_key("Lead", "00Q000000000001EAA") == "salesforce:Lead:00Q000000000001EAA"
    assert parse_record(keys.hubspot_record_key("501")).record_id == "501"
    ref = parse_record(keys.salesforce_record_key("Lead", "00Q000000000001EAA"))
    assert (ref.object_type, ref.record_id) == ("Lead", "00Q000000000001EAA")
    # a record key is a component of a health entry's sort key
    assert keys.health("1", "owners", keys.hubspot_record_key("7"), "X").sk == "owners#hubspot:contacts:7#X"


def test_a_resync_reference_prints_as_its_record_key():
    from shared.pipeline.resync import parse_record

    text = keys.salesforce_record_key("Contact", "003000000000001AAA")
    assert str(parse_record(text)) == text == keys.record_key("salesforce", "Contact", "003000000000001AAA")
