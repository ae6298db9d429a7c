"""The ports the pipeline depends on: the two CRMs and the state store.

The pipeline code talks only to these protocols. Real adapters (``shared/adapters``) implement them
with simple-salesforce, hubspot-api-client and boto3; unit tests use in-memory fakes.
Every method is batched: callers pass many ids/records and the adapter splits them into the largest
requests the API allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.accounts.creation_intents import Created, CreationIntent
from shared.errors import ApiFailure, ErrorCategory
from shared.intents import WriteIntent
from shared.models import CONTACTS, LinkKind
from shared.owners.directory import HubSpotOwner, SalesforceOwner


@dataclass(frozen=True)
class SalesforceRecord:
    sobject: str
    id: str  # always the 18-character id
    fields: Mapping[str, Any]  # as the REST API returns them (JSON values), without "attributes"
    created: dt.datetime
    last_modified: dt.datetime


@dataclass(frozen=True)
class ModifiedRead:
    """One object's part of a poll: its records with ``SystemModstamp > since``, with ``fields``."""

    sobject: str
    since: dt.datetime
    fields: Sequence[str]


@dataclass(frozen=True)
class HubSpotContact:
    id: str
    properties: Mapping[str, str | None]
    property_changed_at: Mapping[str, dt.datetime]  # when each requested property last changed
    updated_at: dt.datetime
    archived: bool = False


# a HubSpot company reads as a contact does (properties, their change times, updatedAt)
HubSpotCompany = HubSpotContact


@dataclass(frozen=True)
class Association:
    """A HubSpot record's association to a record of another object: the other's id, and whether it
    is the primary one (a contact's primary company)."""

    to_id: str
    primary: bool = False


@dataclass(frozen=True)
class AssociationPair:
    """An association to write or remove, from a record to another (contact -> company)."""

    from_id: str
    to_id: str

    @property
    def key(self) -> str:
        """How its write is named in its outcome: ``<from id>:<to id>``."""
        return f"{self.from_id}:{self.to_id}"


@dataclass(frozen=True)
class RecordWrite:
    key: str  # the caller's correlation key, echoed in the outcome
    record_id: str | None  # None: create
    fields: Mapping[str, Any]  # Salesforce field values or HubSpot property values (strings; None clears)


@dataclass(frozen=True)
class WriteOutcome:
    key: str
    record_id: str | None  # the created/updated record; None when it failed
    failure: ApiFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


class SalesforcePort(Protocol):
    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]:
        """The object's field describe entries by lower-case name (described once per process)."""
        ...

    def owners(self) -> list[SalesforceOwner]:
        """Users of type Standard, PowerPartner and Guest, and Queues (S16)."""
        ...

    def merge_masters(self, sobject: str, ids: Sequence[str]) -> dict[str, str]:
        """Deleted records merged into another: deleted id -> the master record's id (queryAll)."""
        ...

    def merged_into(self, sobject: str, master_ids: Sequence[str]) -> dict[str, str]:
        """Deleted records a merge folded into one of ``master_ids``: deleted id -> master id."""
        ...

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, SalesforceRecord]:
        """Current records by id (15 or 18 chars); missing or deleted ids are absent from the result."""
        ...

    def find_by_email(
        self, sobject: str, emails: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        """Contacts, or unconverted Leads, whose Email matches any of ``emails`` (case-insensitive)."""
        ...

    def find_people_by_email(
        self, emails: Sequence[str], fields_by_object: Mapping[str, Sequence[str]]
    ) -> list[SalesforceRecord]:
        """``find_by_email`` for several objects at once (one API call where the API allows)."""
        ...

    def modified_since(
        self, sobject: str, since: dt.datetime, fields: Sequence[str], limit: int
    ) -> list[SalesforceRecord]:
        """Records with SystemModstamp > since, oldest first (the poller's reconciliation read)."""
        ...

    def modified_since_each(self, reads: Sequence[ModifiedRead], limit: int) -> list[list[SalesforceRecord]]:
        """``modified_since`` of several objects, in the order of ``reads``: their first queries in
        one call where the API allows (Composite: up to 5 queries a call)."""
        ...

    def owned_by(self, sobject: str, owner_id: str) -> list[str]:
        """The ids of the records of ``sobject`` that a user or queue owns (a resync of an owner)."""
        ...

    def create(
        self, sobject: str, writes: Sequence[RecordWrite], *, assign: bool | None = None
    ) -> list[WriteOutcome]:
        """``assign``: whether Salesforce's assignment rules choose the owner (Sforce-Auto-Assign)."""
        ...

    def update(self, sobject: str, writes: Sequence[RecordWrite]) -> list[WriteOutcome]: ...

    def delete(self, sobject: str, ids: Sequence[str]) -> list[WriteOutcome]:
        """Deletes these records (outcomes keyed by id); one already deleted is a success."""
        ...

    def api_usage(self) -> tuple[int, int] | None:
        """(used, daily max) from the last Sforce-Limit-Info header seen, if any."""
        ...


class HubSpotPort(Protocol):
    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, HubSpotContact]:
        """Current contacts by id; missing or archived ids are absent."""
        ...

    def contacts_by_email(
        self, emails: Sequence[str], properties: Sequence[str]
    ) -> dict[str, HubSpotContact]:
        """Contacts keyed by normalised (trimmed, lower-case) email."""
        ...

    def contacts_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotContact]:
        """Contacts with hs_lastmodifieddate > since, oldest first."""
        ...

    def create_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """A 409 for an existing email is a failure with ``existing_id`` set, never an exception."""
        ...

    def update_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]: ...

    def owners(self) -> list[HubSpotOwner]:
        """The portal's active owners (owners API, read-only)."""
        ...

    def archive_contacts(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """One outcome per id (``key`` = the id as given); an id already gone is a success."""
        ...

    def list_members(self, list_id: str, contact_ids: Sequence[str]) -> set[str]:
        """Which of ``contact_ids`` are members of the HubSpot list (lists v3 ILS id)."""
        ...

    def list_member_ids(self, list_id: str) -> list[str]:
        """Every contact id in the list (for resyncing a list)."""
        ...

    def list_members_joined_since(self, list_id: str, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
        """(contact id, when it joined) for the list's members that joined at or after ``since``
        (inclusive: callers skip what they already saw at the boundary), oldest join first."""
        ...

    def unsubscribe_from_all(self, emails: Sequence[str]) -> list[WriteOutcome]:
        """Opt each address out of all email (communication preferences, not a property write;
        HubSpot then shows ``hs_email_optout`` = "true"). One outcome per email (``key`` = the email
        as given, ``record_id`` = normalised); already opted out is a success. Never re-subscribes."""
        ...

    def unsubscribed_from_all(self, emails: Sequence[str]) -> dict[str, bool]:
        """Whether each address has opted out of all email, keyed by normalised email."""
        ...

    def contact_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Definitions of the named contact properties that exist, as HubSpot's JSON has them
        (``type``, ``fieldType``, ``options``, ``modificationMetadata``...)."""
        ...


class HubSpotCompaniesPort(Protocol):
    """What account sync reads and writes in HubSpot: companies (batch API, 100 per call, 50 with
    property history) and contact <-> company associations (associations v4: 1,000 ids per read)."""

    def read_companies(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, HubSpotCompany]:
        """Current companies by id; missing or archived ids are absent."""
        ...

    def companies_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotCompany]:
        """Companies with hs_lastmodifieddate > since, oldest first (the poller's read)."""
        ...

    def create_companies(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]: ...

    def companies_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """The companies created at or after ``since`` whose name is one of ``names``, with their
        name and domain (one search; ``shared.accounts.creation_intents``)."""
        ...

    def update_companies(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]: ...

    def archive_companies(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """One outcome per id (``key`` = the id as given); an id already gone is a success."""
        ...

    def company_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Definitions of the named company properties that exist (``type``, ``fieldType``, ...)."""
        ...

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[Association]]:
        """Each record's associations to ``to_type`` ("contacts" or "companies"); none: absent."""
        ...

    def associate_primary(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        """Associates each contact with the company as its primary company (``key`` and
        ``record_id``: "<contact id>:<company id>")."""
        ...

    def dissociate(
        self, from_type: str, to_type: str, pairs: Sequence[AssociationPair]
    ) -> list[WriteOutcome]:
        """Removes the associations of each pair; one already gone is a success."""
        ...


class SalesforceAccountsPort(Protocol):
    """What account sync reads in Salesforce beyond ``SalesforcePort`` (Accounts are read, created
    and updated through its ``retrieve``, ``create`` and ``update``, a Contact's AccountId too)."""

    def contacts_of_accounts(
        self, account_ids: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        """The Contacts whose AccountId is one of ``account_ids`` (batched queries)."""
        ...


class LostAccountsPort(Protocol):
    """Where apply looks for an Account whose create's answer was lost (the Salesforce adapter)."""

    def accounts_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """The Accounts the integration user created at or after ``since`` whose Name is one of
        ``names``, with their Name and Website (``shared.accounts.creation_intents``)."""
        ...


@dataclass
class Link:
    """A HubSpot contact linked to one Salesforce Lead or Contact, with what hssync last synced.

    ``synced`` maps a HubSpot property name to the pair of values (HubSpot form, Salesforce form)
    both sides held after hssync's last write or read of that field: the basis of echo suppression.
    """

    portal: str
    hubspot_id: str
    sf_object: str
    sf_id: str
    synced: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    linked_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    # other Salesforce records with the same email ("Lead:00Q...", "Contact:003..."): the pair stays
    # linked to sf_id (the oldest) but syncs with whichever of them was updated most recently (S6)
    duplicates: tuple[str, ...] = ()
    # bookkeeping of the store, not part of what the link says (so not compared): the revision the
    # link is at (every recorded change makes a new one) and what a plan is writing to the pair,
    # recorded before the write (shared.intents)
    rev: int = field(default=0, compare=False)
    intent: WriteIntent | None = field(default=None, compare=False)
    # a company link's: the contacts hssync last made primary contacts of its company (their
    # association changes coming back are its own, ``shared.accounts.own_associations``)
    associated: tuple[str, ...] = field(default=(), compare=False)
    associated_at: dt.datetime | None = field(default=None, compare=False)  # when it last associated


@dataclass(frozen=True)
class IntentRecord:
    """A write intent to record on the link of ``hubspot_id``, decided on the link's ``rev``."""

    hubspot_id: str
    rev: int | None  # None: decided with no link (checked, nothing recorded)
    intent: WriteIntent


@dataclass(frozen=True)
class LinkCommit:
    """A link a plan saves as a new revision (without an intent) once its writes are done."""

    link: Link
    plan_id: str  # the plan saving it: its own intent does not stand in the way
    rev: int | None  # the revision the plan was decided on; None: it was decided with no link


@dataclass(frozen=True)
class HealthEntry:
    portal: str
    system: str  # where the write failed
    record: str  # e.g. "hubspot:contacts:123" or "salesforce:Lead:00Q..."
    category: ErrorCategory
    code: str
    message: str
    at: dt.datetime
    resync: str  # the command that retries this record, e.g. "hssync resync hubspot:contacts:123"
    # the fields the failed write or the refused value was about, as the side written names them
    # (Salesforce fields, HubSpot properties); a clean write of them clears the entry. Empty: any
    # clean write to that side of the record does
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimDone:
    """A creation claim whose record now exists: later claimants get ``record_id``."""

    target: str
    email: str
    claimant: str
    record_id: str


@dataclass(frozen=True)
class ClaimAsk:
    """A claimant asking whether it still holds its creation claim (``target``, ``email``)."""

    target: str
    email: str
    claimant: str


@dataclass(frozen=True)
class ConfirmedClaim:
    """A creation claim confirmed with a creation intent (``shared.accounts.creation_intents``):
    ``holder`` as ``StatePort.claim_creation`` answers it (None: this claimant holds it now), and the
    intent the claim held before (an earlier create whose outcome is unknown), if any."""

    holder: str | None
    earlier: CreationIntent | None = None


class RequestLog(Protocol):
    """The signed webhook requests already received, so that a replay queues nothing (their
    signature is only checked against a time window, within which a copy verifies as well)."""

    def first_receipt(self, portal: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        """Records the request; False when it was received before (and not expired)."""
        ...


class StatePort(Protocol):
    """Every link method takes the ``kind`` of the pairs it is about: contact links (HubSpot contact
    <-> Lead or Contact, the default) or company links (HubSpot company <-> Account, with
    ``Link.hubspot_id`` the company id and ``Link.sf_object`` "Account"). Each kind's links are apart:
    the same id may be linked in both (a person account's Account, S9)."""

    def links_by_hubspot(
        self, portal: str, ids: Sequence[str], *, kind: LinkKind = CONTACTS
    ) -> dict[str, Link]: ...

    def links_by_salesforce(
        self, portal: str, ids: Sequence[str], *, kind: LinkKind = CONTACTS
    ) -> dict[str, Link]: ...

    def save_links(self, links: Sequence[Link], *, kind: LinkKind = CONTACTS) -> None:
        """Upsert links (both directions), each as a new revision without an intent."""
        ...

    def record_intents(
        self, portal: str, intents: Sequence[IntentRecord], *, kind: LinkKind = CONTACTS
    ) -> set[str]:
        """Record each intent on its link, when the link is still at the intent's ``rev`` and holds no
        live intent of another plan (``shared.intents``). Returns the HubSpot ids refused. No link
        stored at revision 0 (a link moving to a new contact) is accepted with nothing recorded; a
        plan decided with no link (``rev`` None) is refused once a link is stored, else accepted
        with nothing recorded."""
        ...

    def commit_links(self, commits: Sequence[LinkCommit], *, kind: LinkKind = CONTACTS) -> set[str]:
        """``save_links`` for plans: each link is saved only when the stored one is still at the
        revision the plan was decided on (decided with no link: none is stored) and holds no live
        intent of another plan. Returns the HubSpot ids refused."""
        ...

    def claim_creation(self, portal: str, target: str, email: str, claimant: str) -> str | None:
        """Claim the right to create the ``target`` record for ``email``.

        Returns None when this claimant holds the claim (newly or already); otherwise the current
        holder's claimant string, or the created record id once the claim was completed.
        """
        ...

    def confirm_claims(
        self, portal: str, asks: Sequence[ClaimAsk], *, for_at_least: dt.timedelta
    ) -> dict[ClaimAsk, str | None]:
        """``claim_creation`` for each ask, but a claim its claimant holds, not completed, for at
        least ``for_at_least`` more is only read (no write: nobody else can take it meanwhile)."""
        ...

    def complete_claims(self, portal: str, done: Sequence[ClaimDone]) -> None:
        """These creations happened: from now on each claim answers its record to every claimant
        (for a day), and can no longer be released."""
        ...

    def release_claim(self, portal: str, target: str, email: str, claimant: str) -> None: ...

    def claim_with_intent(
        self, portal: str, target: str, key: str, claimant: str, intent: CreationIntent | None = None
    ) -> ConfirmedClaim:
        """``claim_creation`` for records created with creation intents (companies, Accounts, deals
        and Opportunities): the claim keeps the intent it holds when it is taken again; with
        ``intent`` (a create about to be sent) it is recorded in the same write, refused (the holder
        answered) while the claim holds an intent still in its lease. Answers the intent the claim
        held before."""
        ...

    def hand_back_creation(
        self, portal: str, target: str, key: str, claimant: str, intent: CreationIntent
    ) -> None:
        """A create whose outcome is unknown: the claim is free again but keeps ``intent`` (its lease
        ended), so the next create looks for the record first. Not this claimant's: nothing."""
        ...

    def get_cursor(self, portal: str, name: str) -> str | None: ...

    def set_cursor(self, portal: str, name: str, value: str) -> None: ...

    def record_health(self, entries: Sequence[HealthEntry]) -> None: ...

    def health(self, portal: str) -> list[HealthEntry]: ...

    def clear_health(self, portal: str, written: Mapping[str, Collection[str]]) -> None:
        """Forget the entries these clean writes resolve: record -> the fields written to the other
        side for it; an entry about fields that were not written stays."""
        ...

    def add_counters(self, portal: str, counters: Mapping[str, int]) -> None: ...

    def counters(self, portal: str) -> dict[str, int]: ...

    def remember_associated(self, portal: str, associated: Mapping[str, Link]) -> None:
        """Records on stored company links (by company id) what they remember of hssync's
        association writes (``Link.associated`` and ``associated_at``), without a new revision: the
        pair's sync is not changed by it, so no plan decided on the link is made stale."""
        ...

    def delete_links(self, portal: str, hubspot_ids: Sequence[str], *, kind: LinkKind = CONTACTS) -> None:
        """Forget these contacts' (or companies') links (both directions)."""
        ...

    def set_statuses(self, portal: str, statuses: Mapping[str, str]) -> None:
        """Why a record did not sync ("hubspot:contacts:N" -> reason), the latest per record."""
        ...

    def statuses(self, portal: str, records: Sequence[str]) -> dict[str, str]: ...

    def clear_statuses(self, portal: str, records: Sequence[str]) -> None:
        """Forget why these records were skipped (they synced since)."""
        ...
