"""The batched reads of the contact decisions: each is one request (or one per API batch) for the
whole batch's records, never one per record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from shared.matching import normalize_email
from shared.models import SfObject
from shared.pipeline.dedupe.contacts.schema import ContactSchema
from shared.pipeline.dedupe.linking import Match, matches
from shared.pipeline.dedupe.moves import conversions, standing_in
from shared.pipeline.dedupe.parts import Batch
from shared.pipeline.dedupe.records import SF_OBJECTS
from shared.ports import HubSpotContact, SalesforceRecord


class Reader:
    """Reads for one batch of contact changes."""

    def __init__(self, batch: Batch, schema: ContactSchema) -> None:
        self.batch = batch
        self.schema = schema

    def contacts(self, ids: Sequence[str]) -> dict[str, HubSpotContact]:
        """HubSpot contacts by id, with the watched properties (absent: archived or gone)."""
        return self.batch.hubspot.read_contacts(ids, self.schema.hubspot_properties)

    def contacts_by_email(self, emails: Sequence[str]) -> dict[str, HubSpotContact]:
        return self.batch.hubspot.contacts_by_email(emails, self.schema.hubspot_properties)

    def records(self, sf_object: SfObject, ids: Sequence[str]) -> dict[str, SalesforceRecord]:
        """Salesforce records by 18-character id, with the mapped fields (absent: deleted)."""
        return self.batch.salesforce.retrieve(sf_object, ids, self.schema.fields.salesforce_fields(sf_object))

    def members(self, contact_ids: Iterable[str]) -> set[str] | None:
        """Members of the inclusion list among these contacts (one call per 100); None: no list."""
        list_id = self.batch.config.inclusion.list_id
        ids = sorted(set(contact_ids))
        if not list_id:
            return None
        return self.batch.hubspot.list_members(list_id, ids) if ids else set()

    def linked_records(self, ids: Mapping[SfObject, Sequence[str]]) -> dict[str, SalesforceRecord]:
        """The linked records; a converted Lead's Contact is fetched too and stands in for it, under
        the Lead's id and its own (lead conversion moves the link to the new Contact)."""
        records: dict[str, SalesforceRecord] = {}
        for sf_object, wanted in ids.items():
            if wanted:
                records.update(self.records(sf_object, list(wanted)))
        converted = conversions(records)
        if not converted:
            return standing_in(records, {}, {})
        return standing_in(records, converted, self.records("Contact", list(converted.values())))

    def conversions_of(self, lead_ids: Sequence[str]) -> dict[str, str]:
        """Converted leads among ``lead_ids``: lead id -> the Contact it became."""
        if not lead_ids:
            return {}
        leads = self.batch.salesforce.retrieve("Lead", list(lead_ids), ["IsConverted", "ConvertedContactId"])
        return conversions(leads)

    def people_by_email(self, raw_emails: Iterable[str | None]) -> dict[str, Match]:
        """Salesforce Leads and Contacts for these emails (S6): which to link to, which to sync with."""
        emails = sorted({e for e in (normalize_email(r) for r in raw_emails) if e})
        if not emails:
            return {}
        fields: dict[str, Sequence[str]] = {o: self.schema.fields.salesforce_fields(o) for o in SF_OBJECTS}
        return matches(self.batch.salesforce.find_people_by_email(emails, fields))
