"""The sync configuration: what syncs, in which direction, and who wins.

Kept as YAML (an SSM parameter in AWS, a file locally), validated by these pydantic models; the JSON
Schema comes from the same models (``hssync config schema``). Field mappings are configuration, with
one exception: the email opt-out mapping (``hs_email_optout`` <-> ``HasOptedOutOfEmail``) is
mandatory (CAN-SPAM) and a configuration may neither remove nor redefine it.

Account sync (HubSpot companies <-> Salesforce Accounts, DESIGN S7, S9, S13) is off unless
``accounts.enabled``; off, none of its settings changes anything. Deal sync likewise is off unless
``deals.enabled`` (its settings: ``shared.deals.settings``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from shared import bounded_yaml
from shared.deals.settings import (
    DEFAULT_DEAL_MAPPINGS,
    DealMapping,
    DealsSettings,
    LifecycleSettings,
    check_deal_mappings,
)
from shared.email_events.events import DEFAULT_KINDS, EventKind
from shared.email_events.start import NOW, check_start
from shared.settings_base import CreationMode as CreationMode
from shared.settings_base import Strict
from shared.settings_base import SyncRule as SyncRule
from shared.settings_base import same_salesforce_field as same_salesforce_field

OPT_OUT_HUBSPOT = "hs_email_optout"
OPT_OUT_SALESFORCE = "HasOptedOutOfEmail"


_Strict = Strict


def _an_integer(value: Any) -> Any:
    # Literal[1] alone takes true and 1.0 for 1 (they are equal in Python)
    if type(value) is not int:
        raise ValueError("the version is the number 1")
    return value


# what YAML gives is what counts: no true for 1, "12" for 12, "yes" for true (issue 11)
PortalId = Annotated[StrictInt, Field(gt=0)]
Version = Annotated[Literal[1], BeforeValidator(_an_integer)]


class FieldMapping(_Strict):
    hubspot: StrictStr = Field(min_length=1, description="HubSpot contact property name")
    lead: StrictStr | None = Field(default=None, description="Salesforce Lead field; omit if it has none")
    contact: StrictStr | None = Field(
        default=None, description="Salesforce Contact field; omit if it has none"
    )
    rule: SyncRule = SyncRule.TWO_WAY

    @model_validator(mode="after")
    def _has_a_salesforce_side(self) -> FieldMapping:
        if not self.lead and not self.contact:
            raise ValueError(f"mapping for {self.hubspot!r} names neither a lead nor a contact field")
        return self


class PropertyFilter(_Strict):
    property: StrictStr = Field(min_length=1)
    operator: Literal["EQ", "NEQ", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "IN", "NOT_IN"]
    value: StrictStr | None = None
    values: tuple[StrictStr, ...] = ()


class InclusionList(_Strict):
    """Which HubSpot contacts sync to Salesforce. Nothing set: every contact (the default)."""

    list_id: StrictStr | None = Field(
        default=None,
        pattern=r"^[0-9]+$",
        description="a HubSpot list (lists v3 id): only its members sync to Salesforce",
    )
    property_filters: tuple[PropertyFilter, ...] = Field(
        default=(), description="all must hold for a contact to sync"
    )
    preset: Literal["everyone", "everyone_except_subscribers"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> InclusionList:
        if sum(bool(kind) for kind in (self.list_id, self.property_filters, self.preset)) > 1:
            raise ValueError("choose one of list_id, property_filters or preset")
        return self


class Creation(_Strict):
    hubspot_to_salesforce: Literal["lead", "contact"] = "lead"
    salesforce_to_hubspot: CreationMode = "create_or_update"
    lead_company_placeholder: StrictStr = Field(
        default="[not provided]",
        min_length=1,
        description="Lead.Company when the contact has none, in orgs without person accounts",
    )
    assignment_rules: StrictBool = Field(
        default=True,
        description="a record created from HubSpot without a valid owner gets its owner from Salesforce's "
        "assignment rules (Sforce-Auto-Assign: TRUE); false: the integration user owns it",
    )
    companies_to_salesforce: CreationMode = Field(
        default="create_or_update",
        description="with account sync on: a HubSpot company with no Account creates one "
        "(do_nothing: companies only update the Accounts they are linked or matched to)",
    )
    accounts_to_hubspot: CreationMode = Field(
        default="create_or_update",
        description="with account sync on: a Salesforce Account with no company creates one "
        "(do_nothing: Accounts only update the companies they are linked or matched to)",
    )


class EmailEventsSettings(_Strict):
    """Marketing-email events (HubSpot email events API) as Salesforce Tasks, one per event."""

    enabled: StrictBool = Field(default=True, description="turn email events into Salesforce Tasks")
    types: tuple[EventKind, ...] = Field(
        default=DEFAULT_KINDS,
        min_length=1,
        description="the event types that become tasks (UNSUBSCRIBED: a subscription status change)",
    )
    start: StrictStr = Field(
        default=NOW,
        description="where the first read starts: 'now', an ISO date (2026-11-01) or a lookback (P30D)",
    )
    event_id_field: StrictStr | None = Field(
        default=None,
        pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$",
        description="a custom external-id field on Task holding the HubSpot event id: tasks are "
        "upserted by it, so even a lost state table cannot duplicate a task",
    )
    overlap_minutes: StrictInt = Field(
        default=60, ge=0, le=1440, description="each read re-reads this much before the last one ended"
    )
    unsynced_retry_hours: StrictInt = Field(
        default=24, ge=0, le=168, description="how long an event of a recipient not synced yet is retried"
    )

    @field_validator("start")
    @classmethod
    def _valid_start(cls, value: str) -> str:
        return check_start(value)

    @field_validator("types")
    @classmethod
    def _unique_types(cls, types: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(types)) != len(types):
            raise ValueError("an event type is listed twice")
        return types


class BatchingSettings(_Strict):
    """Adaptive batching (``shared.pacing``): how many calls the dedupe windows of a trickle may
    spend, and how long a change may wait for its window."""

    budget_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="the share of each CRM's API allocation per day the windows of a trickle may spend "
        "(a window that fills a whole API batch is not rationed)",
    )
    max_wait_seconds: StrictInt = Field(
        default=60,
        ge=0,
        le=900,
        description="the longest a change waits for its window to gather others (0: never waits)",
    )


class Deletes(_Strict):
    salesforce_delete: Literal["do_nothing", "archive_hubspot_contact"] = "do_nothing"
    salesforce_account_delete: Literal["keep", "archive"] = Field(
        default="keep",
        description="with account sync on: a deleted Account keeps its HubSpot company (the link is "
        "forgotten) or archives it; a HubSpot company deletion never deletes an Account",
    )


class AccountsSettings(_Strict):
    """Account sync: HubSpot companies <-> Salesforce Accounts, and contact <-> company associations."""

    enabled: StrictBool = Field(
        default=False,
        description="sync companies with Accounts, a Contact's AccountId with its contact's primary "
        "company, and person accounts; false: nothing of accounts syncs (contacts as before)",
    )


class CompanyMapping(_Strict):
    """A HubSpot company property <-> a Salesforce Account field, with its sync rule (the same rules
    and the same typed conversion as the contact mappings)."""

    hubspot: StrictStr = Field(min_length=1, description="HubSpot company property name")
    account: StrictStr = Field(min_length=1, description="Salesforce Account field")
    rule: SyncRule = SyncRule.TWO_WAY


# the Account fields a company mapping may not name: ids and the owner (owners sync through the
# owners stage, S16/S17), and the person account's flag (S9)
RESERVED_ACCOUNT_FIELDS = ("Id", "OwnerId", "IsPersonAccount", "MasterRecordId", "ParentId")
RESERVED_COMPANY_PROPERTIES = ("hs_object_id", "hubspot_owner_id")
ACCOUNT_NAME_FIELD = "Name"


DEFAULT_CONTACT_MAPPINGS: tuple[FieldMapping, ...] = (
    FieldMapping(hubspot="email", lead="Email", contact="Email"),
    FieldMapping(hubspot="firstname", lead="FirstName", contact="FirstName"),
    FieldMapping(hubspot="lastname", lead="LastName", contact="LastName"),
    FieldMapping(hubspot="phone", lead="Phone", contact="Phone"),
    FieldMapping(hubspot="mobilephone", lead="MobilePhone", contact="MobilePhone"),
    FieldMapping(hubspot="jobtitle", lead="Title", contact="Title"),
    FieldMapping(hubspot="address", lead="Street", contact="MailingStreet"),
    FieldMapping(hubspot="city", lead="City", contact="MailingCity"),
    FieldMapping(hubspot="state", lead="State", contact="MailingState"),
    FieldMapping(hubspot="zip", lead="PostalCode", contact="MailingPostalCode"),
    FieldMapping(hubspot="country", lead="Country", contact="MailingCountry"),
    FieldMapping(hubspot="website", lead="Website"),
    FieldMapping(hubspot="company", lead="Company"),  # a Contact has an Account lookup instead (S13)
)


DEFAULT_COMPANY_MAPPINGS: tuple[CompanyMapping, ...] = (
    CompanyMapping(hubspot="name", account=ACCOUNT_NAME_FIELD),
    CompanyMapping(hubspot="domain", account="Website"),
    CompanyMapping(hubspot="phone", account="Phone"),
    CompanyMapping(hubspot="address", account="BillingStreet"),
    CompanyMapping(hubspot="city", account="BillingCity"),
    CompanyMapping(hubspot="state", account="BillingState"),
    CompanyMapping(hubspot="zip", account="BillingPostalCode"),
    CompanyMapping(hubspot="country", account="BillingCountry"),
    CompanyMapping(hubspot="industry", account="Industry"),
    CompanyMapping(hubspot="annualrevenue", account="AnnualRevenue"),
    CompanyMapping(hubspot="numberofemployees", account="NumberOfEmployees"),
)


def check_company_mappings(mappings: tuple[CompanyMapping, ...]) -> tuple[CompanyMapping, ...]:
    """The company mappings, or ValueError: each property and each field mapped once, none of the
    reserved ones, and the Account's Name synced (an Account cannot exist without one)."""
    properties: set[str] = set()
    fields: set[str] = set()
    for m in mappings:
        if m.hubspot in RESERVED_COMPANY_PROPERTIES or any(
            same_salesforce_field(m.account, f) for f in RESERVED_ACCOUNT_FIELDS
        ):
            raise ValueError(
                f"{m.hubspot!r} <-> {m.account!r} cannot be mapped: ids, owners (synced by the owners "
                "stage) and IsPersonAccount are not field mappings"
            )
        if m.hubspot in properties:
            raise ValueError(f"HubSpot company property {m.hubspot!r} is mapped twice")
        if m.account.lower() in fields:
            raise ValueError(f"Account field {m.account!r} is mapped twice")
        properties.add(m.hubspot)
        fields.add(m.account.lower())
    if not any(
        same_salesforce_field(m.account, ACCOUNT_NAME_FIELD) and m.rule is not SyncRule.DONT_SYNC
        for m in mappings
    ):
        raise ValueError("a mapping to the Account's Name is required: an Account needs a name")
    return mappings


class SyncConfig(_Strict):
    version: Version = 1
    portals: tuple[PortalId, ...] = Field(min_length=1, description="HubSpot portal ids synced with this org")
    creation: Creation = Creation()
    portal_creation: dict[PortalId, Creation] = Field(
        default_factory=dict,
        description="creation settings of one portal (its id -> settings like creation), replacing "
        "creation for that portal",
    )
    inclusion: InclusionList = InclusionList()
    contact_mappings: tuple[FieldMapping, ...] = DEFAULT_CONTACT_MAPPINGS
    deletes: Deletes = Deletes()
    email_events: EmailEventsSettings = EmailEventsSettings()
    accounts: AccountsSettings = AccountsSettings()
    company_mappings: tuple[CompanyMapping, ...] = Field(
        default=DEFAULT_COMPANY_MAPPINGS,
        min_length=1,
        description="HubSpot company property <-> Account field, each with its rule (account sync on)",
    )
    deals: DealsSettings = DealsSettings()
    deal_mappings: tuple[DealMapping, ...] = Field(
        default=DEFAULT_DEAL_MAPPINGS,
        min_length=1,
        description="HubSpot deal property <-> Opportunity field, each with its rule (deal sync on)",
    )
    lifecycle: LifecycleSettings = LifecycleSettings()
    batching: BatchingSettings = BatchingSettings()

    @field_validator("deal_mappings")
    @classmethod
    def _valid_deal_mappings(cls, mappings: tuple[DealMapping, ...]) -> tuple[DealMapping, ...]:
        return check_deal_mappings(mappings)

    @field_validator("company_mappings")
    @classmethod
    def _valid_company_mappings(cls, mappings: tuple[CompanyMapping, ...]) -> tuple[CompanyMapping, ...]:
        return check_company_mappings(mappings)

    @field_validator("contact_mappings")
    @classmethod
    def _no_opt_out_override(cls, mappings: tuple[FieldMapping, ...]) -> tuple[FieldMapping, ...]:
        for m in mappings:
            if m.hubspot == OPT_OUT_HUBSPOT or any(
                same_salesforce_field(f, OPT_OUT_SALESFORCE) for f in (m.lead, m.contact)
            ):
                raise ValueError(
                    f"the email opt-out mapping ({OPT_OUT_HUBSPOT} <-> {OPT_OUT_SALESFORCE}) is mandatory "
                    "and fixed (CAN-SPAM); remove it from contact_mappings (Salesforce field names "
                    "in any letter case)"
                )
        seen: set[str] = set()
        for m in mappings:
            if m.hubspot == "company" and (
                m.contact or (m.lead and not same_salesforce_field(m.lead, "Company"))
            ):
                raise ValueError(
                    "company (text) syncs only with Lead.Company: a Salesforce Contact has an Account "
                    "lookup instead (remove 'contact' from the company mapping)"
                )
            if m.hubspot in seen:
                raise ValueError(f"HubSpot property {m.hubspot!r} is mapped twice")
            seen.add(m.hubspot)
        if not any(m.hubspot == "email" and m.rule is not SyncRule.DONT_SYNC for m in mappings):
            raise ValueError("the email mapping is required: contacts are matched by email")
        return mappings

    @field_validator("portals")
    @classmethod
    def _unique_portals(cls, portals: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(portals)) != len(portals):
            raise ValueError("a portal is listed twice")
        return portals

    @model_validator(mode="after")
    def _creation_of_synced_portals(self) -> SyncConfig:
        unknown = sorted(set(self.portal_creation) - set(self.portals))
        if unknown:
            raise ValueError(f"portal_creation names portals that are not in portals: {unknown}")
        return self

    def creation_of(self, portal: int | str) -> Creation:
        """The creation settings of ``portal``: its own (``portal_creation``), else ``creation``."""
        return self.portal_creation.get(int(portal), self.creation)

    def for_portal(self, portal: int | str) -> SyncConfig:
        """This configuration as one portal's dedupe and apply follow it (its creation settings)."""
        return self.model_copy(update={"creation": self.creation_of(portal)})

    def warnings(self) -> list[str]:
        """Settings that are valid but risky, for ``hssync config validate``."""
        out: list[str] = []
        creating = [
            p for p in self.portals if self.creation_of(p).salesforce_to_hubspot == "create_or_update"
        ]
        if len(self.portals) > 1 and creating:
            out.append(
                "several portals share this Salesforce org and Salesforce->HubSpot creation is "
                "'create_or_update': a lead created from portal A will also create a contact in portal B. "
                "Set creation.salesforce_to_hubspot: do_nothing (recommended with several portals)."
            )
        return out


class ConfigError(ValueError):
    """The configuration cannot be used; the message lists every problem with its location."""


def parse_config(text: str) -> SyncConfig:
    """The configuration in ``text`` (YAML); ConfigError says what is wrong and where. A document
    over 64 KB, nested over 20 levels or over 10,000 values with its aliases expanded is refused."""
    try:
        data: Any = bounded_yaml.load(text)
    except bounded_yaml.BoundsError as exc:
        raise ConfigError(f"configuration refused: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a YAML mapping")
    try:
        return SyncConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(err) for err in _reported(exc.errors())]
        raise ConfigError("invalid sync configuration:\n  " + "\n  ".join(problems)) from exc


def _reported(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """The errors, but a list's "too short" when its items were refused (it is empty only for that)."""
    refused_items = {err["loc"][:-1] for err in errors if len(err["loc"]) > 1}
    return [err for err in errors if not (err["type"] == "too_short" and err["loc"] in refused_items)]


def _problem(err: ErrorDetails) -> str:
    where = ".".join(str(p) for p in err["loc"]) or "<root>"
    given = err.get("input")
    shown = (
        f" (given: {given!r})"
        if isinstance(given, str | int | float | bool) and len(repr(given)) <= 40
        else ""
    )
    return f"{where}: {err['msg']}{shown}"


def json_schema() -> dict[str, Any]:
    return SyncConfig.model_json_schema()
