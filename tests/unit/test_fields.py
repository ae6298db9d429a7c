"""Field values of the contact mappings: the values a created record starts with, and how values
are compared and written where a side does not describe its field."""

from __future__ import annotations

from typing import Any

import pytest

from shared.config import OPT_OUT_SALESFORCE, FieldMapping, SyncConfig, SyncRule
from shared.pipeline.convert import INVALID_OPTION, INVALID_TYPE_ON_FIELD_IN_RECORD, STRING_TOO_LONG
from shared.pipeline.fields import (
    NOT_PROVIDED,
    ContactFields,
    FieldTypes,
    Refused,
    comparable,
    creation_values_for_hubspot,
    creation_values_for_salesforce,
)

FIELDS = ContactFields.from_config(
    SyncConfig(
        portals=(1,),
        contact_mappings=(
            FieldMapping(hubspot="email", lead="Email", contact="Email"),
            FieldMapping(hubspot="firstname", lead="FirstName", contact="FirstName"),
            FieldMapping(hubspot="company", lead="Company"),
            FieldMapping(
                hubspot="score", lead="Score__c", contact="Score__c", rule=SyncRule.ALWAYS_SALESFORCE
            ),
            FieldMapping(hubspot="region", lead="Region__c", contact="Region__c", rule=SyncRule.DONT_SYNC),
            FieldMapping(hubspot="legacy", lead="Legacy__c", contact="Legacy__c"),  # not in this org
        ),
    )
)
DESCRIBED: dict[str, dict[str, Any]] = {
    "email": {"name": "Email", "type": "email"},
    "firstname": {"name": "FirstName", "type": "string", "length": 5},
    "company": {"name": "Company", "type": "string"},
    "lastname": {"name": "LastName", "type": "string"},
    "score__c": {"name": "Score__c", "type": "double", "precision": 5, "scale": 1},
    "region__c": {"name": "Region__c", "type": "string"},
}
TYPES = FieldTypes(
    {
        "score": {"name": "score", "type": "number", "fieldType": "number"},
        "firstname": {
            "name": "firstname",
            "type": "enumeration",
            "fieldType": "select",
            "options": [{"value": "Ada"}],
        },
    },
    {"Lead": DESCRIBED, "Contact": DESCRIBED},
)


def test_mappings_are_spelled_as_the_describe_spells_their_salesforce_fields():
    configured = ContactFields(
        (
            FieldMapping(hubspot="email", lead="EMAIL", contact="email"),
            FieldMapping(hubspot="score", lead="score__C"),
            FieldMapping(hubspot="legacy", lead="legacy__c", contact="Legacy__c"),  # not in this org
        )
    )
    spelled = configured.spelled_as_described(TYPES)
    assert [(m.hubspot, m.lead, m.contact) for m in spelled.mappings] == [
        ("email", "Email", "Email"),
        ("score", "Score__c", None),
        ("legacy", "legacy__c", "Legacy__c"),
    ]
    assert spelled.salesforce_fields("Lead").count("Email") == 1
    assert configured.spelled_as_described(FieldTypes.untyped()) == configured  # nothing described


def test_a_record_created_from_hubspot_starts_from_every_synced_hubspot_value():
    values, refused = creation_values_for_salesforce(
        FIELDS,
        TYPES,
        "Lead",
        {"email": "ada@example.com", "firstname": "Ada", "score": "12.34", "region": "EMEA", "legacy": "x"},
        "[not provided]",
    )
    # an always-Salesforce field too (a new record has no Salesforce value to prefer); not the
    # dont-sync one, nor a field the org lacks
    assert values == {
        "Email": "ada@example.com",
        "FirstName": "Ada",
        "Score__c": 12.3,
        "LastName": NOT_PROVIDED,
        "Company": "[not provided]",
    }
    assert refused == []


def test_a_record_created_from_hubspot_leaves_out_blanks_and_refused_values():
    values, refused = creation_values_for_salesforce(
        FIELDS,
        TYPES,
        "Contact",
        {"email": "  ", "firstname": "Adelaide", "score": "many", "hs_email_optout": "true"},
        None,
    )
    assert values == {OPT_OUT_SALESFORCE: True, "LastName": NOT_PROVIDED}  # a Contact has no Company
    assert [(r.prop, r.field, r.code) for r in refused] == [
        ("firstname", "FirstName", STRING_TOO_LONG),
        ("score", "Score__c", INVALID_TYPE_ON_FIELD_IN_RECORD),
    ]


def test_a_lead_keeps_its_company_and_has_none_with_person_accounts():
    properties = {"email": "a@example.com", "company": "Acme", "firstname": ""}
    assert creation_values_for_salesforce(FIELDS, TYPES, "Lead", properties, "[nc]")[0]["Company"] == "Acme"
    values, _ = creation_values_for_salesforce(FIELDS, TYPES, "Lead", {"email": "a@example.com"}, None)
    assert "Company" not in values


def test_a_contact_created_from_salesforce_takes_every_synced_value_the_portal_accepts():
    values, refused = creation_values_for_hubspot(
        FIELDS,
        TYPES,
        "Lead",
        {
            "Email": " Ada@Example.com",
            "FirstName": "Grace",
            "Score__c": 12.0,
            "Region__c": "EMEA",
            "Company": "",
        },
    )
    assert values == {"email": "ada@example.com", "score": "12"}
    assert refused == [Refused("firstname", "FirstName", INVALID_OPTION, refused[0].message)]
    assert "not one of the options" in refused[0].message


@pytest.mark.parametrize(
    ("prop", "value", "expected"),
    [
        ("email", "  ", None),
        ("email", True, "true"),
        ("email", " A@B.com", "a@b.com"),
        ("x", False, "false"),
        ("x", 1.5, "1.5"),
        ("x", " a ", " a "),
    ],
)
def test_an_undescribed_field_is_written_to_hubspot_as_text(prop, value, expected):
    assert FieldTypes.untyped().to_hubspot(prop, "Lead", "Anything", value) == expected


@pytest.mark.parametrize(
    ("prop", "value", "expected"),
    [
        ("email", " A@B.com ", "a@b.com"),
        ("x", True, "true"),
        ("x", "  ", None),
        ("x", None, None),
        ("x", " a ", " a "),
    ],
)
def test_comparable(prop, value, expected):
    assert comparable(prop, value) == expected
