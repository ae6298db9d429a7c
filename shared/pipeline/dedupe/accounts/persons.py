"""Person accounts (S9): an Account with ``IsPersonAccount`` syncs as a HubSpot contact plus a
company named after the person, associated with it. Its person is found by its link (to the
person's Contact), else by ``PersonEmail`` (the same email dedupe as contacts), else created when
``creation.salesforce_to_hubspot`` allows. Both are written from the person account (Salesforce to
HubSpot): renaming the person renames the contact and the company. HubSpot never creates or changes a
person account (the contacts part leaves person Contacts alone)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.accounts.person import PERSON_CONTACT_ID, person_name
from shared.config import ACCOUNT_NAME_FIELD
from shared.ids import salesforce_id18
from shared.matching import normalize_email
from shared.models import ACCOUNT
from shared.pipeline.convert import ConversionError
from shared.pipeline.dedupe.accounts.fields import CompanyWrites
from shared.pipeline.dedupe.accounts.schema import COMPANY_NAME
from shared.pipeline.dedupe.accounts.tools import AccountTools
from shared.pipeline.plans import PersonPart
from shared.ports import HubSpotCompany, HubSpotContact, SalesforceRecord

PERSON_EMAIL = "PersonEmail"


class Persons:
    """The HubSpot contacts of a batch's person accounts, read in batched calls."""

    def __init__(self, tools: AccountTools, records: Sequence[SalesforceRecord]) -> None:
        self.tools = tools
        person_ids = [
            salesforce_id18(str(r.fields[PERSON_CONTACT_ID]))
            for r in records
            if r.fields.get(PERSON_CONTACT_ID)
        ]
        state, portal = tools.batch.state, tools.batch.portal
        self.links = state.links_by_salesforce(portal, person_ids) if person_ids else {}
        props = [prop for prop, _ in tools.schema.person_mappings()]
        hubspot = tools.batch.hubspot
        linked = [link.hubspot_id for link in self.links.values()]
        self.contacts: dict[str, HubSpotContact] = hubspot.read_contacts(linked, props) if linked else {}
        emails = [str(r.fields.get(PERSON_EMAIL)) for r in records if r.fields.get(PERSON_EMAIL)]
        self.by_email = hubspot.contacts_by_email(emails, props) if emails else {}
        found = [c.id for c in self.by_email.values()]
        self.taken = state.links_by_hubspot(portal, found) if found else {}  # linked to someone else?

    def part(self, record: SalesforceRecord, *, new_company: bool) -> PersonPart | None:
        """The person's side of a person account's plan; None without a person Contact."""
        person_contact = record.fields.get(PERSON_CONTACT_ID)
        if not person_contact:
            return None
        person_contact = salesforce_id18(str(person_contact))
        link = self.links.get(person_contact)
        contact = self.contacts.get(link.hubspot_id) if link is not None else None
        email = normalize_email(record.fields.get(PERSON_EMAIL))
        creation = self.tools.batch.config.creation.salesforce_to_hubspot == "create_or_update"
        if contact is None and email:
            contact = self.by_email.get(email)
            other = self.taken.get(contact.id) if contact is not None else None
            if other is not None and salesforce_id18(other.sf_id) != person_contact:
                contact, creation = None, False  # its email's contact syncs with another record
        writes, after = self._values(record, contact)
        return PersonPart(
            contact_id=contact.id if contact is not None else None,
            person_contact_id=person_contact,
            email=email,
            writes=writes,
            synced_after=after,
            create=creation,
            associate=new_company or link is None,
        )

    def _values(
        self, record: SalesforceRecord, contact: HubSpotContact | None
    ) -> tuple[dict[str, str | None], dict[str, tuple[str | None, str | None]]]:
        types = self.tools.schema.person_types(self.tools.batch.hubspot)
        writes: dict[str, str | None] = {}
        after: dict[str, tuple[str | None, str | None]] = {}
        for prop, field in self.tools.schema.person_mappings():
            raw = record.fields.get(field)
            try:
                value = types.to_hubspot(prop, ACCOUNT, field, raw)
            except ConversionError:
                continue  # a value HubSpot would refuse stays out (as for contacts)
            current = contact.properties.get(prop) if contact is not None else None
            text = types.comparable(prop, ACCOUNT, field, raw)
            if types.comparable(prop, ACCOUNT, field, current) != text and (value is not None or contact):
                writes[prop] = value
            after[prop] = (text, text)
        return writes, after


def person_company_writes(
    tools: AccountTools, company: HubSpotCompany | None, record: SalesforceRecord
) -> CompanyWrites:
    """A person account's company: named after the person, its mapped fields from the Account
    (Salesforce to HubSpot only: HubSpot never changes a person account)."""
    writes = CompanyWrites()
    schema = tools.schema
    for mapping in schema.mappings:
        raw: Any = (
            person_name(record.fields)
            if mapping.account == ACCOUNT_NAME_FIELD
            else record.fields.get(mapping.account)
        )
        if mapping.hubspot == COMPANY_NAME and mapping.account != ACCOUNT_NAME_FIELD:
            continue
        value = schema.comparable(mapping, raw)
        current = schema.comparable(mapping, company.properties.get(mapping.hubspot)) if company else None
        if value != current and (value is not None or company is not None):
            try:
                writes.hubspot[mapping.hubspot] = schema.types.to_hubspot(
                    mapping.hubspot, ACCOUNT, mapping.account, raw
                )
            except ConversionError:
                continue
            writes.written[mapping.hubspot] = "hubspot"
        writes.after[mapping.hubspot] = (value, value)
    if COMPANY_NAME not in writes.hubspot and company is None:
        writes.hubspot[COMPANY_NAME] = person_name(record.fields)
    return writes
