"""Key layout of the state table and Salesforce id normalisation."""

from __future__ import annotations

import pytest

from shared.state import keys


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
        ("0010i0000046cD3", "0010i0000046cD3AAI"),
        ("0013k00002crTPa", "0013k00002crTPaAAM"),
        ("00QAAAAAAAAAAAA", "00QAAAAAAAAAAAA255"),
        ("003000000000000", "003000000000000AAA"),
    ],
)
def test_15_char_ids_get_the_case_safe_suffix(id15, id18):
    assert keys.salesforce_id18(id15) == id18


def test_18_char_ids_are_canonical_whatever_their_case():
    assert keys.salesforce_id18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    assert keys.salesforce_id18("001a0000006vm9riac") == "001A0000006Vm9rIAC"
    assert keys.salesforce_id18("001A0000006VM9RIAC") == "001A0000006Vm9rIAC"


def test_15_char_ids_differing_in_case_are_different_records():
    assert keys.salesforce_id18("001A0000006Vm9r") != keys.salesforce_id18("001a0000006Vm9r")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "001A0000006Vm9",
        "001A0000006Vm9rI",
        "001A0000006Vm9r-",
        "001A0000006Vm9rIA!",
        "001A0000006Vm9rIA9",
    ],
)
def test_malformed_salesforce_ids_are_refused(bad):
    with pytest.raises(ValueError, match="Salesforce id"):
        keys.salesforce_id18(bad)


def test_checksum_flagging_a_digit_as_upper_case_is_refused():
    # "B" flags position 0 of the first block, which is the digit "0"
    with pytest.raises(ValueError, match="checksum"):
        keys.salesforce_id18("001A0000006Vm9rBAC")


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
