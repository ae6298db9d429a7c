"""How dedupe names records (shared.pipeline.dedupe.records)."""

from __future__ import annotations

import pytest

from shared.pipeline.dedupe.records import hs_key, id_or_none, parse_duplicates, same_id, sf_key, sf_object
from tests.unit.dedupe_support import CONTACT, LEAD


def test_records_are_named_as_statuses_and_sync_health_name_them():
    assert hs_key("101") == "hubspot:contacts:101"
    assert sf_key("Lead", LEAD) == f"salesforce:Lead:{LEAD}"


def test_only_leads_and_contacts_are_synced_salesforce_objects():
    assert sf_object("Contact") == "Contact"
    with pytest.raises(ValueError, match="not a synced Salesforce object"):
        sf_object("Account")


def test_salesforce_ids_compare_in_either_form_and_hubspot_ids_as_they_are():
    assert same_id(LEAD[:15], {LEAD})
    assert same_id(LEAD, [LEAD[:15]])
    assert not same_id(LEAD, {CONTACT})
    assert same_id("101", ["101"])
    assert not same_id("101", ["1010"])
    assert id_or_none(LEAD[:15]) == LEAD
    assert id_or_none("") is None
    assert id_or_none(None) is None


def test_a_links_duplicates_are_read_back_as_objects_and_ids():
    assert parse_duplicates([f"Lead:{LEAD}", f"Contact:{CONTACT}", "Account:001", "Lead:", "junk"]) == [
        ("Lead", LEAD),
        ("Contact", CONTACT),
    ]
