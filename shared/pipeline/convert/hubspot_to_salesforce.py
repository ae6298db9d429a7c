"""HubSpot -> Salesforce: the JSON value a Salesforce field takes for a HubSpot property value.

One small step per value kind (see :func:`~shared.pipeline.convert.kinds.value_kind`); the rules
they apply live in the value modules (booleans, numbers, dates, picklists, strings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.pipeline.convert.booleans import bool_text, parse_bool
from shared.pipeline.convert.dates import iso_ms, midnight, parse_day, parse_moment
from shared.pipeline.convert.errors import (
    INVALID_DATE,
    INVALID_TYPE_ON_FIELD_IN_RECORD,
    ConversionError,
    from_hubspot,
    hs_name,
    refused_by_salesforce,
    sf_name,
)
from shared.pipeline.convert.kinds import ValueKind, value_kind
from shared.pipeline.convert.metadata import (
    SF_NUMBER_TYPES,
    SF_PICKLIST_TYPES,
    SF_UNSUPPORTED_TYPES,
    HubSpotPropertyType,
    SalesforceFieldType,
)
from shared.pipeline.convert.numbers import fit_number, format_decimal, parse_decimal
from shared.pipeline.convert.picklists import dedupe, picklist_value, split
from shared.pipeline.convert.strings import fit_text

# (HubSpot text, property, field, the source as messages name it) -> the Salesforce value
Step = Callable[[str, HubSpotPropertyType | None, SalesforceFieldType, str], Any]


def to_salesforce(value: str | None, hs: HubSpotPropertyType | None, sf: SalesforceFieldType) -> Any:
    """The JSON value Salesforce expects in ``sf`` for a HubSpot property value; None for a blank.

    Raises :class:`ConversionError` when the value does not fit the field (type, range, restricted
    picklist, length); strings are never truncated."""
    if value is None or not str(value).strip():
        return None
    text = str(value)
    if sf.type in SF_UNSUPPORTED_TYPES:
        raise unsupported_field(text, hs, sf)
    return STEPS[value_kind(hs, sf)](text, hs, sf, from_hubspot(text, hs))


def unsupported_field(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType) -> ConversionError:
    """A compound or binary Salesforce field: no single HubSpot property can be written to it."""
    return ConversionError(
        INVALID_TYPE_ON_FIELD_IN_RECORD,
        f"{sf_name(sf)} is a {sf.type} field, which can't be written from a single HubSpot "
        f"property ({hs_name(hs)}); map its component fields instead.",
        field=sf.name,
        value=text,
    )


def _bool(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType, source: str) -> Any:
    flag = parse_bool(text)
    if flag is None:
        raise refused_by_salesforce(INVALID_TYPE_ON_FIELD_IN_RECORD, source, "true or false", sf, text)
    return flag if sf.type == "boolean" else fit_text(bool_text(flag), sf, source)


def _number(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType, source: str) -> Any:
    number = parse_decimal(text)
    if number is None:
        raise refused_by_salesforce(INVALID_TYPE_ON_FIELD_IN_RECORD, source, "a number", sf, text)
    if sf.type in SF_NUMBER_TYPES:
        return fit_number(number, sf, source, text)
    return fit_text(format_decimal(number), sf, source)


def _date(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType, source: str) -> Any:
    day = parse_day(text)
    if day is None:
        expected = "a date (YYYY-MM-DD or epoch milliseconds)"
        raise refused_by_salesforce(INVALID_DATE, source, expected, sf, text)
    return iso_ms(midnight(day)) if sf.type == "datetime" else fit_text(day.isoformat(), sf, source)


def _datetime(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType, source: str) -> Any:
    moment = parse_moment(text)
    if moment is None:
        expected = "a date and time (ISO 8601 or epoch milliseconds)"
        raise refused_by_salesforce(INVALID_DATE, source, expected, sf, text)
    return fit_text(iso_ms(moment), sf, source)


def _single(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType, source: str) -> Any:
    item = text.strip()
    if sf.type in SF_PICKLIST_TYPES:
        item = picklist_value(item, sf, hs)
    return fit_text(item, sf, source)


def _multi(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType, source: str) -> Any:
    items = split(text)
    if sf.type in SF_PICKLIST_TYPES:
        items = [picklist_value(item, sf, hs) for item in items]
    joined = ";".join(dedupe(items))
    return fit_text(joined, sf, source) if joined else None


def _text(text: str, hs: HubSpotPropertyType | None, sf: SalesforceFieldType, source: str) -> Any:
    return fit_text(text, sf, source)


STEPS: dict[ValueKind, Step] = {
    "bool": _bool,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "single": _single,
    "multi": _multi,
    "text": _text,
}
