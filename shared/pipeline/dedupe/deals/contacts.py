"""``OpportunityContactRole`` rows <-> the deal's contact associations (DESIGN S8), read for a whole
batch in batched calls. The side whose change is decided carries its additions and removals, judged
against the contacts the pair's link remembers as agreed (the rule: ``shared.deals.contact_roles``):
an Opportunity's contact roles (the primary one first) become associations of its deal, with the
role as the association's label where the portal has a label of that name, and a role removed
removes its contact from the deal; a deal's associated contacts become contact roles of its
Opportunity (the first one primary when the Opportunity has no primary role), and a contact removed
from the deal deletes its roles. A Contact or a contact not synced yet is left out (never created
for it) and reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.deals.contact_roles import (
    CONTACTS_KEY,
    ContactChanges,
    PairContacts,
    decide_contacts,
    entry_of,
    remembered,
)
from shared.deals.ports import ContactRole
from shared.models import CONTACT, CONTACTS, DEALS
from shared.pipeline.dedupe.deals.fields import DEAL_CONTACT_NOT_SYNCED, ROLE_CONTACT_NOT_SYNCED, DealWrites
from shared.pipeline.dedupe.deals.tools import DealTools


@dataclass(frozen=True)
class DealContacts:
    roles: dict[str, list[ContactRole]] = field(default_factory=dict)  # Opportunity -> roles, primary first
    associated: dict[str, list[str]] = field(default_factory=dict)  # deal -> its HubSpot contacts
    contact_of: dict[str, str] = field(default_factory=dict)  # Salesforce Contact -> HubSpot contact
    sf_contact_of: dict[str, str] = field(default_factory=dict)  # HubSpot contact -> Salesforce Contact
    read: bool = True  # False: contact roles cannot be read, nothing of them is decided


def read_contacts(
    tools: DealTools, opportunity_ids: Sequence[str], deal_ids: Sequence[str], *, from_salesforce: bool
) -> DealContacts:
    """The roles, associations and contact links the batch's decisions need: from Salesforce the
    Opportunities' roles (and their deals' associations, so only missing ones are written); from
    HubSpot the deals' associations (and their Opportunities' roles)."""
    batch = tools.batch
    if tools.opportunities is None:  # contact roles cannot be read: none is synced
        return DealContacts(read=False)
    roles: dict[str, list[ContactRole]] = {}
    for role in tools.contact_roles(opportunity_ids):
        roles.setdefault(role.opportunity_id, []).append(role)
    found = tools.deals.associations(DEALS, CONTACTS, list(deal_ids)) if deal_ids else {}
    associated = {d: [a.to_id for a in assocs] for d, assocs in found.items()}
    if from_salesforce:
        contacts = sorted({r.contact_id for rs in roles.values() for r in rs})
        links = batch.state.links_by_salesforce(batch.portal, contacts, kind=CONTACTS) if contacts else {}
        return DealContacts(roles, associated, contact_of={c: link.hubspot_id for c, link in links.items()})
    hubspot = sorted({c for cs in associated.values() for c in cs})
    by_hubspot = batch.state.links_by_hubspot(batch.portal, hubspot, kind=CONTACTS) if hubspot else {}
    sf_contact_of = {c: link.sf_id for c, link in by_hubspot.items() if link.sf_object == CONTACT}
    return DealContacts(roles, associated, sf_contact_of=sf_contact_of)


def contacts_to_hubspot(
    found: DealContacts,
    writes: DealWrites,
    deal_id: str | None,
    opportunity_id: str,
    *,
    complete: bool = True,
) -> None:
    """The Opportunity's contact roles carried to its deal's contacts (an Opportunity's or a contact
    role's change; ``complete=False``: only the roles named are judged)."""
    if not found.read:
        return
    pair = PairContacts(
        roles=found.roles.get(opportunity_id, ()),
        associated=found.associated.get(deal_id or "", ()),
        contact_of=found.contact_of,
        sf_contact_of=found.sf_contact_of,
    )
    changes = decide_contacts(pair, remembered(writes.after), to_hubspot=True, complete=complete)
    for contact in changes.unsynced:
        message = f"the Contact {contact} of a contact role has no HubSpot contact yet"
        writes.association_notes.append((ROLE_CONTACT_NOT_SYNCED, f"{message}: not associated"))
    writes.deal_contacts += changes.associate
    writes.contacts_removed += changes.dissociate
    _remember(writes, changes)


def roles_to_salesforce(
    found: DealContacts, writes: DealWrites, deal_id: str, opportunity_id: str | None
) -> None:
    """The deal's associated contacts carried to its Opportunity's contact roles (a deal's change)."""
    if not found.read:
        return
    pair = PairContacts(
        roles=found.roles.get(opportunity_id or "", ()),
        associated=found.associated.get(deal_id, ()),
        contact_of=found.contact_of,
        sf_contact_of=found.sf_contact_of,
    )
    changes = decide_contacts(pair, remembered(writes.after), to_hubspot=False)
    for contact in changes.unsynced:
        message = f"the contact {contact} has no Salesforce Contact yet: it is not a contact role"
        writes.association_notes.append((DEAL_CONTACT_NOT_SYNCED, message))
    writes.contact_roles += changes.add_roles
    writes.roles_deleted += changes.delete_roles
    _remember(writes, changes)


def _remember(writes: DealWrites, changes: ContactChanges) -> None:
    """The pairs agreed after the decision, kept on the link (once there is anything to keep)."""
    if changes.agreed or CONTACTS_KEY in writes.after:
        writes.after[CONTACTS_KEY] = entry_of(changes.agreed)
