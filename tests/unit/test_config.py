"""The sync configuration: defaults, the mandatory opt-out mapping, warnings, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import (
    DEFAULT_CONTACT_MAPPINGS,
    ConfigError,
    SyncRule,
    json_schema,
    parse_config,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_configuration_shows_an_inclusion_list_lifecycle_and_every_rule():
    config = parse_config((ROOT / "config" / "demo.yaml").read_text())
    assert config.portals == (1000001,)
    assert config.inclusion.preset == "everyone_except_subscribers"
    by_property = {m.hubspot: m for m in config.contact_mappings}
    assert by_property["lifecyclestage"].lead == "Lifecycle_Stage__c"
    assert {m.rule for m in config.contact_mappings} == set(SyncRule)
    assert {m.hubspot for m in DEFAULT_CONTACT_MAPPINGS} <= set(by_property)
    assert config.warnings() == []


@pytest.mark.parametrize(
    ("inclusion", "problem"),
    [
        ("{list_id: '12', preset: everyone_except_subscribers}", "choose one of"),
        ("{list_id: 'twelve'}", "list_id"),
    ],
)
def test_an_inclusion_list_is_one_kind_and_a_list_id_is_numeric(inclusion, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_config(f"portals: [1]\ninclusion: {inclusion}")


def test_company_text_maps_to_the_lead_company_only():
    with pytest.raises(ConfigError, match=r"Lead\.Company"):
        parse_config(
            "portals: [1]\ncontact_mappings:\n  - {hubspot: email, lead: Email, contact: Email}\n"
            "  - {hubspot: company, lead: Company, contact: Department}"
        )


def test_defaults_sync_every_contact_both_ways_and_create_leads():
    config = parse_config("portals: [1]")
    assert config.inclusion.property_filters == ()
    assert config.inclusion.preset is None
    assert config.creation.hubspot_to_salesforce == "lead"
    assert all(m.rule is SyncRule.TWO_WAY for m in config.contact_mappings)
    by_property = {m.hubspot: m for m in config.contact_mappings}
    assert (by_property["company"].lead, by_property["company"].contact) == ("Company", None)
    assert by_property["address"].contact == "MailingStreet"


@pytest.mark.parametrize(
    "mapping",
    [
        "{hubspot: hs_email_optout, lead: HasOptedOutOfEmail}",
        "{hubspot: my_optout, contact: HasOptedOutOfEmail, rule: dont_sync}",
        # Salesforce field names are case-insensitive: any letter case names the opt-out (issue 11)
        "{hubspot: my_flag, lead: hasoptedoutofemail, contact: HASOPTEDOUTOFEMAIL}",
        "{hubspot: my_flag, contact: hasOptedOutOfEmail}",
        "{hubspot: my_flag, lead: HASOPTEDOUTOFEMAIL}",
    ],
)
def test_the_opt_out_mapping_cannot_be_redefined(mapping):
    with pytest.raises(ConfigError, match=r"opt-out mapping .* is mandatory"):
        parse_config(f"portals: [1]\ncontact_mappings:\n  - {{hubspot: email, lead: Email}}\n  - {mapping}\n")


def test_hubspot_property_names_are_case_sensitive_salesforce_field_names_are_not():
    # HS_EMAIL_OPTOUT is another (custom) HubSpot property; Lead.company is Lead.Company
    config = parse_config(
        "portals: [1]\ncontact_mappings:\n  - {hubspot: email, lead: email}\n"
        "  - {hubspot: HS_EMAIL_OPTOUT, lead: Legacy_Optout__c}\n  - {hubspot: company, lead: company}\n"
    )
    assert [m.lead for m in config.contact_mappings] == ["email", "Legacy_Optout__c", "company"]


def test_several_portals_with_automatic_creation_is_accepted_with_a_warning():
    risky = parse_config("portals: [1, 2]")
    (warning,) = risky.warnings()
    assert "do_nothing" in warning
    safe = parse_config("portals: [1, 2]\ncreation: {salesforce_to_hubspot: do_nothing}")
    assert safe.warnings() == []


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("portals: []", "portals"),
        ("portals: [1, 1]", "portals"),
        ("portals: [1]\ncreation: {hubspot_to_salesforce: account}", "creation.hubspot_to_salesforce"),
        (
            "portals: [1]\ninclusion:\n  preset: everyone\n"
            "  property_filters: [{property: a, operator: HAS_PROPERTY}]",
            "inclusion",
        ),
        ("portals: [1]\ncontact_mappings: [{hubspot: email}]", "contact_mappings.0"),
        ("portals: [1]\ncontact_mappings: [{hubspot: phone, lead: Phone}]", "email mapping is required"),
        ("portals: [1]\ncolour: blue", "colour"),
        ("portals: [1]\ncontact_mappings: [{hubspot: email, lead: Email, rule: sometimes}]", "rule"),
    ],
)
def test_invalid_configurations_say_where(text, where):
    with pytest.raises(ConfigError, match="invalid sync configuration") as info:
        parse_config(text)
    assert where in str(info.value)


def test_non_mapping_yaml_is_refused():
    with pytest.raises(ConfigError, match="mapping"):
        parse_config("- just\n- a list")
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config("portals: [1\n")


def test_json_schema_describes_the_rules():
    schema = json_schema()
    assert schema["title"] == "SyncConfig"
    assert set(schema["$defs"]["SyncRule"]["enum"]) == {r.value for r in SyncRule}
