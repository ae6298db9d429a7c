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
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.config import PropertyFilter, SyncConfig
from shared.matching import SalesforcePerson, match_by_email, normalize_email
from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.fields import (
    NOT_PROVIDED,
    ContactFields,
    SfObject,
    comparable,
    creation_values_for_hubspot,
    creation_values_for_salesforce,
)
from shared.pipeline.plans import HealthNote, SyncedPair, SyncPlan, plan_id
from shared.ports import HubSpotContact, HubSpotPort, Link, SalesforcePort, SalesforceRecord, StatePort
from shared.rules import FieldState, Remembered, Side, decide
from shared.state.keys import salesforce_id18

log = logging.getLogger(__name__)

# changeOrigin of Salesforce changes made by hssync itself (Sforce-Call-Options: client=hssync)
OWN_CLIENT_MARKER = "client=hssync"
# HubSpot's changeSource for changes made through the API by an app (its id is the sourceId)
INTEGRATION_SOURCE = "INTEGRATION"
ALREADY_SYNCED = "reported values already synced"
OWN_CREATION_DEFERRALS = 2  # then a creation by hssync's app whose link is still missing is read

_READABLE = {ChangeType.CREATE, ChangeType.UPDATE, ChangeType.UNDELETE, ChangeType.RESYNC, ChangeType.MERGE}
_SF_OBJECTS: tuple[SfObject, ...] = ("Lead", "Contact")


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
    ) -> None:
        self.config = config
        self.own_app_id = own_app_id
        self.portal = portal
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.state = state
        self.fields = ContactFields.from_config(config)
        self.hubspot_properties = sorted(set(self.fields.hubspot_properties()) | inclusion_properties(config))
        self._mapped = set(self.fields.hubspot_properties())
        self._inclusion = inclusion_properties(config)

    # -- entry point ---------------------------------------------------------------------------
    def process(self, events: Sequence[ChangeEvent]) -> DedupeResult:
        result = DedupeResult()
        hubspot_ids: dict[str, ChangeEvent] = {}
        salesforce_ids: dict[SfObject, dict[str, ChangeEvent]] = {"Lead": {}, "Contact": {}}
        for event in events:
            if event.change_type not in _READABLE:
                # HubSpot never deletes Salesforce records; Salesforce deletes, merges of links and
                # associations are handled by the rules of the next milestones
                result.skipped[f"{event.change_type.value} not synced"] += 1
                continue
            if event.system is System.HUBSPOT and event.object_type == "contacts":
                hubspot_ids[event.record_id] = event
            elif event.system is System.SALESFORCE and event.object_type in _SF_OBJECTS:
                if event.origin and OWN_CLIENT_MARKER in event.origin:
                    result.skipped["echo of our own write"] += 1
                    continue
                salesforce_ids[_sf_object(event.object_type)][event.record_id] = event
            else:
                result.skipped[f"{event.system.value} {event.object_type} not synced"] += 1
        if hubspot_ids:
            self._from_hubspot(hubspot_ids, result)
        for sf_object in _SF_OBJECTS:
            if salesforce_ids[sf_object]:
                self._from_salesforce(sf_object, salesforce_ids[sf_object], result)
        return result

    # -- HubSpot -> Salesforce ----------------------------------------------------------------
    def _from_hubspot(self, events: dict[str, ChangeEvent], result: DedupeResult) -> None:
        links = self.state.links_by_hubspot(self.portal, list(events))
        for contact_id, event in list(events.items()):
            if self._known(event, links.get(contact_id)):
                del events[contact_id]
                result.skipped[ALREADY_SYNCED] += 1
            elif contact_id not in links and self._ours(event) and event.attempt < OWN_CREATION_DEFERRALS:
                # hssync created this contact and apply is recording the link: look again shortly,
                # then it is answered from the link (a read would only find what apply wrote)
                del events[contact_id]
                result.retry.append(event)
        if not events:
            return
        contacts = self.hubspot.read_contacts(list(events), self.hubspot_properties)
        missing = len(events) - len(contacts)
        if missing:
            result.skipped["HubSpot contact archived or gone"] += missing
        links = {cid: link for cid, link in links.items() if cid in contacts}

        linked_ids: dict[SfObject, list[str]] = {"Lead": [], "Contact": []}
        for existing in links.values():
            linked_ids[_sf_object(existing.sf_object)].append(existing.sf_id)
            for sf_object, duplicate_id in _parse_duplicates(existing.duplicates):
                linked_ids[sf_object].append(duplicate_id)
        linked_records: dict[str, SalesforceRecord] = {}
        for sf_object, ids in linked_ids.items():
            if ids:
                linked_records.update(
                    self.salesforce.retrieve(sf_object, ids, self.fields.salesforce_fields(sf_object))
                )

        unlinked = [c for cid, c in contacts.items() if cid not in links]
        candidates = self._salesforce_people_by_email(
            [c.properties.get("email") for c in unlinked if included(self.config, c.properties)]
        )

        for contact_id, contact in contacts.items():
            event = events[contact_id]
            if not included(self.config, contact.properties):
                result.skipped["outside the inclusion list"] += 1
                continue
            link = links.get(contact_id)
            if link is not None:
                ids = [link.sf_id, *(rid for _, rid in _parse_duplicates(link.duplicates))]
                alive = [r for r in (linked_records.get(salesforce_id18(i)) for i in ids) if r is not None]
                if not alive:
                    result.skipped["linked Salesforce record deleted"] += 1
                    continue
                newest = max(alive, key=lambda r: (r.last_modified, r.id))
                self._add(result, self._reconcile(contact, newest, link.synced, event, link=link))
                continue
            email = normalize_email(contact.properties.get("email"))
            if email is None:
                result.skipped["no email"] += 1
                continue
            match = candidates.get(email)
            if match is not None:
                self._add(result, self._link_by_email(contact, match, event))
                continue
            self._create_in_salesforce(contact, email, event, result)

    def _known(self, event: ChangeEvent, link: Link | None) -> bool:
        """Whether a HubSpot notification can be answered without reading the contact: the pair is
        linked and every value it reports for a mapped property is the one hssync last synced (the
        echo of hssync's own write, or a write of the same value). A creation counts only when
        hssync's app made it. Anything else, or an inclusion-list property, is read."""
        if link is None or event.change_type not in (ChangeType.CREATE, ChangeType.UPDATE):
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
            if synced is None or comparable(name, value) != synced[0]:
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
        self, contact: HubSpotContact, email: str, event: ChangeEvent, result: DedupeResult
    ) -> None:
        sf_object: SfObject = "Lead" if self.config.creation.hubspot_to_salesforce == "lead" else "Contact"
        # the claimant is the event, not the contact: a second event for the same new contact
        # (creation + property change, processed in parallel) must wait, not create again
        claimant = f"hubspot:{contact.id}:{event.change_id}"
        holder = self.state.claim_creation(self.portal, "salesforce", email, claimant)
        if holder is not None:
            result.retry.append(event)  # someone else is creating (or created) it: link on the retry
            return
        values = creation_values_for_salesforce(
            self.fields, sf_object, contact.properties, self.config.creation.lead_company_placeholder
        )
        synced = {
            m.hubspot: (
                comparable(m.hubspot, contact.properties.get(m.hubspot)),
                comparable(m.hubspot, values.get(f)),
            )
            for m, f in self.fields.for_object(sf_object)
        }
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
                synced_after=synced,
                reasons=(f"new HubSpot contact, no Salesforce record with its email: create a {sf_object}",),
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
        for record_id, record in records.items():
            if sf_object == "Lead" and record.fields.get("IsConverted"):
                result.skipped["converted lead"] += 1
                continue
            if record.fields.get("IsPersonAccount"):
                result.skipped["person account (synced through its account)"] += 1
                continue
            live[record_id] = record
        links = self.state.links_by_salesforce(self.portal, list(live))
        linked_contacts = self.hubspot.read_contacts(
            [link.hubspot_id for link in links.values()], self.hubspot_properties
        )
        unlinked_emails = [
            normalize_email(r.fields.get("Email")) for rid, r in live.items() if rid not in links
        ]
        by_email = self.hubspot.contacts_by_email([e for e in unlinked_emails if e], self.hubspot_properties)
        links_of_matches = self.state.links_by_hubspot(self.portal, [c.id for c in by_email.values()])
        # an unlinked contact is linked as from HubSpot's side (S6): to the oldest Salesforce record
        # with its email, syncing with the most recently updated, whichever of them changed
        siblings = self._salesforce_people_by_email(
            email for email, c in by_email.items() if c.id not in links_of_matches
        )
        linked_now: set[str] = set()

        for record_id, record in live.items():
            event = by_event_id.get(record_id) or next(iter(events.values()))
            link = links.get(record_id)
            if link is not None:
                contact = linked_contacts.get(link.hubspot_id)
                if contact is None:
                    result.skipped["linked HubSpot contact archived"] += 1
                    continue
                if not included(self.config, contact.properties):
                    result.skipped["outside the inclusion list"] += 1
                    continue
                self._add(result, self._reconcile(contact, record, link.synced, event, link=link))
                continue
            email = normalize_email(record.fields.get("Email"))
            if email is None:
                result.skipped["no email"] += 1
                continue
            contact = by_email.get(email)
            if contact is not None:
                other = links_of_matches.get(contact.id)
                if other is not None and salesforce_id18(other.sf_id) != record_id:
                    # a same-email duplicate in Salesforce, updated after the linked record: it syncs
                    note = _duplicate_note(sf_object, record_id, other.sf_object, other.sf_id)
                    if not included(self.config, contact.properties):
                        result.skipped["outside the inclusion list"] += 1
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
                linked_now.add(contact.id)
                match = siblings.get(email)
                if match is None:  # not found by SOQL yet (e.g. just created): link the record itself
                    target = Link(self.portal, contact.id, sf_object, record_id)
                    plan = self._reconcile(contact, record, None, event, link=target, new_link=True)
                else:
                    plan = self._link_by_email(contact, match, event)
                self._add(result, plan)
                continue
            if self.config.creation.salesforce_to_hubspot == "do_nothing":
                result.skipped["contact creation disabled"] += 1
                continue
            self._create_in_hubspot(sf_object, record, email, event, result)

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
        values = creation_values_for_hubspot(self.fields, sf_object, record.fields)
        synced = {
            m.hubspot: (
                comparable(m.hubspot, values.get(m.hubspot)),
                comparable(m.hubspot, record.fields.get(f)),
            )
            for m, f in self.fields.for_object(sf_object)
        }
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
                synced_after=synced,
                reasons=(f"new Salesforce {sf_object}, no HubSpot contact with its email: create one",),
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
    ) -> SyncPlan:
        """Field-by-field decisions for one pair. ``record`` is the Salesforce record whose values
        count and that receives the writes: the linked one, or the most recently updated of
        same-email duplicates. ``link`` is what the pair's link will say after the writes."""
        sf_object = _sf_object(record.sobject)
        hs_writes: dict[str, str | None] = {}
        sf_writes: dict[str, Any] = {}
        before: dict[str, SyncedPair] = dict(synced or {})
        after: dict[str, SyncedPair] = dict(before)
        reasons: list[str] = []
        for mapping, sf_field in self.fields.for_object(sf_object):
            hs_raw = contact.properties.get(mapping.hubspot)
            sf_raw = record.fields.get(sf_field)
            hs_value, sf_value = comparable(mapping.hubspot, hs_raw), comparable(mapping.hubspot, sf_raw)
            remembered_pair = (synced or {}).get(mapping.hubspot)
            remembered = Remembered(*remembered_pair) if remembered_pair is not None else None
            state = FieldState(
                hs_value, sf_value, contact.property_changed_at.get(mapping.hubspot), record.last_modified
            )
            write = decide(mapping.rule, state, remembered)
            if write is None:
                after[mapping.hubspot] = (hs_value, sf_value)
                continue
            if write.to is Side.SALESFORCE:
                sf_writes[sf_field] = _raw_for_salesforce(hs_raw)
                after[mapping.hubspot] = (hs_value, hs_value)
            else:
                hs_writes[mapping.hubspot] = _raw_for_hubspot(mapping.hubspot, sf_raw)
                after[mapping.hubspot] = (sf_value, sf_value)
            reasons.append(f"{mapping.hubspot}: {write.reason}")
        if "LastName" in sf_writes and sf_writes["LastName"] is None:
            sf_writes["LastName"] = NOT_PROVIDED  # required in Salesforce: never cleared
        if sf_object == "Lead" and "Company" in sf_writes and sf_writes["Company"] is None:
            sf_writes["Company"] = self.config.creation.lead_company_placeholder
        direction: Literal["hubspot_to_salesforce", "salesforce_to_hubspot", "both", "none"] = (
            "both"
            if hs_writes and sf_writes
            else "hubspot_to_salesforce"
            if sf_writes
            else "salesforce_to_hubspot"
            if hs_writes
            else "none"
        )
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
            synced_before=before,
            synced_after=after,
            reasons=tuple(reasons) or ("already in sync",),
            notes=notes,
            direction=direction,
            source="hubspot" if event.system is System.HUBSPOT else "salesforce",
            linked_by_email=new_link,
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


def _sf_object(name: str) -> SfObject:
    if name not in _SF_OBJECTS:
        raise ValueError(f"not a synced Salesforce object: {name}")
    return name
