"""Field value conversion between HubSpot properties and Salesforce fields, driven by their metadata.

The metadata comes from the sandbox's own answers (its ``describe`` and its properties API JSON) and
from HubSpot's documented example, so the parsers are checked against the shapes the real APIs serve.
Converted values are also fed back into the emulators' value rules: a value we write must be stored
unchanged (else every write would come back as a change that is not an echo).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from infra.sandbox.hubspot.properties import default_definitions, definition_from_input, normalize_value
from infra.sandbox.salesforce import ids
from infra.sandbox.salesforce.schema import DEFAULT_CUSTOM_FIELDS, RecordTypes, Schema
from infra.sandbox.salesforce.store import Store
from infra.sandbox.salesforce.values import coerce
from shared.pipeline.convert import (
    INVALID_DATE,
    INVALID_OPTION,
    INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
    INVALID_TYPE_ON_FIELD_IN_RECORD,
    NUMBER_OUTSIDE_VALID_RANGE,
    STRING_TOO_LONG,
    ConversionError,
    HubSpotPropertyType,
    SalesforceFieldType,
    canonical,
    to_hubspot,
    to_salesforce,
    value_kind,
)

# -- metadata as the sandbox serves it ----------------------------------------------------------
CUSTOM_FIELDS = (
    *DEFAULT_CUSTOM_FIELDS,
    {"object": "Lead", "name": "Interests__c", "type": "multipicklist", "restricted": True,
     "values": ["Cloud", "Data", "Security"]},
    {"object": "Lead", "name": "Tags__c", "type": "multipicklist", "values": ["alpha", "beta"]},
    {"object": "Lead", "name": "Region__c", "type": "picklist", "values": ["EMEA", "APAC", "Americas"]},
    {"object": "Lead", "name": "Score__c", "type": "double"},
    {"object": "Lead", "name": "Birthday__c", "type": "date"},
    {"object": "Lead", "name": "Renewal_At__c", "type": "datetime"},
    {"object": "Lead", "name": "Is_Vip__c", "type": "boolean"},
    {"object": "Lead", "name": "Note__c", "type": "string", "length": 10},
)  # fmt: skip
SCHEMA = Schema(
    person_accounts=False,
    custom_fields=CUSTOM_FIELDS,
    record_types=RecordTypes(ids.make_id("012", 1), ids.make_id("012", 2)),
)


def _describe(sobject: str) -> dict[str, dict[str, Any]]:
    obj = SCHEMA.get(sobject)
    assert obj is not None
    return {f["name"]: f for f in obj.describe("59.0")["fields"]}


DESCRIBE = {name: _describe(name) for name in ("Lead", "Opportunity")}


def sf(ref: str) -> SalesforceFieldType:
    """``"Title"`` (a Lead field) or ``"Opportunity.Amount"``."""
    sobject, _, name = ref.rpartition(".")
    return SalesforceFieldType.from_describe(DESCRIBE[sobject or "Lead"][name])


NOW = dt.datetime(2024, 1, 31, tzinfo=dt.UTC)
HS_CUSTOM = (
    {"name": "score", "label": "Score", "type": "number", "fieldType": "number"},
    {"name": "birthday", "label": "Birthday", "type": "date", "fieldType": "date"},
    {"name": "renewal_at", "label": "Renewal at", "type": "datetime", "fieldType": "date"},
    {"name": "is_vip", "label": "VIP", "type": "bool", "fieldType": "booleancheckbox",
     "options": [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]},
    {"name": "vip_flag", "label": "VIP flag", "type": "enumeration", "fieldType": "booleancheckbox",
     "options": [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]},
    {"name": "interests", "label": "Interests", "type": "enumeration", "fieldType": "checkbox",
     "options": [{"label": "Cloud", "value": "cloud"}, {"label": "Data", "value": "data"},
                 {"label": "Security", "value": "security"}]},
    {"name": "region", "label": "Region", "type": "enumeration", "fieldType": "select",
     "options": [{"label": "EMEA", "value": "EMEA"}, {"label": "APAC", "value": "APAC"},
                 {"label": "Americas", "value": "AMERICAS"}]},
)  # fmt: skip
HS_DEFINITIONS = dict(default_definitions()["contacts"])
for _body in HS_CUSTOM:
    _definition = definition_from_input({**_body, "groupName": "contactinformation"}, NOW)
    assert not isinstance(_definition, str), _definition
    HS_DEFINITIONS[_definition.name] = _definition
HS_JSON = {name: d.to_json() for name, d in HS_DEFINITIONS.items()}


def hs(name: str | None) -> HubSpotPropertyType | None:
    return None if name is None else HubSpotPropertyType.from_api(HS_JSON[name])


def _hs(name: str) -> HubSpotPropertyType:
    prop = hs(name)
    assert prop is not None
    return prop


def sf_value(value: Any, prop: str | None, field: str) -> Any:
    return to_salesforce(value, hs(prop), sf(field))


def hs_value(value: Any, field: str, prop: str | None) -> str | None:
    return to_hubspot(value, sf(field), hs(prop))


# -- parsing metadata -----------------------------------------------------------------------------
class TestFromApi:
    def test_enumeration_radio_with_its_option_values(self):
        prop = _hs("lifecyclestage")
        assert (prop.name, prop.type, prop.field_type) == ("lifecyclestage", "enumeration", "radio")
        assert prop.options[:2] == ("subscriber", "lead")  # values, not the labels "Subscriber", "Lead"
        assert len(prop.options) == 8
        assert prop.read_only is False
        assert prop.multiple is False
        assert prop.label == "Lifecycle Stage"

    def test_read_only_value_comes_from_modification_metadata(self):
        prop = _hs("hs_email_optout")
        assert (prop.type, prop.field_type, prop.read_only) == ("bool", "booleancheckbox", True)
        assert prop.options == ("true", "false")
        assert _hs("createdate").read_only is True
        assert _hs("firstname").read_only is False

    def test_multiple_checkboxes_and_text(self):
        assert _hs("interests").multiple is True
        assert _hs("interests").options == ("cloud", "data", "security")
        first = _hs("firstname")
        assert (first.type, first.field_type, first.options, first.multiple) == ("string", "text", (), False)
        assert _hs("phone").field_type == "phonenumber"

    def test_hubspot_documented_example(self):
        # GET /crm/v3/properties/{objectType} -> results[0], as HubSpot's API reference shows it
        data = {
            "displayOrder": 2,
            "fieldType": "select",
            "formField": True,
            "groupName": "contactinformation",
            "hasUniqueValue": False,
            "hidden": False,
            "label": "My Contact Property",
            "modificationMetadata": {
                "archivable": True,
                "readOnlyDefinition": False,
                "readOnlyOptions": False,
                "readOnlyValue": False,
            },
            "name": "my_contact_property",
            "options": [
                {
                    "description": "Choice number one",
                    "displayOrder": 1,
                    "hidden": False,
                    "label": "Option A",
                    "value": "A",
                },
                {
                    "description": "Choice number two",
                    "displayOrder": 2,
                    "hidden": False,
                    "label": "Option B",
                    "value": "B",
                },
            ],
            "type": "enumeration",
        }
        assert HubSpotPropertyType.from_api(data) == HubSpotPropertyType(
            name="my_contact_property",
            type="enumeration",
            field_type="select",
            options=("A", "B"),
            read_only=False,
            label="My Contact Property",
        )

    def test_read_only_defaults_to_false_without_metadata(self):
        prop = HubSpotPropertyType.from_api({"name": "x", "type": "string", "fieldType": "text"})
        assert prop.read_only is False
        assert prop.options == ()

    @pytest.mark.parametrize("data", [{"type": "string"}, {"name": "x"}, {"name": "", "type": "string"}])
    def test_missing_name_or_type_is_refused(self, data):
        with pytest.raises(ValueError, match="HubSpot property"):
            HubSpotPropertyType.from_api(data)


class TestFromDescribe:
    def test_picklist(self):
        industry = sf("Industry")
        assert (industry.type, industry.length, industry.restricted_picklist) == ("picklist", 255, False)
        assert industry.picklist_values[:3] == ("Agriculture", "Apparel", "Banking")
        assert len(industry.picklist_values) == 32
        assert sf("Lifecycle_Stage__c").restricted_picklist is True

    def test_numbers(self):
        employees = sf("NumberOfEmployees")
        assert (employees.type, employees.digits, employees.precision, employees.scale) == ("int", 9, 0, 0)
        amount = sf("Opportunity.Amount")
        assert (amount.type, amount.precision, amount.scale) == ("currency", 18, 2)
        assert (sf("Opportunity.Probability").precision, sf("Opportunity.Probability").scale) == (3, 0)

    def test_flags_and_lengths(self):
        opt_out = sf("HasOptedOutOfEmail")
        assert (opt_out.type, opt_out.nillable, opt_out.createable, opt_out.updateable) == (
            "boolean",
            False,
            True,
            True,
        )
        converted = sf("IsConverted")
        assert (converted.createable, converted.updateable) == (False, False)
        assert (sf("FirstName").length, sf("Title").length, sf("Email").type) == (40, 128, "email")
        assert sf("Title").label == "Title"

    def test_inactive_picklist_values_are_left_out(self):
        entry = dict(DESCRIBE["Lead"]["LeadSource"])
        entry["picklistValues"] = [
            {**entry["picklistValues"][0], "active": False},  # "Web", deactivated in Setup
            *entry["picklistValues"][1:],
        ]
        source = SalesforceFieldType.from_describe(entry)
        assert "Web" not in source.picklist_values
        assert source.picklist_values[0] == "Phone Inquiry"

    def test_every_field_of_the_lead_describe_parses(self):
        for name, entry in DESCRIBE["Lead"].items():
            parsed = SalesforceFieldType.from_describe(entry)
            assert (parsed.name, parsed.type, parsed.length) == (name, entry["type"], entry["length"])

    def test_missing_name_is_refused(self):
        with pytest.raises(ValueError, match="Salesforce field"):
            SalesforceFieldType.from_describe({"type": "string"})


# -- kinds ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prop", "field", "kind"),
    [
        (None, "HasOptedOutOfEmail", "bool"),
        ("hs_email_optout", "HasOptedOutOfEmail", "bool"),
        ("score", "NumberOfEmployees", "number"),
        ("firstname", "NumberOfEmployees", "number"),  # a typed Salesforce field decides
        ("birthday", "Birthday__c", "date"),
        ("birthday", "Renewal_At__c", "date"),  # a date on either side of a date/datetime pair
        ("renewal_at", "Birthday__c", "date"),
        ("renewal_at", "Renewal_At__c", "datetime"),
        ("lifecyclestage", "Lifecycle_Stage__c", "single"),
        ("interests", "Interests__c", "multi"),
        ("interests", "Region__c", "single"),
        ("firstname", "FirstName", "text"),
        ("phone", "Phone", "text"),
        (None, "Title", "text"),
        ("lifecyclestage", "Title", "single"),  # a text Salesforce field takes the HubSpot type
        ("interests", "Title", "multi"),
        ("is_vip", "Title", "bool"),
        ("vip_flag", "Title", "bool"),
        ("score", "Title", "number"),
        ("birthday", "Title", "date"),
        ("renewal_at", "Title", "datetime"),
    ],
)
def test_value_kind(prop, field, kind):
    assert value_kind(hs(prop), sf(field)) == kind


# -- HubSpot -> Salesforce ------------------------------------------------------------------------
TO_SALESFORCE = [
    # text passes unchanged (inner and outer spaces kept)
    ("firstname", "FirstName", "Ada", "Ada"),
    ("jobtitle", "Title", "  Chief  Technology Officer ", "  Chief  Technology Officer "),
    ("phone", "Phone", "+1 (555) 010-0000", "+1 (555) 010-0000"),
    (None, "Title", "CTO", "CTO"),
    # booleans
    ("hs_email_optout", "HasOptedOutOfEmail", "true", True),
    ("hs_email_optout", "HasOptedOutOfEmail", "false", False),
    ("is_vip", "Is_Vip__c", "TRUE", True),
    ("vip_flag", "Is_Vip__c", "false", False),
    ("is_vip", "Title", "true", "true"),
    # numbers: int, double at scale 0, currency at scale 2, percent, rounding half up
    ("score", "NumberOfEmployees", "250", 250),
    ("score", "NumberOfEmployees", "250.0", 250),
    ("score", "NumberOfEmployees", "12.5", 13),
    ("score", "NumberOfEmployees", "-12.5", -13),
    ("score", "NumberOfEmployees", "999999999", 999_999_999),
    ("score", "Score__c", "12.4", 12.0),
    ("score", "Opportunity.Amount", "1234.5", 1234.5),
    ("score", "Opportunity.Amount", "12.345", 12.35),
    ("score", "Opportunity.Amount", "12.344", 12.34),
    ("score", "Opportunity.Amount", "-0.005", -0.01),
    ("score", "Opportunity.Amount", "1e3", 1000.0),
    ("score", "Opportunity.Amount", "9000000000000000", 9e15),  # 16 digits: precision 18 - scale 2
    ("score", "Opportunity.Probability", "12.5", 13.0),
    ("score", "Opportunity.Probability", "999.4", 999.0),
    ("score", "Title", "12.50", "12.5"),
    # dates: ISO, epoch ms at midnight UTC, a datetime's UTC date
    ("birthday", "Birthday__c", "2024-01-31", "2024-01-31"),
    ("birthday", "Birthday__c", "1706659200000", "2024-01-31"),
    ("birthday", "Opportunity.CloseDate", "2024-02-29", "2024-02-29"),
    ("birthday", "Renewal_At__c", "2024-01-31", "2024-01-31T00:00:00.000Z"),
    ("renewal_at", "Birthday__c", "2024-01-31T23:30:00.000Z", "2024-01-31"),
    ("renewal_at", "Birthday__c", "2024-01-31T23:30:00-05:00", "2024-02-01"),
    ("birthday", "Title", "1706659200000", "2024-01-31"),
    # datetimes: ISO with Z or an offset, epoch ms, naive (UTC), microseconds cut to ms
    ("renewal_at", "Renewal_At__c", "2024-01-31T10:00:00.000Z", "2024-01-31T10:00:00.000Z"),
    ("renewal_at", "Renewal_At__c", "1706695200000", "2024-01-31T10:00:00.000Z"),
    ("renewal_at", "Renewal_At__c", "1706695200123", "2024-01-31T10:00:00.123Z"),
    ("renewal_at", "Renewal_At__c", "2024-01-31T05:00:00-05:00", "2024-01-31T10:00:00.000Z"),
    ("renewal_at", "Renewal_At__c", "2024-01-31T19:00:00+09:00", "2024-01-31T10:00:00.000Z"),
    ("renewal_at", "Renewal_At__c", "2024-01-31T10:00:00", "2024-01-31T10:00:00.000Z"),
    ("renewal_at", "Renewal_At__c", "2024-01-31T10:00:00.123999Z", "2024-01-31T10:00:00.123Z"),
    ("renewal_at", "Renewal_At__c", "-86400000", "1969-12-31T00:00:00.000Z"),
    ("renewal_at", "Title", "1706695200000", "2024-01-31T10:00:00.000Z"),
    # picklists: Salesforce's spelling, unknown values only where unrestricted
    ("lifecyclestage", "Lifecycle_Stage__c", "customer", "customer"),
    ("lifecyclestage", "Lifecycle_Stage__c", "Customer", "customer"),
    ("region", "Region__c", "AMERICAS", "Americas"),
    ("region", "Region__c", "LATAM", "LATAM"),
    (None, "Industry", "technology", "Technology"),
    ("lifecyclestage", "Title", "lead", "lead"),
    # multi-select: order kept, duplicates dropped, Salesforce's spelling
    ("interests", "Interests__c", "data;cloud;data", "Data;Cloud"),
    ("interests", "Interests__c", " security ; ;CLOUD", "Security;Cloud"),
    ("interests", "Interests__c", "cloud", "Cloud"),
    ("interests", "Tags__c", "cloud;ALPHA;beta;alpha", "cloud;alpha;beta"),
    ("interests", "Title", "data;cloud;Data", "data;cloud"),
    ("interests", "Interests__c", ";;", None),
]


@pytest.mark.parametrize(("prop", "field", "value", "expected"), TO_SALESFORCE)
def test_to_salesforce(prop, field, value, expected):
    result = sf_value(value, prop, field)
    assert result == expected
    assert type(result) is type(expected)  # True, not "true"; 250, not 250.0; 12.0, not 12


@pytest.mark.parametrize(("prop", "field", "value", "expected"), TO_SALESFORCE)
def test_to_salesforce_values_are_stored_unchanged_by_the_org(prop, field, value, expected):
    """The emulated org accepts every converted value and stores it as we will read it back."""
    result = sf_value(value, prop, field)
    sobject, _, name = field.rpartition(".")
    obj = SCHEMA.get(sobject or "Lead")
    assert obj is not None
    definition = obj.fields[name]
    stored = coerce(definition, result)
    assert Store._check_value(obj, definition, stored) is None
    kind = value_kind(hs(prop), sf(field))
    assert canonical(stored, kind) == canonical(result, kind)


TO_SALESFORCE_ERRORS = [
    ("lifecyclestage", "Lifecycle_Stage__c", "partner", INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST),
    ("interests", "Interests__c", "cloud;gaming", INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST),
    ("firstname", "FirstName", "x" * 41, STRING_TOO_LONG),
    ("jobtitle", "Note__c", "\N{GRINNING FACE}" * 6, STRING_TOO_LONG),  # 6 characters, 12 UTF-16 units
    ("interests", "Note__c", "cloud;data;security", STRING_TOO_LONG),
    ("score", "NumberOfEmployees", "twelve", INVALID_TYPE_ON_FIELD_IN_RECORD),
    ("score", "Opportunity.Amount", "NaN", INVALID_TYPE_ON_FIELD_IN_RECORD),
    ("score", "Opportunity.Amount", "Infinity", INVALID_TYPE_ON_FIELD_IN_RECORD),
    ("score", "Opportunity.Amount", "1,234.50", INVALID_TYPE_ON_FIELD_IN_RECORD),
    ("hs_email_optout", "HasOptedOutOfEmail", "maybe", INVALID_TYPE_ON_FIELD_IN_RECORD),
    ("jobtitle", "Address", "1 Main St", INVALID_TYPE_ON_FIELD_IN_RECORD),  # compound field
    ("score", "NumberOfEmployees", "1000000000", NUMBER_OUTSIDE_VALID_RANGE),  # 10 digits, 9 allowed
    ("score", "Opportunity.Amount", "12345678901234567", NUMBER_OUTSIDE_VALID_RANGE),
    ("score", "Opportunity.Amount", "9999999999999999.995", NUMBER_OUTSIDE_VALID_RANGE),  # rounds to 17
    ("score", "Opportunity.Amount", "-1e400", NUMBER_OUTSIDE_VALID_RANGE),
    ("score", "Opportunity.Probability", "999.5", NUMBER_OUTSIDE_VALID_RANGE),
    ("birthday", "Birthday__c", "31/01/2024", INVALID_DATE),
    ("birthday", "Birthday__c", "2024-02-30", INVALID_DATE),
    ("renewal_at", "Renewal_At__c", "yesterday", INVALID_DATE),
    ("renewal_at", "Renewal_At__c", "2024-13-01T00:00:00Z", INVALID_DATE),
]


@pytest.mark.parametrize(("prop", "field", "value", "code"), TO_SALESFORCE_ERRORS)
def test_to_salesforce_errors(prop, field, value, code):
    with pytest.raises(ConversionError) as caught:
        sf_value(value, prop, field)
    assert caught.value.code == code
    assert caught.value.field == field.rpartition(".")[2]
    assert field.rpartition(".")[2] in caught.value.message  # names the field...
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    ("prop", "field", "value", "code"),
    [row for row in TO_SALESFORCE_ERRORS if row[1] in ("Lifecycle_Stage__c", "Interests__c", "FirstName")],
)
def test_salesforce_itself_refuses_what_we_refuse(prop, field, value, code):
    """The emulated org raises the same code for the raw value: our error replaces a failed write."""
    obj = SCHEMA.get("Lead")
    assert obj is not None
    raw = value.replace("gaming", "Gaming")  # spelled as a picklist value would be, still not allowed
    failure = Store._check_value(obj, obj.fields[field], raw)
    assert failure is not None
    assert failure.code == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2147483647", 2147483647), ("-2147483648", -2147483648), ("2147483648", None), ("1e300", None)],
)
def test_int_fields_without_digits_hold_32_bit_integers(value, expected):
    employees = dataclasses.replace(sf("NumberOfEmployees"), digits=0)  # a describe without digits
    if expected is not None:
        assert to_salesforce(value, _hs("score"), employees) == expected
        return
    with pytest.raises(ConversionError) as caught:
        to_salesforce(value, _hs("score"), employees)
    assert caught.value.code == NUMBER_OUTSIDE_VALID_RANGE


def test_strings_are_never_truncated_and_the_limit_is_inclusive():
    assert sf_value("x" * 40, "firstname", "FirstName") == "x" * 40
    assert sf_value("\N{GRINNING FACE}" * 5, "jobtitle", "Note__c") == "\N{GRINNING FACE}" * 5
    assert sf_value("é" * 10, "jobtitle", "Note__c") == "é" * 10  # one UTF-16 unit each


class TestMessages:
    def _error(self, value, prop, field) -> ConversionError:
        with pytest.raises(ConversionError) as caught:
            sf_value(value, prop, field)
        return caught.value

    def test_string_too_long_names_both_sides_the_size_and_the_limit(self):
        message = self._error("x" * 41, "firstname", "FirstName").message
        assert "HubSpot property firstname (First Name)" in message
        assert "Salesforce field FirstName (First Name)" in message
        assert "41 characters" in message
        assert "at most 40" in message
        assert "never truncates" in message

    def test_restricted_picklist_quotes_the_value_and_lists_the_allowed_ones(self):
        message = self._error("partner", "lifecyclestage", "Lifecycle_Stage__c").message
        assert '"partner"' in message
        assert "Lifecycle_Stage__c (Lifecycle Stage)" in message
        assert "subscriber, lead, marketingqualifiedlead" in message

    def test_restricted_multi_select_names_the_bad_item(self):
        error = self._error("cloud;gaming", "interests", "Interests__c")
        assert '"gaming"' in error.message
        assert error.value == "gaming"

    def test_long_lists_and_values_are_shortened(self):
        industry = dataclasses.replace(sf("Industry"), restricted_picklist=True)
        with pytest.raises(ConversionError) as caught:
            to_salesforce("Mining", None, industry)
        assert "(32 in all)" in caught.value.message
        long_value = "y" * 500
        message = self._error(long_value, "firstname", "FirstName").message
        assert long_value not in message
        assert '"' + "y" * 57 + '..."' in message

    def test_number_range_says_how_many_digits_fit(self):
        message = self._error("12345678901234567", "score", "Opportunity.Amount").message
        assert "at most 16 digits before the decimal point (precision 18, scale 2)" in message
        assert '"12345678901234567"' in message

    def test_date_error_names_the_accepted_forms(self):
        message = self._error("31/01/2024", "birthday", "Birthday__c").message
        assert '"31/01/2024"' in message
        assert "YYYY-MM-DD or epoch milliseconds" in message

    def test_error_repr_and_attributes(self):
        error = ConversionError(STRING_TOO_LONG, "too long", field="FirstName", value="x")
        assert (error.code, error.message, error.field, error.value) == (
            STRING_TOO_LONG,
            "too long",
            "FirstName",
            "x",
        )
        assert repr(error) == "ConversionError('STRING_TOO_LONG', 'too long')"


# -- Salesforce -> HubSpot ------------------------------------------------------------------------
TO_HUBSPOT = [
    ("HasOptedOutOfEmail", "hs_email_optout", True, "true"),
    ("HasOptedOutOfEmail", "hs_email_optout", False, "false"),
    ("Is_Vip__c", "vip_flag", True, "true"),  # an enumeration whose options are true/false
    ("Is_Vip__c", "jobtitle", False, "false"),
    ("NumberOfEmployees", "score", 250, "250"),
    ("Score__c", "score", 12.0, "12"),
    ("Score__c", "score", 1e20, "100000000000000000000"),
    ("Score__c", "score", -5.0, "-5"),
    ("Opportunity.Amount", "score", 1234.5, "1234.5"),
    ("Opportunity.Amount", "score", 12.10, "12.1"),
    ("Opportunity.Amount", "score", 0.1 + 0.2, "0.3"),  # float noise beyond the field's scale
    ("Opportunity.Amount", "score", "1234.50", "1234.5"),
    ("Opportunity.Probability", "score", 0.0, "0"),
    ("NumberOfEmployees", "jobtitle", 250, "250"),
    ("Title", "score", "12.50", "12.5"),
    ("Birthday__c", "birthday", "2024-01-31", "2024-01-31"),
    ("Birthday__c", "renewal_at", "2024-01-31", "2024-01-31T00:00:00.000Z"),
    ("Renewal_At__c", "renewal_at", "2024-01-31T10:00:00.000+0000", "2024-01-31T10:00:00.000Z"),  # REST
    ("Renewal_At__c", "renewal_at", "2024-01-31T10:00:00.000Z", "2024-01-31T10:00:00.000Z"),  # CDC
    ("Renewal_At__c", "renewal_at", dt.datetime(2024, 1, 31, 19, tzinfo=dt.timezone(dt.timedelta(hours=9))),
     "2024-01-31T10:00:00.000Z"),
    ("Renewal_At__c", "birthday", "2024-01-31T23:30:00.000+0000", "2024-01-31"),
    ("Renewal_At__c", None, "2024-01-31T10:00:00.000+0000", "2024-01-31T10:00:00.000Z"),
    ("Lifecycle_Stage__c", "lifecyclestage", "customer", "customer"),
    ("Region__c", "region", "Americas", "AMERICAS"),
    ("Interests__c", "interests", "Security;Cloud", "security;cloud"),
    ("Interests__c", "interests", "Cloud;cloud", "cloud"),
    ("Industry", None, "Technology", "Technology"),
    ("Title", "firstname", "Ada", "Ada"),
    ("Title", None, "  spaced  ", "  spaced  "),
    ("Title", "lifecyclestage", "Lead", "lead"),
    ("Title", "interests", "Data;cloud", "data;cloud"),
    ("Title", "hubspot_owner_id", "77", "77"),  # external options: not checked here
]  # fmt: skip


@pytest.mark.parametrize(("field", "prop", "value", "expected"), TO_HUBSPOT)
def test_to_hubspot(field, prop, value, expected):
    assert hs_value(value, field, prop) == expected


@pytest.mark.parametrize(("field", "prop", "value", "expected"), [row for row in TO_HUBSPOT if row[1]])
def test_to_hubspot_values_are_stored_unchanged_by_the_portal(field, prop, value, expected):
    """The emulated portal stores every converted value exactly as written (no spurious changes)."""
    assert normalize_value(HS_DEFINITIONS[prop], hs_value(value, field, prop)) == expected


@pytest.mark.parametrize(
    ("field", "prop", "value", "code"),
    [
        ("Region__c", "region", "LATAM", INVALID_OPTION),
        ("Interests__c", "interests", "Cloud;Gaming", INVALID_OPTION),
        ("Tags__c", "interests", "alpha", INVALID_OPTION),
        ("Title", "lifecyclestage", "Partner", INVALID_OPTION),
        ("Title", "score", "twelve", INVALID_TYPE_ON_FIELD_IN_RECORD),
        ("Title", "hs_email_optout", "maybe", INVALID_TYPE_ON_FIELD_IN_RECORD),
        ("Score__c", "score", float("nan"), INVALID_TYPE_ON_FIELD_IN_RECORD),
        ("Score__c", "score", True, INVALID_TYPE_ON_FIELD_IN_RECORD),  # a boolean is not a number
        ("Title", "birthday", "someday", INVALID_DATE),
        ("Title", "renewal_at", "2024-13-45T00:00:00Z", INVALID_DATE),
    ],
)
def test_to_hubspot_errors(field, prop, value, code):
    with pytest.raises(ConversionError) as caught:
        hs_value(value, field, prop)
    assert caught.value.code == code
    assert caught.value.field == prop
    assert prop in caught.value.message


def test_invalid_option_message_names_the_value_the_property_and_its_options():
    with pytest.raises(ConversionError) as caught:
        hs_value("Cloud;Gaming", "Interests__c", "interests")
    message = caught.value.message
    assert '"Gaming"' in message
    assert "HubSpot property interests (Interests)" in message
    assert "Salesforce field Interests__c" in message
    assert "Allowed: cloud, data, security" in message
    assert caught.value.value == "Gaming"


# -- blanks ---------------------------------------------------------------------------------------
PAIRS = [
    ("firstname", "FirstName"),
    ("hs_email_optout", "HasOptedOutOfEmail"),
    ("score", "NumberOfEmployees"),
    ("score", "Opportunity.Amount"),
    ("birthday", "Birthday__c"),
    ("renewal_at", "Renewal_At__c"),
    ("lifecyclestage", "Lifecycle_Stage__c"),
    ("interests", "Interests__c"),
    (None, "Title"),
]


@pytest.mark.parametrize(("prop", "field"), PAIRS)
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blanks_are_none_both_ways(prop, field, blank):
    assert sf_value(blank, prop, field) is None
    assert hs_value(blank, field, prop) is None
    assert canonical(blank, value_kind(hs(prop), sf(field))) is None


# -- comparing ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "kind"),
    [
        ("12", 12.0, "number"),
        ("12.50", 12.5, "number"),
        ("1e3", 1000, "number"),
        ("-0", 0, "number"),
        ("true", True, "bool"),
        ("FALSE", False, "bool"),
        ("b;a", "a;b", "multi"),
        ("A;b;a", "b;a", "multi"),
        ("a;;b ", "b;a", "multi"),
        ("1706659200000", "2024-01-31", "date"),
        ("2024-01-31T00:00:00.000Z", "2024-01-31", "date"),
        ("2024-01-31T10:00:00.000Z", "2024-01-31T10:00:00.000+0000", "datetime"),
        ("1706695200000", "2024-01-31T05:00:00-05:00", "datetime"),
        ("2024-01-31T10:00:00.1239Z", "2024-01-31T10:00:00.123Z", "datetime"),
        ("2024-01-31", "2024-01-31T00:00:00.000Z", "datetime"),
        ("Customer", "customer", "single"),
        (" EMEA ", "emea", "single"),
        ("Ada", "Ada", "text"),
        (True, "true", "text"),
    ],
)
def test_canonical_equal(a, b, kind):
    assert canonical(a, kind) == canonical(b, kind)
    assert canonical(a, kind) is not None


@pytest.mark.parametrize(
    ("a", "b", "kind"),
    [
        ("12", 12.5, "number"),
        ("true", False, "bool"),
        ("a;b", "a;b;c", "multi"),
        ("2024-01-31", "2024-02-01", "date"),
        ("2024-01-31T10:00:00.000Z", "2024-01-31T10:00:00.001Z", "datetime"),
        ("2024-01-31T10:00:00.000Z", "2024-01-31T10:00:00.000+0100", "datetime"),
        ("EMEA", "APAC", "single"),
        ("Ada", "ada", "text"),  # free text is case-sensitive
        ("Ada", "Ada ", "text"),
    ],
)
def test_canonical_different(a, b, kind):
    assert canonical(a, kind) != canonical(b, kind)


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (12.0, "number", "12"),
        ("0012.500", "number", "12.5"),
        (1e20, "number", "100000000000000000000"),
        ("b;A", "multi", "a;b"),
        (";", "multi", None),
        ("1706659200000", "date", "2024-01-31"),
        ("1706695200000", "datetime", "2024-01-31T10:00:00.000Z"),
        ("Yes", "bool", "true"),
        (True, "text", "true"),
        ("abc", "number", "abc"),  # not a number: compared as its text, never an exception
        ("soon", "date", "soon"),
        ("maybe", "bool", "maybe"),
    ],
)
def test_canonical_form(value, kind, expected):
    assert canonical(value, kind) == expected


def test_canonical_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown value kind"):
        canonical("x", "picklist")


# -- round trips ----------------------------------------------------------------------------------
ROUND_TRIPS = [
    ("firstname", "FirstName", "Ada"),
    ("hs_email_optout", "HasOptedOutOfEmail", "true"),
    ("hs_email_optout", "HasOptedOutOfEmail", "false"),
    ("is_vip", "Is_Vip__c", "true"),
    ("score", "NumberOfEmployees", "250"),
    ("score", "Opportunity.Amount", "1234.5"),
    ("score", "Opportunity.Amount", "0.1"),
    ("score", "Score__c", "42"),
    ("score", "Title", "12.5"),
    ("birthday", "Birthday__c", "2024-01-31"),
    ("birthday", "Birthday__c", "1706659200000"),
    ("birthday", "Renewal_At__c", "2024-01-31"),
    ("renewal_at", "Renewal_At__c", "2024-01-31T10:00:00.123Z"),
    ("renewal_at", "Renewal_At__c", "1706695200123"),
    ("renewal_at", "Renewal_At__c", "2024-01-31T05:00:00-05:00"),
    ("renewal_at", "Title", "1706695200000"),
    ("lifecyclestage", "Lifecycle_Stage__c", "customer"),
    ("region", "Region__c", "AMERICAS"),
    ("interests", "Interests__c", "data;cloud"),
    ("interests", "Tags__c", "cloud"),
    ("interests", "Title", "security;data"),
    ("lifecyclestage", "Title", "lead"),
]


@pytest.mark.parametrize(("prop", "field", "value"), ROUND_TRIPS)
def test_round_trip_from_hubspot(prop, field, value):
    kind = value_kind(hs(prop), sf(field))
    written = sf_value(value, prop, field)
    back = hs_value(written, field, prop)
    assert canonical(written, kind) == canonical(value, kind)  # the echo of our write is recognised
    assert canonical(back, kind) == canonical(value, kind)
    assert hs_value(sf_value(back, prop, field), field, prop) == back  # stable after one trip


@pytest.mark.parametrize(
    ("field", "prop", "value"),
    [
        ("Renewal_At__c", "renewal_at", "2024-01-31T10:00:00.000+0000"),
        ("Birthday__c", "birthday", "2024-01-31"),
        ("Opportunity.Amount", "score", 1234.56),
        ("NumberOfEmployees", "score", 250),
        ("HasOptedOutOfEmail", "hs_email_optout", False),
        ("Interests__c", "interests", "Security;Data"),
        ("Region__c", "region", "EMEA"),
        ("Title", "jobtitle", "VP Sales"),
    ],
)
def test_round_trip_from_salesforce(field, prop, value):
    kind = value_kind(hs(prop), sf(field))
    written = hs_value(value, field, prop)
    back = sf_value(written, prop, field)
    assert canonical(written, kind) == canonical(value, kind)
    assert canonical(back, kind) == canonical(value, kind)


def test_lossy_conversions_are_the_documented_ones():
    """Rounding to scale and datetime -> date change the value; the change is what Salesforce stores."""
    assert sf_value("12.345", "score", "Opportunity.Amount") == 12.35
    assert canonical(sf_value("12.345", "score", "Opportunity.Amount"), "number") != canonical(
        "12.345", "number"
    )
    assert sf_value("2024-01-31T23:30:00.000Z", "renewal_at", "Birthday__c") == "2024-01-31"
