"""Field values between the two CRMs for the contact mappings: reading, comparing, writing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from shared.accounts.person import PERSON_ACCOUNT_ID
from shared.config import OPT_OUT_HUBSPOT, OPT_OUT_SALESFORCE, FieldMapping, SyncConfig, SyncRule
from shared.matching import normalize_email
from shared.models import CONTACT, LEAD, SALESFORCE_OBJECTS
from shared.models import SfObject as SfObject  # re-exported for the pipeline
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY
from shared.pipeline.convert import (
    ConversionError,
    HubSpotPropertyType,
    SalesforceFieldType,
    canonical,
    to_hubspot,
    to_salesforce,
    value_kind,
)
from shared.pipeline.convert.booleans import bool_text
from shared.pipeline.convert.strings import is_blank

T = TypeVar("T")

# HubSpot's own convention for required Salesforce fields it has no value for
NOT_PROVIDED = "[not provided]"

SALESFORCE_SYSTEM_FIELDS: dict[str, tuple[str, ...]] = {
    LEAD: (
        "Id", "Email", "IsConverted", "ConvertedContactId", "CreatedDate", "LastModifiedDate",
        OPT_OUT_SALESFORCE, OWNER_FIELD,
    ),
    # IsPersonAccount exists only in orgs with person accounts (the adapter drops it elsewhere);
    # a person account's Contact is written through its Account (S9)
    CONTACT: (
        "Id", "Email", "CreatedDate", "LastModifiedDate", "IsPersonAccount", PERSON_ACCOUNT_ID,
        OPT_OUT_SALESFORCE, OWNER_FIELD,
    ),
}  # fmt: skip


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
            field = m.lead if sf_object == LEAD else m.contact
            if field:
                out.append((m, field))
        return out

    def field_of(self, sf_object: SfObject, prop: str) -> str | None:
        """The Salesforce field a HubSpot property maps to on this object (the opt-out included)."""
        return self._fields_by_property.get((sf_object, prop))

    @cached_property
    def _fields_by_property(self) -> dict[tuple[str, str], str]:
        # asked for every value dedupe compares: built once, not a scan of the mappings each time
        found: dict[tuple[str, str], str] = {}
        for sf_object in SALESFORCE_OBJECTS:
            for mapping, field in reversed(self.for_object(sf_object)):  # the first mapping wins
                found[(sf_object, mapping.hubspot)] = field
            found[(sf_object, OPT_OUT_HUBSPOT)] = OPT_OUT_SALESFORCE
        return found

    def hubspot_properties(self) -> list[str]:
        return sorted({"email", OPT_OUT_HUBSPOT, OWNER_PROPERTY, *(m.hubspot for m in self.mappings)})

    def spelled_as_described(self, types: FieldTypes) -> ContactFields:
        """These mappings with each Salesforce field named as the describe spells it (``title`` ->
        ``Title``): Salesforce accepts a field name in any case, but its records, change events and
        answers use the describe's spelling. A field the describe lacks is left as written."""

        def spelled(mapping: FieldMapping) -> FieldMapping:
            update = {
                side: types.salesforce_spelling(sf_object, field)
                for side, sf_object, field in (
                    ("lead", LEAD, mapping.lead),
                    ("contact", CONTACT, mapping.contact),
                )
                if field
            }
            return mapping.model_copy(update=update)

        return ContactFields(tuple(spelled(m) for m in self.mappings))

    def salesforce_fields(self, sf_object: SfObject) -> list[str]:
        fields = {f for _, f in self.for_object(sf_object)}
        return sorted(fields | set(SALESFORCE_SYSTEM_FIELDS[sf_object]))


def comparable(hubspot_property: str, value: Any) -> str | None:
    """One form for comparing a HubSpot value with a Salesforce one: strings, blanks as None,
    emails case- and whitespace-insensitive, booleans as "true"/"false"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return bool_text(value)
    text = str(value)
    if not text.strip():
        return None
    if hubspot_property == "email":
        return normalize_email(text)
    return text


@dataclass(frozen=True)
class Refused:
    """A value the other side would refuse (picklist, length, type): kept out of the write."""

    prop: str
    field: str
    code: str
    message: str


def creation_values_for_salesforce(
    fields: ContactFields,
    types: FieldTypes,
    sf_object: SfObject,
    properties: Mapping[str, str | None],
    company_placeholder: str | None,
) -> tuple[dict[str, Any], list[Refused]]:
    """Salesforce field values for a record created from a HubSpot contact (with its opt-out).
    ``company_placeholder`` None: the org has person accounts, a Lead may have no Company (S10)."""

    def convert(mapping: FieldMapping, field: str, raw: Any) -> tuple[str, Any]:
        return field, types.to_salesforce(mapping.hubspot, sf_object, field, raw)

    # a new record has no Salesforce value to prefer: every synced mapping starts from HubSpot's
    synced = [
        (mapping, field, properties.get(mapping.hubspot))
        for mapping, field in fields.for_object(sf_object)
        if mapping.rule is not SyncRule.DONT_SYNC and types.has_field(sf_object, field)
    ]
    values, refused = _convert_each(synced, convert)
    if opted_out(properties.get(OPT_OUT_HUBSPOT)):
        values[OPT_OUT_SALESFORCE] = True
    if not values.get("LastName"):
        values["LastName"] = NOT_PROVIDED
    if sf_object == LEAD and not values.get("Company") and company_placeholder is not None:
        values["Company"] = company_placeholder
    return values, refused


def creation_values_for_hubspot(
    fields: ContactFields, types: FieldTypes, sf_object: SfObject, record_fields: Mapping[str, Any]
) -> tuple[dict[str, str | None], list[Refused]]:
    """HubSpot property values for a contact created from a Salesforce record (the opt-out is not a
    property write: the plan unsubscribes the new contact instead)."""

    def convert(mapping: FieldMapping, field: str, value: Any) -> tuple[str, str | None]:
        return mapping.hubspot, types.to_hubspot(mapping.hubspot, sf_object, field, value)

    synced = [
        (mapping, field, record_fields.get(field))
        for mapping, field in fields.for_object(sf_object)
        if mapping.rule is not SyncRule.DONT_SYNC
    ]
    return _convert_each(synced, convert)


def _convert_each(
    items: Iterable[tuple[FieldMapping, str, Any]], convert: Callable[[FieldMapping, str, Any], tuple[str, T]]
) -> tuple[dict[str, T], list[Refused]]:
    """Each (mapping, Salesforce field, value) converted for the other side, keyed as ``convert``
    says; a blank is left out, and a value the other side would refuse is listed as Refused."""
    values: dict[str, T] = {}
    refused: list[Refused] = []
    for mapping, field, value in items:
        if comparable("", value) is None:
            continue
        try:
            key, converted = convert(mapping, field, value)
        except ConversionError as exc:
            refused.append(Refused(mapping.hubspot, field, exc.code, exc.message))
        else:
            values[key] = converted
    return values, refused


def opted_out(value: Any) -> bool:
    """An opt-out flag as either side holds it (HubSpot "true", Salesforce True)."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() == "true"


class FieldTypes:
    """What each side's field is (HubSpot property definitions, Salesforce describe), for comparing
    and converting values. A field either side does not describe is compared and written as text."""

    def __init__(
        self,
        hubspot: Mapping[str, Mapping[str, Any]],
        salesforce: Mapping[str, Mapping[str, Mapping[str, Any]]],
    ) -> None:
        self._hs = {name: HubSpotPropertyType.from_api(d) for name, d in hubspot.items()}
        self._sf = {
            obj: {name: SalesforceFieldType.from_describe(d) for name, d in fields.items()}
            for obj, fields in salesforce.items()
        }

    @classmethod
    def untyped(cls) -> FieldTypes:
        return cls({}, {})

    def described(self, sf_object: str) -> bool:
        return bool(self._sf.get(sf_object))

    def has_field(self, sf_object: str, sf_field: str) -> bool:
        """False only when ``sf_object`` was described and lacks the field (not deployed in this org)."""
        return not self.described(sf_object) or sf_field.lower() in self._sf[sf_object]

    def salesforce_spelling(self, sf_object: str, sf_field: str) -> str:
        """``sf_field`` as the describe of ``sf_object`` spells it; as given when it does not know it."""
        described = self._sf.get(sf_object, {}).get(sf_field.lower())
        return described.name if described is not None else sf_field

    def _pair(
        self, prop: str, sf_object: str, sf_field: str
    ) -> tuple[HubSpotPropertyType | None, SalesforceFieldType | None]:
        return self._hs.get(prop), self._sf.get(sf_object, {}).get(sf_field.lower())

    def comparable(self, prop: str, sf_object: str, sf_field: str, value: Any) -> str | None:
        """One form of a value of this mapping, whichever side it comes from."""
        if prop == "email":
            return comparable(prop, value)
        hs, sf = self._pair(prop, sf_object, sf_field)
        if sf is None:
            return comparable(prop, value)
        return canonical(value, value_kind(hs, sf))

    def to_salesforce(self, prop: str, sf_object: str, sf_field: str, value: str | None) -> Any:
        """The Salesforce value for a HubSpot one; ConversionError when Salesforce would refuse it."""
        hs, sf = self._pair(prop, sf_object, sf_field)
        if sf is None:
            return value if value is not None and value.strip() else None
        return to_salesforce(value, hs, sf)

    def to_hubspot(self, prop: str, sf_object: str, sf_field: str, value: Any) -> str | None:
        """The HubSpot value for a Salesforce one; ConversionError when HubSpot would refuse it."""
        if is_blank(value):
            return None
        if prop == "email":
            return str(value).strip().lower()
        hs, sf = self._pair(prop, sf_object, sf_field)
        if sf is None:
            return bool_text(value) if isinstance(value, bool) else str(value)
        return to_hubspot(value, sf, hs)
