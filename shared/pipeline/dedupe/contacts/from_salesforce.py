"""Changes of Salesforce Leads and Contacts: each record is read, and synced with its linked HubSpot
contact, linked to the contact with its email (S6; a same-email duplicate of a linked record, or
the Contact a linked Lead became, joins that link), or creates a HubSpot contact (S5)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from shared.ids import salesforce_id18
from shared.matching import normalize_email
from shared.models import ChangeEvent, ChangeType, SfObject
from shared.pipeline.dedupe import echo, moves
from shared.pipeline.dedupe.contacts.tools import Tools
from shared.pipeline.dedupe.creation import creation_pending
from shared.pipeline.dedupe.inclusion import LINKED_OUTSIDE, OUTSIDE
from shared.pipeline.dedupe.linking import Match, duplicate_note, email_pair, with_duplicate
from shared.pipeline.dedupe.outcome import Decision, Planned, Retry, Skip
from shared.pipeline.dedupe.reconcile import Pair
from shared.pipeline.dedupe.records import sf_key
from shared.ports import HubSpotContact, Link, SalesforceRecord


class Changed(NamedTuple):
    """One changed record: its id, its current state, and the change it is decided for."""

    record_id: str
    record: SalesforceRecord
    event: ChangeEvent


@dataclass
class SalesforceChanges:
    """What one batch read for its changed records of one Salesforce object."""

    sf_object: SfObject
    events: Mapping[str, ChangeEvent]  # record id (as the events name it) -> change
    by_event_id: Mapping[str, ChangeEvent]  # 18-character record id -> change
    links: Mapping[str, Link]  # of the changed records
    linked_contacts: Mapping[str, HubSpotContact]  # their linked contacts
    by_email: Mapping[str, HubSpotContact]  # the contacts with the emails of the unlinked records
    links_of_matches: Mapping[str, Link]  # those contacts' links (to other records)
    members: set[str] | None  # the inclusion list's members among the contacts; None: no list
    conversions: Mapping[str, str]  # converted Leads linked to those contacts -> the Contact
    siblings: Mapping[str, Match]  # email -> the Salesforce records of an unlinked contact
    linked_now: set[str] = field(default_factory=set)  # contacts a record of this batch linked
    # unlinked records a record linked to their email's contact was merged into (they wait for it)
    merge_survivors: frozenset[str] = frozenset()

    def event(self, record_id: str) -> ChangeEvent:
        return self.by_event_id.get(record_id) or next(iter(self.events.values()))


class FromSalesforce:
    """Decides one batch's changed records of one Salesforce object."""

    def __init__(self, tools: Tools) -> None:
        self.tools = tools
        self.batch = tools.batch
        self.read = tools.read

    def decide(self, sf_object: SfObject, events: dict[str, ChangeEvent]) -> Iterator[Decision]:
        """``events``: record id -> its latest change of the batch."""
        records = self.read.records(sf_object, list(events))
        by_event_id = {salesforce_id18(k): v for k, v in events.items()}
        gone = len(events) - len(records)
        if gone:
            yield Skip("Salesforce record deleted", count=gone)
        live, converted, skips = moves.sort_changed(sf_object, records)
        yield from skips
        links = self.batch.state.links_by_salesforce(self.batch.portal, [*live, *converted])
        busy, links, retries = echo.hold_writes_in_flight(links, by_event_id, self.batch.clock)
        yield from retries
        for key in busy:
            live.pop(key, None)
            converted.pop(key, None)
        if converted:
            yield from self._conversions(converted, links, by_event_id)
        links = {rid: link for rid, link in links.items() if rid in live}
        changes = self._read(sf_object, events, by_event_id, live, links)
        for record_id, record in live.items():
            yield self._decide_record(changes, record_id, record)

    def _conversions(
        self, converted: Mapping[str, str], links: Mapping[str, Link], by_event_id: Mapping[str, ChangeEvent]
    ) -> Iterator[Decision]:
        """Lead conversion: the link moves from the Lead to the Contact it became, which then syncs."""
        linked = {lead: contact for lead, contact in converted.items() if lead in links}
        for lead in set(converted) - set(linked):
            yield Skip(moves.CONVERTED_UNLINKED, sf_key("Lead", lead))
        if not linked:
            return
        contacts = self.read.records("Contact", list(linked.values()))
        hubspot = self.read.contacts([links[lead].hubspot_id for lead in linked])
        members = self.read.members(hubspot)
        for lead, contact_id in linked.items():
            link = links[lead]
            found = (hubspot.get(link.hubspot_id), contacts.get(contact_id))
            yield moves.converted(
                lead,
                link,
                by_event_id[lead],
                found,
                self.tools.reconciler,
                included=lambda c: self.tools.included(c, members),
            )

    def _read(
        self,
        sf_object: SfObject,
        events: Mapping[str, ChangeEvent],
        by_event_id: Mapping[str, ChangeEvent],
        live: Mapping[str, SalesforceRecord],
        links: Mapping[str, Link],
    ) -> SalesforceChanges:
        linked_contacts = self.read.contacts([link.hubspot_id for link in links.values()])
        unlinked = {rid: r for rid, r in live.items() if rid not in links}
        unlinked_emails = [normalize_email(r.fields.get("Email")) for r in unlinked.values()]
        by_email = self.read.contacts_by_email([e for e in unlinked_emails if e])
        links_of_matches = self.batch.state.links_by_hubspot(
            self.batch.portal, [c.id for c in by_email.values()]
        )
        members = self.read.members([*linked_contacts, *(c.id for c in by_email.values())])
        # a Contact made by converting the lead its HubSpot contact is linked to takes over the link
        conversions = self.read.conversions_of(
            [link.sf_id for link in links_of_matches.values() if link.sf_object == "Lead"]
        )
        # an unlinked contact is linked as from HubSpot's side (S6): to the oldest Salesforce record
        # with its email, syncing with the most recently updated, whichever of them changed
        siblings = self.read.people_by_email(
            email for email, c in by_email.items() if c.id not in links_of_matches
        )
        survivors = self._merge_survivors(sf_object, by_event_id, unlinked, by_email, links_of_matches)
        return SalesforceChanges(
            sf_object,
            events,
            by_event_id,
            links,
            linked_contacts,
            by_email,
            links_of_matches,
            members,
            conversions,
            siblings,
            merge_survivors=survivors,
        )

    def _merge_survivors(
        self,
        sf_object: SfObject,
        by_event_id: Mapping[str, ChangeEvent],
        unlinked: Mapping[str, SalesforceRecord],
        by_email: Mapping[str, HubSpotContact],
        links_of_matches: Mapping[str, Link],
    ) -> frozenset[str]:
        """The unlinked records that a record linked to a HubSpot contact was merged into. A merge
        updates its master and deletes the others in one transaction, whose change events may come in
        separate windows: the master waits for the deletion to be decided (which moves the link to
        it) rather than being taken for a same-email duplicate of a deleted record. Asked (one
        queryAll) only for updated records whose email's contact is linked to another record."""
        linked_ids = {salesforce_id18(link.sf_id) for link in links_of_matches.values()}
        updated = {rid for rid, event in by_event_id.items() if event.change_type is not ChangeType.CREATE}
        asked = [
            rid
            for rid, record in unlinked.items()
            if rid in updated
            and rid not in linked_ids
            and (contact := by_email.get(normalize_email(record.fields.get("Email")) or "")) is not None
            and contact.id in links_of_matches
        ]
        if not asked:
            return frozenset()
        merged = self.batch.salesforce.merged_into(sf_object, asked)
        return frozenset(master for loser, master in merged.items() if loser in linked_ids)

    def _decide_record(
        self, changes: SalesforceChanges, record_id: str, record: SalesforceRecord
    ) -> Decision:
        event = changes.event(record_id)
        key = sf_key(changes.sf_object, record_id)
        link = changes.links.get(record_id)
        if link is not None:
            contact = changes.linked_contacts.get(link.hubspot_id)
            if contact is None:
                return Skip("linked HubSpot contact archived", key)
            if not self.tools.included(contact, changes.members):
                return Skip(OUTSIDE, key)
            return Planned(self.tools.reconciler.plan(Pair(contact, record, link.synced, event, link=link)))
        email = normalize_email(record.fields.get("Email"))
        if email is None:
            return Skip("no email", key)
        contact = changes.by_email.get(email)
        if contact is not None:
            return self._matched(changes, Changed(record_id, record, event), contact, email)
        if self.batch.config.creation.salesforce_to_hubspot == "do_nothing":
            return Skip("contact creation disabled", key)
        return self.tools.creator.in_hubspot(changes.sf_object, record, email, event)

    def _matched(
        self, changes: SalesforceChanges, changed: Changed, contact: HubSpotContact, email: str
    ) -> Decision:
        """An unlinked record with the email of a HubSpot contact."""
        record_id, record, event = changed
        other = changes.links_of_matches.get(contact.id)
        if other is not None and changes.conversions.get(salesforce_id18(other.sf_id)) == record_id:
            # the Contact that the Lead the contact is linked to became: it takes over the link
            target = replace(other, sf_object=changes.sf_object, sf_id=record_id)
            pair = Pair(contact, record, other.synced, event, link=target)
            included = self.tools.included(contact, changes.members)
            return Planned(moves.moved(self.tools.reconciler, pair, included=included))
        if record_id in changes.merge_survivors:  # its merged record's deletion moves the link to it
            return Retry(event)
        if other is not None and salesforce_id18(other.sf_id) != record_id:
            # a same-email duplicate in Salesforce, updated after the linked record: it syncs
            note = duplicate_note(changes.sf_object, record_id, other.sf_object, other.sf_id)
            if not self.tools.included(contact, changes.members):
                return Skip(OUTSIDE, sf_key(changes.sf_object, record_id))
            target = with_duplicate(other, changes.sf_object, record_id)
            pair = Pair(contact, record, other.synced, event, link=target, notes=(note,))
            return Planned(self.tools.reconciler.plan(pair))
        return self._first_link(changes, changed, contact, email)

    def _first_link(
        self, changes: SalesforceChanges, changed: Changed, contact: HubSpotContact, email: str
    ) -> Decision:
        """The contact's first link, to this record or (S6) the oldest record with its email."""
        record_id, record, event = changed
        if contact.id in changes.linked_now:
            return None  # a same-email record of this batch already linked the contact
        found = {"salesforce": {record_id}, "hubspot": {contact.id}}
        if creation_pending(self.batch.state, self.batch.portal, email, found, event):
            return Retry(event)
        changes.linked_now.add(contact.id)
        portal, key = self.batch.portal, sf_key(changes.sf_object, record_id)
        if not self.tools.included(contact, changes.members):
            # S5: the Salesforce record de-duplicates to the contact, nothing syncs yet
            target = Link(portal, contact.id, changes.sf_object, record_id)
            pair = Pair(contact, record, None, event, link=target, new_link=True, link_only=True)
            return Planned(self.tools.reconciler.plan(pair), status=(key, LINKED_OUTSIDE))
        match = changes.siblings.get(email)
        if match is None:  # not found by SOQL yet (e.g. just created): link the record itself
            target = Link(portal, contact.id, changes.sf_object, record_id)
            return Planned(
                self.tools.reconciler.plan(Pair(contact, record, None, event, link=target, new_link=True))
            )
        return Planned(self.tools.reconciler.plan(email_pair(portal, contact, match, event)))
