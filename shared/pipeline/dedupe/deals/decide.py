"""Decisions for changed deals and Opportunities. Never de-duplicated (S8): a deal and an Opportunity
are one pair only through a link hssync made; an unlinked record creates its counterpart when
``deals.opportunities_to_hubspot`` / ``deals.deals_to_salesforce`` allows, else it is left alone.
Two identical opportunities are two deals.

Deletes: a deleted Opportunity archives its deal (and the link is forgotten); a deleted deal never
deletes its Opportunity: the link is dropped and the drop is reported in sync health. A HubSpot deal
merge moves the link to the surviving deal (Salesforce cannot merge Opportunities)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

from shared.deals.lifecycle import DealState
from shared.deals.settings import (
    DEAL_PIPELINE_PROPERTY,
    DEAL_STAGE_PROPERTY,
    OPPORTUNITY_ACCOUNT_FIELD,
    OPPORTUNITY_CLOSED_FIELD,
    OPPORTUNITY_WON_FIELD,
)
from shared.ids import salesforce_id18
from shared.models import OPPORTUNITY, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.deals.companies import (
    DealCompanies,
    account_to_salesforce,
    company_to_hubspot,
    read_companies,
)
from shared.pipeline.dedupe.deals.contacts import (
    DealContacts,
    contacts_to_hubspot,
    read_contacts,
    roles_to_salesforce,
)
from shared.pipeline.dedupe.deals.fields import (
    DealWrites,
    deal_values,
    opportunity_values,
    owners_of,
    reconcile_deal,
)
from shared.pipeline.dedupe.deals.lifecycle import Opportunity
from shared.pipeline.dedupe.deals.tools import CLAIM_DEAL, CLAIM_OPPORTUNITY, DealPlan, DealTools
from shared.pipeline.dedupe.outcome import Decision, Planned, Retry, Skip
from shared.pipeline.dedupe.records import id_or_none, sf_key
from shared.pipeline.plans import HealthNote
from shared.ports import HubSpotContact, Link, SalesforceRecord
from shared.state.keys import hubspot_deal_key

NO_DEAL = "Opportunity without a deal (deals.opportunities_to_hubspot: do_nothing)"
NO_OPPORTUNITY = "deal without an Opportunity (deals.deals_to_salesforce: do_nothing)"
OPPORTUNITY_GONE = "Opportunity no longer exists"
DEAL_GONE = "deal no longer exists"
DEAL_DELETED = "DEAL_DELETED"
UNLINKED_DELETE = "deletion of a record that was never synced"


def _state(record: SalesforceRecord) -> Opportunity:
    closed, won = record.fields.get(OPPORTUNITY_CLOSED_FIELD), record.fields.get(OPPORTUNITY_WON_FIELD)
    state = DealState.of(closed=closed in (True, "true"), won=won in (True, "true"))
    return Opportunity(state, id_or_none(record.fields.get(OPPORTUNITY_ACCOUNT_FIELD)))


def _deal_state(tools: DealTools, deal: HubSpotContact, record: SalesforceRecord) -> Opportunity:
    """An Opportunity's state once the deal's stage is written to it (its pipeline stage's)."""
    props = deal.properties
    pipelines = tools.deals.deal_pipelines()
    pipeline = next((p for p in pipelines if p.id == props.get(DEAL_PIPELINE_PROPERTY)), None)
    stage = pipeline.stage(str(props.get(DEAL_STAGE_PROPERTY))) if pipeline is not None else None
    if stage is None:
        return _state(record)
    account = id_or_none(record.fields.get(OPPORTUNITY_ACCOUNT_FIELD))
    return Opportunity(DealState.of(closed=stage.closed, won=stage.won), account)


def from_salesforce(tools: DealTools, changes: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
    schema = tools.schema
    records = tools.batch.salesforce.retrieve(OPPORTUNITY, list(changes), schema.opportunity_fields)
    links = tools.links_of_opportunities(list(records))
    deals = tools.deals.read_deals(
        sorted({link.hubspot_id for link in links.values()}), schema.hubspot_properties
    )
    moves = tools.lifecycle({rid: _state(r) for rid, r in records.items()})
    found = read_companies(tools, records.values(), [link.hubspot_id for link in links.values()])
    contacts = read_contacts(
        tools, list(records), [link.hubspot_id for link in links.values()], from_salesforce=True
    )
    for given, event in changes.items():
        record = records.get(salesforce_id18(given))
        if record is None:
            yield Skip(OPPORTUNITY_GONE, sf_key(OPPORTUNITY, given))
            continue
        link = links.get(record.id)
        if link is None:
            yield _new_deal(tools, event, record, moves.get(record.id), found, contacts)
            continue
        deal = deals.get(link.hubspot_id)
        if deal is None:
            yield Skip(DEAL_GONE, sf_key(OPPORTUNITY, record.id))
            continue
        yield _linked(tools, event, deal, record, link, moves.get(record.id), (found, contacts))


def read_changed_deals(
    tools: DealTools, changes: Mapping[str, ChangeEvent], links: Mapping[str, Link]
) -> dict[str, HubSpotContact]:
    """The changed deals: linked ones (and merges' survivors, which may take a link) with property
    history, as reconciling compares change times; deals not linked yet without it (their values are
    copied to a new Opportunity: 100 a call, not 50)."""
    props = tools.schema.hubspot_properties
    new = [d for d, e in changes.items() if d not in links and e.change_type is not ChangeType.MERGE]
    rest = [d for d in changes if d not in set(new)]
    deals = tools.deals.read_deals(rest, props) if rest else {}
    if new:
        deals.update(tools.deals.read_deals(new, props, history=False))
    return deals


def from_hubspot(tools: DealTools, changes: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
    schema = tools.schema
    known = tools.links_of_deals(list(changes))
    deals = read_changed_deals(tools, changes, known)
    links = {d: link for d, link in known.items() if d in deals}
    taken_over = merged_links(tools, changes, links)
    links.update(taken_over)
    records = tools.batch.salesforce.retrieve(
        OPPORTUNITY, sorted({link.sf_id for link in links.values()}), schema.opportunity_fields
    )
    by_opportunity = {link.sf_id: deals[d] for d, link in links.items()}
    moves = tools.lifecycle(
        {
            rid: _deal_state(tools, by_opportunity[rid], r)
            for rid, r in records.items()
            if rid in by_opportunity
        }
    )
    found = read_companies(tools, records.values(), list(deals))
    contacts = read_contacts(tools, list(records), list(deals), from_salesforce=False)
    for deal_id, event in changes.items():
        deal = deals.get(deal_id)
        if deal is None:
            yield Skip(DEAL_GONE, hubspot_deal_key(deal_id))
            continue
        link = links.get(deal_id)
        if link is None:
            yield _new_opportunity(tools, event, deal, found, contacts)
            continue
        record = records.get(salesforce_id18(link.sf_id))
        if record is None:
            yield Skip(OPPORTUNITY_GONE, hubspot_deal_key(deal_id))
            continue
        associated = (found, contacts)
        yield _linked(
            tools, event, deal, record, link, moves.get(record.id), associated, deal_id in taken_over
        )


def merged_links(
    tools: DealTools, changes: Mapping[str, ChangeEvent], links: Mapping[str, Link]
) -> dict[str, Link]:
    """A HubSpot merge's surviving deal without a link takes the link of a deal merged into it (the
    link moves; Salesforce cannot merge Opportunities)."""
    merged = {
        survivor: event.related_ids
        for survivor, event in changes.items()
        if event.change_type is ChangeType.MERGE and survivor not in links and event.related_ids
    }
    found = tools.links_of_deals(sorted({m for ids in merged.values() for m in ids}))
    out: dict[str, Link] = {}
    for survivor, ids in merged.items():
        link = next((found[m] for m in ids if m in found), None)
        if link is not None:
            out[survivor] = dataclasses.replace(link, hubspot_id=survivor)
    return out


def _linked(
    tools: DealTools,
    event: ChangeEvent,
    deal: HubSpotContact,
    record: SalesforceRecord,
    link: Link,
    lifecycle: dict[str, str] | None,
    associated: tuple[DealCompanies, DealContacts],
    taken_over: bool = False,
) -> Decision:
    """``associated``: the companies and the contacts of the batch's pairs."""
    found, contacts = associated
    writes = reconcile_deal(tools.schema, deal, record, link.synced)
    if event.system is System.SALESFORCE:
        company_to_hubspot(found, writes, deal.id, record)
        contacts_to_hubspot(contacts, writes, deal.id, record.id)
    else:
        account_to_salesforce(found, writes, deal, record)
        roles_to_salesforce(contacts, writes, deal.id, record.id)
    owner = owners_of(deal, record, link.synced)
    decided = DealPlan(
        event, deal.id, record.id, writes, link, owner=owner, lifecycle=lifecycle, taken_over=taken_over
    )
    return Planned(tools.plan(decided))


def _new_deal(
    tools: DealTools,
    event: ChangeEvent,
    record: SalesforceRecord,
    lifecycle: dict[str, str] | None,
    found: DealCompanies,
    contacts: DealContacts,
) -> Decision:
    if tools.batch.config.deals.opportunities_to_hubspot != "create_or_update":
        return Skip(NO_DEAL, sf_key(OPPORTUNITY, record.id))
    if tools.claim(CLAIM_DEAL, record.id, event) is not None:
        return Retry(event)  # being created by another change, or created: linked once recorded
    writes = deal_values(tools.schema, record)
    company_to_hubspot(found, writes, None, record)
    contacts_to_hubspot(contacts, writes, None, record.id)
    owner = owners_of(None, record, None, creating="hubspot")
    decided = DealPlan(event, None, record.id, writes, None, "hubspot", owner=owner, lifecycle=lifecycle)
    return Planned(tools.plan(decided))


def _new_opportunity(
    tools: DealTools, event: ChangeEvent, deal: HubSpotContact, found: DealCompanies, contacts: DealContacts
) -> Decision:
    if tools.batch.config.deals.deals_to_salesforce != "create_or_update":
        return Skip(NO_OPPORTUNITY, hubspot_deal_key(deal.id))
    if tools.claim(CLAIM_OPPORTUNITY, deal.id, event) is not None:
        return Retry(event)
    writes = opportunity_values(tools.schema, deal)
    account_to_salesforce(found, writes, deal, None)
    roles_to_salesforce(contacts, writes, deal.id, None)
    owner = owners_of(deal, None, None, creating="salesforce")
    return Planned(tools.plan(DealPlan(event, deal.id, None, writes, None, "salesforce", owner=owner)))


def opportunities_deleted(tools: DealTools, changes: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
    """A deleted Opportunity archives its linked deal (the link is forgotten by apply)."""
    links = tools.links_of_opportunities(list(changes))
    for given, event in changes.items():
        link = links.get(salesforce_id18(given)) or links.get(given)
        if link is None:
            yield Skip(UNLINKED_DELETE)
            continue
        decided = DealPlan(event, link.hubspot_id, link.sf_id, DealWrites(), link, archive=True)
        yield Planned(tools.plan(decided))


def deals_deleted(tools: DealTools, changes: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
    """A deleted deal keeps its Opportunity: apply drops the link, and sync health reports it."""
    links = tools.links_of_deals(list(changes))
    for deal_id, event in changes.items():
        link = links.get(deal_id)
        if link is None:
            yield Skip(UNLINKED_DELETE)
            continue
        note = HealthNote(
            system="salesforce",
            record=hubspot_deal_key(deal_id),
            category="other",
            code=DEAL_DELETED,
            message=f"the deal was deleted in HubSpot; its Opportunity {link.sf_id} is kept (a deal "
            "deletion never deletes an Opportunity) and no longer syncs",
        )
        decided = DealPlan(event, deal_id, link.sf_id, DealWrites(), link, forget=True, notes=(note,))
        yield Planned(tools.plan(decided))
