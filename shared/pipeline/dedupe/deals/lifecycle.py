"""The reads behind lifecycle stages from opportunities (S15; the rule: ``shared.deals.lifecycle``):
the contact roles of the batch's Opportunities, the HubSpot contacts linked to their Contacts, with
``lifecycle.sync_to_company_contacts`` the contacts of their Accounts' companies, and the contacts'
current stages (without property history: only the current stage is compared). Each read is one
batched call for the whole batch. Contacts not synced are left out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shared.deals.lifecycle import DealState, OpportunityContacts, applies, transitions
from shared.deals.ports import ContactRole
from shared.ids import salesforce_id18
from shared.models import COMPANIES, CONTACTS
from shared.pipeline.dedupe.parts import Batch
from shared.ports import HubSpotCompaniesPort


@dataclass(frozen=True)
class Opportunity:
    """What lifecycle needs of one Opportunity: its state once this batch's writes are done, and its
    Account."""

    state: DealState
    account_id: str | None


def lifecycle_moves(
    batch: Batch,
    opportunities: Mapping[str, Opportunity],
    contact_roles: Callable[[Sequence[str]], list[ContactRole]] | None,
    companies: HubSpotCompaniesPort | None,
    stages: Callable[[Sequence[str]], Mapping[str, str | None]],
) -> dict[str, dict[str, str]]:
    """Opportunity id -> the HubSpot contacts it moves forward, with their stage. ``stages``: the
    contacts' current lifecycle stages (``HubSpotDealsPort.lifecycle_stages``)."""
    if not opportunities or contact_roles is None or not applies(batch.config):
        return {}
    roles = contact_roles(list(opportunities))
    links = batch.state.links_by_salesforce(
        batch.portal, sorted({r.contact_id for r in roles}), kind=CONTACTS
    )
    role_contacts: dict[str, list[str]] = {}
    for role in roles:  # primary first
        link = links.get(role.contact_id)
        if link is not None:
            role_contacts.setdefault(role.opportunity_id, []).append(link.hubspot_id)
    company_contacts = _company_contacts(batch, opportunities, companies)
    reached = {
        opp: OpportunityContacts(
            o.state,
            tuple(role_contacts.get(opp, ())),
            tuple(company_contacts.get(salesforce_id18(o.account_id), ()) if o.account_id else ()),
        )
        for opp, o in opportunities.items()
    }
    wanted = sorted({c for o in reached.values() for c in (*o.role_contacts, *o.company_contacts)})
    current = dict(stages(wanted)) if wanted else {}
    moves = {opp: transitions(batch.config, [o], current) for opp, o in reached.items()}
    return {opp: m for opp, m in moves.items() if m}


def _company_contacts(
    batch: Batch, opportunities: Mapping[str, Opportunity], companies: HubSpotCompaniesPort | None
) -> dict[str, list[str]]:
    """Account id -> the HubSpot contacts associated with its company (sync_to_company_contacts)."""
    if companies is None or not batch.config.lifecycle.sync_to_company_contacts:
        return {}
    accounts = sorted({salesforce_id18(o.account_id) for o in opportunities.values() if o.account_id})
    if not accounts:
        return {}
    links = batch.state.links_by_salesforce(batch.portal, accounts, kind=COMPANIES)
    company_of = {link.hubspot_id: account for account, link in links.items()}
    associated = companies.associations(COMPANIES, CONTACTS, sorted(company_of)) if company_of else {}
    return {company_of[company]: [a.to_id for a in found] for company, found in associated.items()}
