"""The org's data model: objects, fields, relationships and the describe answers built from them.

The schema depends on two org settings: whether person accounts are enabled (Account gains person
fields, Contact gains ``IsPersonAccount``, Lead.Company becomes optional) and the configurable custom
fields. :class:`Schema` also answers the SOQL engine's questions (``SoqlSchema``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from infra.sandbox.salesforce.soql_model import FieldMeta

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)

DEFAULT_CUSTOM_FIELDS: tuple[dict[str, Any], ...] = tuple(
    [
        {
            "object": obj,
            "name": "Lifecycle_Stage__c",
            "label": "Lifecycle Stage",
            "type": "picklist",
            "values": list(LIFECYCLE_STAGES),
            "restricted": True,
        }
        for obj in ("Lead", "Contact")
    ]
    + [
        {
            "object": obj,
            "name": "HubSpot_Id__c",
            "label": "HubSpot Id",
            "type": "string",
            "length": 64,
            "external_id": True,
            "unique": True,
        }
        for obj in ("Lead", "Contact", "Account", "Opportunity")
    ]
)

# (stage, probability, closed, won), in the order of the sales path.
OPPORTUNITY_STAGES: tuple[tuple[str, int, bool, bool], ...] = (
    ("Prospecting", 10, False, False),
    ("Qualification", 10, False, False),
    ("Needs Analysis", 20, False, False),
    ("Value Proposition", 50, False, False),
    ("Id. Decision Makers", 60, False, False),
    ("Perception Analysis", 70, False, False),
    ("Proposal/Price Quote", 75, False, False),
    ("Negotiation/Review", 90, False, False),
    ("Closed Won", 100, True, True),
    ("Closed Lost", 0, True, False),
)
STAGE_INFO = {name: (prob, closed, won) for name, prob, closed, won in OPPORTUNITY_STAGES}

LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
CONVERTED_LEAD_STATUS = "Closed - Converted"
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
USER_TYPES = ("Standard", "PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "Guest", "CsnOnly")

STRING_TYPES = frozenset(
    {
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})
ID_TYPES = frozenset({"id", "reference"})

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "address": "urn:address",
}


@dataclass(frozen=True)
class PicklistValue:
    value: str
    default: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "active": True,
            "defaultValue": self.default,
            "label": self.value,
            "validFor": None,
            "value": self.value,
        }


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default: Any = None
    picklist: tuple[PicklistValue, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship: str | None = None
    cascade_delete: bool = False
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    name_field: bool = False
    calculated: bool = False
    compound: str | None = None
    custom: bool = False
    precision: int = 0
    scale: int = 0

    @property
    def required_on_create(self) -> bool:
        """Nillable=false, createable and not defaulted: the create call must give it."""
        return (
            not self.nillable and self.createable and not self.defaulted_on_create and self.type != "boolean"
        )

    @property
    def picklist_values(self) -> tuple[str, ...]:
        return tuple(p.value for p in self.picklist)

    def meta(self) -> FieldMeta:
        return FieldMeta(
            name=self.name,
            type=self.type,
            reference_to=self.reference_to,
            relationship_name=self.relationship_name,
            filterable=self.type != "textarea" or self.length <= 255,
            sortable=self.type not in ("textarea", "address"),
        )

    def describe(self) -> dict[str, Any]:
        is_text = self.type in STRING_TYPES
        return {
            "aggregatable": self.type not in ("textarea", "address"),
            "autoNumber": False,
            "byteLength": self.length * 3 if is_text or self.type in ID_TYPES else 0,
            "calculated": self.calculated,
            "calculatedFormula": None,
            "cascadeDelete": self.cascade_delete,
            "caseSensitive": False,
            "compoundFieldName": self.compound,
            "controllerName": None,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": self.default if self.type in ("picklist", "boolean") else None,
            "defaultValueFormula": None,
            "defaultedOnCreate": self.defaulted_on_create,
            "dependentPicklist": False,
            "deprecatedAndHidden": False,
            "digits": 9 if self.type == "int" else 0,
            "encrypted": False,
            "externalId": self.external_id,
            "extraTypeInfo": _extra_type_info(self),
            "filterable": self.type != "textarea" or self.length <= 255,
            "groupable": self.type
            not in ("textarea", "double", "currency", "percent", "datetime", "address"),
            "htmlFormatted": False,
            "idLookup": self.id_lookup,
            "inlineHelpText": None,
            "label": self.label or _label(self.name),
            "length": self.length if is_text else 0,
            "mask": None,
            "maskType": None,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": len(self.reference_to) > 1,
            "nillable": self.nillable,
            "permissionable": self.nillable and not self.calculated and self.name != "Id",
            "picklistValues": [p.describe() for p in self.picklist],
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "precision": self.precision,
            "queryByDistance": False,
            "referenceTargetField": None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "relationshipOrder": None,
            "restrictedDelete": False,
            "restrictedPicklist": self.restricted,
            "scale": self.scale,
            "searchPrefilterable": False,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.type not in ("textarea", "address"),
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }


def _extra_type_info(f: FieldDef) -> str | None:
    if f.type == "textarea":
        return "plaintextarea"
    if f.compound == "Name":
        return "personname"
    return None


def _label(name: str) -> str:
    base = name.removesuffix("__c").removesuffix("Id").replace("_", " ")
    out = ""
    for i, char in enumerate(base):
        if i and char.isupper() and not base[i - 1].isupper() and base[i - 1] != " ":
            out += " "
        out += char
    return out.strip() or name


def _picklist(values: Iterable[str], default: str | None = None) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(v, v == default) for v in values)


@dataclass(frozen=True)
class ObjectDef:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: Mapping[str, FieldDef]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    cdc: bool = True
    has_owner: bool = True
    child_relationships: tuple[tuple[str, str, str, bool], ...] = ()  # (name, child, field, cascade)
    record_types: tuple[dict[str, Any], ...] = ()
    _lower: Mapping[str, str] = field(default_factory=dict, repr=False)

    def field(self, name: str) -> FieldDef | None:
        canonical = self._lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    def url(self, version: str) -> str:
        return f"/services/data/v{version}/sobjects/{self.name}"

    def describe_global(self, version: str) -> dict[str, Any]:
        base = self.url(version)
        return {
            "activateable": False,
            "createable": self.createable,
            "custom": False,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": self.deletable,
            "deprecatedAndHidden": False,
            "feedEnabled": self.has_owner,
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": True,
            "mergeable": self.name in ("Lead", "Contact", "Account"),
            "mruEnabled": True,
            "name": self.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": self.deletable,
            "updateable": self.updateable,
            "urls": {
                "rowTemplate": f"{base}/{{ID}}",
                "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
                "describe": f"{base}/describe",
                "sobject": base,
            },
        }

    def describe(self, version: str) -> dict[str, Any]:
        out = self.describe_global(version)
        out.update(
            {
                "actionOverrides": [],
                "childRelationships": [
                    {
                        "cascadeDelete": cascade,
                        "childSObject": child,
                        "deprecatedAndHidden": False,
                        "field": fld,
                        "junctionIdListNames": [],
                        "junctionReferenceTo": [],
                        "relationshipName": name,
                        "restrictedDelete": False,
                    }
                    for name, child, fld, cascade in self.child_relationships
                ],
                "compactLayoutable": True,
                "fields": [f.describe() for f in self.fields.values()],
                "listviewable": None,
                "lookupLayoutable": None,
                "namedLayoutInfos": [],
                "networkScopeFieldName": None,
                "recordTypeInfos": list(self.record_types),
                "searchLayoutable": True,
                "supportedScopes": [{"label": "All", "name": "everything"}],
                "urls": {
                    **out["urls"],
                    "compactLayouts": f"{self.url(version)}/describe/compactLayouts",
                    "layouts": f"{self.url(version)}/describe/layouts",
                },
            }
        )
        out["sobjectDescribeOption"] = "FULL"
        return out


def _system_fields(owner_to: tuple[str, ...] | None) -> list[FieldDef]:
    out = [
        FieldDef("Id", "id", "Record ID", 18, nillable=False, createable=False, updateable=False,
                 defaulted_on_create=True, id_lookup=True),
        FieldDef("IsDeleted", "boolean", "Deleted", nillable=False, createable=False, updateable=False,
                 defaulted_on_create=True, default=False),
    ]  # fmt: skip
    if owner_to is not None:
        out.append(
            FieldDef("OwnerId", "reference", "Owner ID", 18, nillable=False, defaulted_on_create=True,
                     reference_to=owner_to, relationship_name="Owner")
        )  # fmt: skip
    for name, label in (("CreatedDate", "Created Date"), ("LastModifiedDate", "Last Modified Date")):
        out.append(FieldDef(name, "datetime", label, nillable=False, createable=False, updateable=False,
                            defaulted_on_create=True))  # fmt: skip
    for name, rel, label in (
        ("CreatedById", "CreatedBy", "Created By ID"),
        ("LastModifiedById", "LastModifiedBy", "Last Modified By ID"),
    ):
        out.append(FieldDef(name, "reference", label, 18, nillable=False, createable=False, updateable=False,
                            defaulted_on_create=True, reference_to=("User",),
                            relationship_name=rel))  # fmt: skip
    out.append(FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, createable=False,
                        updateable=False, defaulted_on_create=True))  # fmt: skip
    return out


def _s(name: str, length: int, label: str = "", **kw: Any) -> FieldDef:
    return FieldDef(name, "string", label, length, **kw)


def _ref(name: str, to: str | tuple[str, ...], rel: str, child: str | None = None, **kw: Any) -> FieldDef:
    targets = (to,) if isinstance(to, str) else to
    return FieldDef(name, "reference", kw.pop("label", ""), 18, reference_to=targets, relationship_name=rel,
                    child_relationship=child, **kw)  # fmt: skip


def _readonly(f: FieldDef, **kw: Any) -> FieldDef:
    return replace(f, createable=False, updateable=False, **kw)


def _name_fields(required_last: bool = True) -> list[FieldDef]:
    return [
        FieldDef("Salutation", "picklist", "Salutation", 40, compound="Name",
                 picklist=_picklist(("Mr.", "Ms.", "Mrs.", "Dr.", "Prof."))),
        _s("FirstName", 40, "First Name", compound="Name"),
        _s("LastName", 80, "Last Name", compound="Name", nillable=not required_last),
        _readonly(_s("Name", 121, "Full Name", name_field=True), nillable=False, defaulted_on_create=True),
    ]  # fmt: skip


def _address(prefix: str, compound: str, label: str) -> list[FieldDef]:
    return [
        FieldDef(f"{prefix}Street", "textarea", f"{label} Street".strip(), 255, compound=compound),
        _s(f"{prefix}City", 40, f"{label} City".strip(), compound=compound),
        _s(f"{prefix}State", 80, f"{label} State/Province".strip(), compound=compound),
        _s(f"{prefix}PostalCode", 20, f"{label} Zip/Postal Code".strip(), compound=compound),
        _s(f"{prefix}Country", 80, f"{label} Country".strip(), compound=compound),
        _readonly(FieldDef(compound, "address", f"{label} Address".strip())),
    ]


INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
    "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
    "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
    "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities", "Other",
)  # fmt: skip
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")


def _lead(person_accounts: bool) -> list[FieldDef]:
    return [
        *_name_fields(),
        _s("Title", 128),
        _s("Company", 255, nillable=person_accounts),
        *_address("", "Address", ""),
        FieldDef("Phone", "phone", "Phone", 40),
        FieldDef("MobilePhone", "phone", "Mobile Phone", 40),
        FieldDef("Email", "email", "Email", 80, id_lookup=True),
        FieldDef("Website", "url", "Website", 255),
        FieldDef("Description", "textarea", "Description", 32000),
        FieldDef("LeadSource", "picklist", "Lead Source", 255, picklist=_picklist(LEAD_SOURCES)),
        FieldDef("Status", "picklist", "Status", 255, nillable=False, defaulted_on_create=True,
                 default=LEAD_STATUSES[0], picklist=_picklist(LEAD_STATUSES, LEAD_STATUSES[0])),
        FieldDef("Industry", "picklist", "Industry", 255, picklist=_picklist(INDUSTRIES)),
        FieldDef("NumberOfEmployees", "int", "Employees"),
        FieldDef("HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False, defaulted_on_create=True,
                 default=False),
        _readonly(FieldDef("IsConverted", "boolean", "Converted", nillable=False, defaulted_on_create=True,
                           default=False)),
        _readonly(FieldDef("ConvertedDate", "date", "Converted Date")),
        _readonly(_ref("ConvertedAccountId", "Account", "ConvertedAccount", label="Converted Account ID")),
        _readonly(_ref("ConvertedContactId", "Contact", "ConvertedContact", label="Converted Contact ID")),
        _readonly(_ref("ConvertedOpportunityId", "Opportunity", "ConvertedOpportunity",
                       label="Converted Opportunity ID")),
        _readonly(_ref("MasterRecordId", "Lead", "MasterRecord", label="Master Record ID")),
    ]  # fmt: skip


def _contact(person_accounts: bool) -> list[FieldDef]:
    out = [
        *_name_fields(),
        _ref("AccountId", "Account", "Account", "Contacts", label="Account ID", cascade_delete=True),
        _s("Title", 128),
        _s("Department", 80),
        *_address("Mailing", "MailingAddress", "Mailing"),
        FieldDef("Phone", "phone", "Business Phone", 40),
        FieldDef("MobilePhone", "phone", "Mobile Phone", 40),
        FieldDef("Email", "email", "Email", 80, id_lookup=True),
        FieldDef("Description", "textarea", "Contact Description", 32000),
        FieldDef("LeadSource", "picklist", "Lead Source", 255, picklist=_picklist(LEAD_SOURCES)),
        FieldDef("HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False, defaulted_on_create=True,
                 default=False),
        _readonly(_ref("MasterRecordId", "Contact", "MasterRecord", label="Master Record ID")),
    ]  # fmt: skip
    if person_accounts:
        out.append(
            _readonly(FieldDef("IsPersonAccount", "boolean", "Is Person Account", nillable=False,
                               defaulted_on_create=True, default=False))
        )  # fmt: skip
    return out


def _account(person_accounts: bool) -> list[FieldDef]:
    name = _s("Name", 255, "Account Name", nillable=False, name_field=True)
    if person_accounts:
        name = replace(name, compound=None, label="Account Name")
    out = [
        name,
        FieldDef("Type", "picklist", "Account Type", 255, picklist=_picklist((
            "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
            "Installation Partner", "Technology Partner", "Other"))),
        _ref("ParentId", "Account", "Parent", "ChildAccounts", label="Parent Account ID"),
        *_address("Billing", "BillingAddress", "Billing"),
        FieldDef("Phone", "phone", "Account Phone", 40),
        FieldDef("Website", "url", "Website", 255),
        FieldDef("Industry", "picklist", "Industry", 255, picklist=_picklist(INDUSTRIES)),
        FieldDef("AnnualRevenue", "currency", "Annual Revenue", precision=18),
        FieldDef("NumberOfEmployees", "int", "Employees"),
        FieldDef("Description", "textarea", "Account Description", 32000),
        FieldDef("AccountSource", "picklist", "Account Source", 255, picklist=_picklist(LEAD_SOURCES)),
        _readonly(_ref("MasterRecordId", "Account", "MasterRecord", label="Master Record ID")),
    ]  # fmt: skip
    if person_accounts:
        out += [
            _ref("RecordTypeId", "RecordType", "RecordType", label="Record Type ID"),
            _s("FirstName", 40, "First Name", compound="Name"),
            _s("LastName", 80, "Last Name", compound="Name"),
            FieldDef("Salutation", "picklist", "Salutation", 40, compound="Name",
                     picklist=_picklist(("Mr.", "Ms.", "Mrs.", "Dr.", "Prof."))),
            _readonly(_ref("PersonContactId", "Contact", "PersonContact", label="Person Contact ID")),
            _readonly(FieldDef("IsPersonAccount", "boolean", "Is Person Account", nillable=False,
                               defaulted_on_create=True, default=False)),
            FieldDef("PersonEmail", "email", "Email", 80),
            _s("PersonTitle", 80, "Title"),
            FieldDef("PersonMobilePhone", "phone", "Mobile", 40),
            FieldDef("PersonHasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False,
                     defaulted_on_create=True, default=False),
            FieldDef("PersonLeadSource", "picklist", "Lead Source", 255, picklist=_picklist(LEAD_SOURCES)),
            *_address("PersonMailing", "PersonMailingAddress", "Mailing"),
        ]  # fmt: skip
    return out


def _opportunity() -> list[FieldDef]:
    stages = tuple(s[0] for s in OPPORTUNITY_STAGES)
    return [
        _s("Name", 120, "Name", nillable=False, name_field=True),
        _ref("AccountId", "Account", "Account", "Opportunities", label="Account ID", cascade_delete=True),
        FieldDef("Description", "textarea", "Description", 32000),
        FieldDef("StageName", "picklist", "Stage", 255, nillable=False, restricted=True,
                 picklist=_picklist(stages)),
        FieldDef("Amount", "currency", "Amount", precision=18, scale=2),
        FieldDef("Probability", "percent", "Probability (%)", precision=3, defaulted_on_create=True),
        FieldDef("CloseDate", "date", "Close Date", nillable=False),
        FieldDef("Type", "picklist", "Opportunity Type", 255, picklist=_picklist((
            "Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade",
            "New Customer"))),
        _s("NextStep", 255, "Next Step"),
        FieldDef("LeadSource", "picklist", "Lead Source", 255, picklist=_picklist(LEAD_SOURCES)),
        _readonly(FieldDef("IsClosed", "boolean", "Closed", nillable=False, defaulted_on_create=True,
                           default=False)),
        _readonly(FieldDef("IsWon", "boolean", "Won", nillable=False, defaulted_on_create=True,
                           default=False)),
    ]  # fmt: skip


def _contact_role() -> list[FieldDef]:
    return [
        _ref("OpportunityId", "Opportunity", "Opportunity", "OpportunityContactRoles", label="Opportunity ID",
             nillable=False, updateable=False, cascade_delete=True),
        _ref("ContactId", "Contact", "Contact", "OpportunityContactRoles", label="Contact ID", nillable=False,
             cascade_delete=True),
        FieldDef("Role", "picklist", "Role", 40, picklist=_picklist((
            "Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker", "Evaluator",
            "Executive Sponsor", "Influencer", "Technical Buyer", "Other"))),
        FieldDef("IsPrimary", "boolean", "Primary", nillable=False, defaulted_on_create=True, default=False),
    ]  # fmt: skip


def _task() -> list[FieldDef]:
    return [
        _ref("WhoId", ("Contact", "Lead"), "Who", "Tasks", label="Name ID"),
        _ref("WhatId", ("Account", "Opportunity"), "What", "Tasks", label="Related To ID"),
        FieldDef("Subject", "combobox", "Subject", 255,
                 picklist=_picklist(("Call", "Send Letter", "Send Quote", "Other"))),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        FieldDef("Status", "picklist", "Status", 40, nillable=False, defaulted_on_create=True,
                 default="Not Started", picklist=_picklist(TASK_STATUSES, "Not Started")),
        FieldDef("Priority", "picklist", "Priority", 40, nillable=False, defaulted_on_create=True,
                 default="Normal", picklist=_picklist(("High", "Normal", "Low"), "Normal")),
        FieldDef("Description", "textarea", "Description", 32000),
        FieldDef("Type", "picklist", "Type", 40, picklist=_picklist(("Call", "Email", "Meeting", "Other"))),
        FieldDef("TaskSubtype", "picklist", "Task Subtype", 40, updateable=False,
                 picklist=_picklist(("Task", "Email", "ListEmail", "Cadence", "Call"))),
        _readonly(FieldDef("IsClosed", "boolean", "Closed", nillable=False, defaulted_on_create=True,
                           default=False)),
    ]  # fmt: skip


def _user() -> list[FieldDef]:
    fields = [
        _s("Username", 80, "Username", nillable=False, unique=True, id_lookup=True),
        *[f for f in _name_fields() if f.name != "Salutation"],
        FieldDef("Email", "email", "Email", 128, nillable=False),
        _s("Alias", 8, "Alias", nillable=False),
        _s("Title", 80),
        _s("CompanyName", 80, "Company Name"),
        FieldDef("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True, default=True),
        FieldDef("UserType", "picklist", "User Type", 40, picklist=_picklist(USER_TYPES)),
    ]
    return [_readonly(f) for f in fields]


def _group() -> list[FieldDef]:
    fields = [
        _s("Name", 40, "Name", name_field=True),
        _s("DeveloperName", 80, "Developer Name"),
        FieldDef(
            "Type", "picklist", "Type", 40, nillable=False, picklist=_picklist(("Regular", "Role", "Queue"))
        ),
        FieldDef("Email", "email", "Email", 255),
    ]
    return [_readonly(f) for f in fields]


def _record_type() -> list[FieldDef]:
    fields = [
        _s("Name", 80, "Name", name_field=True),
        _s("DeveloperName", 80, "Record Type Name"),
        _s("SobjectType", 40, "SObject Type Name"),
        FieldDef("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True, default=True),
        FieldDef("IsPersonType", "boolean", "Is Person Type", nillable=False, defaulted_on_create=True,
                 default=False),
    ]  # fmt: skip
    return [_readonly(f) for f in fields]


def custom_field(spec: Mapping[str, Any]) -> FieldDef:
    """A custom field from its settings entry: ``{"object","name","type",...}``."""
    name = str(spec["name"])
    if not name.endswith("__c"):
        raise ValueError(f"custom field name {name!r} must end with __c")
    ftype = str(spec.get("type", "string"))
    if ftype not in STRING_TYPES | NUMBER_TYPES | {"boolean", "date", "datetime"}:
        raise ValueError(f"unsupported custom field type {ftype!r}")
    values = [str(v) for v in spec.get("values", [])]
    default_length = {"string": 255, "textarea": 32768, "email": 80, "phone": 40, "url": 255}.get(ftype, 255)
    return FieldDef(
        name=name,
        type=ftype,
        label=str(spec.get("label") or _label(name)),
        length=int(spec.get("length", default_length)) if ftype in STRING_TYPES else 0,
        picklist=_picklist(values, spec.get("default")),
        restricted=bool(spec.get("restricted", False)),
        unique=bool(spec.get("unique", False)),
        external_id=bool(spec.get("external_id", False)),
        id_lookup=bool(spec.get("external_id", False)),
        nillable=ftype != "boolean",
        defaulted_on_create=ftype == "boolean",
        default=False if ftype == "boolean" else None,
        custom=True,
        precision=18 if ftype in NUMBER_TYPES else 0,
    )


@dataclass(frozen=True)
class RecordTypes:
    """The Account record types of an org with person accounts."""

    business_id: str
    person_id: str


OBJECT_SPECS: tuple[tuple[str, str, str, str], ...] = (
    ("Lead", "Lead", "Leads", "00Q"),
    ("Contact", "Contact", "Contacts", "003"),
    ("Account", "Account", "Accounts", "001"),
    ("Opportunity", "Opportunity", "Opportunities", "006"),
    ("OpportunityContactRole", "Opportunity Contact Role", "Opportunity Contact Role", "00K"),
    ("Task", "Task", "Tasks", "00T"),
    ("User", "User", "Users", "005"),
    ("Group", "Group", "Groups", "00G"),
    ("RecordType", "Record Type", "Record Types", "012"),
)


class Schema:
    """All objects of the org for a given set of settings; immutable (rebuilt when settings change)."""

    def __init__(
        self,
        *,
        person_accounts: bool,
        custom_fields: Iterable[Mapping[str, Any]],
        record_types: RecordTypes,
    ) -> None:
        self.person_accounts = person_accounts
        self.record_types = record_types
        owners_user = ("User",)
        owners_queue = ("Group", "User")
        builders: dict[str, tuple[list[FieldDef], tuple[str, ...] | None]] = {
            "Lead": (_lead(person_accounts), owners_queue),
            "Contact": (_contact(person_accounts), owners_user),
            "Account": (_account(person_accounts), owners_user),
            "Opportunity": (_opportunity(), owners_user),
            "OpportunityContactRole": (_contact_role(), None),
            "Task": (_task(), owners_queue),
            "User": (_user(), None),
            "Group": (_group(), None),
            "RecordType": (_record_type(), None),
        }
        for spec in custom_fields:
            obj = str(spec.get("object", ""))
            if obj not in builders:
                raise ValueError(f"custom fields are supported on {sorted(builders)}, not {obj!r}")
            fields = builders[obj][0]
            fields[:] = [f for f in fields if f.name != spec["name"]] + [custom_field(spec)]
        self.objects: dict[str, ObjectDef] = {}
        for name, label, plural, prefix in OBJECT_SPECS:
            fields, owner_to = builders[name]
            system = _system_fields(owner_to)
            all_fields = system[:2] + fields + system[2:]
            read_only = name in ("User", "Group", "RecordType")
            self.objects[name] = ObjectDef(
                name=name,
                label=label,
                label_plural=plural,
                key_prefix=prefix,
                fields={f.name: f for f in all_fields},
                createable=not read_only,
                updateable=not read_only,
                deletable=not read_only,
                cdc=name not in ("Group", "RecordType"),
                has_owner=owner_to is not None,
                record_types=self._record_type_infos(name),
                _lower={f.name.lower(): f.name for f in all_fields},
            )
        self._link_children()
        self._lower = {name.lower(): name for name in self.objects}
        self._by_prefix = {o.key_prefix: o.name for o in self.objects.values()}

    def _record_type_infos(self, name: str) -> tuple[dict[str, Any], ...]:
        master = {
            "active": True,
            "available": True,
            "defaultRecordTypeMapping": True,
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": "012000000000000AAA",
        }
        if name != "Account" or not self.person_accounts:
            return (master,)
        rts = self.record_types
        return (
            {**master, "developerName": "Business_Account", "name": "Business Account", "master": False,
             "recordTypeId": rts.business_id},
            {**master, "defaultRecordTypeMapping": False, "developerName": "PersonAccount",
             "name": "Person Account", "master": False, "recordTypeId": rts.person_id},
            {**master, "available": False, "defaultRecordTypeMapping": False},
        )  # fmt: skip

    def _link_children(self) -> None:
        children: dict[str, list[tuple[str, str, str, bool]]] = {name: [] for name in self.objects}
        for obj in self.objects.values():
            for f in obj.fields.values():
                if f.child_relationship:
                    for parent in f.reference_to:
                        children[parent].append((f.child_relationship, obj.name, f.name, f.cascade_delete))
        for name, rels in children.items():
            self.objects[name] = replace(self.objects[name], child_relationships=tuple(rels))

    # -- lookups -----------------------------------------------------------------------------
    def get(self, name: str) -> ObjectDef | None:
        canonical = self._lower.get(name.lower())
        return self.objects[canonical] if canonical else None

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        name = self._by_prefix.get(record_id[:3])
        return self.objects[name] if name else None

    # -- SoqlSchema --------------------------------------------------------------------------
    def sobject(self, name: str) -> str | None:
        return self._lower.get(name.lower())

    def field(self, sobject: str, name: str) -> FieldMeta | None:
        obj = self.get(sobject)
        f = obj.field(name) if obj else None
        return f.meta() if f else None

    def parent_relationship(self, sobject: str, name: str) -> FieldMeta | None:
        obj = self.get(sobject)
        if obj is None:
            return None
        for f in obj.fields.values():
            if f.relationship_name and f.relationship_name.lower() == name.lower():
                return f.meta()
        return None

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        obj = self.get(sobject)
        if obj is None:
            return None
        for rel, child, fld, _cascade in obj.child_relationships:
            if rel.lower() == name.lower():
                return child, fld
        return None
