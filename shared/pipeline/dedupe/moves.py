"""Links that move: lead conversion (the link moves from the Lead to the Contact it became), merges
on either side (the surviving record takes over the link), and deletions (the HubSpot contact
stays, or is archived by setting; HubSpot never deletes in Salesforce).

A moved pair syncs from what it synced before; outside the inclusion list it is only linked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from shared.ids import salesforce_id18
from shared.models import ChangeEvent, ChangeType, SfObject
from shared.pipeline.dedupe.outcome import Decision, Planned, Skip
from shared.pipeline.dedupe.reconcile import Pair, Reconciler
from shared.pipeline.dedupe.records import sf_key
from shared.pipeline.plans import SyncPlan, plan_id
from shared.ports import HubSpotContact, Link, SalesforceRecord

PERSON_ACCOUNT = "person account (synced through its account)"
MERGED_ELSEWHERE = "merged into a record linked to another HubSpot contact"
CONVERTED_UNLINKED = "converted lead (not linked)"
CONVERTED_GONE = "converted lead: its contact or HubSpot contact is gone"
DELETED_KEPT = "Salesforce record deleted; the HubSpot contact is kept"


# -- lead conversion ----------------------------------------------------------------------------
def converted_contact(record: SalesforceRecord) -> str | None:
    """The 18-character id of the Contact a converted Lead became; None for anything else."""
    if record.sobject != "Lead" or not record.fields.get("IsConverted"):
        return None
    contact_id = record.fields.get("ConvertedContactId")
    return salesforce_id18(str(contact_id)) if contact_id else None


def conversions(records: Mapping[str, SalesforceRecord]) -> dict[str, str]:
    """The converted Leads among ``records``: lead id -> the Contact it became."""
    converted = {rid: converted_contact(record) for rid, record in records.items()}
    return {rid: contact for rid, contact in converted.items() if contact is not None}


def converted_from(records: Mapping[str, SalesforceRecord], lead_id: str) -> str | None:
    """The id of the Contact that ``lead_id`` was converted to, when ``records`` followed it."""
    record = records.get(salesforce_id18(lead_id))
    return record.id if record is not None and record.sobject == "Contact" else None


def standing_in(
    records: Mapping[str, SalesforceRecord],
    converted: Mapping[str, str],
    contacts: Mapping[str, SalesforceRecord],
) -> dict[str, SalesforceRecord]:
    """``records`` with each converted Lead replaced by the Contact it became (``contacts``), under
    the Lead's id and its own; a Lead whose Contact is gone is left out, and so is any other
    converted Lead."""
    out = dict(records)
    for lead_id, contact_id in converted.items():
        contact = contacts.get(contact_id)
        if contact is not None:
            out[lead_id] = contact
            out[contact.id] = contact
        else:
            out.pop(lead_id, None)
    return {rid: r for rid, r in out.items() if not (r.sobject == "Lead" and r.fields.get("IsConverted"))}


def sort_changed(
    sf_object: SfObject, records: Mapping[str, SalesforceRecord]
) -> tuple[dict[str, SalesforceRecord], dict[str, str], list[Skip]]:
    """Changed Salesforce records: the ones that sync, the converted Leads (lead id -> the Contact
    it became; one converted without a Contact is dropped) and the person accounts, skipped."""
    live: dict[str, SalesforceRecord] = {}
    converted: dict[str, str] = {}
    skips: list[Skip] = []
    for record_id, record in records.items():
        if sf_object == "Lead" and record.fields.get("IsConverted"):
            contact_id = converted_contact(record)
            if contact_id is not None:
                converted[record_id] = contact_id
            continue
        if record.fields.get("IsPersonAccount"):
            skips.append(Skip(PERSON_ACCOUNT, sf_key(sf_object, record_id)))
            continue
        live[record_id] = record
    return live, converted, skips


def following_conversion(
    link: Link, newest: SalesforceRecord, records: Mapping[str, SalesforceRecord]
) -> Link:
    """The link of a pair that syncs with ``newest``: moved to it when it is the Contact the linked
    Lead was converted to."""
    if salesforce_id18(link.sf_id) != newest.id and newest.id == converted_from(records, link.sf_id):
        return replace(link, sf_object=newest.sobject, sf_id=newest.id)
    return link


def converted(
    lead_id: str,
    link: Link,
    event: ChangeEvent,
    found: tuple[HubSpotContact | None, SalesforceRecord | None],
    reconciler: Reconciler,
    *,
    included: Callable[[HubSpotContact], bool],
) -> Decision:
    """A linked Lead was converted: the link moves to the Contact it became, which then syncs
    (``found``: the linked HubSpot contact and that Contact, when they are still there)."""
    contact, record = found
    if record is None or contact is None:
        return Skip(CONVERTED_GONE, sf_key("Lead", lead_id))
    pair = Pair(contact, record, link.synced, event, link=replace(link, sf_object="Contact", sf_id=record.id))
    return Planned(moved(reconciler, pair, included=included(contact)))


# -- merges -------------------------------------------------------------------------------------
def merged_contacts(events: Mapping[str, ChangeEvent], links: Mapping[str, Link]) -> dict[str, str]:
    """HubSpot merges whose surviving contact has no link: merged contact id -> the survivor."""
    return {
        rid: cid
        for cid, event in events.items()
        if event.change_type is ChangeType.MERGE and cid not in links
        for rid in event.related_ids
        if rid != cid
    }


def taking_over(links: dict[str, Link], merged: Mapping[str, str], found: Mapping[str, Link]) -> None:
    """A HubSpot merge: the surviving contact takes over the link of a merged one (``found``, by the
    merged id) when it has none of its own; apply then saves the link under the survivor, which drops
    the old one. The survivor has no link item yet: its link starts at revision 0."""
    for merged_id, link in found.items():
        survivor = merged[merged_id]
        if survivor not in links:
            links[survivor] = replace(link, hubspot_id=survivor, rev=0, intent=None)


# -- moved pairs and deletions ------------------------------------------------------------------
def moved(reconciler: Reconciler, pair: Pair, *, included: bool) -> SyncPlan:
    """A link that moves to another Salesforce record (lead conversion, a merge on either side;
    ``pair.link`` is the moved link, ``pair.synced`` what the old one synced): the pair syncs from
    what it synced before, or, outside the inclusion list, is only linked."""
    if included:
        return reconciler.plan(pair)
    return reconciler.plan(replace(pair, synced=None, link_only=True))


@dataclass(frozen=True)
class Deletion:
    """What a batch knows of one deleted, linked Lead or Contact."""

    sf_object: SfObject
    record_id: str
    link: Link
    event: ChangeEvent
    contact: HubSpotContact | None  # the linked HubSpot contact, if it is still there
    master: SalesforceRecord | None  # the record it was merged into (Salesforce merge); None: deleted
    master_link: Link | None  # the link the master has already, if any


def deleted(
    deletion: Deletion,
    reconciler: Reconciler,
    *,
    archive: bool,
    included: Callable[[HubSpotContact], bool],
) -> Decision:
    """Merged away: the link moves to the master record, unless that is linked to another contact.
    Deleted: the HubSpot contact stays (default) or is archived (``archive``, the setting)."""
    link, contact, master = deletion.link, deletion.contact, deletion.master
    key = sf_key(deletion.sf_object, deletion.record_id)
    if master is not None:
        holder = deletion.master_link
        if contact is None or (holder is not None and holder.hubspot_id != link.hubspot_id):
            return Skip(MERGED_ELSEWHERE, key)
        pair = Pair(contact, master, link.synced, deletion.event, link=replace(link, sf_id=master.id))
        return Planned(moved(reconciler, pair, included=included(contact)))
    if not archive or contact is None:
        return Skip(DELETED_KEPT, key)
    return Planned(_archive(reconciler.portal, deletion))


def _archive(portal: str, deletion: Deletion) -> SyncPlan:
    link, sf_object, record_id = deletion.link, deletion.sf_object, deletion.record_id
    return SyncPlan(
        plan_id=plan_id(portal, "archive", link.hubspot_id, deletion.event.change_id),
        portal=portal,
        hubspot_id=link.hubspot_id,
        sf_object=sf_object,
        sf_id=record_id,
        archive_hubspot=True,
        reasons=(f"{sf_object} {record_id} deleted in Salesforce: archive its HubSpot contact (setting)",),
        direction="salesforce_to_hubspot",
        source="salesforce",
    )
