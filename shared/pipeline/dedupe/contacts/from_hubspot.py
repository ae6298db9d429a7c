"""Changes of HubSpot contacts: each contact's notifications of the batch are answered from its link
when they only report what hssync synced, else the contact is read, and synced with its linked
record, linked by email (S6), or created in Salesforce (S10). A person account's Contact is written
through its Account (``persons``, S9)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from shared.ids import salesforce_id18
from shared.matching import normalize_email
from shared.models import ChangeEvent, ChangeType, SfObject
from shared.pipeline.dedupe import echo, moves
from shared.pipeline.dedupe.contacts import persons
from shared.pipeline.dedupe.contacts.tools import Tools
from shared.pipeline.dedupe.creation import creation_pending
from shared.pipeline.dedupe.inclusion import OUTSIDE
from shared.pipeline.dedupe.linking import Match, email_pair
from shared.pipeline.dedupe.outcome import Decision, Planned, Retry, Skip
from shared.pipeline.dedupe.reconcile import Pair
from shared.pipeline.dedupe.records import hs_key, parse_duplicates, sf_object
from shared.pipeline.plans import SyncPlan
from shared.ports import HubSpotContact, Link, SalesforceRecord


@dataclass(frozen=True)
class HubSpotChanges:
    """What one batch read for its changed HubSpot contacts."""

    events: Mapping[str, ChangeEvent]  # contact id -> the change it is decided for
    contacts: Mapping[str, HubSpotContact]
    links: Mapping[str, Link]
    members: set[str] | None  # the inclusion list's members among them; None: no list
    linked_records: Mapping[str, SalesforceRecord]  # the linked records and their duplicates
    candidates: Mapping[str, Match]  # email -> the Salesforce records of an unlinked contact


def representative(events: Sequence[ChangeEvent]) -> ChangeEvent:
    """The one event a contact is read for: a merge (it names the merged contacts), else the latest."""
    merges = [e for e in events if e.change_type is ChangeType.MERGE]
    return merges[-1] if merges else events[-1]


def _with_its_group(decision: Decision, groups: Mapping[str, Sequence[ChangeEvent]]) -> Decision:
    """A contact decided again later takes all of its changes of the batch along (``Retry.others``)."""
    if not isinstance(decision, Retry) or decision.others:
        return decision
    group = groups.get(decision.event.record_id, ())
    others = tuple(e for e in group if e is not decision.event)
    return Retry(decision.event, others) if others else decision


class FromHubSpot:
    """Decides one batch's HubSpot contact changes."""

    def __init__(self, tools: Tools) -> None:
        self.tools = tools
        self.batch = tools.batch
        self.schema = tools.schema
        self.read = tools.read

    def decide(self, changed: Mapping[str, list[ChangeEvent]]) -> Iterator[Decision]:
        """``changed``: contact id -> its notifications of the batch."""
        state, portal = self.batch.state, self.batch.portal
        links = state.links_by_hubspot(portal, list(changed))
        busy, links, retries = echo.hold_writes_in_flight(links, changed, self.batch.clock)
        yield from retries
        events: dict[str, ChangeEvent] = {}
        for contact_id, group in changed.items():
            if contact_id in busy:
                continue
            screened = self._screen(group, links.get(contact_id))
            if isinstance(screened, ChangeEvent):
                events[contact_id] = screened
            else:
                yield screened
        if events:
            waiting = {cid: changed[cid] for cid in events}
            yield from (_with_its_group(d, waiting) for d in self._read_and_decide(events, links))

    def _screen(self, group: Sequence[ChangeEvent], link: Link | None) -> ChangeEvent | Skip | Retry:
        """A contact's notifications of one batch are answered from the link only if each of them
        is: one echo must not hide a user's edit of the same contact. Else: the change to read it for."""
        unknown = [e for e in group if not self._known(e, link)]
        if not unknown:
            return Skip(echo.ALREADY_SYNCED, count=len(group))
        event = representative(unknown)
        if link is None and echo.awaits_own_link(unknown, self.batch.own_app_id):
            # hssync created this contact and apply is recording the link: look again shortly,
            # then it is answered from the link (a read would only find what apply wrote)
            return Retry.all_of(unknown)
        return event

    def _known(self, event: ChangeEvent, link: Link | None) -> bool:
        return echo.answered_from_link(
            event,
            link,
            own_app_id=self.batch.own_app_id,
            mapped=self.schema.mapped,
            inclusion=self.schema.inclusion,
            comparable=self.schema.comparable,
        )

    def _read_and_decide(self, events: dict[str, ChangeEvent], links: dict[str, Link]) -> Iterator[Decision]:
        merged = moves.merged_contacts(events, links)
        if merged:
            found = self.batch.state.links_by_hubspot(self.batch.portal, list(merged))
            moves.taking_over(links, merged, found)
        contacts = self.read.contacts(list(events))
        missing = len(events) - len(contacts)
        if missing:
            yield Skip("HubSpot contact archived or gone", count=missing)
        links = {cid: link for cid, link in links.items() if cid in contacts}
        members = self.read.members(contacts)
        unlinked = [c for cid, c in contacts.items() if cid not in links]
        changes = HubSpotChanges(
            events=events,
            contacts=contacts,
            links=links,
            members=members,
            linked_records=self.read.linked_records(_linked_ids(links.values())),
            candidates=self.read.people_by_email(
                [c.properties.get("email") for c in unlinked if self.tools.included(c, members)]
            ),
        )
        for contact_id, contact in contacts.items():
            yield self._decide_contact(changes, contact_id, contact)

    def _decide_contact(self, changes: HubSpotChanges, contact_id: str, contact: HubSpotContact) -> Decision:
        event = changes.events[contact_id]
        if not self.tools.included(contact, changes.members):
            return Skip(OUTSIDE, hs_key(contact_id))
        link = changes.links.get(contact_id)
        if link is not None:
            return self._linked(changes, contact, link, event)
        email = normalize_email(contact.properties.get("email"))
        if email is None:
            return Skip("no email", hs_key(contact_id))
        match = changes.candidates.get(email)
        if match is None:
            return self.tools.creator.in_salesforce(contact, email, event)
        found = {"salesforce": {match.link_to.id, match.sync_with.id}, "hubspot": {contact.id}}
        if creation_pending(self.batch.state, self.batch.portal, email, found, event):
            return Retry(event)
        return Planned(self._plan(email_pair(self.batch.portal, contact, match, event)))

    def _linked(
        self, changes: HubSpotChanges, contact: HubSpotContact, link: Link, event: ChangeEvent
    ) -> Decision:
        """A linked contact syncs with the most recently updated of its linked record and that
        record's same-email duplicates (S6); a converted Lead's Contact stands in for it."""
        ids = [link.sf_id, *(rid for _, rid in parse_duplicates(link.duplicates))]
        records = changes.linked_records
        alive = [r for r in (records.get(salesforce_id18(i)) for i in ids) if r is not None]
        if not alive:
            return Skip("linked Salesforce record deleted", hs_key(contact.id))
        newest = max(alive, key=lambda r: (r.last_modified, r.id))
        target = moves.following_conversion(link, newest, records)
        return Planned(self._plan(Pair(contact, newest, link.synced, event, link=target)))

    def _plan(self, pair: Pair) -> SyncPlan:
        """The pair's plan; a person account's Contact is written through its Account (S9)."""
        plan = self.tools.reconciler.plan(pair)
        account = persons.person_account_of(pair.record)
        if account is None:
            return plan
        return persons.through_account(plan, account, self.schema.account_fields, self.schema.fields)


def _linked_ids(links: Iterable[Link]) -> dict[SfObject, list[str]]:
    """The ids of the linked records and their same-email duplicates, by object."""
    ids: dict[SfObject, list[str]] = {"Lead": [], "Contact": []}
    for existing in links:
        ids[sf_object(existing.sf_object)].append(existing.sf_id)
        for duplicate_object, duplicate_id in parse_duplicates(existing.duplicates):
            ids[duplicate_object].append(duplicate_id)
    return ids
