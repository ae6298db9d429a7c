"""The pieces of ``shared.pipeline.convert``, one value type at a time (the entry points are pinned
end to end against the sandbox's metadata in ``test_convert.py``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shared.pipeline.convert import KINDS, hubspot_to_salesforce, salesforce_to_hubspot
from shared.pipeline.convert.booleans import bool_text, parse_bool
from shared.pipeline.convert.compare import AS_TEXT, PARSED
from shared.pipeline.convert.dates import from_epoch_ms, iso_ms, midnight, parse_day, parse_moment
from shared.pipeline.convert.errors import (
    INVALID_DATE,
    INVALID_OPTION,
    INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
    INVALID_TYPE_ON_FIELD_IN_RECORD,
    NUMBER_OUTSIDE_VALID_RANGE,
    STRING_TOO_LONG,
    ConversionError,
    from_hubspot,
    from_salesforce,
    hs_name,
    listing,
    refused_by_hubspot,
    refused_by_salesforce,
    sf_name,
    show,
)
from shared.pipeline.convert.kinds import hubspot_kind, salesforce_kind
from shared.pipeline.convert.metadata import HubSpotPropertyType, SalesforceFieldType
from shared.pipeline.convert.numbers import (
    INT32,
    at_field_scale,
    digits_allowed,
    fit_number,
    format_decimal,
    parse_decimal,
    round_half_up,
)
from shared.pipeline.convert.picklists import dedupe, match, option_value, picklist_value, split, to_options
from shared.pipeline.convert.strings import fit_text, is_blank, plain_text, sf_length


def field(type_: str = "string", **extra) -> SalesforceFieldType:
    return SalesforceFieldType(name=extra.pop("name", "F__c"), type=type_, **extra)


def prop(type_: str = "string", field_type: str = "text", **extra) -> HubSpotPropertyType:
    return HubSpotPropertyType(name=extra.pop("name", "p"), type=type_, field_type=field_type, **extra)


# -- booleans -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "flag"),
    [
        (True, True),
        (False, False),
        (" Yes ", True),
        ("1", True),
        ("NO", False),
        ("0", False),
        ("maybe", None),
        (1, None),  # a number is not a flag
        (None, None),
    ],
)
def test_parse_bool(value, flag):
    assert parse_bool(value) is flag


def test_bool_text():
    assert (bool_text(True), bool_text(False)) == ("true", "false")


# -- numbers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("12.50", Decimal("12.50")),
        (" -3 ", Decimal(-3)),
        (7, Decimal(7)),
        (0.1, Decimal("0.1")),  # the float's shortest text, not its binary expansion
        (Decimal("2.5"), Decimal("2.5")),
        (True, None),
        ("abc", None),
        ("nan", None),
        ("inf", None),
        (float("inf"), None),
        ([1], None),
    ],
)
def test_parse_decimal(value, number):
    assert parse_decimal(value) == number


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("12.0", "12"),
        ("12.50", "12.5"),
        ("-0", "0"),
        ("1E+3", "1000"),
        ("1e-7", "0.0000001"),
        ("1e30", "1" + "0" * 30),
    ],
)
def test_format_decimal_never_shows_an_exponent(number, text):
    assert format_decimal(Decimal(number)) == text


@pytest.mark.parametrize(
    ("number", "scale", "rounded"),
    [
        ("12.345", 2, "12.35"),
        ("-0.005", 2, "-0.01"),
        ("12.5", 0, "13"),
        ("-12.5", 0, "-13"),
        ("1", 2, "1.00"),
    ],
)
def test_round_half_up(number, scale, rounded):
    assert str(round_half_up(Decimal(number), scale)) == rounded


def test_at_field_scale_drops_float_noise_only_where_the_precision_is_known():
    noisy = Decimal(repr(0.1 + 0.2))
    assert at_field_scale(noisy, field("currency", precision=18, scale=2)) == Decimal("0.3")
    assert at_field_scale(noisy, field("double")) == noisy  # precision unknown
    assert at_field_scale(noisy, field("string", precision=18, scale=2)) == noisy  # not a number field
    assert at_field_scale(Decimal("1e100"), field("double", precision=18)) == Decimal("1e100")


@pytest.mark.parametrize(
    ("sf", "digits"),
    [
        (field("int", digits=9), 9),
        (field("int"), 10),
        (field("long"), 19),
        (field("int", precision=5, scale=2), 3),
        (field("double", precision=18, scale=2), 16),
        (field("double", precision=18, scale=-1), 18),
        (field("percent", precision=3), 3),
        (field("double"), None),
    ],
)
def test_digits_allowed(sf, digits):
    assert digits_allowed(sf) == digits


def test_fit_number_rounds_to_the_scale_and_checks_the_digits_after_rounding():
    amount = field("currency", precision=4, scale=2)
    assert fit_number(Decimal("12.345"), amount, "v", "12.345") == 12.35
    with pytest.raises(ConversionError) as caught:
        fit_number(Decimal("99.995"), amount, "The value", "99.995")  # 100.00 has three digits
    assert caught.value.code == NUMBER_OUTSIDE_VALID_RANGE
    assert caught.value.message == (
        "The value is outside the range of Salesforce field F__c, which allows at most 2 digits before "
        "the decimal point (precision 4, scale 2)."
    )
    assert caught.value.value == "99.995"


def test_fit_number_keeps_int_fields_within_32_bits_and_long_fields_within_19_digits():
    assert fit_number(Decimal(INT32[1]), field("int"), "v", "") == INT32[1]
    with pytest.raises(ConversionError, match="holds whole numbers from -2,147,483,648 to 2,147,483,647"):
        fit_number(Decimal(INT32[1] + 1), field("int"), "v", "")
    assert fit_number(Decimal("9" * 19), field("long"), "v", "") == int("9" * 19)
    assert type(fit_number(Decimal("2.5"), field("long"), "v", "")) is int


def test_fit_number_without_precision_keeps_the_value_and_refuses_what_a_float_cannot_hold():
    assert fit_number(Decimal("0.123456789"), field("double"), "v", "") == 0.123456789
    with pytest.raises(ConversionError, match="can't hold a number this large"):
        fit_number(Decimal("1e400"), field("double"), "v", "")


# -- dates ----------------------------------------------------------------------------------------
UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("1706695200000", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
        (1706695200000, dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T05:00:00-05:00", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),  # naive: UTC
        ("2024-01-31", dt.datetime(2024, 1, 31, tzinfo=UTC)),
        (dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, tzinfo=UTC)),
        (
            dt.datetime(2024, 1, 31, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.datetime(2024, 1, 31, 10, tzinfo=UTC),
        ),
        ("31/01/2024", None),
        ("2024-02-30", None),
        (True, None),
        ("9" * 16, None),  # beyond the years a datetime holds
    ],
)
def test_parse_moment(value, moment):
    assert parse_moment(value) == moment


def test_from_epoch_ms():
    assert from_epoch_ms(-86_400_000) == dt.datetime(1969, 12, 31, tzinfo=UTC)
    assert from_epoch_ms(10**16) is None


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2024-01-31", dt.date(2024, 1, 31)),
        (" 2024-02-29 ", dt.date(2024, 2, 29)),
        ("2024-02-30", None),
        ("1706659200000", dt.date(2024, 1, 31)),
        ("2024-01-31T23:30:00-05:00", dt.date(2024, 2, 1)),  # a datetime's UTC date
        (dt.date(2024, 1, 31), dt.date(2024, 1, 31)),
        ("soon", None),
    ],
)
def test_parse_day(value, day):
    assert parse_day(value) == day


def test_iso_ms_and_midnight():
    moment = dt.datetime(2024, 1, 31, 5, 0, 0, 123999, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert iso_ms(moment) == "2024-01-31T10:00:00.123Z"
    assert midnight(dt.date(2024, 1, 31)) == dt.datetime(2024, 1, 31, tzinfo=UTC)


# -- picklists ------------------------------------------------------------------------------------
def test_split_and_dedupe():
    assert split(" a ; ;B;") == ["a", "B"]
    assert split(["x ", " y"]) == ["x", "y"]
    assert split(("z",)) == ["z"]
    assert dedupe(["Data", "cloud", "DATA", "Cloud"]) == ["Data", "cloud"]


def test_match_prefers_the_exact_spelling():
    assert match("data", ["Data", "data"]) == "data"
    assert match("DATA", ["Data", "data"]) == "Data"
    assert match("Gaming", ["Data"]) is None


def test_picklist_value_refuses_only_in_a_restricted_picklist():
    open_list = field("picklist", picklist_values=("EMEA",))
    assert picklist_value("emea", open_list, None) == "EMEA"
    assert picklist_value("LATAM", open_list, None) == "LATAM"
    with pytest.raises(ConversionError) as caught:
        picklist_value("LATAM", field("picklist", restricted_picklist=True), prop(name="region"))
    assert caught.value.code == INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST
    assert "Allowed: none is active" in caught.value.message
    assert "(from HubSpot property region)" in caught.value.message


def test_option_value_takes_only_the_enumeration_options():
    interests = prop("enumeration", "checkbox", options=("cloud", "data"))
    assert option_value("Cloud", interests, field()) == "cloud"
    with pytest.raises(ConversionError) as caught:
        option_value("Gaming", interests, field())
    assert (caught.value.code, caught.value.field, caught.value.value) == (INVALID_OPTION, "p", "Gaming")


def test_to_options():
    select = prop("enumeration", "select", options=("a;b", "c"))
    checkboxes = prop("enumeration", "checkbox", options=("a", "b"))
    assert to_options("A;B", False, checkboxes, field()) == "a;b"  # multiple checkboxes: each item
    assert to_options("B;a;b", True, prop("enumeration", "select", options=("a", "b")), field()) == "b;a"
    assert to_options(" C ", False, select, field()) == "c"  # one option, trimmed
    assert to_options("x", False, prop("enumeration", "select"), field()) == "x"  # no options: as it is
    assert to_options("x", False, prop(), field()) == "x"
    assert to_options("x", False, None, field()) == "x"


# -- strings --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "blank"), [(None, True), ("", True), (" \t", True), ("a", False), (0, False), (False, False)]
)
def test_is_blank(value, blank):
    assert is_blank(value) is blank


def test_sf_length_counts_utf16_code_units():
    assert sf_length("abc") == 3
    assert sf_length("é") == 1
    assert sf_length("😀") == 2


def test_fit_text_is_inclusive_and_never_truncates():
    assert fit_text("😀😀", field(length=4), "v") == "😀😀"
    assert fit_text("x" * 1000, field(length=0), "v") == "x" * 1000  # no limit known
    with pytest.raises(ConversionError) as caught:
        fit_text("😀😀a", field(length=4), "The value")
    assert caught.value.code == STRING_TOO_LONG
    assert caught.value.message.startswith(
        "The value is 5 characters long, but Salesforce field F__c holds at most 4."
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (12.0, "12"),
        (Decimal("1.50"), "1.5"),
        (float("nan"), "nan"),
        (12, "12"),
        (" a ", " a "),
    ],
)
def test_plain_text(value, text):
    assert plain_text(value) == text


# -- errors ---------------------------------------------------------------------------------------
def test_show_quotes_and_shortens():
    assert show(12) == '"12"'
    assert show("x" * 61) == '"' + "x" * 57 + '..."'
    assert show("x" * 60) == '"' + "x" * 60 + '"'


def test_names_show_a_label_only_where_it_says_more():
    assert sf_name(field(label="Region")) == "Salesforce field F__c (Region)"
    assert sf_name(field(label="F__c")) == "Salesforce field F__c"
    assert hs_name(prop(label="Region")) == "HubSpot property p (Region)"
    assert hs_name(prop()) == "HubSpot property p"
    assert hs_name(None) == "HubSpot"


def test_listing_shows_at_most_fifteen_values():
    assert listing(["a", "b"]) == "a, b"
    values = [str(i) for i in range(16)]
    assert listing(values) == ", ".join(values[:15]) + ", ... (16 in all)"


def test_refusals_name_the_source_the_target_and_what_fits():
    to_sf = refused_by_salesforce(INVALID_DATE, from_hubspot("soon", prop()), "a date", field("date"), "soon")
    assert to_sf.message == (
        'The value "soon" of HubSpot property p is not a date, so it can\'t be written to Salesforce field '
        "F__c (date)."
    )
    assert (to_sf.code, to_sf.field, to_sf.value) == (INVALID_DATE, "F__c", "soon")
    source = from_salesforce(1.5, field("double"))
    to_hs = refused_by_hubspot(INVALID_TYPE_ON_FIELD_IN_RECORD, source, "true or false", prop("bool"), 1.5)
    assert to_hs.message.endswith("can't be written to HubSpot property p (bool).")
    untyped = refused_by_hubspot(INVALID_DATE, source, "a date", None, 1.5)
    assert untyped.message.endswith("can't be written to HubSpot.")
    assert untyped.field == ""


# -- kinds ----------------------------------------------------------------------------------------
def test_salesforce_kind_leaves_a_text_field_to_the_hubspot_side():
    assert salesforce_kind(field("string"), "number") is None
    assert salesforce_kind(field("datetime"), "date") == "date"
    assert salesforce_kind(field("datetime"), "") == "datetime"
    assert salesforce_kind(field("combobox"), "") == "single"


@pytest.mark.parametrize(
    ("hs", "kind"),
    [
        (prop("bool", "booleancheckbox"), "bool"),
        (prop("enumeration", "booleancheckbox"), "bool"),
        (prop("number"), "number"),
        (prop("date"), "date"),
        (prop("datetime"), "datetime"),
        (prop("enumeration", "checkbox"), "multi"),
        (prop("enumeration", "radio"), "single"),
        (prop("phone_number"), "text"),
    ],
)
def test_hubspot_kind(hs, kind):
    assert hubspot_kind(hs) == kind


# -- the entry points' steps ----------------------------------------------------------------------
def test_every_kind_has_a_step_each_way_and_a_comparison():
    assert set(hubspot_to_salesforce.STEPS) == set(KINDS)
    assert set(salesforce_to_hubspot.STEPS) == set(KINDS)
    assert set(PARSED) | set(AS_TEXT) == set(KINDS)
    assert not set(PARSED) & set(AS_TEXT)


def test_an_unsupported_field_names_both_sides():
    error = hubspot_to_salesforce.unsupported_field("x", prop(), field("address"))
    assert error.code == INVALID_TYPE_ON_FIELD_IN_RECORD
    assert error.message == (
        "Salesforce field F__c is a address field, which can't be written from a single HubSpot property "
        "(HubSpot property p); map its component fields instead."
    )
