"""What every decision of one batch of company, Account and association changes works with: the
batch, the company schema, the account ports, and the company plans they build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from shared.models import ACCOUNT, COMPANIES, ChangeEvent, System
from shared.owners.decide import OwnerState
from shared.pipeline.dedupe.accounts.fields import CompanyWrites
from shared.pipeline.dedupe.accounts.schema import CompanySchema
from shared.pipeline.dedupe.parts import Batch
from shared.pipeline.dedupe.reconcile import direction
from shared.pipeline.plans import HealthNote, PersonPart, SyncedPair, SyncPlan, plan_id
from shared.ports import HubSpotCompaniesPort, Link, SalesforceAccountsPort
from shared.state.keys import hubspot_company_key, salesforce_record_key

# creation claims of company pairs are keyed by the id of the record that creates its counterpart
CLAIM_COMPANY = "hubspot:companies"  # a company created for an Account (keyed by the Account id)
CLAIM_ACCOUNT = "salesforce:Account"  # an Account created for a company (keyed by the company id)


@dataclass(frozen=True)
class PairPlan:
    """One company pair's plan as decided: the pair, what it writes and what it associates."""

    event: ChangeEvent
    company_id: str | None
    account_id: str | None
    writes: CompanyWrites
    link: Link | None = None  # the stored link (None: a new pair)
    create: Literal["salesforce", "hubspot"] | None = None
    contacts_to_company: tuple[str, ...] = ()
    contacts_to_account: tuple[str, ...] = ()
    notes: tuple[HealthNote, ...] = ()
    owner: OwnerState | None = None
    person: PersonPart | None = None  # a person account's person (S9)
    moved: bool = False  # the link moves to another record (a merge's survivor): saved as a new link
    taken_over: bool = False  # the link moves to another company (a HubSpot merge): none stored for it
    archive: bool = False  # the Account was deleted: archive its company (deletes setting)


@dataclass(frozen=True)
class AccountTools:
    batch: Batch
    schema: CompanySchema
    companies: HubSpotCompaniesPort
    accounts: SalesforceAccountsPort

    def links_of_companies(self, ids: Sequence[str]) -> dict[str, Link]:
        return self.batch.state.links_by_hubspot(self.batch.portal, list(ids), kind=COMPANIES) if ids else {}

    def links_of_accounts(self, ids: Sequence[str]) -> dict[str, Link]:
        return (
            self.batch.state.links_by_salesforce(self.batch.portal, list(ids), kind=COMPANIES) if ids else {}
        )

    def claim(self, target: str, source_id: str, event: ChangeEvent) -> str | None:
        """Claims the creation of ``target`` for the record ``source_id``: None when this change
        holds it; else the holder (a change still creating it, or the created record's id). A claim
        keeps the creation intent of an earlier create whose outcome is unknown
        (``shared.accounts.creation_intents``): apply looks for its record before creating."""
        state = self.batch.state
        return state.claim_with_intent(self.batch.portal, target, source_id, event.change_id).holder

    def plan(self, decided: PairPlan) -> SyncPlan:
        writes, event, link = decided.writes, decided.event, decided.link
        claim_key = None
        if decided.create == "salesforce":
            claim_key = decided.company_id
        elif decided.create == "hubspot":
            claim_key = decided.account_id
        notes = list(decided.notes) + [self._refused_note(decided, r) for r in writes.refused]
        return SyncPlan(
            plan_id=plan_id(
                self.batch.portal,
                COMPANIES,
                str(decided.company_id),
                str(decided.account_id),
                event.change_id,
            ),
            portal=self.batch.portal,
            kind=COMPANIES,
            hubspot_id=decided.company_id,
            sf_object=ACCOUNT,
            sf_id=decided.account_id,
            create=decided.create,
            claim_email=claim_key,  # the creating record's id (a company pair has no email)
            claimant=event.change_id if claim_key else None,
            hubspot_writes=writes.hubspot,
            salesforce_writes=writes.salesforce,
            owner=decided.owner,
            synced_before=dict(link.synced) if link is not None else {},
            synced_after=writes.after,
            written=writes.written,
            link_rev=link.rev if link is not None and not decided.taken_over else None,
            redecided=event.redecided,
            reasons=tuple(writes.reasons) or ("already in sync",),
            notes=tuple(notes),
            direction=direction(
                writes_hubspot=bool(writes.hubspot), writes_salesforce=bool(writes.salesforce)
            ),
            source="hubspot" if event.system is System.HUBSPOT else "salesforce",
            linked_by_email=(link is None and decided.create is None) or decided.moved or decided.taken_over,
            archive_hubspot=decided.archive,
            contacts_to_company=decided.contacts_to_company,
            contacts_to_account=decided.contacts_to_account,
            person=decided.person,
        )

    @staticmethod
    def _refused_note(decided: PairPlan, refused: tuple[str, str, str, str]) -> HealthNote:
        prop, field, code, message = refused
        to_salesforce = field in decided.writes.salesforce or decided.create == "salesforce"
        record = (
            hubspot_company_key(str(decided.company_id))
            if to_salesforce and decided.company_id
            else salesforce_record_key(ACCOUNT, str(decided.account_id))
        )
        return HealthNote(
            system="salesforce" if to_salesforce else "hubspot",
            record=record,
            category="property_values",
            code=code,
            message=f"{prop} <-> {field}: {message}",
        )


def synced_of(link: Link | None) -> Mapping[str, SyncedPair] | None:
    return link.synced if link is not None else None
