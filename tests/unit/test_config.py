"""The sync configuration: defaults, the mandatory opt-out mapping, warnings, and clear errors."""

from __future__ import annotations

import re
import time
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


# -- strict types: YAML's value is the value (issue 11) ----------------------------------------------
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: true\nportals: [1]", "version: Value error, the version is the number 1 (given: True)"),
        ("version: 1.0\nportals: [1]", "version: Value error, the version is the number 1 (given: 1.0)"),
        ('version: "1"\nportals: [1]', "version: Value error, the version is the number 1 (given: '1')"),
        ('portals: [true, "12"]', "portals.0: Input should be a valid integer (given: True)"),
        ('portals: [true, "12"]', "portals.1: Input should be a valid integer (given: '12')"),
        ("portals: [12.0]", "portals.0: Input should be a valid integer (given: 12.0)"),
        ("portals: [0]", "portals.0: Input should be greater than 0 (given: 0)"),
        (
            "portals: [1]\ncreation: {assignment_rules: 'yes'}",
            "creation.assignment_rules: Input should be a valid boolean",
        ),
        (
            "portals: [1]\ncreation: {assignment_rules: 1}",
            "creation.assignment_rules: Input should be a valid boolean",
        ),
        (
            "portals: [1]\ninclusion: {list_id: !!binary MTI=}",
            "inclusion.list_id: Input should be a valid string",
        ),
        ("portals: [1]\ncontact_mappings: [{hubspot: 12, lead: Email}]", "contact_mappings.0.hubspot"),
    ],
)
def test_lax_coercions_are_refused_with_the_value_given(text, problem):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert problem in str(info.value)
    assert "should have at least 1 item" not in str(info.value)  # a list emptied by refused items


def test_the_configuration_schema_says_integers_and_a_constant_version():
    properties = json_schema()["properties"]
    assert properties["version"]["const"] == 1
    assert properties["portals"]["items"] == {"type": "integer", "exclusiveMinimum": 0}


# -- bombs: bounded before or while reading the YAML -------------------------------------------------
LAUGHS = "".join(
    f"l{n}: &l{n} [{', '.join([f'*l{n - 1}' if n else 'lol'] * 10)}]\n" for n in range(9)
)  # 1 KB standing for a billion values


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("portals: " + "[" * 600 + "1" + "]" * 600, "nested more than 20 levels deep (line 1, column 29)"),
        (
            "portals: [1]\nx:\n" + "".join("  " * (n + 1) + f"k{n}:\n" for n in range(30)),
            "nested more than 20 levels deep (line 21,",
        ),
        ("portals: [1]\n" + LAUGHS, "more than 10,000 values with its aliases expanded"),
        (
            "portals: [1]\nloop: &loop [1, *loop]",
            "the alias *loop (line 2, column 17) refers to a node that contains it",
        ),
        ("portals: [1]\ncomment: '" + "x" * 70_000 + "'", "70,024 bytes; at most 65,536 are accepted"),
    ],
    ids=["deep-flow", "deep-block", "billion-laughs", "recursive-alias", "too-large"],
)
def test_yaml_bombs_are_refused_naming_the_bound(text, problem):
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="configuration refused") as info:
        parse_config(text)
    assert problem in str(info.value)
    assert time.perf_counter() - started < 2.0


def test_anchors_and_aliases_within_the_bounds_still_work():
    config = parse_config(
        "portals: [1]\n"
        "contact_mappings:\n"
        "  - &email {hubspot: email, lead: Email, contact: Email, rule: prefer_salesforce_unless_blank}\n"
        "  - {<<: *email, hubspot: phone, lead: Phone, contact: Phone}\n"
    )
    assert [(m.hubspot, m.lead, m.rule) for m in config.contact_mappings] == [
        ("email", "Email", SyncRule.PREFER_SALESFORCE_UNLESS_BLANK),
        ("phone", "Phone", SyncRule.PREFER_SALESFORCE_UNLESS_BLANK),
    ]


# -- every configuration the repository shows still parses ------------------------------------------
def _yaml_examples() -> list[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", readme, re.S | re.M)
    files = sorted((ROOT / "config").glob("*.y*ml"))
    return [(f"README.md yaml block {n + 1}", b) for n, b in enumerate(blocks)] + [
        (str(f.relative_to(ROOT)), f.read_text(encoding="utf-8")) for f in files
    ]


def test_the_repository_shows_configurations():
    names = [name for name, _ in _yaml_examples()]
    assert "config/demo.yaml" in names
    assert any(name.startswith("README.md") for name in names)


@pytest.mark.parametrize(("name", "text"), _yaml_examples(), ids=[name for name, _ in _yaml_examples()])
def test_every_configuration_of_the_readme_and_config_parses(name, text):
    assert parse_config(text).version == 1


def test_creation_settings_per_portal_replace_creation_for_that_portal():
    config = parse_config(
        "portals: [1, 2]\ncreation: {salesforce_to_hubspot: do_nothing}\n"
        "portal_creation:\n  2: {salesforce_to_hubspot: create_or_update, hubspot_to_salesforce: contact}\n"
    )
    assert config.creation_of(1).salesforce_to_hubspot == "do_nothing"
    assert config.creation_of("2").salesforce_to_hubspot == "create_or_update"
    assert config.for_portal(2).creation.hubspot_to_salesforce == "contact"
    assert config.for_portal(1).creation == config.creation
    (warning,) = config.warnings()  # portal 2 creates contacts for the other portal's leads
    assert "do_nothing" in warning
    every_portal_safe = parse_config(
        "portals: [1, 2]\nportal_creation:\n  1: {salesforce_to_hubspot: do_nothing}\n"
        "  2: {salesforce_to_hubspot: do_nothing}\n"
    )
    assert every_portal_safe.warnings() == []


def test_creation_settings_of_a_portal_not_synced_are_refused():
    with pytest.raises(ConfigError, match="portal_creation"):
        parse_config("portals: [1]\nportal_creation:\n  3: {salesforce_to_hubspot: do_nothing}\n")
