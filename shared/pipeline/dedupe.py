"""Dedupe: from change events to sync plans.

For a batch of change events it reads the *current* state of every changed record (so duplicated,
reordered or stale events are harmless), finds the counterpart (the link, else the email match),
decides per field what to write where (sync rules + echo suppression, ``shared.rules``), and claims
creations so that two concurrent events can never create two records. It writes nothing to either
CRM: that is apply's job.

API cost per batch, whatever its size up to the batch limits: one HubSpot batch read per 50
contacts (with property history), one Salesforce retrieve per object, and one Composite call for
the Lead and Contact email lookups. Notifications that only report values hssync already synced
(its own writes coming back) are answered from the link, without a read.

A batch costs whole calls, so under a bulk load of Salesforce changes (an import, a mass update)
dedupe fills them: it works on whole chunks of 100 records per object (a HubSpot batch read, and
later a batch create, takes 100) and puts the rest back on the queue to join the next batch
(``fill_batches``). An event is held back at most once, and a batch of fewer than 50 changes of
an object (a person editing records) is never held, so single edits keep their latency.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.config import OPT_OUT_HUBSPOT, OPT_OUT_SALESFORCE, PropertyFilter, SyncConfig
from shared.intents import WrittenSide, remembered
from shared.matching import SalesforcePerson, match_by_email, normalize_email
from shared.models import ChangeEvent, ChangeType, System
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY, OwnerState
from shared.pipeline.convert import ConversionError
from shared.pipeline.fields import (
    NOT_PROVIDED,
    ContactFields,
    FieldTypes,
    Refused,
    SfObject,
    creation_values_for_hubspot,
    creation_values_for_salesforce,
    opted_out,
)
from shared.pipeline.plans import LOOKUP_CLAIMANT, HealthNote, SyncedPair, SyncPlan, is_claimant, plan_id
from shared.ports import HubSpotContact, HubSpotPort, Link, SalesforcePort, SalesforceRecord, StatePort
from shared.rules import FieldState, Remembered, Side, decide, decide_opt_out
from shared.state.keys import salesforce_id18

log = logging.getLogger(__name__)

# changeOrigin of Salesforce changes made by hssync itself (Sforce-Call-Options: client=hssync)
OWN_CLIENT_MARKER = "client=hssync"
# HubSpot's changeSource for changes made through the API by an app (its id is the sourceId)
INTEGRATION_SOURCE = "INTEGRATION"
ALREADY_SYNCED = "reported values already synced"
OWN_CREATION_DEFERRALS = 2  # then a creation by hssync's app whose link is still missing is read
# a record hssync created is linked by apply right after its writes; a change that finds it by
# email first waits this many deferrals (about 70 s, longer than an apply batch under faults)
LINK_WAIT_DEFERRALS = 15

_READABLE = {ChangeType.CREATE, ChangeType.UPDATE, ChangeType.UNDELETE, ChangeType.RESYNC, ChangeType.MERGE}

_SF_OBJECTS: tuple[SfObject, ...] = ("Lead", "Contact")

# Salesforce changes are looked up in HubSpot (batch read by email or id) and their new contacts
# created there, 100 records per call: a batch of Salesforce changes costs calls per 100 records
HUBSPOT_CHUNK = 100
# this many changes of one object in one batch are a bulk load, not people editing records
BULK_CHANGES = 50


def fill_batches(
    events: Sequence[ChangeEvent], *, chunk: int = HUBSPOT_CHUNK, bulk: int = BULK_CHANGES
) -> tuple[list[ChangeEvent], list[ChangeEvent]]:
    """Splits a batch into what to work on now and what to hold back for the next batch, so that
    under a bulk load the HubSpot calls a batch makes are full.

    Per Salesforce object, counting distinct records: more than a chunk -> whole chunks now, the
    rest held; a part of a chunk that looks like a bulk load (at least ``bulk`` records, none held
    before) -> all held, to be joined by what arrives next. Records held before are always worked
    on now, so nothing waits more than one extra batch. Held events come back marked ``held``;
    HubSpot notifications, deletions and hssync's own changes are never held.
    """
    records: dict[str, dict[str, bool]] = {}  # object -> record id -> held before (arrival order)
    for event in events:
        if _fills_hubspot_calls(event):
            seen = records.setdefault(event.object_type, {})
            seen[event.record_id] = seen.get(event.record_id, False) or event.held
    hold: set[tuple[str, str]] = set()
    for sf_object, seen in records.items():
        total, before = len(seen), sum(seen.values())
        if total > chunk:
            keep = max(before, total - total % chunk)
        elif before == 0 and bulk <= total < chunk:
            keep = 0
        else:
            continue
        # the newest arrivals wait: they have waited least
        fresh = [rid for rid, was_held in seen.items() if not was_held]
        hold.update((sf_object, rid) for rid in fresh[len(fresh) - (total - keep) :])

    def waits(event: ChangeEvent) -> bool:
        return event.system is System.SALESFORCE and (event.object_type, event.record_id) in hold

    now = [e for e in events if not waits(e)]
    held = [e.model_copy(update={"held": True}) for e in events if waits(e)]
    return now, held


def _fills_hubspot_calls(event: ChangeEvent) -> bool:
    return (
        event.system is System.SALESFORCE
        and event.object_type in _SF_OBJECTS
        and event.change_type in _READABLE
        and not (event.origin and OWN_CLIENT_MARKER in event.origin)
    )


@dataclass(frozen=True)
class _Match:
    link_to: SalesforceRecord  # the oldest record with the email
    sync_with: SalesforceRecord  # the most recently updated one
    duplicates: tuple[str, ...]  # the others, as "Object:Id"
    notes: tuple[HealthNote, ...]


@dataclass
class DedupeResult:
    plans: list[SyncPlan] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    retry: list[ChangeEvent] = field(default_factory=list)  # try again later (creation claimed elsewhere)
    held: list[ChangeEvent] = field(default_factory=list)  # for the next batch, to fill whole API calls
    statuses: dict[str, str] = field(default_factory=dict)  # "system:object:id" -> why it was skipped

    def skip(self, reason: str, record: str | None = None) -> None:
        self.skipped[reason] += 1
        if record is not None:
            self.statuses[record] = reason


def included(config: SyncConfig, properties: Mapping[str, str | None]) -> bool:
    """Whether a HubSpot contact meets the inclusion list (S4). No list: everyone."""
    inclusion = config.inclusion
    if inclusion.preset == "everyone_except_subscribers":
        return (properties.get("lifecyclestage") or "").lower() != "subscriber"
    return all(_filter_holds(f, properties) for f in inclusion.property_filters)


def _filter_holds(f: PropertyFilter, properties: Mapping[str, str | None]) -> bool:
    value = properties.get(f.property)
    has = value is not None and value != ""
    if f.operator == "HAS_PROPERTY":
        return has
    if f.operator == "NOT_HAS_PROPERTY":
        return not has
    folded = (value or "").lower()
    if f.operator == "EQ":
        return has and folded == (f.value or "").lower()
    if f.operator == "NEQ":
        return folded != (f.value or "").lower()
    options = {v.lower() for v in f.values}
    return (folded in options) if f.operator == "IN" else (folded not in options)


def inclusion_properties(config: SyncConfig) -> set[str]:
    props = {f.property for f in config.inclusion.property_filters}
    if config.inclusion.preset == "everyone_except_subscribers":
        props.add("lifecyclestage")
    return props


def watched_properties(config: SyncConfig) -> list[str]:
    """The contact properties whose changes hssync needs as webhooks: the mapped ones, the opt-out
    and the inclusion list's."""
    return sorted(set(ContactFields.from_config(config).hubspot_properties()) | inclusion_properties(config))


class Deduper:
    def __init__(
        self,
        *,
        config: SyncConfig,
        portal: str,
        salesforce: SalesforcePort,
        hubspot: HubSpotPort,
        state: StatePort,
        own_app_id: str | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.clock = clock
        self.config = config
        self.own_app_id = own_app_id
        self.portal = portal
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.state = state
        self.fields = ContactFields.from_config(config)
        self.hubspot_properties = watched_properties(config)
        self._mapped = set(self.fields.hubspot_properties())
        self._inclusion = inclusion_properties(config)
        self._types: FieldTypes | None = None
        self._person_accounts = False

    @property
    def types(self) -> FieldTypes:
        """The field types of both sides (described once per process by the adapters)."""
        if self._types is None:
            described: dict[str, Mapping[str, Any]] = {
                o: self.salesforce.describe_fields(o) for o in _SF_OBJECTS
            }
            self._person_accounts = "ispersonaccount" in described["Contact"]
            self._types = FieldTypes(self.hubspot.contact_property_types(self.hubspot_properties), described)
        return self._types

    @property
    def company_placeholder(self) -> str | None:
        """Lead.Company when the contact has none: the placeholder, or blank in orgs with person
        accounts (where such a lead can later be converted to a person account, S9/S10)."""
        _ = self.types
        return None if self._person_accounts else self.config.creation.lead_company_placeholder

    def _comparable(self, prop: str, sf_object: str, value: Any) -> str | None:
        if prop == OPT_OUT_HUBSPOT:
            return "true" if opted_out(value) else "false"
        sf_field = self.fields.field_of(_sf_object(sf_object), prop) or prop
        return self.types.comparable(prop, sf_object, sf_field, value)

    # -- inclusion list (S4, S5) ------------------------------------------------------------------
    def _members(self, contact_ids: Iterable[str]) -> set[str] | None:
        """Members of the inclusion list among these contacts (one call per 100); None: no list."""
        list_id = self.config.inclusion.list_id
        ids = sorted(set(contact_ids))
        if not list_id:
            return None
        return self.hubspot.list_members(list_id, ids) if ids else set()

    def _included(self, contact: HubSpotContact, members: set[str] | None) -> bool:
        if members is not None:
            return contact.id in members
        return included(self.config, contact.properties)

    # -- writes in flight (shared.intents) -------------------------------------------------------
    def _writing(self, link: Link | None) -> bool:
        """Whether apply may still be writing to this pair: it is decided once the write is recorded."""
        return link is not None and link.intent is not None and link.intent.in_flight(self.clock())

    def _wait_for_writes(
        self,
        links: dict[str, Link],
        events: Mapping[str, ChangeEvent | Sequence[ChangeEvent]],
        result: DedupeResult,
    ) -> set[str]:
        """Takes the pairs with a write in flight out of ``links`` and their changes out of this batch
        (returned, by the key of ``links``): they are decided again once the write is recorded. Every
        change of a pair waits, not one for all: an echo of hssync's write must not stand in for a
        person's edit of the same record (answered from the link, it would hide the edit)."""
        busy = {key for key, link in links.items() if self._writing(link)}
        for key in busy:
            del links[key]
            waiting = events.get(key)
            if isinstance(waiting, ChangeEvent):
                result.retry.append(waiting)
            elif waiting is not None:
                result.retry.extend(waiting)
        return busy

    def _creation_pending(self, email: str, found: Mapping[str, Iterable[str]], event: ChangeEvent) -> bool:
        """Whether hssync is creating a record for ``email``, or created one of the ``found`` records
        (target -> the unlinked records found for the email) and has not recorded its link yet: the
        pair is then not linked as strangers (the creation time would count as an edit on a first
        sync); the change waits for the link. Bounded, for a link deleted since its creation."""
        if event.attempt >= LINK_WAIT_DEFERRALS:
            return False
        claimant = f"{LOOKUP_CLAIMANT}{event.change_id}"
        for target in ("salesforce", "hubspot"):
            holder = self.state.claim_creation(self.portal, target, email, claimant)
            if holder is None:  # nobody is creating one: give the claim straight back
                self.state.release_claim(self.portal, target, email, claimant)
            elif is_claimant(holder) or _same_id(holder, found.get(target, ())):
                return True
        return False

    # -- entry point ---------------------------------------------------------------------------
    def process(self, events: Sequence[ChangeEvent]) -> DedupeResult:
        result = DedupeResult()
        events, result.held = fill_batches(events)
        hubspot_ids: dict[str, list[ChangeEvent]] = {}
        salesforce_ids: dict[SfObject, dict[str, ChangeEvent]] = {"Lead": {}, "Contact": {}}
        deleted: dict[SfObject, dict[str, ChangeEvent]] = {"Lead": {}, "Contact": {}}
        created_by_us: list[ChangeEvent] = []
        for event in events:
            if (
                event.change_type is ChangeType.DELETE
                and event.system is System.SALESFORCE
                and event.object_type in _SF_OBJECTS
            ):
                deleted[_sf_object(event.object_type)][event.record_id] = event
                continue
            if event.change_type is ChangeType.DELETE and event.system is System.HUBSPOT:
                # HubSpot never deletes Salesforce leads or contacts
                result.skip("HubSpot deletion (never deletes in Salesforce)", _hs_key(event.record_id))
                continue
            if event.change_type not in _READABLE:
                result.skipped[f"{event.change_type.value} not synced"] += 1
                continue
            if event.system is System.HUBSPOT and event.object_type == "contacts":
                hubspot_ids.setdefault(event.record_id, []).append(event)
            elif event.system is System.SALESFORCE and event.object_type in _SF_OBJECTS:
                if event.origin and OWN_CLIENT_MARKER in event.origin:
                    if event.change_type is ChangeType.CREATE and "OwnerId" in event.reported:
                        created_by_us.append(event)
                    else:
                        result.skipped["echo of our own write"] += 1
                    continue
                salesforce_ids[_sf_object(event.object_type)][event.record_id] = event
            else:
                result.skipped[f"{event.system.value} {event.object_type} not synced"] += 1
        if created_by_us:
            self._assigned_owners(created_by_us, result)
        if hubspot_ids:
            self._from_hubspot(hubspot_ids, result)
        for sf_object in _SF_OBJECTS:
            if salesforce_ids[sf_object]:
                self._from_salesforce(sf_object, salesforce_ids[sf_object], result)
            if deleted[sf_object]:
                self._salesforce_deleted(sf_object, deleted[sf_object], result)
        return result

    # -- HubSpot -> Salesforce ----------------------------------------------------------------
    def _from_hubspot(self, batched: dict[str, list[ChangeEvent]], result: DedupeResult) -> None:
        links = self.state.links_by_hubspot(self.portal, list(batched))
        busy = self._wait_for_writes(links, batched, result)
        events: dict[str, ChangeEvent] = {}
        waiting: dict[str, list[ChangeEvent]] = {}  # a contact's changes that a retry must keep
        for contact_id, group in batched.items():
            if contact_id in busy:
                continue
            # a contact's notifications of one batch are answered from the link only if each of
            # them is: one echo must not hide a user's edit of the same contact
            unknown = [e for e in group if not self._known(e, links.get(contact_id))]
            if not unknown:
                result.skipped[ALREADY_SYNCED] += len(group)
                continue
            event = _representative(unknown)
            if contact_id not in links and all(
                self._ours(e) and e.attempt < OWN_CREATION_DEFERRALS for e in unknown
            ):
                # hssync created this contact and apply is recording the link: look again shortly,
                # then it is answered from the link (a read would only find what apply wrote)
                result.retry.extend(unknown)
                continue
            events[contact_id] = event
            waiting[contact_id] = unknown
        if not events:
            return
        self._follow_hubspot_merges(events, links)
        contacts = self.hubspot.read_contacts(list(events), self.hubspot_properties)
        missing = len(events) - len(contacts)
        if missing:
            result.skipped["HubSpot contact archived or gone"] += missing
        links = {cid: link for cid, link in links.items() if cid in contacts}
        members = self._members(contacts)

        linked_ids: dict[SfObject, list[str]] = {"Lead": [], "Contact": []}
        for existing in links.values():
            linked_ids[_sf_object(existing.sf_object)].append(existing.sf_id)
            for sf_object, duplicate_id in _parse_duplicates(existing.duplicates):
                linked_ids[sf_object].append(duplicate_id)
        linked_records = self._retrieve_following_conversions(linked_ids)

        unlinked = [c for cid, c in contacts.items() if cid not in links]
        candidates = self._salesforce_people_by_email(
            [c.properties.get("email") for c in unlinked if self._included(c, members)]
        )

        for contact_id, contact in contacts.items():
            event = events[contact_id]
            if not self._included(contact, members):
                result.skip("outside the inclusion list", _hs_key(contact_id))
                continue
            link = links.get(contact_id)
            if link is not None:
                ids = [link.sf_id, *(rid for _, rid in _parse_duplicates(link.duplicates))]
                alive = [r for r in (linked_records.get(salesforce_id18(i)) for i in ids) if r is not None]
                if not alive:
                    result.skip("linked Salesforce record deleted", _hs_key(contact_id))
                    continue
                newest = max(alive, key=lambda r: (r.last_modified, r.id))
                target = link
                if salesforce_id18(link.sf_id) != newest.id and newest.id == _converted_from(
                    linked_records, link.sf_id
                ):
                    target = dataclasses.replace(link, sf_object=newest.sobject, sf_id=newest.id)
                self._add(result, self._reconcile(contact, newest, link.synced, event, link=target))
                continue
            email = normalize_email(contact.properties.get("email"))
            if email is None:
                result.skip("no email", _hs_key(contact_id))
                continue
            match = candidates.get(email)
            if match is not None:
                found = {"salesforce": {match.link_to.id, match.sync_with.id}, "hubspot": {contact.id}}
                if self._creation_pending(email, found, event):
                    result.retry.extend(waiting[contact_id])
                else:
                    self._add(result, self._link_by_email(contact, match, event))
                continue
            self._create_in_salesforce(contact, email, event, result, waiting[contact_id])

    def _assigned_owners(self, events: Sequence[ChangeEvent], result: DedupeResult) -> None:
        """A record hssync created in Salesforce comes back with the owner Salesforce gave it (the
        assignment rules chose it, or the integration user): that owner is a Salesforce change for
        the owners stage, learnt from the change event without a read."""
        by_id = {salesforce_id18(e.record_id): e for e in events}
        links = self.state.links_by_salesforce(self.portal, list(by_id))
        busy = self._wait_for_writes(links, by_id, result)
        for sf_id, event in by_id.items():
            if sf_id in busy:
                continue
            link = links.get(sf_id)
            owner = _id_or_none(event.reported.get("OwnerId"))
            known = link.synced.get(OWNER_PROPERTY) if link is not None else None
            if link is None or owner is None or (known is not None and known[1] == owner):
                result.skipped["echo of our own write"] += 1
                continue
            state = OwnerState(
                hubspot=known[0] if known else None,
                salesforce=owner,
                remembered=known or (None, None),
                salesforce_changed_at=event.occurred_at,
            )
            self._add(
                result,
                SyncPlan(
                    plan_id=plan_id(self.portal, "assigned-owner", sf_id, event.change_id),
                    portal=self.portal,
                    hubspot_id=link.hubspot_id,
                    sf_object=_sf_object(link.sf_object),
                    sf_id=link.sf_id,
                    duplicates=link.duplicates,
                    owner=state,
                    synced_before=dict(link.synced),
                    synced_after=dict(link.synced),
                    link_rev=link.rev,
                    reasons=("the owner Salesforce gave the record hssync created",),
                    source="salesforce",
                ),
            )

    def _follow_hubspot_merges(self, events: dict[str, ChangeEvent], links: dict[str, Link]) -> None:
        """A HubSpot merge: the surviving contact takes over the link of a merged one (when it has
        none of its own); apply then saves the link under the survivor, which drops the old one."""
        merged_ids = {
            rid: cid
            for cid, event in events.items()
            if event.change_type is ChangeType.MERGE and cid not in links
            for rid in event.related_ids
            if rid != cid
        }
        if not merged_ids:
            return
        for merged_id, link in self.state.links_by_hubspot(self.portal, list(merged_ids)).items():
            survivor = merged_ids[merged_id]
            if survivor not in links:
                # the survivor has no link item yet: its link starts at revision 0
                links[survivor] = dataclasses.replace(link, hubspot_id=survivor, rev=0, intent=None)

    def _retrieve_following_conversions(
        self, ids: Mapping[SfObject, Sequence[str]]
    ) -> dict[str, SalesforceRecord]:
        """The linked records; a converted Lead's Contact is fetched too and stands in for it, under
        the Lead's id and its own (lead conversion moves the link to the new Contact)."""
        records: dict[str, SalesforceRecord] = {}
        for sf_object, wanted in ids.items():
            if wanted:
                records.update(
                    self.salesforce.retrieve(
                        sf_object, list(wanted), self.fields.salesforce_fields(sf_object)
                    )
                )
        converted = _conversions(records)
        if converted:
            contacts = self.salesforce.retrieve(
                "Contact", list(converted.values()), self.fields.salesforce_fields("Contact")
            )
            for lead_id, contact_id in converted.items():
                contact = contacts.get(contact_id)
                if contact is not None:
                    records[lead_id] = contact
                    records[contact.id] = contact
                else:
                    records.pop(lead_id, None)
        return {
            rid: r for rid, r in records.items() if not (r.sobject == "Lead" and r.fields.get("IsConverted"))
        }

    def _known(self, event: ChangeEvent, link: Link | None) -> bool:
        """Whether a HubSpot notification can be answered without reading the contact: the pair is
        linked and every value it reports for a mapped property is the one hssync last synced (the
        echo of hssync's own write, or a write of the same value). A creation counts only when
        hssync's app made it. Anything else, or an inclusion-list property, is read."""
        if link is None or event.change_type not in (ChangeType.CREATE, ChangeType.UPDATE):
            return False
        if link.intent is not None:  # a write not recorded yet: the contact is read
            return False
        if event.change_type is ChangeType.CREATE and not self._ours(event):
            return False
        if not event.changed_fields and event.change_type is ChangeType.UPDATE:
            return False
        if any(name not in event.reported for name in event.changed_fields):
            return False
        for name, value in event.reported.items():
            if name in self._inclusion:
                return False
            if name not in self._mapped:
                continue
            synced = link.synced.get(name)
            if synced is None or self._comparable(name, link.sf_object, value) != synced[0]:
                return False
        return True

    def _ours(self, event: ChangeEvent) -> bool:
        """Whether hssync's own HubSpot app made this change."""
        return bool(
            self.own_app_id and event.origin == INTEGRATION_SOURCE and event.origin_id == self.own_app_id
        )

    def _link_by_email(self, contact: HubSpotContact, match: _Match, event: ChangeEvent) -> SyncPlan:
        """A first link: to the oldest record with the email, syncing with the most recently updated."""
        target = Link(
            self.portal, contact.id, match.link_to.sobject, match.link_to.id, duplicates=match.duplicates
        )
        return self._reconcile(
            contact, match.sync_with, None, event, link=target, new_link=True, notes=match.notes
        )

    def _salesforce_people_by_email(self, raw_emails: Iterable[str | None]) -> dict[str, _Match]:
        """Salesforce Leads and Contacts for these emails: which to link to, which to sync with."""
        emails = sorted({e for e in (normalize_email(r) for r in raw_emails) if e})
        if not emails:
            return {}
        found: dict[str, SalesforceRecord] = {}
        fields: dict[str, Sequence[str]] = {o: self.fields.salesforce_fields(o) for o in _SF_OBJECTS}
        for record in self.salesforce.find_people_by_email(emails, fields):
            if not record.fields.get("IsPersonAccount"):  # person accounts sync through the account
                found[record.id] = record
        people = [
            SalesforcePerson(r.sobject, r.id, r.fields.get("Email"), r.created, r.last_modified)
            for r in found.values()
        ]
        out: dict[str, _Match] = {}
        for email, match in match_by_email(people).items():
            oldest = match.link_to
            out[email] = _Match(
                link_to=found[oldest.id],
                sync_with=found[match.sync_with.id],
                duplicates=tuple(f"{d.sobject}:{d.id}" for d in match.duplicates),
                notes=tuple(
                    _duplicate_note(d.sobject, d.id, oldest.sobject, oldest.id) for d in match.duplicates
                ),
            )
        return out

    def _create_in_salesforce(
        self,
        contact: HubSpotContact,
        email: str,
        event: ChangeEvent,
        result: DedupeResult,
        changes: Sequence[ChangeEvent],
    ) -> None:
        sf_object: SfObject = "Lead" if self.config.creation.hubspot_to_salesforce == "lead" else "Contact"
        # the claimant is the event, not the contact: a second event for the same new contact
        # (creation + property change, processed in parallel) must wait, not create again
        claimant = f"hubspot:{contact.id}:{event.change_id}"
        holder = self.state.claim_creation(self.portal, "salesforce", email, claimant)
        if holder is not None:
            result.retry.extend(changes)  # someone else is creating (or created) it: link on the retry
            return
        values, refused = creation_values_for_salesforce(
            self.fields, self.types, sf_object, contact.properties, self.company_placeholder
        )
        synced = {
            m.hubspot: (
                self._comparable(m.hubspot, sf_object, contact.properties.get(m.hubspot)),
                self._comparable(m.hubspot, sf_object, values.get(f)),
            )
            for m, f in self.fields.for_object(sf_object)
        }
        opt_out = opted_out(contact.properties.get(OPT_OUT_HUBSPOT))
        synced[OPT_OUT_HUBSPOT] = ("true" if opt_out else "false",) * 2
        notes = tuple(_refused_note(r, "salesforce", _hs_key(contact.id)) for r in refused)
        self._add(
            result,
            SyncPlan(
                plan_id=plan_id(self.portal, "create-sf", contact.id, event.change_id),
                portal=self.portal,
                hubspot_id=contact.id,
                sf_object=sf_object,
                sf_id=None,
                create="salesforce",
                claim_email=email,
                claimant=claimant,
                salesforce_writes=values,
                owner=OwnerState(
                    hubspot=contact.properties.get(OWNER_PROPERTY) or None, creating="salesforce"
                ),
                synced_after=synced,
                reasons=(f"new HubSpot contact, no Salesforce record with its email: create a {sf_object}",),
                redecided=event.redecided,
                notes=notes,
                direction="hubspot_to_salesforce",
            ),
        )

    # -- Salesforce -> HubSpot ----------------------------------------------------------------
    def _from_salesforce(
        self, sf_object: SfObject, events: dict[str, ChangeEvent], result: DedupeResult
    ) -> None:
        records = self.salesforce.retrieve(sf_object, list(events), self.fields.salesforce_fields(sf_object))
        by_event_id = {salesforce_id18(k): v for k, v in events.items()}
        gone = len(events) - len(records)
        if gone:
            result.skipped["Salesforce record deleted"] += gone
        live: dict[str, SalesforceRecord] = {}
        converted: dict[str, str] = {}  # lead id -> the contact it was converted to
        for record_id, record in records.items():
            if sf_object == "Lead" and record.fields.get("IsConverted"):
                contact_id = _converted_contact(record)
                if contact_id is not None:
                    converted[record_id] = contact_id
                continue
            if record.fields.get("IsPersonAccount"):
                result.skip("person account (synced through its account)", _sf_key(sf_object, record_id))
                continue
            live[record_id] = record
        links = self.state.links_by_salesforce(self.portal, [*live, *converted])
        for busy in self._wait_for_writes(links, by_event_id, result):
            live.pop(busy, None)
            converted.pop(busy, None)
        if converted:
            self._follow_conversions(converted, links, by_event_id, result)
        links = {rid: link for rid, link in links.items() if rid in live}
        linked_contacts = self.hubspot.read_contacts(
            [link.hubspot_id for link in links.values()], self.hubspot_properties
        )
        unlinked_emails = [
            normalize_email(r.fields.get("Email")) for rid, r in live.items() if rid not in links
        ]
        by_email = self.hubspot.contacts_by_email([e for e in unlinked_emails if e], self.hubspot_properties)
        links_of_matches = self.state.links_by_hubspot(self.portal, [c.id for c in by_email.values()])
        members = self._members([*linked_contacts, *(c.id for c in by_email.values())])
        # a Contact made by converting the lead its HubSpot contact is linked to takes over the link
        conversions = self._conversions_of(
            [link.sf_id for link in links_of_matches.values() if link.sf_object == "Lead"]
        )
        # an unlinked contact is linked as from HubSpot's side (S6): to the oldest Salesforce record
        # with its email, syncing with the most recently updated, whichever of them changed
        siblings = self._salesforce_people_by_email(
            email for email, c in by_email.items() if c.id not in links_of_matches
        )
        linked_now: set[str] = set()

        for record_id, record in live.items():
            event = by_event_id.get(record_id) or next(iter(events.values()))
            key = _sf_key(sf_object, record_id)
            link = links.get(record_id)
            if link is not None:
                contact = linked_contacts.get(link.hubspot_id)
                if contact is None:
                    result.skip("linked HubSpot contact archived", key)
                    continue
                if not self._included(contact, members):
                    result.skip("outside the inclusion list", key)
                    continue
                self._add(result, self._reconcile(contact, record, link.synced, event, link=link))
                continue
            email = normalize_email(record.fields.get("Email"))
            if email is None:
                result.skip("no email", key)
                continue
            contact = by_email.get(email)
            if contact is not None:
                other = links_of_matches.get(contact.id)
                if other is not None and conversions.get(salesforce_id18(other.sf_id)) == record_id:
                    target = dataclasses.replace(other, sf_object=sf_object, sf_id=record_id)
                    self._add(result, self._moved(contact, record, event, other, target, members))
                    continue
                if other is not None and salesforce_id18(other.sf_id) != record_id:
                    # a same-email duplicate in Salesforce, updated after the linked record: it syncs
                    note = _duplicate_note(sf_object, record_id, other.sf_object, other.sf_id)
                    if not self._included(contact, members):
                        result.skip("outside the inclusion list", key)
                        continue
                    known = f"{sf_object}:{record_id}"
                    duplicates = other.duplicates if known in other.duplicates else (*other.duplicates, known)
                    target = dataclasses.replace(other, duplicates=duplicates)
                    self._add(
                        result,
                        self._reconcile(contact, record, other.synced, event, link=target, notes=(note,)),
                    )
                    continue
                if contact.id in linked_now:
                    continue  # a same-email record of this batch already linked the contact
                if self._creation_pending(email, {"salesforce": {record_id}, "hubspot": {contact.id}}, event):
                    result.retry.append(event)
                    continue
                linked_now.add(contact.id)
                if not self._included(contact, members):
                    # S5: the Salesforce record de-duplicates to the contact, nothing syncs yet
                    target = Link(self.portal, contact.id, sf_object, record_id)
                    self._add(
                        result,
                        self._reconcile(
                            contact, record, None, event, link=target, new_link=True, link_only=True
                        ),
                    )
                    result.statuses[key] = "linked; the HubSpot contact is outside the inclusion list"
                    continue
                match = siblings.get(email)
                if match is None:  # not found by SOQL yet (e.g. just created): link the record itself
                    target = Link(self.portal, contact.id, sf_object, record_id)
                    plan = self._reconcile(contact, record, None, event, link=target, new_link=True)
                else:
                    plan = self._link_by_email(contact, match, event)
                self._add(result, plan)
                continue
            if self.config.creation.salesforce_to_hubspot == "do_nothing":
                result.skip("contact creation disabled", key)
                continue
            self._create_in_hubspot(sf_object, record, email, event, result)

    def _moved(
        self,
        contact: HubSpotContact,
        record: SalesforceRecord,
        event: ChangeEvent,
        link: Link,
        target: Link,
        members: set[str] | None,
    ) -> SyncPlan:
        """A link that moves to another Salesforce record (lead conversion, a merge on either side):
        the pair syncs from what it synced before, or, outside the inclusion list, is only linked."""
        if self._included(contact, members):
            return self._reconcile(contact, record, link.synced, event, link=target)
        return self._reconcile(contact, record, None, event, link=target, link_only=True)

    def _conversions_of(self, lead_ids: Sequence[str]) -> dict[str, str]:
        """Converted leads among ``lead_ids``: lead id -> the Contact it became."""
        if not lead_ids:
            return {}
        leads = self.salesforce.retrieve("Lead", list(lead_ids), ["IsConverted", "ConvertedContactId"])
        return _conversions(leads)

    def _follow_conversions(
        self,
        converted: Mapping[str, str],
        links: Mapping[str, Link],
        by_event_id: Mapping[str, ChangeEvent],
        result: DedupeResult,
    ) -> None:
        """Lead conversion: the link moves from the Lead to the Contact it became, which then syncs."""
        linked = {lead: contact for lead, contact in converted.items() if lead in links}
        for lead in set(converted) - set(linked):
            result.skip("converted lead (not linked)", _sf_key("Lead", lead))
        if not linked:
            return
        contacts = self.salesforce.retrieve(
            "Contact", list(linked.values()), self.fields.salesforce_fields("Contact")
        )
        hubspot = self.hubspot.read_contacts(
            [links[lead].hubspot_id for lead in linked], self.hubspot_properties
        )
        members = self._members(hubspot)
        for lead, contact_id in linked.items():
            link, record = links[lead], contacts.get(contact_id)
            contact = hubspot.get(link.hubspot_id)
            if record is None or contact is None:
                result.skip("converted lead: its contact or HubSpot contact is gone", _sf_key("Lead", lead))
                continue
            target = dataclasses.replace(link, sf_object="Contact", sf_id=record.id)
            self._add(result, self._moved(contact, record, by_event_id[lead], link, target, members))

    def _salesforce_deleted(
        self, sf_object: SfObject, events: dict[str, ChangeEvent], result: DedupeResult
    ) -> None:
        """A deleted Lead or Contact. Merged away (Salesforce merge): the link moves to the master
        record. Deleted: the HubSpot contact stays (default) or is archived (setting); HubSpot never
        deletes in Salesforce, so nothing else happens."""
        by_id = {salesforce_id18(k): v for k, v in events.items()}
        links = self.state.links_by_salesforce(self.portal, list(by_id))
        busy = self._wait_for_writes(links, by_id, result)
        for rid in set(by_id) - set(links) - busy:
            result.skip("Salesforce record deleted (not linked)", _sf_key(sf_object, rid))
        if not links:
            return
        masters = self.salesforce.merge_masters(sf_object, list(links))
        master_records = (
            self.salesforce.retrieve(
                sf_object, list(set(masters.values())), self.fields.salesforce_fields(sf_object)
            )
            if masters
            else {}
        )
        taken = self.state.links_by_salesforce(self.portal, list(master_records))
        contacts = self.hubspot.read_contacts(
            [link.hubspot_id for link in links.values()], self.hubspot_properties
        )
        members = self._members(contacts)
        archive = self.config.deletes.salesforce_delete == "archive_hubspot_contact"
        for rid, link in links.items():
            key, event = _sf_key(sf_object, rid), by_id[rid]
            contact = contacts.get(link.hubspot_id)
            master_id = masters.get(rid)  # none: deleted, not merged away
            master = master_records.get(salesforce_id18(master_id)) if master_id else None
            if master is not None:
                holder = taken.get(master.id)
                if contact is None or (holder is not None and holder.hubspot_id != link.hubspot_id):
                    result.skip("merged into a record linked to another HubSpot contact", key)
                    continue
                target = dataclasses.replace(link, sf_id=master.id)
                self._add(result, self._moved(contact, master, event, link, target, members))
                continue
            if not archive or contact is None:
                result.skip("Salesforce record deleted; the HubSpot contact is kept", key)
                continue
            self._add(
                result,
                SyncPlan(
                    plan_id=plan_id(self.portal, "archive", link.hubspot_id, event.change_id),
                    portal=self.portal,
                    hubspot_id=link.hubspot_id,
                    sf_object=sf_object,
                    sf_id=rid,
                    archive_hubspot=True,
                    reasons=(
                        f"{sf_object} {rid} deleted in Salesforce: archive its HubSpot contact (setting)",
                    ),
                    direction="salesforce_to_hubspot",
                    source="salesforce",
                ),
            )

    def _create_in_hubspot(
        self,
        sf_object: SfObject,
        record: SalesforceRecord,
        email: str,
        event: ChangeEvent,
        result: DedupeResult,
    ) -> None:
        claimant = f"salesforce:{record.id}:{event.change_id}"
        holder = self.state.claim_creation(self.portal, "hubspot", email, claimant)
        if holder is not None:
            result.retry.append(event)
            return
        values, refused = creation_values_for_hubspot(self.fields, self.types, sf_object, record.fields)
        synced = {
            m.hubspot: (
                self._comparable(m.hubspot, sf_object, values.get(m.hubspot)),
                self._comparable(m.hubspot, sf_object, record.fields.get(f)),
            )
            for m, f in self.fields.for_object(sf_object)
        }
        # the opt-out is not a property write: the new contact is unsubscribed after its creation
        opt_out = opted_out(record.fields.get(OPT_OUT_SALESFORCE))
        synced[OPT_OUT_HUBSPOT] = ("true" if opt_out else "false",) * 2
        self._add(
            result,
            SyncPlan(
                plan_id=plan_id(self.portal, "create-hs", record.id, event.change_id),
                portal=self.portal,
                hubspot_id=None,
                sf_object=sf_object,
                sf_id=record.id,
                create="hubspot",
                claim_email=email,
                claimant=claimant,
                hubspot_writes=values,
                unsubscribe_email=email if opt_out else None,
                owner=OwnerState(salesforce=_id_or_none(record.fields.get(OWNER_FIELD)), creating="hubspot"),
                synced_after=synced,
                reasons=(f"new Salesforce {sf_object}, no HubSpot contact with its email: create one",),
                redecided=event.redecided,
                notes=tuple(_refused_note(r, "hubspot", _sf_key(sf_object, record.id)) for r in refused),
                direction="salesforce_to_hubspot",
                source="salesforce",
            ),
        )

    # -- both directions ----------------------------------------------------------------------
    def _reconcile(
        self,
        contact: HubSpotContact,
        record: SalesforceRecord,
        synced: Mapping[str, SyncedPair] | None,
        event: ChangeEvent,
        *,
        link: Link,
        new_link: bool = False,
        notes: tuple[HealthNote, ...] = (),
        link_only: bool = False,
    ) -> SyncPlan:
        """Field-by-field decisions for one pair. ``record`` is the Salesforce record whose values
        count and that receives the writes: the linked one, or the most recently updated of
        same-email duplicates. ``link`` is what the pair's link will say after the writes.
        ``link_only``: record the link and nothing else (a contact outside the inclusion list that a
        Salesforce record de-duplicated, S5); its first sync happens when it enters the list."""
        sf_object = _sf_object(record.sobject)
        hs_writes: dict[str, str | None] = {}
        sf_writes: dict[str, Any] = {}
        before: dict[str, SyncedPair] = dict(synced or {})
        after: dict[str, SyncedPair] = dict(before)
        reasons: list[str] = []
        found: list[HealthNote] = list(notes)
        written: dict[str, WrittenSide] = {}
        intent = link.intent if synced is not None else None
        unsubscribe = False
        for mapping, sf_field in [] if link_only else self.fields.for_object(sf_object):
            if not self.types.has_field(sf_object, sf_field):
                continue  # not deployed in this org
            prop = mapping.hubspot
            hs_raw = contact.properties.get(prop)
            sf_raw = record.fields.get(sf_field)
            hs_value, sf_value = (
                self._comparable(prop, sf_object, hs_raw),
                self._comparable(prop, sf_object, sf_raw),
            )
            remembered_pair = remembered(prop, synced, intent, hubspot=hs_value, salesforce=sf_value)
            last_synced = Remembered(*remembered_pair) if remembered_pair is not None else None
            state = FieldState(
                hs_value,
                sf_value,
                _whole_seconds(contact.property_changed_at.get(prop)),
                _whole_seconds(record.last_modified),
            )
            write = decide(mapping.rule, state, last_synced)
            if write is None:
                after[prop] = (hs_value, sf_value)
                continue
            try:
                if write.to is Side.SALESFORCE:
                    sf_writes[sf_field] = self.types.to_salesforce(prop, sf_object, sf_field, hs_raw)
                    after[prop] = (hs_value, hs_value)
                else:
                    hs_writes[prop] = self.types.to_hubspot(prop, sf_object, sf_field, sf_raw)
                    after[prop] = (sf_value, sf_value)
                written[prop] = write.to.value
            except ConversionError as exc:
                # the other side would refuse the value: a known difference, reported, not retried
                to = "salesforce" if write.to is Side.SALESFORCE else "hubspot"
                record_key = _hs_key(contact.id) if to == "salesforce" else _sf_key(sf_object, record.id)
                found.append(_refused_note(Refused(prop, sf_field, exc.code, exc.message), to, record_key))
                after[prop] = (hs_value, sf_value)
                continue
            reasons.append(f"{prop}: {write.reason}")
        if not link_only:
            hs_opt = opted_out(contact.properties.get(OPT_OUT_HUBSPOT))
            sf_opt = opted_out(record.fields.get(OPT_OUT_SALESFORCE))
            opt_write = decide_opt_out(hubspot_opted_out=hs_opt, salesforce_opted_out=sf_opt)
            if opt_write is not None and opt_write.to is Side.SALESFORCE:
                sf_writes[OPT_OUT_SALESFORCE] = True
            elif opt_write is not None:
                unsubscribe = True
            if opt_write is not None:
                written[OPT_OUT_HUBSPOT] = opt_write.to.value
                reasons.append(f"{OPT_OUT_HUBSPOT}: {opt_write.reason}")
            both = hs_opt or sf_opt
            after[OPT_OUT_HUBSPOT] = (
                "true" if both else "false",
                "true" if both else "false",
            )
        if "LastName" in sf_writes and sf_writes["LastName"] is None:
            sf_writes["LastName"] = NOT_PROVIDED  # required in Salesforce: never cleared
        placeholder = self.company_placeholder
        if sf_object == "Lead" and "Company" in sf_writes and sf_writes["Company"] is None and placeholder:
            sf_writes["Company"] = placeholder
        writes_hubspot = bool(hs_writes) or unsubscribe
        direction: Literal["hubspot_to_salesforce", "salesforce_to_hubspot", "both", "none"] = (
            "both"
            if writes_hubspot and sf_writes
            else "hubspot_to_salesforce"
            if sf_writes
            else "salesforce_to_hubspot"
            if writes_hubspot
            else "none"
        )
        email = normalize_email(contact.properties.get("email")) or normalize_email(
            record.fields.get("Email")
        )
        owner = None
        if not link_only:
            hs_owner = contact.properties.get(OWNER_PROPERTY) or None
            sf_owner = _id_or_none(record.fields.get(OWNER_FIELD))
            remembered_owner = (
                remembered(OWNER_PROPERTY, synced, intent, hubspot=hs_owner, salesforce=sf_owner)
                if synced is not None
                else None
            )
            owner = OwnerState(
                hubspot=hs_owner,
                salesforce=sf_owner,
                remembered=remembered_owner,
                hubspot_changed_at=contact.property_changed_at.get(OWNER_PROPERTY),
                salesforce_changed_at=record.last_modified,
            )
            if remembered_owner is not None:
                after[OWNER_PROPERTY] = remembered_owner
        return SyncPlan(
            plan_id=plan_id(self.portal, contact.id, record.id, event.change_id),
            portal=self.portal,
            hubspot_id=contact.id,
            sf_object=sf_object,
            sf_id=record.id,
            link_sf_object=_sf_object(link.sf_object),
            link_sf_id=link.sf_id,
            duplicates=link.duplicates,
            hubspot_writes=hs_writes,
            salesforce_writes=sf_writes,
            unsubscribe_email=email if unsubscribe else None,
            owner=owner,
            synced_before=before,
            synced_after={} if link_only else after,
            written=written,
            link_rev=None if new_link else link.rev,
            redecided=event.redecided,
            reasons=tuple(reasons)
            or (("linked; outside the inclusion list",) if link_only else ("already in sync",)),
            notes=tuple(found),
            direction=direction,
            source="hubspot" if event.system is System.HUBSPOT else "salesforce",
            linked_by_email=new_link,
            link_only=link_only,
        )

    @staticmethod
    def _add(result: DedupeResult, plan: SyncPlan) -> None:
        result.plans.append(plan)


def _raw_for_salesforce(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _raw_for_hubspot(hubspot_property: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text.strip().lower() if hubspot_property == "email" else text


def _parse_duplicates(duplicates: Iterable[str]) -> list[tuple[SfObject, str]]:
    out: list[tuple[SfObject, str]] = []
    for entry in duplicates:
        sobject, _, record_id = entry.partition(":")
        if sobject in _SF_OBJECTS and record_id:
            out.append((_sf_object(sobject), record_id))
    return out


def _refused_note(refused: Refused, to: str, record: str) -> HealthNote:
    return HealthNote(
        system=to,
        record=record,
        category="property_values",
        code=refused.code,
        message=f"{refused.prop} <-> {refused.field}: {refused.message}",
    )


def _id_or_none(value: Any) -> str | None:
    return salesforce_id18(str(value)) if value else None


def _representative(events: Sequence[ChangeEvent]) -> ChangeEvent:
    """The one event a contact is read for: a merge (it names the merged contacts), else the latest."""
    merges = [e for e in events if e.change_type is ChangeType.MERGE]
    return merges[-1] if merges else events[-1]


def _whole_seconds(moment: dt.datetime | None) -> dt.datetime | None:
    """A change time at Salesforce's precision: ``LastModifiedDate`` keeps whole seconds, so a
    HubSpot change (milliseconds) in the same second as a Salesforce one is a tie (to Salesforce),
    never "newer" than a Salesforce edit made after it within that second."""
    return moment.replace(microsecond=0) if moment is not None else None


def _hs_key(contact_id: str) -> str:
    return f"hubspot:contacts:{contact_id}"


def _sf_key(sobject: str, record_id: str) -> str:
    return f"salesforce:{sobject}:{record_id}"


def _converted_contact(record: SalesforceRecord) -> str | None:
    """The 18-character id of the Contact a converted Lead became; None for anything else."""
    if record.sobject != "Lead" or not record.fields.get("IsConverted"):
        return None
    contact_id = record.fields.get("ConvertedContactId")
    return salesforce_id18(str(contact_id)) if contact_id else None


def _conversions(records: Mapping[str, SalesforceRecord]) -> dict[str, str]:
    """The converted Leads among ``records``: lead id -> the Contact it became."""
    converted = {rid: _converted_contact(record) for rid, record in records.items()}
    return {rid: contact for rid, contact in converted.items() if contact is not None}


def _converted_from(records: Mapping[str, SalesforceRecord], lead_id: str) -> str | None:
    """The id of the Contact that ``lead_id`` was converted to, when ``records`` followed it."""
    record = records.get(salesforce_id18(lead_id))
    return record.id if record is not None and record.sobject == "Contact" else None


def _duplicate_note(sobject: str, record_id: str, linked_object: str, linked_id: str) -> HealthNote:
    return HealthNote(
        system="salesforce",
        record=f"salesforce:{sobject}:{record_id}",
        category="duplicates",
        code="DUPLICATE_EMAIL",
        message=(
            f"{sobject} {record_id} shares its email with {linked_object} {linked_id}, which the HubSpot "
            "contact is linked to; the most recently updated of them syncs"
        ),
    )


def _same_id(record_id: str, ids: Iterable[str]) -> bool:
    """Whether ``record_id`` (a HubSpot id, or a Salesforce id in 15 or 18 characters) is among ``ids``."""
    wanted = {_id18_or_same(i) for i in ids}
    return _id18_or_same(record_id) in wanted


def _id18_or_same(record_id: str) -> str:
    try:
        return salesforce_id18(record_id)
    except ValueError:
        return record_id


def _sf_object(name: str) -> SfObject:
    if name not in _SF_OBJECTS:
        raise ValueError(f"not a synced Salesforce object: {name}")
    return name
