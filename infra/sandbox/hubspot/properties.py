"""Property definitions of the emulated portal and the value rules HubSpot applies on writes.

HubSpot stores every property value as a string. On a write it checks the value against the
property's type (number, bool, date, datetime, enumeration) and answers errors such as
``INVALID_OPTION`` or ``READ_ONLY_VALUE``; dates come back as ``YYYY-MM-DD``, datetimes as ISO 8601
with milliseconds, booleans as ``"true"``/``"false"``; ``""`` clears a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from infra.sandbox.hubspot.errors import PropertyIssue

TYPES = ("string", "number", "date", "datetime", "enumeration", "bool", "phone_number")
FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "date",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "phonenumber",
    "calculation_equation",
    "html",
    "file",
)
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PORTAL_CREATED_AT = datetime(2019, 8, 6, 9, 0, tzinfo=UTC)


# -- time values ---------------------------------------------------------------------------------
def iso_ms(moment: datetime) -> str:
    """``2019-10-30T03:30:17.883Z`` — HubSpot's datetime format."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_timestamp(value: str) -> datetime | None:
    """An epoch-milliseconds string or an ISO 8601 date/datetime, as HubSpot accepts both."""
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- definitions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    label: str
    value: str
    display_order: int
    hidden: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "displayOrder": self.display_order,
            "hidden": self.hidden,
        }


def options(*pairs: tuple[str, str]) -> tuple[Option, ...]:
    return tuple(Option(label, value, i) for i, (value, label) in enumerate(pairs))


@dataclass(frozen=True)
class PropertyDefinition:
    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    group_name: str = "contactinformation"
    description: str = ""
    options: tuple[Option, ...] = ()
    read_only: bool = False
    calculated: bool = False
    has_unique_value: bool = False
    hubspot_defined: bool = True
    external_options: bool = False
    hidden: bool = False
    display_order: int = -1
    form_field: bool = False
    created_at: datetime = PORTAL_CREATED_AT
    updated_at: datetime = PORTAL_CREATED_AT
    archived: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def multiple(self) -> bool:
        """Multiple checkboxes: the value is a ``;``-separated list of option values."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "updatedAt": iso_ms(self.updated_at),
            "createdAt": iso_ms(self.created_at),
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [o.to_json() for o in self.options],
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": self.form_field,
            "archived": self.archived,
        }
        body.update(self.extra)
        return body


def _ro(name: str, label: str, type_: str, field_type: str, group: str) -> PropertyDefinition:
    return PropertyDefinition(
        name, label, type_, field_type, group, read_only=True, calculated=type_ != "bool"
    )


LIFECYCLE_STAGES = options(
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)
LEAD_STATUSES = options(
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
)
INDUSTRIES = options(
    ("ACCOUNTING", "Accounting"),
    ("AIRLINES_AVIATION", "Airlines/Aviation"),
    ("AUTOMOTIVE", "Automotive"),
    ("BANKING", "Banking"),
    ("BIOTECHNOLOGY", "Biotechnology"),
    ("COMPUTER_SOFTWARE", "Computer Software"),
    ("CONSTRUCTION", "Construction"),
    ("CONSUMER_GOODS", "Consumer Goods"),
    ("EDUCATION_MANAGEMENT", "Education Management"),
    ("FINANCIAL_SERVICES", "Financial Services"),
    ("FOOD_BEVERAGES", "Food & Beverages"),
    ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"),
    ("HOSPITALITY", "Hospitality"),
    ("INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services"),
    ("INSURANCE", "Insurance"),
    ("LEGAL_SERVICES", "Legal Services"),
    ("LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"),
    ("MARKETING_AND_ADVERTISING", "Marketing and Advertising"),
    ("MEDIA_PRODUCTION", "Media Production"),
    ("MINING_METALS", "Mining & Metals"),
    ("OIL_ENERGY", "Oil & Energy"),
    ("RENEWABLES_ENVIRONMENT", "Renewables & Environment"),
    ("RETAIL", "Retail"),
    ("SEMICONDUCTORS", "Semiconductors"),
    ("SPORTING_GOODS", "Sporting Goods"),
    ("AVIATION_AEROSPACE", "Aviation & Aerospace"),
    ("TRANSPORTATION_TRUCKING_RAILROAD", "Transportation/Trucking/Railroad"),
)
DEAL_STAGES = options(
    ("appointmentscheduled", "Appointment Scheduled"),
    ("qualifiedtobuy", "Qualified To Buy"),
    ("presentationscheduled", "Presentation Scheduled"),
    ("decisionmakerboughtin", "Decision Maker Bought-In"),
    ("contractsent", "Contract Sent"),
    ("closedwon", "Closed Won"),
    ("closedlost", "Closed Lost"),
)
PIPELINES = options(("default", "Sales Pipeline"))
DEAL_TYPES = options(("newbusiness", "New Business"), ("existingbusiness", "Existing Business"))


def _owner(group: str) -> PropertyDefinition:
    return PropertyDefinition(
        "hubspot_owner_id", "Contact owner" if group == "contactinformation" else "Owner",
        "enumeration", "select", group, external_options=True,
    )  # fmt: skip


def _lifecycle(group: str) -> PropertyDefinition:
    return PropertyDefinition(
        "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group, options=LIFECYCLE_STAGES
    )


def _system(group: str, *, contact: bool = False) -> list[PropertyDefinition]:
    props = [
        _ro("createdate", "Create Date", "datetime", "date", group),
        _ro("hs_createdate", "Object create date/time", "datetime", "date", group),
        _ro("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", group),
        _ro("hs_object_id", "Record ID", "number", "number", group),
        _ro("hs_merged_object_ids", "Merged record IDs", "enumeration", "checkbox", group),
    ]
    if contact:
        props.append(_ro("lastmodifieddate", "Last Modified Date", "datetime", "date", group))
    return props


def _contact_properties() -> list[PropertyDefinition]:
    g = "contactinformation"
    text = [
        ("email", "Email"), ("firstname", "First Name"), ("lastname", "Last Name"),
        ("jobtitle", "Job Title"), ("company", "Company Name"), ("website", "Website URL"),
        ("address", "Street Address"), ("city", "City"), ("state", "State/Region"),
        ("zip", "Postal Code"), ("country", "Country/Region"), ("salutation", "Salutation"),
    ]  # fmt: skip
    props = [PropertyDefinition(n, label, group_name=g) for n, label in text]
    props += [
        PropertyDefinition("phone", "Phone Number", "string", "phonenumber", g),
        PropertyDefinition("mobilephone", "Mobile Phone Number", "string", "phonenumber", g),
        PropertyDefinition("fax", "Fax Number", "string", "phonenumber", g),
        _lifecycle(g),
        PropertyDefinition("hs_lead_status", "Lead Status", "enumeration", "radio", g, options=LEAD_STATUSES),
        _owner(g),
        PropertyDefinition("associatedcompanyid", "Primary Associated Company ID", "number", "number", g),
        PropertyDefinition("hs_email_optout", "Unsubscribed from all email", "bool", "booleancheckbox",
                           "emailinformation", read_only=True,
                           options=(Option("Yes", "true", 0), Option("No", "false", 1))),
        _ro("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox", g),
    ]  # fmt: skip
    return props + _system(g, contact=True)


def _company_properties() -> list[PropertyDefinition]:
    g = "companyinformation"
    text = [
        ("name", "Name"), ("domain", "Company Domain Name"), ("website", "Website URL"),
        ("city", "City"), ("state", "State/Region"), ("country", "Country/Region"),
        ("address", "Street Address"), ("zip", "Postal Code"), ("description", "Description"),
    ]  # fmt: skip
    props = [PropertyDefinition(n, label, group_name=g) for n, label in text]
    props += [
        PropertyDefinition("phone", "Phone Number", "string", "phonenumber", g),
        PropertyDefinition("industry", "Industry", "enumeration", "select", g, options=INDUSTRIES),
        _lifecycle(g),
        _owner(g),
        PropertyDefinition("numberofemployees", "Number of Employees", "number", "number", g),
        PropertyDefinition("annualrevenue", "Annual Revenue", "number", "number", g),
    ]  # fmt: skip
    return props + _system(g)


def _deal_properties() -> list[PropertyDefinition]:
    g = "dealinformation"
    props = [
        PropertyDefinition("dealname", "Deal Name", group_name=g),
        PropertyDefinition("description", "Deal Description", "string", "textarea", g),
        PropertyDefinition("amount", "Amount", "number", "number", g),
        PropertyDefinition("dealstage", "Deal Stage", "enumeration", "radio", g, options=DEAL_STAGES),
        PropertyDefinition("pipeline", "Pipeline", "enumeration", "select", g, options=PIPELINES),
        PropertyDefinition("closedate", "Close Date", "datetime", "date", g),
        PropertyDefinition("dealtype", "Deal Type", "enumeration", "radio", g, options=DEAL_TYPES),
        _owner(g),
    ]  # fmt: skip
    return props + _system(g)


def default_definitions() -> dict[str, dict[str, PropertyDefinition]]:
    result: dict[str, dict[str, PropertyDefinition]] = {}
    for object_type, props in (
        ("contacts", _contact_properties()),
        ("companies", _company_properties()),
        ("deals", _deal_properties()),
    ):
        result[object_type] = {p.name: replace(p, display_order=i) for i, p in enumerate(props)}
    return result


# Properties returned when a request names none (documented per object).
DEFAULT_RETURNED: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
        "hs_object_id", "pipeline",
    ),
}  # fmt: skip
# Properties every read returns besides the requested ones.
ALWAYS_RETURNED: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "hs_object_id", "lastmodifieddate"),
    "companies": ("createdate", "hs_lastmodifieddate", "hs_object_id"),
    "deals": ("createdate", "hs_lastmodifieddate", "hs_object_id"),
}
# Properties the free-text ``query`` of a search looks in.
SEARCHABLE: dict[str, tuple[str, ...]] = {
    "contacts": (
        "firstname", "lastname", "email", "phone", "hs_additional_emails", "fax", "mobilephone", "company",
    ),
    "companies": ("website", "phone", "name", "domain"),
    "deals": ("dealname", "pipeline", "dealstage", "description", "dealtype"),
}  # fmt: skip


# -- values --------------------------------------------------------------------------------------
def _as_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def normalize_value(definition: PropertyDefinition, raw: Any) -> str | PropertyIssue:
    """The stored form of a written value, or the issue HubSpot reports for it. ``""`` clears."""
    if raw is None:
        return ""
    text = _as_text(raw)
    if text == "":
        return ""
    name = definition.name
    kind = definition.type
    if kind == "number":
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            return PropertyIssue(name, "INVALID_FLOAT", f"{text} was not a valid number.")
        if not number.is_finite():
            return PropertyIssue(name, "INVALID_FLOAT", f"{text} was not a valid number.")
        return format(number.normalize(), "f") if number != number.to_integral() else str(int(number))
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            return PropertyIssue(name, "INVALID_BOOLEAN", f"{text} was not a valid boolean.")
        return lowered
    if kind in ("date", "datetime"):
        return _normalize_time(definition, text)
    if kind == "enumeration" and definition.options and not definition.external_options:
        allowed = [o.value for o in definition.options]
        values = text.split(";") if definition.multiple else [text]
        for value in values:
            if value not in allowed:
                return PropertyIssue(
                    name,
                    "INVALID_OPTION",
                    f"{value} was not one of the allowed options: [{', '.join(allowed)}]",
                )
    return text


def _normalize_time(definition: PropertyDefinition, text: str) -> str | PropertyIssue:
    moment = parse_timestamp(text)
    if moment is None:
        return PropertyIssue(definition.name, "INVALID_DATE", f"{text} was not a valid date.")
    if definition.type == "datetime":
        return iso_ms(moment)
    moment = moment.astimezone(UTC)
    if moment.time() != time(0):
        clock = f"{moment.hour}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}"
        return PropertyIssue(definition.name, "INVALID_DATE", f"{text} is at {clock} UTC, not midnight!")
    return moment.date().isoformat()


# -- custom properties ---------------------------------------------------------------------------
VALID_FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("text", "textarea", "html", "file", "phonenumber"),
    "phone_number": ("phonenumber",),
    "number": ("number", "calculation_equation"),
    "date": ("date",),
    "datetime": ("date",),
    "bool": ("booleancheckbox", "calculation_equation"),
    "enumeration": ("select", "radio", "checkbox", "booleancheckbox"),
}


def definition_from_input(body: Mapping[str, Any], now: datetime) -> PropertyDefinition | str:
    """A custom property from a ``PropertyCreate`` body, or the reason it is invalid."""
    missing = [key for key in ("name", "label", "type", "fieldType", "groupName") if not body.get(key)]
    if missing:
        return f"Missing required fields: {', '.join(missing)}"
    name = str(body["name"])
    if not PROPERTY_NAME.match(name):
        return (
            f"Property name '{name}' is invalid: it must start with a lowercase letter and contain "
            "only lowercase letters, digits and underscores"
        )
    type_, field_type = str(body["type"]), str(body["fieldType"])
    if type_ not in VALID_FIELD_TYPES:
        return f"Unknown property type '{type_}'"
    if field_type not in VALID_FIELD_TYPES[type_]:
        return f"Field type '{field_type}' is not valid for property type '{type_}'"
    opts = _options_from_input(body.get("options") or [])
    if isinstance(opts, str):
        return opts
    if type_ == "enumeration" and not opts:
        return "Enumeration properties need at least one option"
    return PropertyDefinition(
        name=name,
        label=str(body["label"]),
        type=type_,
        field_type=field_type,
        group_name=str(body["groupName"]),
        description=str(body.get("description") or ""),
        options=opts,
        has_unique_value=bool(body.get("hasUniqueValue", False)),
        hubspot_defined=False,
        hidden=bool(body.get("hidden", False)),
        display_order=int(body.get("displayOrder", -1)),
        form_field=bool(body.get("formField", False)),
        external_options=bool(body.get("externalOptions", False)),
        created_at=now,
        updated_at=now,
    )


def _options_from_input(raw: Iterable[Any]) -> tuple[Option, ...] | str:
    result = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or "label" not in item or "value" not in item:
            return "Each option needs a label and a value"
        result.append(
            Option(
                label=str(item["label"]),
                value=str(item["value"]),
                display_order=int(item.get("displayOrder", i)),
                hidden=bool(item.get("hidden", False)),
            )
        )
    return tuple(result)


def apply_update(
    definition: PropertyDefinition, body: Mapping[str, Any], now: datetime
) -> PropertyDefinition | str:
    """A ``PropertyUpdate`` applied to a custom property, or the reason it is refused."""
    if definition.hubspot_defined:
        return f"Property {definition.name} is a HubSpot defined property and cannot be modified"
    changes: dict[str, Any] = {"updated_at": now}
    simple = {
        "label": "label",
        "description": "description",
        "groupName": "group_name",
        "hidden": "hidden",
        "displayOrder": "display_order",
        "formField": "form_field",
    }
    for key, attr in simple.items():
        if key in body:
            changes[attr] = body[key]
    type_ = str(body.get("type", definition.type))
    field_type = str(body.get("fieldType", definition.field_type))
    if type_ not in VALID_FIELD_TYPES or field_type not in VALID_FIELD_TYPES[type_]:
        return f"Field type '{field_type}' is not valid for property type '{type_}'"
    changes["type"], changes["field_type"] = type_, field_type
    if "options" in body:
        opts = _options_from_input(body.get("options") or [])
        if isinstance(opts, str):
            return opts
        changes["options"] = opts
    return replace(definition, **changes)
