"""What each side says a field is: a HubSpot property definition, a Salesforce ``describe`` field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

SF_NUMBER_TYPES: Final = frozenset({"int", "long", "double", "currency", "percent"})
SF_INTEGER_TYPES: Final = frozenset({"int", "long"})
SF_PICKLIST_TYPES: Final = frozenset({"picklist", "multipicklist", "combobox"})
# compound or binary fields: never written through a field mapping
SF_UNSUPPORTED_TYPES: Final = frozenset({"address", "location", "base64", "complexvalue"})


def _required(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} has no {key!r}: {dict(data)!r:.200}")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class HubSpotPropertyType:
    """One HubSpot property definition (``GET /crm/v3/properties/contacts`` -> ``results[]``)."""

    name: str
    type: str  # string, number, date, datetime, enumeration, bool, phone_number
    field_type: str  # text, textarea, select, radio, checkbox, booleancheckbox, number, date, ...
    options: tuple[str, ...] = ()  # the option *values* of an enumeration
    read_only: bool = False  # modificationMetadata.readOnlyValue
    label: str = ""

    @property
    def multiple(self) -> bool:
        """Multiple checkboxes: the value is a ``;``-separated list of option values."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> HubSpotPropertyType:
        name = _required(data, "name", "HubSpot property")
        options = tuple(
            str(o["value"]) for o in data.get("options") or () if isinstance(o, Mapping) and "value" in o
        )
        metadata = data.get("modificationMetadata") or {}
        return cls(
            name=name,
            type=_required(data, "type", f"HubSpot property {name}"),
            field_type=str(data.get("fieldType") or ""),
            options=options,
            read_only=bool(metadata.get("readOnlyValue", False)),
            label=str(data.get("label") or ""),
        )


@dataclass(frozen=True)
class SalesforceFieldType:
    """One Salesforce field (``GET /services/data/vXX.X/sobjects/Lead/describe`` -> ``fields[]``)."""

    name: str
    type: str  # string, textarea, picklist, multipicklist, boolean, double, int, currency, date, ...
    length: int = 0  # characters, for text types; 0: no limit known
    precision: int = 0  # total digits of double/currency/percent; 0: no limit known
    scale: int = 0  # digits after the decimal point
    picklist_values: tuple[str, ...] = ()  # active values only
    restricted_picklist: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    digits: int = 0  # maximum digits of an int field
    label: str = ""

    @classmethod
    def from_describe(cls, data: Mapping[str, Any]) -> SalesforceFieldType:
        name = _required(data, "name", "Salesforce field")
        picklist = tuple(
            str(p["value"])
            for p in data.get("picklistValues") or ()
            if isinstance(p, Mapping) and p.get("value") is not None and p.get("active", True)
        )
        return cls(
            name=name,
            type=_required(data, "type", f"Salesforce field {name}"),
            length=_int(data, "length"),
            precision=_int(data, "precision"),
            scale=_int(data, "scale"),
            picklist_values=picklist,
            restricted_picklist=bool(data.get("restrictedPicklist", False)),
            nillable=bool(data.get("nillable", True)),
            createable=bool(data.get("createable", True)),
            updateable=bool(data.get("updateable", True)),
            digits=_int(data, "digits"),
            label=str(data.get("label") or ""),
        )
