"""Salesforce -> HubSpot: the property value (always a string) HubSpot takes for a Salesforce value.

One small step per value kind (see :func:`~shared.pipeline.convert.kinds.value_kind`), then the
enumeration's options; the rules they apply live in the value modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.pipeline.convert.booleans import bool_text, parse_bool
from shared.pipeline.convert.dates import iso_ms, midnight, parse_day, parse_moment
from shared.pipeline.convert.errors import (
    INVALID_DATE,
    INVALID_TYPE_ON_FIELD_IN_RECORD,
    from_salesforce,
    refused_by_hubspot,
)
from shared.pipeline.convert.kinds import ValueKind, value_kind
from shared.pipeline.convert.metadata import HubSpotPropertyType, SalesforceFieldType
from shared.pipeline.convert.numbers import at_field_scale, format_decimal, parse_decimal
from shared.pipeline.convert.picklists import dedupe, split, to_options
from shared.pipeline.convert.strings import is_blank, plain_text

# (Salesforce value, field, property, the source as messages name it) -> the HubSpot text
Step = Callable[[Any, SalesforceFieldType, HubSpotPropertyType | None, str], str]


def to_hubspot(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None) -> str | None:
    """The HubSpot property value (always a string) for a Salesforce field value; None for a blank.

    Enumeration values must be among the property's options (matched case-insensitively, written
    in HubSpot's spelling), else :class:`ConversionError` ``INVALID_OPTION``."""
    if is_blank(value):
        return None
    kind = value_kind(hs, sf)
    text = STEPS[kind](value, sf, hs, from_salesforce(value, sf))
    text = to_options(text, kind == "multi", hs, sf)
    return text if text.strip() else None


def _bool(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None, source: str) -> str:
    flag = parse_bool(value)
    if flag is None:
        raise refused_by_hubspot(INVALID_TYPE_ON_FIELD_IN_RECORD, source, "true or false", hs, value)
    return bool_text(flag)


def _number(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None, source: str) -> str:
    number = parse_decimal(value)
    if number is None:
        raise refused_by_hubspot(INVALID_TYPE_ON_FIELD_IN_RECORD, source, "a number", hs, value)
    return format_decimal(at_field_scale(number, sf))


def _date(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None, source: str) -> str:
    day = parse_day(value)
    if day is None:
        raise refused_by_hubspot(INVALID_DATE, source, "a date", hs, value)
    return iso_ms(midnight(day)) if hs is not None and hs.type == "datetime" else day.isoformat()


def _datetime(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None, source: str) -> str:
    moment = parse_moment(value)
    if moment is None:
        raise refused_by_hubspot(INVALID_DATE, source, "a date and time", hs, value)
    return iso_ms(moment)


def _single(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None, source: str) -> str:
    return str(value).strip()


def _multi(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None, source: str) -> str:
    return ";".join(dedupe(split(value)))


def _text(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None, source: str) -> str:
    return plain_text(value)


STEPS: dict[ValueKind, Step] = {
    "bool": _bool,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "single": _single,
    "multi": _multi,
    "text": _text,
}
