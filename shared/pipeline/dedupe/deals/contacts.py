"""``OpportunityContactRole`` rows <-> the deal's contact associations (DESIGN S8), read for a whole
batch in batched calls. The side whose change is decided wins, and only what is missing is added:
an Opportunity's contact roles (the primary one first) become associations of its deal, with the
role as the association's label where the portal has a label of that name; a deal's associated
contacts become contact roles of its Opportunity (the first one primary when the Opportunity has no
role yet). A Contact or a contact not synced yet is left out (never created for it) and reported;
removing a role or an association is not carried over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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


def read_contacts(
    tools: DealTools, opportunity_ids: Sequence[str], deal_ids: Sequence[str], *, from_salesforce: bool
) -> DealContacts:
    """The roles, associations and contact links the batch's decisions need: from Salesforce the
    Opportunities' roles (and their deals' associations, so only missing ones are written); from
    HubSpot the deals' associations (and their Opportunities' roles)."""
    batch = tools.batch
    if tools.opportunities is None:  # contact roles cannot be read: none is synced
        return DealContacts()
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
    found: DealContacts, writes: DealWrites, deal_id: str | None, opportunity_id: str
) -> None:
    """The Opportunity's contact roles as its deal's contact associations (an Opportunity's change)."""
    have = set(found.associated.get(deal_id or "", ()))
    for role in found.roles.get(opportunity_id, ()):
        contact = found.contact_of.get(role.contact_id)
        if contact is None:
            message = f"the Contact {role.contact_id} of a contact role has no HubSpot contact yet"
            writes.association_notes.append((ROLE_CONTACT_NOT_SYNCED, f"{message}: not associated"))
        elif contact not in have:
            have.add(contact)
            writes.deal_contacts.append((contact, role.role))


def roles_to_salesforce(
    found: DealContacts, writes: DealWrites, deal_id: str, opportunity_id: str | None
) -> None:
    """The deal's associated contacts as contact roles of its Opportunity (a deal's change)."""
    roles = found.roles.get(opportunity_id or "", [])
    have = {r.contact_id for r in roles}
    primary = not any(r.primary for r in roles)
    for contact in found.associated.get(deal_id, ()):
        sf_contact = found.sf_contact_of.get(contact)
        if sf_contact is None:
            message = f"the contact {contact} has no Salesforce Contact yet: it is not a contact role"
            writes.association_notes.append((DEAL_CONTACT_NOT_SYNCED, message))
        elif sf_contact not in have:
            have.add(sf_contact)
            writes.contact_roles.append((sf_contact, primary))
            primary = False
