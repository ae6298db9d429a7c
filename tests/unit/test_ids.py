"""Salesforce ids (shared/ids.py): their shape and the one canonical 18-character form."""

from __future__ import annotations

import pytest

from shared import ids
from shared.adapters import salesforce as salesforce_adapter
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
    assert ids.salesforce_id18(id15) == id18


def test_18_char_ids_are_canonical_whatever_their_case():
    assert ids.salesforce_id18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    assert ids.salesforce_id18("001a0000006vm9riac") == "001A0000006Vm9rIAC"
    assert ids.salesforce_id18("001A0000006VM9RIAC") == "001A0000006Vm9rIAC"


def test_15_char_ids_differing_in_case_are_different_records():
    assert ids.salesforce_id18("001A0000006Vm9r") != ids.salesforce_id18("001a0000006Vm9r")


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
        ids.salesforce_id18(bad)


def test_checksum_flagging_a_digit_as_upper_case_is_refused():
    # "B" flags position 0 of the first block, which is the digit "0"
    with pytest.raises(ValueError, match="checksum"):
        ids.salesforce_id18("001A0000006Vm9rBAC")


def test_an_18_char_id_takes_its_case_from_the_suffix_not_from_the_first_fifteen():
    # the adapter's old to_18 recomputed the suffix from the first fifteen, turning a lower-cased id
    # into another record's; the suffix is the case information, so it wins
    canonical = ids.salesforce_id18("00Q5g00000AbCdE")
    assert ids.salesforce_id18(canonical.lower()) == canonical
    assert ids.salesforce_id18(canonical.upper()) == canonical
    assert ids.salesforce_id18("001a0000006vm9riac") == ids.salesforce_id18("001A0000006Vm9r")


def test_normalising_is_idempotent():
    for raw in ("001A0000006Vm9r", "001a0000006vm9riac", "00QAAAAAAAAAAAA"):
        once = ids.salesforce_id18(raw)
        assert ids.salesforce_id18(once) == once
        assert ids.salesforce_id18(once.lower()) == once


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("001A0000006Vm9r", True),
        ("001A0000006Vm9rIAC", True),
        ("001A0000006Vm9rBAC", True),  # the shape only: the checksum is salesforce_id18's to check
        ("001A0000006Vm9", False),
        ("001A0000006Vm9r\n", False),
        ("001A0000006Vm9r-", False),
        ("001A0000006Vm9rİAC", False),
        ("", False),
    ],
)
def test_looks_like_salesforce_id(value, shape):
    assert ids.looks_like_salesforce_id(value) is shape


def test_or_none_gives_none_for_what_is_not_an_id():
    assert ids.salesforce_id18_or_none("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert ids.salesforce_id18_or_none("001A0000006Vm9rBAC") is None
    assert ids.salesforce_id18_or_none("001'; DROP") is None


def test_key_prefixes_name_the_synced_objects():
    assert ids.SALESFORCE_KEY_PREFIXES == {"00Q": "Lead", "003": "Contact"}


def test_one_implementation_behind_every_name():
    assert keys.salesforce_id18 is ids.salesforce_id18
    assert salesforce_adapter.to_18 is ids.salesforce_id18
