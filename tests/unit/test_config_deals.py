"""The deal sync settings: off by default, deal mappings and stage mappings with their defaults and
checks, creation both ways, the lifecycle settings."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, SyncConfig, SyncRule, json_schema, parse_config
from shared.deals.settings import DEFAULT_DEAL_MAPPINGS, DEFAULT_STAGE_MAPPINGS, StageMapping


def test_deal_sync_is_off_by_default_and_its_settings_have_defaults():
    config = parse_config("portals: [1]")
    assert config.deals.enabled is False
    assert config.deal_mappings == DEFAULT_DEAL_MAPPINGS
    assert config.deals.pipelines == DEFAULT_STAGE_MAPPINGS
    assert config.deals.opportunities_to_hubspot == "create_or_update"
    assert config.deals.deals_to_salesforce == "create_or_update"
    assert config.lifecycle.automatic_transitions is True
    assert config.lifecycle.sync_to_company_contacts is False
    assert config.warnings() == []


def test_a_configuration_without_deal_settings_equals_one_with_them_off():
    assert parse_config("portals: [1]") == parse_config("portals: [1]\ndeals: {enabled: false}")
    assert SyncConfig(portals=(1,)).deals.enabled is False


def test_the_default_deal_mappings_are_those_of_the_issue_all_two_way():
    assert {m.hubspot: m.opportunity for m in DEFAULT_DEAL_MAPPINGS} == {
        "dealname": "Name",
        "amount": "Amount",
        "closedate": "CloseDate",
        "description": "Description",
        "dealtype": "Type",
    }
    assert {m.rule for m in DEFAULT_DEAL_MAPPINGS} == {SyncRule.TWO_WAY}


def test_the_default_stages_map_the_standard_sales_process_onto_the_default_pipeline():
    by_stage = {m.salesforce: m.stage for m in DEFAULT_STAGE_MAPPINGS}
    assert by_stage["Closed Won"] == "closedwon"
    assert by_stage["Closed Lost"] == "closedlost"
    assert by_stage["Prospecting"] == "appointmentscheduled"
    assert {m.pipeline for m in DEFAULT_STAGE_MAPPINGS} == {"default"}
    assert {m.record_type for m in DEFAULT_STAGE_MAPPINGS} == {None}


def test_deal_settings_take_their_values():
    config = parse_config(
        "portals: [1]\naccounts: {enabled: true}\n"
        "deals:\n"
        "  enabled: true\n"
        "  opportunities_to_hubspot: do_nothing\n"
        "  deals_to_salesforce: do_nothing\n"
        "  pipelines:\n"
        "    - {salesforce: Closed Won, pipeline: default, stage: closedwon}\n"
        "    - {salesforce: Closed Won, record_type: Renewal, pipeline: '77', stage: won}\n"
        "deal_mappings:\n"
        "  - {hubspot: dealname, opportunity: Name}\n"
        "  - {hubspot: closedate, opportunity: CloseDate, rule: always_salesforce}\n"
        "  - {hubspot: amount, opportunity: Amount, rule: prefer_salesforce_unless_blank}\n"
        "lifecycle: {automatic_transitions: false, sync_to_company_contacts: true}\n"
    )
    assert config.deals.enabled is True
    assert (config.deals.opportunities_to_hubspot, config.deals.deals_to_salesforce) == (
        "do_nothing",
        "do_nothing",
    )
    assert config.deals.pipelines[1] == StageMapping(
        salesforce="Closed Won", record_type="Renewal", pipeline="77", stage="won"
    )
    assert [m.rule for m in config.deal_mappings] == [
        SyncRule.TWO_WAY,
        SyncRule.ALWAYS_SALESFORCE,
        SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
    ]
    assert (config.lifecycle.automatic_transitions, config.lifecycle.sync_to_company_contacts) == (
        False,
        True,
    )


_NAME_AND_DATE = "{hubspot: dealname, opportunity: Name}, {hubspot: closedate, opportunity: CloseDate}"


@pytest.mark.parametrize(
    ("mappings", "problem"),
    [
        ("[{hubspot: closedate, opportunity: CloseDate}]", "Opportunity's Name is required"),
        ("[{hubspot: dealname, opportunity: Name}]", "Opportunity's CloseDate is required"),
        (
            "[{hubspot: dealname, opportunity: Name, rule: dont_sync}, "
            "{hubspot: closedate, opportunity: CloseDate}]",
            "Opportunity's Name is required",
        ),
        (f"[{_NAME_AND_DATE}, {{hubspot: dealname, opportunity: NextStep}}]", "mapped twice"),
        (f"[{_NAME_AND_DATE}, {{hubspot: title, opportunity: name}}]", "mapped twice"),
        (f"[{_NAME_AND_DATE}, {{hubspot: dealstage, opportunity: Stage__c}}]", "cannot be mapped"),
        (f"[{_NAME_AND_DATE}, {{hubspot: pipeline, opportunity: Pipe__c}}]", "cannot be mapped"),
        (f"[{_NAME_AND_DATE}, {{hubspot: hubspot_owner_id, opportunity: Owner__c}}]", "owners"),
        (f"[{_NAME_AND_DATE}, {{hubspot: stage, opportunity: stagename}}]", "cannot be mapped"),
        (f"[{_NAME_AND_DATE}, {{hubspot: account, opportunity: AccountId}}]", "cannot be mapped"),
        (f"[{_NAME_AND_DATE}, {{hubspot: won, opportunity: IsWon}}]", "cannot be mapped"),
        ("[{hubspot: dealname}]", "deal_mappings.0.opportunity"),
        ("[]", "deal_mappings"),
    ],
)
def test_invalid_deal_mappings_say_why(mappings, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_config(f"portals: [1]\ndeal_mappings: {mappings}")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("deals: {enabled: 'true'}", "deals.enabled"),
        ("deals: {enabled: 1}", "deals.enabled"),
        ("deals: {sync: true}", "deals.sync"),
        ("deals: {opportunities_to_hubspot: always}", "deals.opportunities_to_hubspot"),
        ("deals: {deals_to_salesforce: create}", "deals.deals_to_salesforce"),
        ("deals: {pipelines: []}", "deals.pipelines"),
        ("deals: {pipelines: [{salesforce: Closed Won, pipeline: default}]}", "deals.pipelines.0.stage"),
        (
            "deals: {pipelines: [{salesforce: '', pipeline: default, stage: x}]}",
            "deals.pipelines.0.salesforce",
        ),
        ("lifecycle: {automatic_transitions: 'yes'}", "lifecycle.automatic_transitions"),
        ("lifecycle: {sync_to_company_contacts: 1}", "lifecycle.sync_to_company_contacts"),
        ("lifecycle: {backwards: true}", "lifecycle.backwards"),
    ],
)
def test_invalid_deal_settings_say_where(text, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        parse_config(f"portals: [1]\n{text}")


def test_a_salesforce_stage_is_mapped_once_per_record_type():
    twice = (
        "deals: {pipelines: [{salesforce: Closed Won, pipeline: default, stage: closedwon}, "
        "{salesforce: Closed Won, pipeline: default, stage: contractsent}]}"
    )
    with pytest.raises(ConfigError, match="'Closed Won' is mapped twice"):
        parse_config(f"portals: [1]\n{twice}")
    of_a_type = (
        "deals: {pipelines: [{salesforce: Closed Won, record_type: A, pipeline: default, stage: closedwon}, "
        "{salesforce: Closed Won, record_type: A, pipeline: default, stage: contractsent}]}"
    )
    with pytest.raises(ConfigError, match="of record type 'A' is mapped twice"):
        parse_config(f"portals: [1]\n{of_a_type}")


def test_the_json_schema_describes_the_deal_settings():
    schema = json_schema()
    assert {"deals", "deal_mappings", "lifecycle"} <= set(schema["properties"])
    definitions = schema["$defs"]
    assert definitions["DealsSettings"]["properties"]["enabled"]["default"] is False
    assert set(definitions["DealMapping"]["required"]) == {"hubspot", "opportunity"}
    assert set(definitions["StageMapping"]["required"]) == {"salesforce", "pipeline", "stage"}
    assert definitions["DealsSettings"]["properties"]["deals_to_salesforce"]["enum"] == [
        "create_or_update",
        "do_nothing",
    ]
    assert definitions["LifecycleSettings"]["properties"]["sync_to_company_contacts"]["default"] is False
