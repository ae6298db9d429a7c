"""What every decision of one batch of deal and Opportunity changes works with: the batch, the deal
schema, the deals port, and the deal plans they build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from shared.deals.ports import ContactRole, HubSpotDealsPort, SalesforceOpportunitiesPort
from shared.deals.stages import UNMAPPED_STAGE, unmapped_message
from shared.models import DEALS, OPPORTUNITY, ChangeEvent, System
from shared.owners.decide import OwnerState
from shared.pipeline.dedupe.deals.fields import FROM_SALESFORCE_NOTES, DealWrites
from shared.pipeline.dedupe.deals.lifecycle import Opportunity, lifecycle_moves
from shared.pipeline.dedupe.deals.schema import DealSchema
from shared.pipeline.dedupe.parts import Batch
from shared.pipeline.dedupe.reconcile import direction
from shared.pipeline.plans import HealthNote, SyncPlan, plan_id
from shared.ports import HubSpotCompaniesPort, Link
from shared.state.keys import hubspot_deal_key, salesforce_record_key

# creation claims of deal pairs are keyed by the id of the record that creates its counterpart
CLAIM_DEAL = "hubspot:deals"  # a deal created for an Opportunity (keyed by the Opportunity id)
CLAIM_OPPORTUNITY = "salesforce:Opportunity"  # an Opportunity created for a deal (keyed by the deal id)


@dataclass(frozen=True)
class DealPlan:
    """One deal pair's plan as decided."""

    event: ChangeEvent
    deal_id: str | None
    opportunity_id: str | None
    writes: DealWrites
    link: Link | None = None  # the stored link (None: a new pair)
    create: Literal["salesforce", "hubspot"] | None = None
    owner: OwnerState | None = None
    archive: bool = False  # the Opportunity was deleted: archive its deal
    forget: bool = False  # the deal was deleted: drop the link (the Opportunity stays)
    notes: tuple[HealthNote, ...] = ()
    lifecycle: dict[str, str] | None = None  # contacts moved forward (S15)
    taken_over: bool = False  # a HubSpot merge: the link moves to the surviving deal (saved anew)


@dataclass(frozen=True)
class DealTools:
    batch: Batch
    schema: DealSchema
    deals: HubSpotDealsPort
    opportunities: SalesforceOpportunitiesPort | None = None  # contact roles (lifecycle, S15)
    companies: HubSpotCompaniesPort | None = None  # a company's contacts (lifecycle.sync_to_company_contacts)
    _roles: dict[str, list[ContactRole]] = field(default_factory=dict)  # contact roles read in this batch

    def contact_roles(self, opportunity_ids: Sequence[str]) -> list[ContactRole]:
        """The contact roles of these Opportunities, primary first; each Opportunity's are read once a
        batch (contact role associations and lifecycle stages share the read)."""
        missing = [i for i in dict.fromkeys(opportunity_ids) if i not in self._roles]
        if missing and self.opportunities is not None:
            for opportunity in missing:
                self._roles[opportunity] = []
            for role in self.opportunities.contact_roles(missing):
                self._roles.setdefault(role.opportunity_id, []).append(role)
        return [r for i in dict.fromkeys(opportunity_ids) for r in self._roles.get(i, ())]

    def links_of_deals(self, ids: Sequence[str]) -> dict[str, Link]:
        return self.batch.state.links_by_hubspot(self.batch.portal, list(ids), kind=DEALS) if ids else {}

    def links_of_opportunities(self, ids: Sequence[str]) -> dict[str, Link]:
        return self.batch.state.links_by_salesforce(self.batch.portal, list(ids), kind=DEALS) if ids else {}

    def lifecycle(self, opportunities: Mapping[str, Opportunity]) -> dict[str, dict[str, str]]:
        """Opportunity id -> the HubSpot contacts it moves forward (S15), read in batched calls."""
        roles = self.contact_roles if self.opportunities is not None else None
        return lifecycle_moves(self.batch, opportunities, roles, self.companies, self.deals.lifecycle_stages)

    def claim(self, target: str, source_id: str, event: ChangeEvent) -> str | None:
        """Claims the creation of ``target`` for the record ``source_id``: None when this change holds
        it; else the holder (a change still creating it, or the created record's id). A claim keeps
        the creation intent of an earlier create whose outcome is unknown
        (``shared.accounts.creation_intents``): apply looks for its record before creating."""
        state = self.batch.state
        return state.claim_with_intent(self.batch.portal, target, source_id, event.change_id).holder

    def plan(self, decided: DealPlan) -> SyncPlan:
        writes, event, link = decided.writes, decided.event, decided.link
        claim_key = {"salesforce": decided.deal_id, "hubspot": decided.opportunity_id}.get(
            decided.create or ""
        )
        notes = list(decided.notes) + [self._refused_note(decided, r) for r in writes.refused]
        notes += [self._unmapped_note(decided, side, stage) for side, stage in writes.unmapped]
        notes += [
            self._association_note(decided, code, message) for code, message in writes.association_notes
        ]
        return SyncPlan(
            plan_id=plan_id(
                self.batch.portal, DEALS, str(decided.deal_id), str(decided.opportunity_id), event.change_id
            ),
            portal=self.batch.portal,
            kind=DEALS,
            hubspot_id=decided.deal_id,
            sf_object=OPPORTUNITY,
            sf_id=decided.opportunity_id,
            create=decided.create,
            claim_email=claim_key,  # the creating record's id (a deal pair has no email)
            claimant=event.change_id if claim_key else None,
            hubspot_writes=writes.hubspot,
            salesforce_writes=writes.salesforce,
            owner=decided.owner,
            synced_before=dict(link.synced) if link is not None else {},
            synced_after=writes.after,
            written=writes.written,
            link_rev=link.rev if link is not None and not decided.taken_over else None,
            linked_by_email=decided.taken_over,  # a link saved anew (the merge's survivor)
            redecided=event.redecided,
            reasons=tuple(writes.reasons) or ("already in sync",),
            notes=tuple(notes),
            direction=direction(
                writes_hubspot=bool(writes.hubspot), writes_salesforce=bool(writes.salesforce)
            ),
            source="hubspot" if event.system is System.HUBSPOT else "salesforce",
            archive_hubspot=decided.archive,
            forget_link=decided.forget,
            lifecycle=decided.lifecycle or {},
            company_of_deal=writes.company,
            contacts_of_deal=tuple(writes.deal_contacts),
            roles_of_opportunity=tuple(writes.contact_roles),
            contacts_off_deal=tuple(writes.contacts_removed),
            roles_to_delete=tuple(writes.roles_deleted),
        )

    @staticmethod
    def _record(decided: DealPlan, *, hubspot_side: bool) -> str:
        if hubspot_side and decided.deal_id:
            return hubspot_deal_key(decided.deal_id)
        return salesforce_record_key(OPPORTUNITY, str(decided.opportunity_id))

    def _refused_note(self, decided: DealPlan, refused: tuple[str, str, str, str]) -> HealthNote:
        prop, field, code, message = refused
        to_salesforce = field in decided.writes.salesforce or decided.create == "salesforce"
        return HealthNote(
            system="salesforce" if to_salesforce else "hubspot",
            record=self._record(decided, hubspot_side=to_salesforce),
            category="property_values",
            code=code,
            message=f"{prop} <-> {field}: {message}",
        )

    def _association_note(self, decided: DealPlan, code: str, message: str) -> HealthNote:
        """An Account, a company or a contact not synced: the association is left out (never created
        for it)."""
        from_salesforce = code in FROM_SALESFORCE_NOTES
        return HealthNote(
            system="hubspot" if from_salesforce else "salesforce",
            record=self._record(decided, hubspot_side=not from_salesforce),
            category="associations",
            code=code,
            message=message,
        )

    def _unmapped_note(self, decided: DealPlan, side: str, stage: str) -> HealthNote:
        """A stage with no deals.pipelines entry: reported on the record it was read from."""
        from_hubspot = side == "hubspot"
        return HealthNote(
            system="salesforce" if from_hubspot else "hubspot",
            record=self._record(decided, hubspot_side=from_hubspot),
            category="property_values",
            code=UNMAPPED_STAGE,
            message=unmapped_message(stage, side),
            fields=("StageName",) if from_hubspot else ("dealstage",),
        )
