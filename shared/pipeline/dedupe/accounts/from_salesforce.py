"""Decisions for changed Salesforce Accounts. A linked Account syncs with its company. An unlinked
one is linked to the company most of its synced Contacts' HubSpot contacts belong to (S7 seen from
the Account: a company not linked yet), else creates its company when
``creation.accounts_to_hubspot`` allows, associated with the HubSpot contacts of its Contacts (S13).
A person account syncs as a contact plus a company named after the person (``persons``, S9)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from shared.accounts.person import is_person_account
from shared.ids import salesforce_id18
from shared.models import ACCOUNT, ChangeEvent, ChangeType
from shared.pipeline.dedupe.accounts.fields import company_values, owners_of, reconcile_company
from shared.pipeline.dedupe.accounts.people import contacts_of_accounts, primary_companies
from shared.pipeline.dedupe.accounts.persons import Persons, person_company_writes
from shared.pipeline.dedupe.accounts.tools import CLAIM_COMPANY, AccountTools, PairPlan
from shared.pipeline.dedupe.outcome import Decision, Planned, Retry, Skip
from shared.pipeline.dedupe.records import sf_key
from shared.pipeline.plans import is_pending
from shared.ports import HubSpotCompany, Link, SalesforceRecord

NOT_CREATED = "Account without a company (creation.accounts_to_hubspot: do_nothing)"
GONE = "Account no longer exists"


class FromSalesforce:
    def __init__(self, tools: AccountTools) -> None:
        self.tools = tools

    def decide(self, changes: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
        schema = self.tools.schema
        records = self.tools.batch.salesforce.retrieve(ACCOUNT, list(changes), schema.account_fields)
        links = self.tools.links_of_accounts(list(records))
        companies = self.tools.companies.read_companies(
            sorted({link.hubspot_id for link in links.values()}), schema.hubspot_properties
        )
        unlinked = [i for i, r in records.items() if i not in links and not is_person_account(r.fields)]
        people = contacts_of_accounts(self.tools, unlinked)
        found = self._found_companies(unlinked, people)
        companies.update(
            self.tools.companies.read_companies(sorted(set(found.values())), schema.hubspot_properties)
        )
        survivors = self._merge_survivors(changes, [a for a in unlinked if a not in found])
        people_of = [r for r in records.values() if is_person_account(r.fields)]
        persons = Persons(self.tools, people_of) if people_of else None
        for given, event in changes.items():
            record = records.get(salesforce_id18(given))
            if record is None:
                yield Skip(GONE, sf_key(ACCOUNT, given))
            elif persons is not None and is_person_account(record.fields):
                yield self._person(event, record, links.get(record.id), companies, persons)
            elif record.id in links:
                yield self._linked(event, record, links[record.id], companies)
            elif record.id in survivors:  # its merged Account's deletion moves that company to it
                yield Retry(event)
            else:
                yield self._unlinked(event, record, people.get(record.id, []), found, companies)

    def _merge_survivors(self, changes: Mapping[str, ChangeEvent], creating: list[str]) -> set[str]:
        """The unlinked Accounts among ``creating`` that an Account linked to a company was merged
        into. A merge updates its master and deletes the others in one transaction, whose change
        events may come in separate windows: the master waits for the deletion to be decided (which
        moves that company to it) rather than creating a second company. Asked (one queryAll) only
        for updates: a new Account is no merge's master."""
        if self.tools.batch.config.creation.accounts_to_hubspot != "create_or_update":
            return set()
        created = {salesforce_id18(g) for g, e in changes.items() if e.change_type is ChangeType.CREATE}
        asked = [a for a in creating if a not in created]
        if not asked:
            return set()
        losers = self.tools.batch.salesforce.merged_into(ACCOUNT, asked)
        linked = self.tools.links_of_accounts(sorted(losers)) if losers else {}
        return {losers[loser] for loser in linked}

    def _found_companies(self, unlinked: list[str], people: Mapping[str, list[str]]) -> dict[str, str]:
        """Account -> the company most of its Contacts' contacts belong to (not linked yet)."""
        contact_ids = [c for account in unlinked for c in people.get(account, []) if not is_pending(c)]
        primary = primary_companies(self.tools, contact_ids)
        taken = self.tools.links_of_companies(sorted(set(primary.values())))
        out: dict[str, str] = {}
        for account in unlinked:
            votes = Counter(
                primary[c] for c in people.get(account, []) if c in primary and primary[c] not in taken
            )
            if votes:
                out[account] = min(votes.items(), key=lambda v: (-v[1], v[0].zfill(20)))[0]
        return out

    def _person(
        self,
        event: ChangeEvent,
        record: SalesforceRecord,
        link: Link | None,
        companies: Mapping[str, HubSpotCompany],
        persons: Persons,
    ) -> Decision:
        """A person account: its company (named after the person) and its person as a contact."""
        company = companies.get(link.hubspot_id) if link is not None else None
        if link is not None and company is None:
            return Skip("its company no longer exists", sf_key(ACCOUNT, record.id))
        person = persons.part(record, new_company=company is None)
        writes = person_company_writes(self.tools, company, record)
        if company is not None:
            decided = PairPlan(event, company.id, record.id, writes, link, person=person)
            return Planned(self.tools.plan(decided))
        if self.tools.batch.config.creation.accounts_to_hubspot != "create_or_update":
            return Skip(NOT_CREATED, sf_key(ACCOUNT, record.id))
        if self.tools.claim(CLAIM_COMPANY, record.id, event) is not None:
            return Retry(event)  # being created by another change, or created: linked once recorded
        decided = PairPlan(event, None, record.id, writes, None, "hubspot", person=person)
        return Planned(self.tools.plan(decided))

    def _linked(
        self,
        event: ChangeEvent,
        record: SalesforceRecord,
        link: Link,
        companies: Mapping[str, HubSpotCompany],
    ) -> Decision:
        company = companies.get(link.hubspot_id)
        if company is None:
            return Skip("its company no longer exists", sf_key(ACCOUNT, record.id))
        writes = reconcile_company(self.tools.schema, company, record, link.synced)
        owner = owners_of(company, record, link.synced)
        return Planned(
            self.tools.plan(PairPlan(event, link.hubspot_id, record.id, writes, link, owner=owner))
        )

    def _unlinked(
        self,
        event: ChangeEvent,
        record: SalesforceRecord,
        people: list[str],
        found: Mapping[str, str],
        companies: Mapping[str, HubSpotCompany],
    ) -> Decision:
        to_associate = tuple(sorted(set(people)))
        company = companies.get(found.get(record.id, ""))
        if company is not None:  # S7: linked through its Contacts' contacts
            writes = reconcile_company(self.tools.schema, company, record, None)
            owner = owners_of(company, record, None)
            decided = PairPlan(event, company.id, record.id, writes, None, None, to_associate, owner=owner)
            return Planned(self.tools.plan(decided))
        if self.tools.batch.config.creation.accounts_to_hubspot != "create_or_update":
            return Skip(NOT_CREATED, sf_key(ACCOUNT, record.id))
        holder = self.tools.claim(CLAIM_COMPANY, record.id, event)
        if holder is not None:  # being created by another change, or created: linked once recorded
            return Retry(event)
        writes = company_values(self.tools.schema, record)
        owner = owners_of(None, record, None, creating="hubspot")
        decided = PairPlan(event, None, record.id, writes, None, "hubspot", to_associate, owner=owner)
        return Planned(self.tools.plan(decided))
