"""The stage rule: StageName (and record type) <-> pipeline + stage, only through deals.pipelines."""

from __future__ import annotations

from shared.deals.settings import DEFAULT_STAGE_MAPPINGS, StageMapping
from shared.deals.stages import HubSpotStage, to_hubspot, to_salesforce, unmapped_message

ENTRIES = (
    StageMapping(salesforce="Closed Won", pipeline="default", stage="closedwon"),
    StageMapping(salesforce="Closed Won", record_type="Renewal", pipeline="renewals", stage="renewed"),
    StageMapping(salesforce="Negotiation/Review", pipeline="default", stage="contractsent"),
    StageMapping(salesforce="Proposal/Price Quote", pipeline="default", stage="contractsent"),
    StageMapping(salesforce="Upsell", record_type="Renewal", pipeline="renewals", stage="open"),
)


def test_a_salesforce_stage_takes_the_entry_of_its_record_type_else_the_general_one():
    assert to_hubspot(ENTRIES, "Closed Won") == HubSpotStage("default", "closedwon")
    assert to_hubspot(ENTRIES, "Closed Won", "Renewal") == HubSpotStage("renewals", "renewed")
    assert to_hubspot(ENTRIES, "Closed Won", "Other") == HubSpotStage("default", "closedwon")
    assert to_hubspot(ENTRIES, "Upsell", "Renewal") == HubSpotStage("renewals", "open")


def test_an_unmapped_salesforce_stage_is_never_guessed():
    assert to_hubspot(ENTRIES, "Prospecting") is None
    assert to_hubspot(ENTRIES, "closed won") is None  # picklist values are exact
    assert to_hubspot(ENTRIES, "Upsell") is None  # only mapped for its record type
    assert to_hubspot(ENTRIES, None) is None
    assert to_hubspot(ENTRIES, "") is None


def test_a_hubspot_stage_takes_the_first_entry_that_fits_the_record_type():
    assert to_salesforce(ENTRIES, "default", "contractsent") == "Negotiation/Review"
    assert to_salesforce(ENTRIES, "default", "closedwon", "Renewal") == "Closed Won"
    assert to_salesforce(ENTRIES, "renewals", "open", "Renewal") == "Upsell"
    assert to_salesforce(ENTRIES, "renewals", "open") is None  # an entry of another record type
    assert to_salesforce(ENTRIES, "default", "appointmentscheduled") is None
    assert to_salesforce(ENTRIES, "other", "closedwon") is None
    assert to_salesforce(ENTRIES, None, "closedwon") is None


def test_the_stage_properties_of_a_deal():
    assert HubSpotStage("default", "closedwon").properties() == {
        "pipeline": "default",
        "dealstage": "closedwon",
    }


def test_the_default_entries_go_both_ways_for_every_hubspot_stage():
    for entry in DEFAULT_STAGE_MAPPINGS:
        hubspot = to_hubspot(DEFAULT_STAGE_MAPPINGS, entry.salesforce)
        assert hubspot == HubSpotStage("default", entry.stage)
        back = to_salesforce(DEFAULT_STAGE_MAPPINGS, hubspot.pipeline, hubspot.stage)
        assert to_hubspot(DEFAULT_STAGE_MAPPINGS, back) == hubspot  # a round trip keeps the HubSpot stage


def test_the_unmapped_message_names_the_stage_and_what_is_left():
    assert "'Upsell' has no deals.pipelines entry" in unmapped_message("Upsell", "salesforce")
    assert "StageName is left as it is" in unmapped_message("won", "hubspot")
