"""Decisions for changed HubSpot companies. A linked company syncs with its Account (the link is
sticky, S7). An unlinked one is linked to the Account most of its synced contacts' Salesforce
Contacts belong to (ties: the oldest Account; several: reported; never by name), and its contacts'
Contacts without an Account get it; else it creates its Account when
``creation.companies_to_salesforce`` allows, with its contacts' Contacts moved to it (S13)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

from shared.accounts.matching import AccountMatch, match_account
from shared.models import ACCOUNT, CONTACT, ChangeEvent, ChangeType
from shared.pipeline.dedupe.accounts.fields import account_values, owners_of, reconcile_company
from shared.pipeline.dedupe.accounts.people import Person, contacts_of_companies, people_of_contacts
from shared.pipeline.dedupe.accounts.tools import CLAIM_ACCOUNT, AccountTools, PairPlan
from shared.pipeline.dedupe.outcome import Decision, Planned, Retry, Skip
from shared.pipeline.dedupe.records import hs_key
from shared.pipeline.plans import HealthNote, pending_contact
from shared.ports import HubSpotCompany, Link, SalesforceRecord
from shared.state.keys import hubspot_company_key

NOT_CREATED = "company without an Account (creation.companies_to_salesforce: do_nothing)"
GONE = "company no longer exists"


class FromHubSpot:
    def __init__(self, tools: AccountTools) -> None:
        self.tools = tools

    def decide(self, changes: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
        schema = self.tools.schema
        companies = self.tools.companies.read_companies(list(changes), schema.hubspot_properties)
        links = self.tools.links_of_companies(list(companies))
        taken_over = self._merged_links(changes, links)
        links.update(taken_over)
        unlinked = [i for i in companies if i not in links]
        members = contacts_of_companies(self.tools, unlinked)
        people = people_of_contacts(self.tools, [c for ids in members.values() for c in ids])
        matches = self._matches(unlinked, members, people)
        wanted = {link.sf_id for link in links.values()} | {
            m.account_id for m in matches.values() if m.account_id
        }
        accounts = self.tools.batch.salesforce.retrieve(ACCOUNT, sorted(wanted), schema.account_fields)
        for given, event in changes.items():
            company = companies.get(given)
            if company is None:
                yield Skip(GONE, hubspot_company_key(given))
            elif company.id in links:
                yield self._linked(event, company, links[company.id], accounts, company.id in taken_over)
            else:
                its_people = [people[c] for c in members.get(company.id, []) if c in people]
                pending = [pending_contact(hs_key(c)) for c in members.get(company.id, []) if c not in people]
                yield self._unlinked(event, company, matches[company.id], its_people, pending, accounts)

    def _merged_links(self, changes: Mapping[str, ChangeEvent], links: Mapping[str, Link]) -> dict[str, Link]:
        """A merge's survivor without a link takes the link of a company merged into it (the link
        moves to the survivor, as for contacts)."""
        merged = {
            survivor: event.related_ids
            for survivor, event in changes.items()
            if event.change_type is ChangeType.MERGE and survivor not in links and event.related_ids
        }
        found = self.tools.links_of_companies(sorted({m for ids in merged.values() for m in ids}))
        out: dict[str, Link] = {}
        for survivor, ids in merged.items():
            link = next((found[m] for m in ids if m in found), None)
            if link is not None:
                out[survivor] = dataclasses.replace(link, hubspot_id=survivor)
        return out

    def _matches(
        self, unlinked: list[str], members: Mapping[str, list[str]], people: Mapping[str, Person]
    ) -> dict[str, AccountMatch]:
        """Each unlinked company's Account by its contacts (S7)."""
        voted = {p.account_id for p in people.values() if p.account_id}
        created = (
            self.tools.batch.salesforce.retrieve(ACCOUNT, sorted(voted), ["CreatedDate"]) if voted else {}
        )
        taken = set(self.tools.links_of_accounts(sorted(voted)))
        return {
            company: match_account(
                None,
                [people[c].account_id for c in members.get(company, []) if c in people],
                {i: r.created for i, r in created.items()},
                taken,
            )
            for company in unlinked
        }

    def _linked(
        self,
        event: ChangeEvent,
        company: HubSpotCompany,
        link: Link,
        accounts: Mapping[str, SalesforceRecord],
        taken_over: bool = False,
    ) -> Decision:
        account = accounts.get(link.sf_id)
        if account is None:
            return Skip("its Account no longer exists", hubspot_company_key(company.id))
        writes = reconcile_company(self.tools.schema, company, account, link.synced)
        owner = owners_of(company, account, link.synced)
        decided = PairPlan(event, company.id, account.id, writes, link, owner=owner, taken_over=taken_over)
        return Planned(self.tools.plan(decided))

    def _unlinked(
        self,
        event: ChangeEvent,
        company: HubSpotCompany,
        match: AccountMatch,
        people: list[Person],
        pending: list[str],
        accounts: Mapping[str, SalesforceRecord],
    ) -> Decision:
        notes = self._notes(company, match)
        account = accounts.get(match.account_id or "")
        if account is not None:
            writes = reconcile_company(self.tools.schema, company, account, None)
            without = tuple(sorted(p.sf_id for p in people if p.sf_object == CONTACT and not p.account_id))
            without += tuple(sorted(pending))
            owner = owners_of(company, account, None)
            decided = PairPlan(event, company.id, account.id, writes, None, None, (), without, notes, owner)
            return Planned(self.tools.plan(decided))
        if self.tools.batch.config.creation.companies_to_salesforce != "create_or_update":
            return Skip(NOT_CREATED, hubspot_company_key(company.id))
        if self.tools.claim(CLAIM_ACCOUNT, company.id, event) is not None:
            return Retry(event)  # being created by another change, or created: linked once recorded
        # its contacts' Contacts move to the new Account; its contacts not synced yet follow once linked
        moved = tuple(sorted(p.sf_id for p in people if p.sf_object == CONTACT)) + tuple(sorted(pending))
        writes = account_values(self.tools.schema, company)
        owner = owners_of(company, None, None, creating="salesforce")
        decided = PairPlan(event, company.id, None, writes, None, "salesforce", (), moved, notes, owner)
        return Planned(self.tools.plan(decided))

    @staticmethod
    def _notes(company: HubSpotCompany, match: AccountMatch) -> tuple[HealthNote, ...]:
        report = match.report()
        if report is None:
            return ()
        record = hubspot_company_key(company.id)
        message = f"company {company.id}: {report}"
        note = HealthNote(
            system="salesforce",
            record=record,
            category="associations",
            code="SEVERAL_ACCOUNTS",
            message=message,
        )
        return (note,)
