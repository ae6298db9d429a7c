"""How the values of one mapping are read and compared: their kind, from both sides' metadata."""

from __future__ import annotations

from typing import Final, Literal

from shared.pipeline.convert.metadata import (
    SF_NUMBER_TYPES,
    SF_PICKLIST_TYPES,
    HubSpotPropertyType,
    SalesforceFieldType,
)

ValueKind = Literal["text", "number", "bool", "date", "datetime", "single", "multi"]
KINDS: Final[tuple[ValueKind, ...]] = ("text", "number", "bool", "date", "datetime", "single", "multi")


def value_kind(hs: HubSpotPropertyType | None, sf: SalesforceFieldType) -> ValueKind:
    """How values of this pair are read and compared. A typed Salesforce field decides; a text one
    takes the HubSpot property's type. A date on either side of a date/datetime pair makes it a date."""
    typed = salesforce_kind(sf, hs.type if hs else "")
    if typed is not None:
        return typed
    return hubspot_kind(hs) if hs is not None else "text"


def salesforce_kind(sf: SalesforceFieldType, hs_type: str) -> ValueKind | None:
    """The kind a typed Salesforce field imposes; None for a text field (the HubSpot side decides)."""
    if sf.type == "boolean":
        return "bool"
    if sf.type in SF_NUMBER_TYPES:
        return "number"
    if sf.type == "date" or (sf.type == "datetime" and hs_type == "date"):
        return "date"
    if sf.type == "datetime":
        return "datetime"
    if sf.type == "multipicklist":
        return "multi"
    if sf.type in SF_PICKLIST_TYPES:
        return "single"
    return None


def hubspot_kind(hs: HubSpotPropertyType) -> ValueKind:
    """The kind of a HubSpot property's values (mapped to a Salesforce text field)."""
    if hs.type == "bool" or hs.field_type == "booleancheckbox":
        return "bool"
    if hs.type == "number":
        return "number"
    if hs.type == "date":
        return "date"
    if hs.type == "datetime":
        return "datetime"
    if hs.type == "enumeration":
        return "multi" if hs.multiple else "single"
    return "text"
