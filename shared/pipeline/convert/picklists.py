"""Picklists and enumerations: values matched case-insensitively, written in the other side's spelling.

A restricted Salesforce picklist refuses a value it lacks (an unrestricted one takes it as it is);
a HubSpot enumeration with options takes only its options. Multi-selects are ``;``-joined, in order,
without repeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shared.pipeline.convert.errors import (
    INVALID_OPTION,
    INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
    ConversionError,
    hs_name,
    listing,
    sf_name,
    show,
)
from shared.pipeline.convert.metadata import HubSpotPropertyType, SalesforceFieldType


def split(value: Any) -> list[str]:
    """The items of a ``;``-separated multi-select value, trimmed, blanks dropped."""
    items: Iterable[Any] = value if isinstance(value, list | tuple) else str(value).split(";")
    return [text for text in (str(item).strip() for item in items) if text]


def dedupe(items: Iterable[str]) -> list[str]:
    """Order kept; later case-insensitive repeats dropped."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def match(value: str, allowed: Sequence[str]) -> str | None:
    """The allowed spelling of ``value``: exact first, else case-insensitive."""
    if value in allowed:
        return value
    folded = value.casefold()
    return next((a for a in allowed if a.casefold() == folded), None)


def picklist_value(item: str, sf: SalesforceFieldType, hs: HubSpotPropertyType | None) -> str:
    """The Salesforce spelling of a picklist value; a value a restricted picklist lacks is refused."""
    matched = match(item, sf.picklist_values)
    if matched is not None:
        return matched
    if sf.restricted_picklist:
        allowed = listing(sf.picklist_values) if sf.picklist_values else "none is active"
        raise ConversionError(
            INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
            f"{show(item)} (from {hs_name(hs)}) is not a value of the restricted picklist "
            f"{sf_name(sf)}. Allowed: {allowed}. Add the value to the picklist in Salesforce Setup "
            "or change it in HubSpot.",
            field=sf.name,
            value=item,
        )
    return item


def option_value(item: str, hs: HubSpotPropertyType, sf: SalesforceFieldType) -> str:
    """HubSpot's spelling of one of its enumeration's options; anything else is refused."""
    matched = match(item, hs.options)
    if matched is None:
        raise ConversionError(
            INVALID_OPTION,
            f"{show(item)} (from {sf_name(sf)}) is not one of the options of {hs_name(hs)}. "
            f"Allowed: {listing(hs.options)}. Add the option to the property in HubSpot or change "
            "the value in Salesforce.",
            field=hs.name,
            value=item,
        )
    return matched


def to_options(text: str, multiple: bool, hs: HubSpotPropertyType | None, sf: SalesforceFieldType) -> str:
    """A HubSpot value within the property's options when it is an enumeration that has some (each
    item of a ``multiple`` value); any other property takes ``text`` as it is."""
    if hs is None or hs.type != "enumeration" or not hs.options:
        return text
    items = split(text) if multiple or hs.multiple else [text.strip()]
    return ";".join(dedupe(option_value(item, hs, sf) for item in items))
