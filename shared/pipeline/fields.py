"""Field values between the two CRMs for the contact mappings: reading, comparing, writing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.config import FieldMapping, SyncConfig, SyncRule
from shared.matching import normalize_email

SfObject = Literal["Lead", "Contact"]

# HubSpot's own convention for required Salesforce fields it has no value for
NOT_PROVIDED = "[not provided]"

SALESFORCE_SYSTEM_FIELDS: dict[str, tuple[str, ...]] = {
    "Lead": ("Id", "Email", "IsConverted", "ConvertedContactId", "CreatedDate", "LastModifiedDate"),
    # IsPersonAccount exists only in orgs with person accounts (the adapter drops it elsewhere)
    "Contact": ("Id", "Email", "CreatedDate", "LastModifiedDate", "IsPersonAccount"),
}


@dataclass(frozen=True)
class ContactFields:
    """The mapped fields of the configuration, per Salesforce object."""

    mappings: tuple[FieldMapping, ...]

    @classmethod
    def from_config(cls, config: SyncConfig) -> ContactFields:
        return cls(config.contact_mappings)

    def for_object(self, sf_object: SfObject) -> list[tuple[FieldMapping, str]]:
        """(mapping, Salesforce field) pairs that apply to a Lead or a Contact."""
        out = []
        for m in self.mappings:
            field = m.lead if sf_object == "Lead" else m.contact
            if field:
                out.append((m, field))
        return out

    def hubspot_properties(self) -> list[str]:
        return sorted({"email", *(m.hubspot for m in self.mappings)})

    def salesforce_fields(self, sf_object: SfObject) -> list[str]:
        fields = {f for _, f in self.for_object(sf_object)}
        return sorted(fields | set(SALESFORCE_SYSTEM_FIELDS[sf_object]))


def comparable(hubspot_property: str, value: Any) -> str | None:
    """One form for comparing a HubSpot value with a Salesforce one: strings, blanks as None,
    emails case- and whitespace-insensitive, booleans as "true"/"false"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if not text.strip():
        return None
    if hubspot_property == "email":
        return normalize_email(text)
    return text


def writes_salesforce(rule: SyncRule) -> bool:
    return rule in (SyncRule.TWO_WAY, SyncRule.PREFER_SALESFORCE_UNLESS_BLANK)


def creation_values_for_salesforce(
    fields: ContactFields, sf_object: SfObject, properties: Mapping[str, str | None], company_placeholder: str
) -> dict[str, Any]:
    """Salesforce field values for a record created from a HubSpot contact."""
    values: dict[str, Any] = {}
    for mapping, field in fields.for_object(sf_object):
        if not writes_salesforce(mapping.rule):
            continue
        value = comparable("", properties.get(mapping.hubspot))
        if value is not None:
            values[field] = properties.get(mapping.hubspot)
    if not values.get("LastName"):
        values["LastName"] = NOT_PROVIDED
    if sf_object == "Lead" and not values.get("Company"):
        values["Company"] = company_placeholder
    return values


def creation_values_for_hubspot(
    fields: ContactFields, sf_object: SfObject, record_fields: Mapping[str, Any]
) -> dict[str, str | None]:
    """HubSpot property values for a contact created from a Salesforce record."""
    values: dict[str, str | None] = {}
    for mapping, field in fields.for_object(sf_object):
        if mapping.rule is SyncRule.DONT_SYNC:
            continue
        value = record_fields.get(field)
        if comparable(mapping.hubspot, value) is not None:
            values[mapping.hubspot] = str(value).strip() if mapping.hubspot == "email" else str(value)
    return values
