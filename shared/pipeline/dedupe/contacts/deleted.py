"""Deleted Salesforce Leads and Contacts: merged away (the link moves to the master record), or
deleted (the HubSpot contact stays, or is archived by setting)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from shared.ids import salesforce_id18
from shared.models import ChangeEvent, SfObject
from shared.pipeline.dedupe import echo, moves
from shared.pipeline.dedupe.contacts.tools import Tools
from shared.pipeline.dedupe.outcome import Decision, Skip
from shared.pipeline.dedupe.records import sf_key

ARCHIVE_SETTING = "archive_hubspot_contact"


class Deletions:
    """Decides one batch's deletions of one Salesforce object."""

    def __init__(self, tools: Tools) -> None:
        self.tools = tools
        self.batch = tools.batch
        self.read = tools.read

    def decide(self, sf_object: SfObject, events: Mapping[str, ChangeEvent]) -> Iterator[Decision]:
        """``events``: record id -> its deletion."""
        batch = self.batch
        by_id = {salesforce_id18(k): v for k, v in events.items()}
        links = batch.state.links_by_salesforce(batch.portal, list(by_id))
        busy, links, retries = echo.hold_writes_in_flight(links, by_id, batch.clock)
        yield from retries
        for rid in set(by_id) - set(links) - busy:
            yield Skip("Salesforce record deleted (not linked)", sf_key(sf_object, rid))
        if not links:
            return
        masters = batch.salesforce.merge_masters(sf_object, list(links))
        master_records = self.read.records(sf_object, list(set(masters.values()))) if masters else {}
        taken = batch.state.links_by_salesforce(batch.portal, list(master_records))
        contacts = self.read.contacts([link.hubspot_id for link in links.values()])
        members = self.read.members(contacts)
        archive = batch.config.deletes.salesforce_delete == ARCHIVE_SETTING
        for rid, link in links.items():
            master_id = masters.get(rid)  # none: deleted, not merged away
            master = master_records.get(salesforce_id18(master_id)) if master_id else None
            deletion = moves.Deletion(
                sf_object,
                rid,
                link,
                by_id[rid],
                contacts.get(link.hubspot_id),
                master,
                taken.get(master.id) if master is not None else None,
            )
            yield moves.deleted(
                deletion,
                self.tools.reconciler,
                archive=archive,
                included=lambda c: self.tools.included(c, members),
            )
