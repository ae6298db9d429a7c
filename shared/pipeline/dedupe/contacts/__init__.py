"""The contacts part of dedupe: HubSpot contacts <-> Salesforce Leads and Contacts.

It takes a batch's changes of these objects and decides them in this order: the owners Salesforce
gave records hssync created, the HubSpot changes, then per Salesforce object its changes and its
deletions. Each group is read in batched calls first (``reads``), then decided record by record.
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.models import ChangeEvent, ChangeType, SfObject, System
from shared.owners.decide import OWNER_FIELD
from shared.pipeline.dedupe.contacts.assigned import assigned_owners
from shared.pipeline.dedupe.contacts.deleted import Deletions
from shared.pipeline.dedupe.contacts.from_hubspot import FromHubSpot
from shared.pipeline.dedupe.contacts.from_salesforce import FromSalesforce
from shared.pipeline.dedupe.contacts.schema import ContactSchema
from shared.pipeline.dedupe.contacts.tools import Tools
from shared.pipeline.dedupe.echo import ECHO, made_in_salesforce_by_hssync
from shared.pipeline.dedupe.outcome import Decision, Skip
from shared.pipeline.dedupe.parts import Batch
from shared.pipeline.dedupe.records import READABLE, SF_OBJECTS, sf_object

__all__ = ["ContactSchema", "ContactsPart"]

HUBSPOT_OBJECT = "contacts"


class ContactsPart:
    """One batch's changes of HubSpot contacts and Salesforce Leads and Contacts."""

    def __init__(self, batch: Batch, schema: ContactSchema) -> None:
        self.batch = batch
        self.tools = Tools.of(batch, schema)
        self.hubspot: dict[str, list[ChangeEvent]] = {}  # contact id -> its changes
        self.salesforce: dict[SfObject, dict[str, ChangeEvent]] = {o: {} for o in SF_OBJECTS}
        self.deleted: dict[SfObject, dict[str, ChangeEvent]] = {o: {} for o in SF_OBJECTS}
        self.created_by_us: list[ChangeEvent] = []  # hssync's new records, with their owner

    def take(self, event: ChangeEvent) -> Decision | bool:
        if event.system is System.SALESFORCE and event.object_type in SF_OBJECTS:
            return self._take_salesforce(event)
        if (
            event.system is System.HUBSPOT
            and event.object_type == HUBSPOT_OBJECT
            and event.change_type in READABLE
        ):
            self.hubspot.setdefault(event.record_id, []).append(event)
            return True
        return False

    def _take_salesforce(self, event: ChangeEvent) -> Decision | bool:
        sobject = sf_object(event.object_type)
        if event.change_type is ChangeType.DELETE:
            self.deleted[sobject][event.record_id] = event
            return True
        if event.change_type not in READABLE:
            return False
        if made_in_salesforce_by_hssync(event):
            if event.change_type is ChangeType.CREATE and OWNER_FIELD in event.reported:
                self.created_by_us.append(event)
                return True
            return Skip(ECHO)
        self.salesforce[sobject][event.record_id] = event
        return True

    def decide(self) -> Iterator[Decision]:
        if self.created_by_us:
            yield from assigned_owners(self.batch, self.created_by_us)
        if self.hubspot:
            yield from FromHubSpot(self.tools).decide(self.hubspot)
        for sobject in SF_OBJECTS:
            if self.salesforce[sobject]:
                yield from FromSalesforce(self.tools).decide(sobject, self.salesforce[sobject])
            if self.deleted[sobject]:
                yield from Deletions(self.tools).decide(sobject, self.deleted[sobject])
