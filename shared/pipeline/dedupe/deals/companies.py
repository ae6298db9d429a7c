"""``Opportunity.AccountId`` <-> the deal's primary company (with account sync on), read for a whole
batch in batched calls. The side whose change is decided wins: an Opportunity's Account makes its
company the deal's primary company; a deal's primary company sets the Opportunity's Account. An
Account or a company not synced yet is left out (never created for it) and reported; removing an
Account or a company is not carried over. With account sync off, the association is not synced."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shared.deals.settings import OPPORTUNITY_ACCOUNT_FIELD
from shared.models import COMPANIES, DEALS
from shared.pipeline.dedupe.deals.fields import ACCOUNT_NOT_SYNCED, COMPANY_NOT_SYNCED, DealWrites
from shared.pipeline.dedupe.deals.tools import DealTools
from shared.pipeline.dedupe.records import id_or_none
from shared.ports import HubSpotContact, SalesforceRecord

ACCOUNT_FIELD = OPPORTUNITY_ACCOUNT_FIELD


@dataclass(frozen=True)
class DealCompanies:
    account_company: dict[str, str] = field(default_factory=dict)  # Account id -> its company
    company_account: dict[str, str] = field(default_factory=dict)  # company -> its Account
    primary: dict[str, str] = field(default_factory=dict)  # deal id -> its primary company


def read_companies(
    tools: DealTools, records: Iterable[SalesforceRecord], deal_ids: Sequence[str]
) -> DealCompanies:
    """The links and associations the batch's decisions need (nothing with account sync off)."""
    batch = tools.batch
    if not batch.config.accounts.enabled:
        return DealCompanies()
    found = tools.deals.associations(DEALS, COMPANIES, list(deal_ids)) if deal_ids else {}
    primary = {d: a.to_id for d, assocs in found.items() for a in assocs if a.primary}
    accounts = sorted({a for a in (id_or_none(r.fields.get(ACCOUNT_FIELD)) for r in records) if a})
    by_account = batch.state.links_by_salesforce(batch.portal, accounts, kind=COMPANIES) if accounts else {}
    companies = sorted(set(primary.values()))
    by_company = batch.state.links_by_hubspot(batch.portal, companies, kind=COMPANIES) if companies else {}
    return DealCompanies(
        account_company={a: link.hubspot_id for a, link in by_account.items()},
        company_account={c: link.sf_id for c, link in by_company.items()},
        primary=primary,
    )


def company_to_hubspot(
    found: DealCompanies, writes: DealWrites, deal_id: str | None, record: SalesforceRecord
) -> None:
    """The Opportunity's Account's company as the deal's primary company (an Opportunity's change)."""
    account = id_or_none(record.fields.get(ACCOUNT_FIELD))
    if account is None:
        return
    company = found.account_company.get(account)
    if company is None:
        writes.association_notes.append(
            (
                ACCOUNT_NOT_SYNCED,
                f"its Account {account} has no HubSpot company yet: the deal is not associated",
            )
        )
        return
    if deal_id is None or found.primary.get(deal_id) != company:
        writes.company = company


def account_to_salesforce(
    found: DealCompanies, writes: DealWrites, deal: HubSpotContact, record: SalesforceRecord | None
) -> None:
    """The deal's primary company's Account as the Opportunity's Account (a deal's change)."""
    company = found.primary.get(deal.id)
    if company is None:
        return
    account = found.company_account.get(company)
    if account is None:
        writes.association_notes.append(
            (COMPANY_NOT_SYNCED, f"its company {company} has no Salesforce Account yet: AccountId is not set")
        )
        return
    if record is None or id_or_none(record.fields.get(ACCOUNT_FIELD)) != account:
        writes.salesforce[ACCOUNT_FIELD] = account
