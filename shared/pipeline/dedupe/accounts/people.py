"""The people of companies and Accounts, read in batches: a company's contacts and their linked
Salesforce records, an Account's Contacts and their linked HubSpot contacts, contacts' primary
companies. Every read is one batched call (or one per 1,000 ids), never one per record."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.ids import salesforce_id18
from shared.models import COMPANIES, CONTACT, CONTACTS
from shared.pipeline.dedupe.accounts.tools import AccountTools
from shared.pipeline.dedupe.records import sf_key
from shared.pipeline.plans import pending_contact
from shared.ports import Link


@dataclass(frozen=True)
class Person:
    """A synced contact pair: its HubSpot contact, its Salesforce record (object, id) and, for a
    Salesforce Contact, its AccountId."""

    hubspot_id: str
    sf_object: str
    sf_id: str
    account_id: str | None


def contacts_of_companies(tools: AccountTools, company_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each company's associated contacts (HubSpot ids)."""
    if not company_ids:
        return {}
    found = tools.companies.associations(COMPANIES, CONTACTS, list(company_ids))
    return {company: [a.to_id for a in assoc] for company, assoc in found.items()}


def primary_companies(tools: AccountTools, contact_ids: Sequence[str]) -> dict[str, str]:
    """Each contact's primary company (contacts without one are absent)."""
    if not contact_ids:
        return {}
    found = tools.companies.associations(CONTACTS, COMPANIES, list(contact_ids))
    out: dict[str, str] = {}
    for contact, assoc in found.items():
        primary = [a.to_id for a in assoc if a.primary]
        if primary:
            out[contact] = primary[0]
    return out


def people_of_contacts(tools: AccountTools, contact_ids: Sequence[str]) -> dict[str, Person]:
    """The synced pairs of these HubSpot contacts, with their Contacts' AccountIds (Leads: none)."""
    links = tools.batch.state.links_by_hubspot(tools.batch.portal, list(dict.fromkeys(contact_ids)))
    return people_of_links(tools, links.values())


def people_of_records(tools: AccountTools, sf_ids: Sequence[str]) -> dict[str, Person]:
    """The synced pairs of these Salesforce records, by 18-character Salesforce id."""
    links = tools.batch.state.links_by_salesforce(tools.batch.portal, list(dict.fromkeys(sf_ids)))
    return {salesforce_id18(p.sf_id): p for p in people_of_links(tools, links.values()).values()}


def people_of_links(tools: AccountTools, links: Iterable[Link]) -> dict[str, Person]:
    """The synced pairs of these contact links, with their Contacts' AccountIds (one retrieve)."""
    linked = list(links)
    contact_ids = [link.sf_id for link in linked if link.sf_object == CONTACT]
    records = tools.batch.salesforce.retrieve(CONTACT, contact_ids, ["AccountId"]) if contact_ids else {}
    out: dict[str, Person] = {}
    for link in linked:
        record = records.get(salesforce_id18(link.sf_id))
        account = record.fields.get("AccountId") if record is not None else None
        out[link.hubspot_id] = Person(
            link.hubspot_id,
            link.sf_object,
            salesforce_id18(link.sf_id),
            salesforce_id18(account) if account else None,
        )
    return out


def contacts_of_accounts(tools: AccountTools, account_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each Account's Contacts as the HubSpot contacts to associate with its company: a synced one by
    its contact id, one not synced yet by its record key (``pending_contact``), one query per ~1,000
    Accounts."""
    if not account_ids:
        return {}
    records = tools.accounts.contacts_of_accounts(list(account_ids), ["AccountId"])
    people = people_of_records(tools, [r.id for r in records])
    out: dict[str, list[str]] = {}
    for record in records:
        account = record.fields.get("AccountId")
        if not account:
            continue
        person = people.get(salesforce_id18(record.id))
        contact = person.hubspot_id if person is not None else pending_contact(sf_key(CONTACT, record.id))
        out.setdefault(salesforce_id18(str(account)), []).append(contact)
    return out
