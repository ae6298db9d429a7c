"""What dedupe hands to apply: one plan per pair of records, saying exactly what to write where."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.chunking import weighed_chunks
from shared.models import CONTACTS, LinkKind, SfObject
from shared.owners.decide import OwnerState
from shared.queues import MAX_BYTES

SyncedPair = tuple[str | None, str | None]
# the Salesforce object a plan writes: a Lead or a Contact (contact pairs), an Account (company
# pairs), an Opportunity (deal pairs)
PlanObject = SfObject | Literal["Account", "Opportunity"]

# a creation claim held for a moment by dedupe to learn whether hssync is creating a record
LOOKUP_CLAIMANT = "lookup:"


def is_claimant(holder: str) -> bool:
    """Whether a creation claim's holder is a change (still creating), not a created record's id."""
    return holder.startswith(("hubspot:", "salesforce:", LOOKUP_CLAIMANT))


class HealthNote(BaseModel):
    """A condition dedupe found that an admin should see (e.g. same-email duplicates)."""

    model_config = ConfigDict(frozen=True)

    system: str
    record: str
    category: str
    code: str
    message: str
    fields: tuple[str, ...] = ()  # what it is about, named as the side written names it


class PersonPart(BaseModel):
    """A person account's person on the HubSpot side: the contact (None: to create, unless
    ``create`` is false), its properties to write, and its link to the person's Contact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_id: str | None
    person_contact_id: str  # the Contact behind the person account (PersonContactId)
    email: str | None = None
    writes: dict[str, str | None] = Field(default_factory=dict)
    synced_after: dict[str, SyncedPair] = Field(default_factory=dict)
    create: bool = True
    associate: bool = False  # a new contact, company or link: make the company its primary company


class SyncPlan(BaseModel):
    """Writes that bring one HubSpot contact and one Salesforce Lead/Contact in line (``kind``
    "contacts"), or one HubSpot company and one Salesforce Account (``kind`` "companies": then
    ``hubspot_id`` is the company's id, and the plan may also associate contacts with the pair).

    Exactly one of: both ids known (update either side as listed), ``create="salesforce"`` (no
    ``sf_id`` yet), or ``create="hubspot"`` (no ``hubspot_id`` yet). A plan with no writes still
    records the link and the synced values (a pair linked by email that already agrees).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    portal: str
    kind: LinkKind = CONTACTS
    hubspot_id: str | None
    sf_object: PlanObject
    sf_id: str | None  # the record written (for a same-email duplicate: the most recently updated)
    link_sf_object: SfObject | None = None  # the record the pair is linked to,
    link_sf_id: str | None = None  # when it is not the one written (S6); None: sf_id itself
    duplicates: tuple[str, ...] = ()
    create: Literal["salesforce", "hubspot"] | None = None
    claim_email: str | None = None
    claimant: str | None = None  # who holds the creation claim: this plan's source event
    hubspot_writes: dict[str, str | None] = Field(default_factory=dict)
    salesforce_writes: dict[str, Any] = Field(default_factory=dict)
    unsubscribe_email: str | None = None  # opt the HubSpot contact out of all email (S14)
    owner: OwnerState | None = None  # the pair's owners, for the owners stage to decide (S17)
    archive_hubspot: bool = False  # its Salesforce record was deleted (deletes.salesforce_delete setting)
    forget_link: bool = False  # its HubSpot record was deleted: the link is dropped (a deleted deal)
    # deal pairs (S15): HubSpot contacts whose lifecycle stage moves forward, with the stage
    lifecycle: dict[str, str] = Field(default_factory=dict)
    company_of_deal: str | None = None  # deal pairs: the company to make the deal's primary company
    # deal pairs: HubSpot contacts to associate with the deal (with a contact role's label), and
    # Salesforce Contacts to make contact roles of the Opportunity (whether primary)
    contacts_of_deal: tuple[tuple[str, str | None], ...] = ()
    roles_of_opportunity: tuple[tuple[str, bool], ...] = ()
    # and the removals carried (``shared.deals.contact_roles``): HubSpot contacts to remove from the
    # deal, contact role ids to delete
    contacts_off_deal: tuple[str, ...] = ()
    roles_to_delete: tuple[str, ...] = ()
    synced_before: dict[str, SyncedPair] = Field(default_factory=dict)
    synced_after: dict[str, SyncedPair] = Field(default_factory=dict)
    # which side each written property goes to: the write intent apply records first (shared.intents)
    written: dict[str, Literal["hubspot", "salesforce"]] = Field(default_factory=dict)
    link_rev: int | None = None  # the revision of the link the plan was decided on; None: no link
    redecided: int = Field(default=0, ge=0)  # how often its source change was decided again already
    reasons: tuple[str, ...] = ()
    notes: tuple[HealthNote, ...] = ()
    direction: Literal["hubspot_to_salesforce", "salesforce_to_hubspot", "both", "none"] = "none"
    source: Literal["hubspot", "salesforce"] = "hubspot"  # whose change led to this plan
    linked_by_email: bool = False
    link_only: bool = False  # the pair is linked but does not sync (its contact is outside the list)
    # company pairs (S13): HubSpot contacts to make primary contacts of the company, and Salesforce
    # Contacts whose AccountId becomes the Account (once created, when the plan creates it). A contact
    # not linked yet when decided (a contact plan of the same batch creates its counterpart) is named
    # by the record key of the side that exists (``pending_contact``); apply resolves it by its link
    contacts_to_company: tuple[str, ...] = ()
    contacts_to_account: tuple[str, ...] = ()
    # a person account's pair (S9): its person as a HubSpot contact (None: created from
    # ``person_writes``), linked to the person's Contact, associated with the company
    person: PersonPart | None = None

    @property
    def has_writes(self) -> bool:
        return bool(
            self.hubspot_writes
            or self.salesforce_writes
            or self.create
            or self.unsubscribe_email
            or self.archive_hubspot
            or self.forget_link
            or self.lifecycle
            or self.company_of_deal
            or self.contacts_of_deal
            or self.roles_of_opportunity
            or self.contacts_off_deal
            or self.roles_to_delete
            or self.contacts_to_company
            or self.contacts_to_account
            or (self.person is not None and (self.person.writes or self.person.contact_id is None))
        )


def pending_contact(record_key: str) -> str:
    """A company plan's contact not linked yet, by the record key of its existing side."""
    if ":" not in record_key:
        raise ValueError(f"not a record key: {record_key!r}")
    return record_key


def is_pending(contact: str) -> bool:
    """Whether a company plan's contact is a record key to resolve (not an id)."""
    return ":" in contact


def plan_id(*parts: str) -> str:
    """Deterministic id of a plan from what it was made of (so a redelivered batch makes the same ids)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class PlanBatch(BaseModel):
    """One message on the writes queue: many plans, so that apply can consume its queue without a
    batching window (low latency) and still write in full collections (API frugality)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plans: tuple[SyncPlan, ...] = Field(min_length=1)
    attempt: int = Field(default=0, ge=0, description="how often these plans were retried already")
    bulk: bool = Field(default=False, description="of a bulk load: the bulk lane (shared.pipeline.lanes)")

    @property
    def portals(self) -> frozenset[str]:
        """The HubSpot portals the plans write (several portals: what the batch waits for)."""
        return frozenset(plan.portal for plan in self.plans)


MAX_MESSAGE_BYTES = MAX_BYTES  # a writes message is one SQS message
MAX_PLANS_PER_MESSAGE = 200  # one sObject Collection


class PlanTooLarge(ValueError):
    """A plan larger than a message holds on its own (nothing was packed)."""


def pack_sendable(
    plans: list[SyncPlan], *, attempt: int = 0, bulk: bool = False
) -> tuple[list[str], list[tuple[str, str]]]:
    """:func:`pack` for the plans that fit a message, and for each one that does not (a record with
    very long text values: a plan carries them with its before and after pairs) what to dead-letter:
    the pair's ids and the reason. One such record never holds back the rest of its batch."""
    if not plans:
        return [], []
    sizes = [_bytes(plan) for plan in plans]
    frame = _frame(plans[0], sizes[0], attempt, bulk)
    fitting: list[SyncPlan] = []
    refused: list[tuple[str, str]] = []
    for plan, size in zip(plans, sizes, strict=True):
        if size + frame <= MAX_MESSAGE_BYTES:
            fitting.append(plan)
            continue
        ids = {"plan_id": plan.plan_id, "portal": plan.portal, "hubspot_id": plan.hubspot_id,
               "sf_object": plan.sf_object, "sf_id": plan.sf_id, "bytes": size}  # fmt: skip
        reason = f"sync plan of {size:,} bytes: more than an SQS message holds (values too long)"
        refused.append((json.dumps(ids), reason))
    return pack(fitting, attempt=attempt, bulk=bulk), refused


def _bytes(plan: SyncPlan) -> int:
    return len(plan.model_dump_json().encode("utf-8"))


def _frame(plan: SyncPlan, size: int, attempt: int, bulk: bool = False) -> int:
    """The bytes of a message around its plans: {"plans":[...],"attempt":N,"bulk":B}."""
    batch = PlanBatch(plans=(plan,), attempt=attempt, bulk=bulk)
    return len(batch.model_dump_json().encode("utf-8")) - size


def pack(plans: list[SyncPlan], *, attempt: int = 0, bulk: bool = False) -> list[str]:
    """Message bodies holding ``plans`` in order, each at most :data:`MAX_PLANS_PER_MESSAGE` plans
    and :data:`MAX_MESSAGE_BYTES` bytes (UTF-8, as SQS counts them); PlanTooLarge for a plan that
    does not fit a message even alone."""
    if not plans:
        return []
    encoded = [_bytes(plan) for plan in plans]
    # the message around its plans, and a comma between two plans
    room = MAX_MESSAGE_BYTES - _frame(plans[0], encoded[0], attempt, bulk) + 1
    for plan, size in zip(plans, encoded, strict=True):
        if size + 1 > room:
            raise PlanTooLarge(f"plan {plan.plan_id} is {size} bytes: more than a message holds ({room - 1})")
    pieces = weighed_chunks(
        plans, [size + 1 for size in encoded], max_count=MAX_PLANS_PER_MESSAGE, max_weight=room
    )
    return [PlanBatch(plans=tuple(piece), attempt=attempt, bulk=bulk).model_dump_json() for piece in pieces]
