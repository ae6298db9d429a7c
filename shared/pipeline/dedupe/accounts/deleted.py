"""Deleted Salesforce Accounts: merged away (the company's link moves to the surviving Account,
unless that one is linked to another company), or deleted: the company stays (``keep``, the
default; the link stays too, as for contacts) or is archived (``archive``) and the link forgotten.
A HubSpot company deletion never deletes an Account (the coordinator answers it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

from shared.ids import salesforce_id18
from shared.models import ACCOUNT, ChangeEvent
from shared.pipeline.dedupe.accounts.fields import CompanyWrites, owners_of, reconcile_company
from shared.pipeline.dedupe.accounts.tools import AccountTools, PairPlan
from shared.pipeline.dedupe.outcome import Decision, Planned, Skip
from shared.pipeline.dedupe.records import sf_key

NOT_LINKED = "Account deleted (not linked)"
KEPT = "Account deleted: its company stays (deletes.salesforce_account_delete: keep)"
MERGED_ELSEWHERE = "Account merged into one linked to another company"
ARCHIVE = "archive"


class AccountDeletions:
    def __init__(self, tools: AccountTools) -> None:
        self.tools = tools
        self.survivors: set[str] = set()  # Accounts a merged Account's company moves to

    def decide(self, events: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
        by_id = {salesforce_id18(k): v for k, v in events.items()}
        links = self.tools.links_of_accounts(list(by_id))
        for rid in set(by_id) - set(links):
            yield Skip(NOT_LINKED, sf_key(ACCOUNT, rid))
        if not links:
            return
        salesforce = self.tools.batch.salesforce
        masters = salesforce.merge_masters(ACCOUNT, list(links))
        schema = self.tools.schema
        survivors = (
            salesforce.retrieve(ACCOUNT, sorted(set(masters.values())), schema.account_fields)
            if masters
            else {}
        )
        taken = self.tools.links_of_accounts(list(survivors))
        companies = self.tools.companies.read_companies(
            [link.hubspot_id for link in links.values()], schema.hubspot_properties
        )
        archive = self.tools.batch.config.deletes.salesforce_account_delete == ARCHIVE
        for rid, link in links.items():
            event = by_id[rid]
            master = survivors.get(salesforce_id18(masters[rid])) if rid in masters else None
            company = companies.get(link.hubspot_id)
            if master is not None:
                holder = taken.get(master.id)
                if company is None or (holder is not None and holder.hubspot_id != link.hubspot_id):
                    yield Skip(MERGED_ELSEWHERE, sf_key(ACCOUNT, rid))
                    continue
                moved = dataclasses.replace(link, sf_id=master.id)
                self.survivors.add(master.id)
                writes = reconcile_company(schema, company, master, link.synced)
                owner = owners_of(company, master, link.synced)
                decided = PairPlan(event, company.id, master.id, writes, moved, owner=owner, moved=True)
                yield Planned(self.tools.plan(decided))
            elif archive and company is not None:
                decided = PairPlan(event, company.id, rid, CompanyWrites(), link, archive=True)
                yield Planned(self.tools.plan(decided))
            else:
                yield Skip(KEPT, sf_key(ACCOUNT, rid))
