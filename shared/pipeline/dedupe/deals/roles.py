"""A contact role's change decided from the role alone (S8, S15), without deciding its Opportunity
again.

A changed ``OpportunityContactRole`` (created, updated, undeleted) is read by its own id, with its
Opportunity's ``IsClosed``, ``IsWon`` and ``AccountId`` in the same query. Then:

- its Opportunity is changed in the same batch, or was deleted: that decision covers it;
- its Opportunity is not linked yet: the Opportunity is decided in full (its deal is created with
  every contact role it has by then);
- its Opportunity is linked: the role's contact becomes an association of the linked deal when it
  is missing (the deal's contacts are read, one batched call), and the role's contact (with
  ``lifecycle.sync_to_company_contacts``, the contacts of the Opportunity's company) moves forward
  in lifecycle stage from the Opportunity's state. The Opportunity and its deal are not read again:
  their fields, stage, company and owner are decided by their own changes.

The roles of one Opportunity make one plan. A role that no longer exists is skipped.

A deleted role (its change event names the role only) is read from the recycle bin (``queryAll``)
for its Opportunity: a linked Opportunity's contacts are then decided from every role it has left
(its contact leaves the deal unless another role of it remains, ``shared.deals.contact_roles``).
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from shared.deals.lifecycle import DealState
from shared.deals.ports import ChangedRole, ContactRole, SalesforceOpportunitiesPort
from shared.models import CONTACTS, DEALS, ChangeEvent
from shared.pipeline.dedupe.deals.contacts import DealContacts, contacts_to_hubspot, read_contacts
from shared.pipeline.dedupe.deals.fields import DealWrites
from shared.pipeline.dedupe.deals.lifecycle import Opportunity, lifecycle_moves
from shared.pipeline.dedupe.deals.tools import DealPlan, DealTools
from shared.pipeline.dedupe.outcome import Decision, Planned, Skip
from shared.ports import Link

ROLE_GONE = "contact role no longer exists"
UNLINKED_ROLE = "deleted contact role of an Opportunity not synced"


@dataclass
class RoleChanges:
    """What a batch's role changes come to: decisions, and the Opportunities to decide in full."""

    decisions: list[Decision] = field(default_factory=list)
    opportunities: dict[str, ChangeEvent] = field(default_factory=dict)  # not linked: decided in full


def roles_changed(
    tools: DealTools,
    port: SalesforceOpportunitiesPort,
    changes: Mapping[str, ChangeEvent],
    covered: Container[str],
) -> RoleChanges:
    """``changes``: role id -> its change; ``covered``: the Opportunities the batch decides anyway
    (changed or deleted in it)."""
    out = RoleChanges()
    found = {r.role_id: r for r in port.changed_roles(list(changes))}
    by_opportunity: dict[str, list[ChangedRole]] = {}
    events: dict[str, ChangeEvent] = {}
    for role_id, event in changes.items():
        row = found.get(role_id)
        if row is None:
            out.decisions.append(Skip(ROLE_GONE))
            continue
        opportunity = row.role.opportunity_id
        if opportunity in covered:
            continue
        by_opportunity.setdefault(opportunity, []).append(row)
        events.setdefault(opportunity, event)
    links = tools.links_of_opportunities(list(by_opportunity))
    out.opportunities = {o: event for o, event in events.items() if o not in links}
    linked = {o: _primary_first(rows) for o, rows in by_opportunity.items() if o in links}
    out.decisions += list(_linked(tools, linked, links, events))
    return out


def _primary_first(rows: Sequence[ChangedRole]) -> list[ChangedRole]:
    return sorted(rows, key=lambda r: not r.role.primary)


def _linked(
    tools: DealTools,
    linked: Mapping[str, list[ChangedRole]],
    links: Mapping[str, Link],
    events: Mapping[str, ChangeEvent],
) -> Iterator[Decision]:
    """One plan per linked Opportunity: the missing deal contacts and the lifecycle moves."""
    if not linked:
        return
    contacts = _deal_contacts(tools, linked, links)

    def contact_roles(ids: Sequence[str]) -> list[ContactRole]:
        """The changed roles only: the Opportunity's other roles moved their contacts already."""
        return [role for o in ids for role in contacts.roles.get(o, ())]

    opportunities = {
        o: Opportunity(DealState.of(closed=rows[0].closed, won=rows[0].won), rows[0].account_id)
        for o, rows in linked.items()
    }
    moves = lifecycle_moves(
        tools.batch, opportunities, contact_roles, tools.companies, tools.deals.lifecycle_stages
    )
    for opportunity in linked:
        link = links[opportunity]
        writes = DealWrites(after=dict(link.synced))
        contacts_to_hubspot(contacts, writes, link.hubspot_id, opportunity, complete=False)
        decided = DealPlan(
            events[opportunity], link.hubspot_id, opportunity, writes, link, lifecycle=moves.get(opportunity)
        )
        yield Planned(tools.plan(decided))


def _deal_contacts(
    tools: DealTools, linked: Mapping[str, list[ChangedRole]], links: Mapping[str, Link]
) -> DealContacts:
    """The changed roles, the linked deals' contacts, and the HubSpot contacts of the roles' Contacts."""
    batch = tools.batch
    deals = sorted({links[o].hubspot_id for o in linked})
    found = tools.deals.associations(DEALS, CONTACTS, deals)
    contacts = sorted({r.role.contact_id for rows in linked.values() for r in rows})
    by_contact = batch.state.links_by_salesforce(batch.portal, contacts, kind=CONTACTS)
    return DealContacts(
        roles={o: [r.role for r in rows] for o, rows in linked.items()},
        associated={d: [a.to_id for a in assocs] for d, assocs in found.items()},
        contact_of={c: link.hubspot_id for c, link in by_contact.items()},
    )


def roles_deleted(
    tools: DealTools,
    port: SalesforceOpportunitiesPort,
    gone: Mapping[str, ChangeEvent],
    covered: Container[str],
) -> Iterator[Decision]:
    """``gone``: deleted role id -> its change; ``covered``: the Opportunities the batch decides
    anyway. One plan per linked Opportunity: its contacts decided from all the roles it has left."""
    found = {r.role_id: r for r in port.deleted_roles(list(gone))}
    events: dict[str, ChangeEvent] = {}
    for role_id, event in gone.items():
        role = found.get(role_id)
        if role is None:
            yield Skip(ROLE_GONE)
        elif role.opportunity_id not in covered:
            events.setdefault(role.opportunity_id, event)
    links = tools.links_of_opportunities(list(events))
    yield from (Skip(UNLINKED_ROLE) for o in events if o not in links)
    linked = {o: event for o, event in events.items() if o in links}
    if not linked:
        return
    deals = [links[o].hubspot_id for o in linked]
    contacts = read_contacts(tools, list(linked), deals, from_salesforce=True)
    for opportunity, event in linked.items():
        link = links[opportunity]
        writes = DealWrites(after=dict(link.synced))
        contacts_to_hubspot(contacts, writes, link.hubspot_id, opportunity)
        yield Planned(tools.plan(DealPlan(event, link.hubspot_id, opportunity, writes, link)))
