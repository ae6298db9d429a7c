"""The account sync settings: off by default, company mappings with their defaults and checks,
the creation and delete settings of companies and Accounts."""

from __future__ import annotations

import pytest

from shared.config import (
    DEFAULT_COMPANY_MAPPINGS,
    ConfigError,
    SyncConfig,
    SyncRule,
    json_schema,
    parse_config,
)


def test_account_sync_is_off_by_default_and_its_settings_have_defaults():
    config = parse_config("portals: [1]")
    assert config.accounts.enabled is False
    assert config.company_mappings == DEFAULT_COMPANY_MAPPINGS
    assert config.creation.companies_to_salesforce == "create_or_update"
    assert config.creation.accounts_to_hubspot == "create_or_update"
    assert config.deletes.salesforce_account_delete == "keep"
    assert config.warnings() == []


def test_the_default_company_mappings_are_those_of_the_issue_all_two_way():
    by_property = {m.hubspot: m.account for m in DEFAULT_COMPANY_MAPPINGS}
    assert by_property == {
        "name": "Name",
        "domain": "Website",
        "phone": "Phone",
        "address": "BillingStreet",
        "city": "BillingCity",
        "state": "BillingState",
        "zip": "BillingPostalCode",
        "country": "BillingCountry",
        "industry": "Industry",
        "annualrevenue": "AnnualRevenue",
        "numberofemployees": "NumberOfEmployees",
    }
    assert {m.rule for m in DEFAULT_COMPANY_MAPPINGS} == {SyncRule.TWO_WAY}


def test_company_mappings_take_every_rule_and_custom_fields():
    config = parse_config(
        "portals: [1]\naccounts: {enabled: true}\ncreation: {hubspot_to_salesforce: contact}\n"
        "company_mappings:\n"
        "  - {hubspot: name, account: Name, rule: prefer_salesforce_unless_blank}\n"
        "  - {hubspot: domain, account: Website, rule: always_salesforce}\n"
        "  - {hubspot: tier, account: Tier__c}\n"
        "  - {hubspot: phone, account: Phone, rule: dont_sync}\n"
    )
    assert config.accounts.enabled is True
    assert [m.rule for m in config.company_mappings] == [
        SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
        SyncRule.ALWAYS_SALESFORCE,
        SyncRule.TWO_WAY,
        SyncRule.DONT_SYNC,
    ]
    assert config.warnings() == []


@pytest.mark.parametrize(
    ("mappings", "problem"),
    [
        ("[{hubspot: domain, account: Website}]", "Account's Name is required"),
        ("[{hubspot: name, account: Name, rule: dont_sync}]", "Account's Name is required"),
        ("[{hubspot: name, account: Name}, {hubspot: name, account: Site}]", "mapped twice"),
        ("[{hubspot: name, account: Name}, {hubspot: title, account: name}]", "mapped twice"),
        ("[{hubspot: name, account: Name}, {hubspot: hubspot_owner_id, account: Owner__c}]", "owners"),
        ("[{hubspot: name, account: Name}, {hubspot: owner, account: ownerid}]", "owners"),
        ("[{hubspot: name, account: Name}, {hubspot: person, account: IsPersonAccount}]", "cannot be mapped"),
        ("[{hubspot: name, account: Name, lead: Company}]", "company_mappings.0.lead"),
        ("[{hubspot: name}]", "company_mappings.0.account"),
        ("[]", "company_mappings"),
    ],
)
def test_invalid_company_mappings_say_why(mappings, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_config(f"portals: [1]\ncompany_mappings: {mappings}")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("accounts: {enabled: 'true'}", "accounts.enabled"),
        ("accounts: {enabled: 1}", "accounts.enabled"),
        ("accounts: {sync: true}", "accounts.sync"),
        ("creation: {companies_to_salesforce: always}", "creation.companies_to_salesforce"),
        ("creation: {accounts_to_hubspot: create}", "creation.accounts_to_hubspot"),
        ("deletes: {salesforce_account_delete: delete}", "deletes.salesforce_account_delete"),
    ],
)
def test_invalid_account_settings_say_where(text, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        parse_config(f"portals: [1]\n{text}")


def test_account_sync_with_new_contacts_as_leads_is_valid_without_a_warning():
    # a Lead has no Account: its company's Account is linked once it is converted (README)
    config = parse_config("portals: [1]\naccounts: {enabled: true}")
    assert config.creation.hubspot_to_salesforce == "lead"
    assert config.warnings() == []


def test_the_delete_and_creation_settings_take_their_values():
    config = parse_config(
        "portals: [1]\ncreation: {companies_to_salesforce: do_nothing, accounts_to_hubspot: do_nothing}\n"
        "deletes: {salesforce_account_delete: archive}"
    )
    assert (config.creation.companies_to_salesforce, config.creation.accounts_to_hubspot) == (
        "do_nothing",
        "do_nothing",
    )
    assert config.deletes.salesforce_account_delete == "archive"


def test_the_json_schema_describes_the_account_settings():
    schema = json_schema()
    properties = schema["properties"]
    assert {"accounts", "company_mappings"} <= set(properties)
    definitions = schema["$defs"]
    assert definitions["AccountsSettings"]["properties"]["enabled"]["default"] is False
    assert set(definitions["CompanyMapping"]["required"]) == {"hubspot", "account"}
    assert definitions["Deletes"]["properties"]["salesforce_account_delete"]["enum"] == ["keep", "archive"]
    assert definitions["Creation"]["properties"]["accounts_to_hubspot"]["enum"] == [
        "create_or_update",
        "do_nothing",
    ]


def test_a_configuration_without_account_settings_equals_one_with_them_off():
    plain = parse_config("portals: [1]")
    explicit = parse_config("portals: [1]\naccounts: {enabled: false}")
    assert plain == explicit
    assert SyncConfig(portals=(1,)).accounts.enabled is False
