"""The accounts part of dedupe (account sync on): HubSpot companies <-> Salesforce Accounts, and the
association of contacts with them (DESIGN S7, S13).

It takes a batch's changes of companies and Accounts, HubSpot association changes, and notes the
Salesforce Contacts whose AccountId changed (those stay the contacts part's too), and decides them
in this order: the contacts that moved (``moves``), the changed companies (``from_hubspot``), the
changed Accounts (``from_salesforce``). Each group is read in batched calls first. With account sync
off it takes nothing: every such change is answered as before (not synced).
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.ids import salesforce_id18
from shared.models import ACCOUNT, COMPANIES, CONTACT, CONTACTS, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.accounts.deleted import AccountDeletions
from shared.pipeline.dedupe.accounts.echoes import OwnAssociations
from shared.pipeline.dedupe.accounts.from_hubspot import FromHubSpot
from shared.pipeline.dedupe.accounts.from_salesforce import FromSalesforce
from shared.pipeline.dedupe.accounts.moves import Moves
from shared.pipeline.dedupe.accounts.schema import CompanySchema
from shared.pipeline.dedupe.accounts.tools import AccountTools
from shared.pipeline.dedupe.echo import ECHO, made_in_hubspot_by_hssync, made_in_salesforce_by_hssync
from shared.pipeline.dedupe.outcome import Decision, Skip
from shared.pipeline.dedupe.parts import Batch
from shared.pipeline.dedupe.records import READABLE
from shared.ports import HubSpotCompaniesPort, SalesforceAccountsPort

__all__ = ["AccountsPart", "CompanySchema"]

ACCOUNT_ID = "AccountId"
SURVIVOR = "merge survivor: decided with its merged Account (its company moves to it)"


class AccountsPart:
    """One batch's changes of companies, Accounts and contacts' associations."""

    def __init__(
        self,
        batch: Batch,
        schema: CompanySchema,
        companies: HubSpotCompaniesPort,
        accounts: SalesforceAccountsPort,
    ) -> None:
        self.batch = batch
        self.tools = AccountTools(batch, schema, companies, accounts)
        self.enabled = batch.config.accounts.enabled
        self.companies: dict[str, ChangeEvent] = {}
        self.accounts: dict[str, ChangeEvent] = {}
        self.deleted: dict[str, ChangeEvent] = {}
        self.moved_in_hubspot: dict[str, ChangeEvent] = {}  # contact id -> its association change
        self.moved_in_salesforce: dict[str, ChangeEvent] = {}  # Contact id -> its AccountId change
        self.own_associations = OwnAssociations()  # hssync's own association writes coming back

    def take(self, event: ChangeEvent) -> Decision | bool:
        if not self.enabled:
            return False
        if event.system is System.HUBSPOT:
            return self._take_hubspot(event)
        if event.object_type == CONTACT and event.change_type is ChangeType.ASSOCIATION:
            self.moved_in_salesforce[salesforce_id18(event.record_id)] = event  # only this part's
            return True
        if event.object_type == CONTACT:
            self._note_contact(event)
            return False  # the contacts part's change as well
        if event.object_type != ACCOUNT:
            return False
        if event.change_type is ChangeType.DELETE:
            self.deleted[event.record_id] = event
            return True
        if event.change_type not in READABLE:
            return False
        if made_in_salesforce_by_hssync(event):
            return Skip(ECHO)
        self.accounts[salesforce_id18(event.record_id)] = event
        return True

    def _take_hubspot(self, event: ChangeEvent) -> Decision | bool:
        if event.object_type == COMPANIES and made_in_hubspot_by_hssync(event, self.batch.own_app_id):
            return Skip(ECHO)  # hssync's own company write (its link is recorded by apply)
        if event.change_type is ChangeType.ASSOCIATION:
            contact = _associated_contact(event)
            if contact is not None:
                self.moved_in_hubspot[contact] = event
                self.own_associations.note(contact, event)
            return contact is not None
        if event.object_type == COMPANIES and event.change_type in READABLE:
            earlier = self.companies.get(event.record_id)
            if earlier is None or earlier.change_type is not ChangeType.MERGE:  # a merge says more
                self.companies[event.record_id] = event
            return True
        return False

    def _note_contact(self, event: ChangeEvent) -> None:
        """A Contact whose Account a person changed (or a new one): its company follows (S13)."""
        if made_in_salesforce_by_hssync(event) or event.change_type not in READABLE:
            return
        if event.change_type is not ChangeType.UPDATE or ACCOUNT_ID in event.changed_fields:
            self.moved_in_salesforce[event.record_id] = event

    def decide(self) -> Iterator[Decision]:
        yield from self.own_associations.answer(self.tools, self.moved_in_hubspot)
        if self.moved_in_hubspot or self.moved_in_salesforce:
            moves = Moves(self.tools)
            yield from moves.decide(self.moved_in_hubspot, self.moved_in_salesforce)
            for company, event in moves.needs_account.items():
                self.companies.setdefault(company, event)
            for account, event in moves.needs_company.items():
                self.accounts.setdefault(account, event)
        if self.deleted:  # first: a merge's survivor takes its loser's company
            deletions = AccountDeletions(self.tools)
            yield from deletions.decide(self.deleted)
            for survivor in deletions.survivors:
                if self.accounts.pop(survivor, None) is not None:
                    yield Skip(SURVIVOR)
        if self.companies:
            yield from FromHubSpot(self.tools).decide(self.companies)
        if self.accounts:
            yield from FromSalesforce(self.tools).decide(self.accounts)


def _associated_contact(event: ChangeEvent) -> str | None:
    """The contact of a contact <-> company association change (from either side)."""
    if event.object_type == CONTACTS:
        return event.record_id
    if event.object_type == COMPANIES and event.related_ids:
        return event.related_ids[0]
    return None
