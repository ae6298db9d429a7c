"""Creation (S5, S10): a contact with no counterpart creates one on the other side, under a
creation claim, so that two concurrent changes for one email can never create two records.

- The claimant is the change, not the record: a second change of the same new record (its creation
  and a property change, decided in parallel) waits for the first, then links (:class:`Retry`).
- A record hssync is creating, or created and apply has not linked yet, is not linked as a stranger
  by email (:func:`creation_pending`): the change waits for hssync's link, a bounded number of
  deferrals (:data:`LINK_WAIT_DEFERRALS`), in case that link was deleted since.
- A record hssync created in Salesforce comes back with the owner Salesforce gave it: that owner
  is a Salesforce change for the owners stage, learnt from the change event (:func:`assigned_owner`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from shared.config import OPT_OUT_HUBSPOT, OPT_OUT_SALESFORCE, SyncConfig
from shared.models import RESYNC_ORIGIN, ChangeEvent
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY, OwnerState
from shared.pipeline.dedupe.echo import ECHO
from shared.pipeline.dedupe.outcome import Decision, Planned, Retry, Skip
from shared.pipeline.dedupe.reconcile import Schema, refused_note
from shared.pipeline.dedupe.records import hs_key, id_or_none, same_id, sf_key, sf_object
from shared.pipeline.fields import (
    SfObject,
    creation_values_for_hubspot,
    creation_values_for_salesforce,
    opted_out,
)
from shared.pipeline.plans import LOOKUP_CLAIMANT, SyncedPair, SyncPlan, is_claimant, plan_id
from shared.ports import HubSpotContact, Link, SalesforceRecord

# a record hssync created is linked by apply right after its writes; a change that finds it by
# email first waits this many deferrals (about 70 s, longer than an apply batch under faults)
LINK_WAIT_DEFERRALS = 15
# an operator's resync that met another change's creation claim this many times (about 5 minutes of
# deferrals, longer than an apply invocation, so no create under that claim is still in flight)
# takes the claim over: a resync always wins over a stale claim. The old claimant's plan, if it ever
# reaches apply, finds the claim taken (apply creates only while its plan holds it) and links to
# the record the resync created instead.
RESYNC_TAKEOVER_DEFERRALS = 25


class Claims(Protocol):
    """The creation claims of the state store (``StatePort``)."""

    def claim_creation(self, portal: str, target: str, email: str, claimant: str) -> str | None: ...

    def release_claim(self, portal: str, target: str, email: str, claimant: str) -> None: ...


def creation_pending(
    claims: Claims, portal: str, email: str, found: Mapping[str, Iterable[str]], event: ChangeEvent
) -> bool:
    """Whether hssync is creating a record for ``email``, or created one of the ``found`` records
    (target -> the unlinked records found for the email) and has not recorded its link yet: the
    pair is then not linked as strangers (the creation time would count as an edit on a first
    sync); the change waits for the link. Bounded, for a link deleted since its creation."""
    if event.attempt >= LINK_WAIT_DEFERRALS:
        return False
    claimant = f"{LOOKUP_CLAIMANT}{event.change_id}"
    for target in ("salesforce", "hubspot"):
        holder = claims.claim_creation(portal, target, email, claimant)
        if holder is None:  # nobody is creating one: give the claim straight back
            claims.release_claim(portal, target, email, claimant)
        elif is_claimant(holder) or same_id(holder, found.get(target, ())):
            return True
    return False


class Creator:
    """Creation plans of one portal, each under its creation claim."""

    def __init__(self, schema: Schema, config: SyncConfig, portal: str, claims: Claims) -> None:
        self.schema = schema
        self.config = config
        self.portal = portal
        self.claims = claims

    def _claim(self, target: str, email: str, claimant: str, event: ChangeEvent) -> str | None:
        """The creation claim for ``email`` on ``target``: None when ``claimant`` holds it, else its
        holder. A resync that waited long enough takes over a claim another change still holds."""
        holder = self.claims.claim_creation(self.portal, target, email, claimant)
        stale = event.origin == RESYNC_ORIGIN and event.attempt >= RESYNC_TAKEOVER_DEFERRALS
        if holder is None or not stale or not is_claimant(holder):
            return holder
        self.claims.release_claim(self.portal, target, email, holder)
        return self.claims.claim_creation(self.portal, target, email, claimant)

    def in_salesforce(self, contact: HubSpotContact, email: str, event: ChangeEvent) -> Decision:
        """A new HubSpot contact with no Salesforce record for its email: a Lead or a Contact (S10)."""
        # the claimant is the event, not the contact: a second event for the same new contact
        # (creation + property change, processed in parallel) must wait, not create again
        claimant = f"hubspot:{contact.id}:{event.change_id}"
        if self._claim("salesforce", email, claimant, event) is not None:
            return Retry(event)  # someone else is creating (or created) it: link on the retry
        return Planned(self.salesforce_plan(contact, email, event, claimant))

    def salesforce_plan(
        self, contact: HubSpotContact, email: str, event: ChangeEvent, claimant: str
    ) -> SyncPlan:
        new: SfObject = "Lead" if self.config.creation.hubspot_to_salesforce == "lead" else "Contact"
        schema = self.schema
        values, refused = creation_values_for_salesforce(
            schema.fields, schema.types, new, contact.properties, schema.company_placeholder
        )
        synced = {
            m.hubspot: (
                schema.comparable(m.hubspot, new, contact.properties.get(m.hubspot)),
                schema.comparable(m.hubspot, new, values.get(f)),
            )
            for m, f in schema.fields.for_object(new)
        }
        synced[OPT_OUT_HUBSPOT] = _opt_out_pair(opted_out(contact.properties.get(OPT_OUT_HUBSPOT)))
        return SyncPlan(
            plan_id=plan_id(self.portal, "create-sf", contact.id, event.change_id),
            portal=self.portal,
            hubspot_id=contact.id,
            sf_object=new,
            sf_id=None,
            create="salesforce",
            claim_email=email,
            claimant=claimant,
            salesforce_writes=values,
            owner=OwnerState(hubspot=contact.properties.get(OWNER_PROPERTY) or None, creating="salesforce"),
            synced_after=synced,
            reasons=(f"new HubSpot contact, no Salesforce record with its email: create a {new}",),
            redecided=event.redecided,
            notes=tuple(refused_note(r, "salesforce", hs_key(contact.id)) for r in refused),
            direction="hubspot_to_salesforce",
        )

    def in_hubspot(
        self, source: SfObject, record: SalesforceRecord, email: str, event: ChangeEvent
    ) -> Decision:
        """A new Salesforce Lead or Contact with no HubSpot contact for its email (S5)."""
        claimant = f"salesforce:{record.id}:{event.change_id}"
        if self._claim("hubspot", email, claimant, event) is not None:
            return Retry(event)
        return Planned(self.hubspot_plan(source, record, email, event, claimant))

    def hubspot_plan(
        self, source: SfObject, record: SalesforceRecord, email: str, event: ChangeEvent, claimant: str
    ) -> SyncPlan:
        schema = self.schema
        values, refused = creation_values_for_hubspot(schema.fields, schema.types, source, record.fields)
        synced = {
            m.hubspot: (
                schema.comparable(m.hubspot, source, values.get(m.hubspot)),
                schema.comparable(m.hubspot, source, record.fields.get(f)),
            )
            for m, f in schema.fields.for_object(source)
        }
        # the opt-out is not a property write: the new contact is unsubscribed after its creation
        opt_out = opted_out(record.fields.get(OPT_OUT_SALESFORCE))
        synced[OPT_OUT_HUBSPOT] = _opt_out_pair(opt_out)
        return SyncPlan(
            plan_id=plan_id(self.portal, "create-hs", record.id, event.change_id),
            portal=self.portal,
            hubspot_id=None,
            sf_object=source,
            sf_id=record.id,
            create="hubspot",
            claim_email=email,
            claimant=claimant,
            hubspot_writes=values,
            unsubscribe_email=email if opt_out else None,
            owner=OwnerState(salesforce=id_or_none(record.fields.get(OWNER_FIELD)), creating="hubspot"),
            synced_after=synced,
            reasons=(f"new Salesforce {source}, no HubSpot contact with its email: create one",),
            redecided=event.redecided,
            notes=tuple(refused_note(r, "hubspot", sf_key(source, record.id)) for r in refused),
            direction="salesforce_to_hubspot",
            source="salesforce",
        )


def _opt_out_pair(opt_out: bool) -> SyncedPair:
    value = "true" if opt_out else "false"
    return (value, value)


def assigned_owner(portal: str, sf_id: str, event: ChangeEvent, link: Link | None) -> Decision:
    """The owner Salesforce gave a record hssync created (the assignment rules chose it, or the
    integration user), reported by the record's change event: a Salesforce owner change for the
    owners stage, learnt without a read. Already known, or no link: the echo of hssync's write."""
    owner = id_or_none(event.reported.get(OWNER_FIELD))
    known = link.synced.get(OWNER_PROPERTY) if link is not None else None
    if link is None or owner is None or (known is not None and known[1] == owner):
        return Skip(ECHO)
    state = OwnerState(
        hubspot=known[0] if known else None,
        salesforce=owner,
        remembered=known or (None, None),
        salesforce_changed_at=event.occurred_at,
    )
    return Planned(
        SyncPlan(
            plan_id=plan_id(portal, "assigned-owner", sf_id, event.change_id),
            portal=portal,
            hubspot_id=link.hubspot_id,
            sf_object=sf_object(link.sf_object),
            sf_id=link.sf_id,
            duplicates=link.duplicates,
            owner=state,
            synced_before=dict(link.synced),
            synced_after=dict(link.synced),
            link_rev=link.rev,
            reasons=("the owner Salesforce gave the record hssync created",),
            source="salesforce",
        )
    )
