"""What dedupe hands to apply: one plan per pair of records, saying exactly what to write where."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.models import SfObject
from shared.owners.decide import OwnerState

SyncedPair = tuple[str | None, str | None]

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


class SyncPlan(BaseModel):
    """Writes that bring one HubSpot contact and one Salesforce Lead/Contact in line.

    Exactly one of: both ids known (update either side as listed), ``create="salesforce"`` (no
    ``sf_id`` yet), or ``create="hubspot"`` (no ``hubspot_id`` yet). A plan with no writes still
    records the link and the synced values (a pair linked by email that already agrees).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    portal: str
    hubspot_id: str | None
    sf_object: SfObject
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

    @property
    def has_writes(self) -> bool:
        return bool(
            self.hubspot_writes
            or self.salesforce_writes
            or self.create
            or self.unsubscribe_email
            or self.archive_hubspot
        )


def plan_id(*parts: str) -> str:
    """Deterministic id of a plan from what it was made of (so a redelivered batch makes the same ids)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class PlanBatch(BaseModel):
    """One message on the writes queue: many plans, so that apply can consume its queue without a
    batching window (low latency) and still write in full collections (API frugality)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plans: tuple[SyncPlan, ...] = Field(min_length=1)
    attempt: int = Field(default=0, ge=0, description="how often these plans were retried already")


MAX_MESSAGE_BYTES = 200_000  # under SQS's 256 KiB
MAX_PLANS_PER_MESSAGE = 200  # one sObject Collection


def pack(plans: list[SyncPlan], *, attempt: int = 0) -> list[str]:
    """Message bodies holding ``plans``, each under the SQS size limit."""
    bodies: list[str] = []
    chunk: list[SyncPlan] = []
    size = 0
    for plan in plans:
        encoded = len(plan.model_dump_json())
        if chunk and (size + encoded > MAX_MESSAGE_BYTES or len(chunk) >= MAX_PLANS_PER_MESSAGE):
            bodies.append(PlanBatch(plans=tuple(chunk), attempt=attempt).model_dump_json())
            chunk, size = [], 0
        chunk.append(plan)
        size += encoded + 1
    if chunk:
        bodies.append(PlanBatch(plans=tuple(chunk), attempt=attempt).model_dump_json())
    return bodies
