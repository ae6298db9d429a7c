"""The messages that flow between the functions.

A :class:`ChangeEvent` says *that* a record changed (and how, when, by whom). The dedupe stage
reads the current state of the record, so duplicated, reordered or stale events are harmless. The
values a source reports with its notification (HubSpot's ``propertyValue``) travel along only as
a hint: when every reported value is one hssync already synced, dedupe can skip the read.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field


class System(StrEnum):
    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"


# The Salesforce objects hssync syncs (HubSpot contacts sync with both), named once.
SfObject = Literal["Lead", "Contact"]
LEAD: Final = "Lead"
CONTACT: Final = "Contact"
SALESFORCE_OBJECTS: tuple[SfObject, ...] = (LEAD, CONTACT)

# The kinds of linked pairs, named as HubSpot names its objects: HubSpot contacts <-> Leads and
# Contacts, HubSpot companies <-> Accounts, HubSpot deals <-> Opportunities. HubSpot's contact,
# company and deal ids are separate id spaces, so each kind's links live apart (``shared/state/keys.py``).
LinkKind = Literal["contacts", "companies", "deals"]
CONTACTS: Final = "contacts"
COMPANIES: Final = "companies"
DEALS: Final = "deals"
LINK_KINDS: tuple[LinkKind, ...] = (CONTACTS, COMPANIES, DEALS)
ACCOUNT: Final = "Account"  # the Salesforce object of a company link
OPPORTUNITY: Final = "Opportunity"  # the Salesforce object of a deal link
OPPORTUNITY_CONTACT_ROLE: Final = "OpportunityContactRole"

# The mark of hssync's own Salesforce writes: every request carries ``Sforce-Call-Options`` with
# this client name, and Salesforce repeats it in the ``changeOrigin`` of the change events they cause.
SALESFORCE_CLIENT_NAME: Final = "hssync"
SALESFORCE_CALL_OPTIONS: Final = f"client={SALESFORCE_CLIENT_NAME}"
# the origin of the changes an operator's ``hssync resync`` makes (of records, or of a list)
RESYNC_ORIGIN: Final = "hssync:resync"


class ChangeType(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNDELETE = "undelete"
    MERGE = "merge"
    ASSOCIATION = "association"
    # the source could not say what changed (Salesforce GAP_* events, reconciliation polls):
    # re-read the record and sync whatever differs
    RESYNC = "resync"


class ChangeEvent(BaseModel):
    """One changed record, as the inbound functions put it on the changes queue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: System
    account: str = Field(min_length=1, description="HubSpot portal id or Salesforce org id")
    object_type: str = Field(
        min_length=1, description="HubSpot object (contacts, ...) or sObject (Lead, ...)"
    )
    record_id: str = Field(min_length=1)
    change_type: ChangeType
    occurred_at: dt.datetime
    origin: str | None = Field(default=None, description="who made the change (changeSource / client=)")
    origin_id: str | None = Field(
        default=None, description="which app or user made it (HubSpot sourceId, e.g. the app id or userId:N)"
    )
    source_event_id: str = Field(min_length=1, description="the source's own event id, for idempotency")
    changed_fields: tuple[str, ...] = ()
    related_ids: tuple[str, ...] = Field(
        default=(), description="merge: the ids merged into record_id; association: the other record"
    )
    related_type: str | None = Field(
        default=None, description="association: the other record's object (contacts, companies, deals)"
    )
    association_removed: bool = Field(
        default=False, description="association change: the association was removed (not added)"
    )
    reported: dict[str, str | None] = Field(
        default_factory=dict, description="values the source reported with the change (property -> value)"
    )
    attempt: int = Field(default=0, ge=0, description="how often dedupe deferred this event already")
    redecided: int = Field(
        default=0, ge=0, description="how often the writes decided for it failed and it was decided again"
    )
    held: bool = Field(
        default=False, description="dedupe held it back once to fill a whole API batch; it is not held again"
    )
    bulk: bool = Field(
        default=False, description="part of a bulk load: travels in the bulk lane (shared.pipeline.lanes)"
    )
    transaction_records: int = Field(
        default=1,
        ge=1,
        description="the records its source transaction wrote, as far as its event tells (Salesforce: "
        "the recordIds of its change event, at least its sequence number in the transaction)",
    )

    @property
    def change_id(self) -> str:
        """A stable key for idempotency: the same source event always yields the same id."""
        return f"{self.system}:{self.account}:{self.object_type}:{self.record_id}:{self.source_event_id}"
