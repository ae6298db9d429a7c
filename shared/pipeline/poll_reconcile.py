"""The poller reconciles, it does not re-sync: a contact or Lead/Contact its scheduled poll reads is
queued only when what the poll read differs from what hssync last synced to its pair.

The poll's query reads the mapped fields with the ids (same calls: a SOQL page or a search page
holds them as well), then the pairs' links are read from the state table (no CRM call), and a record
whose every mapped value, owner and opt-out is the one its link remembers is left alone: dedupe
would read it again only to write nothing. Anything that could need a write is queued as before:

- a record without a link, or whose link is to another record (a duplicate, a converted Lead's new
  Contact), or with a write in flight (the link's intent);
- a converted Lead (its conversion moves the link);
- a mapped field the link has never synced (a mapping added since), or any value that differs.

Only the scheduled poll (and a gap's poll from the cursor) reconciles; a backfill reads and queues
everything it is asked for, and ``hssync resync`` always syncs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.config import OPT_OUT_HUBSPOT, OPT_OUT_SALESFORCE
from shared.models import LEAD, SfObject, System
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY
from shared.pipeline.dedupe.records import id_or_none, sf_object
from shared.pipeline.fields import ContactFields, FieldTypes
from shared.ports import Link, StatePort

CONVERTED = "IsConverted"  # a Lead's: converted Leads are always read (the link moves)


@dataclass(frozen=True)
class Polled:
    """A record as the poll read it: its id, modification stamp and the values it was read with."""

    id: str
    stamp: dt.datetime
    values: Mapping[str, Any]


class Schema(Protocol):
    """The contact mappings and field types (``shared.pipeline.dedupe.contacts.ContactSchema``)."""

    @property
    def fields(self) -> ContactFields: ...

    @property
    def types(self) -> FieldTypes: ...

    def comparable(self, prop: str, sf_object_name: str, value: Any) -> str | None: ...


def compared(schema: Schema, record_object: SfObject) -> list[tuple[str, str]]:
    """(HubSpot property, Salesforce field) of every value dedupe syncs for a pair with this object:
    the mapped fields the org has, and the opt-out (S14)."""
    pairs = [(m.hubspot, f) for m, f in schema.fields.for_object(record_object)]
    pairs.append((OPT_OUT_HUBSPOT, OPT_OUT_SALESFORCE))
    return [(p, f) for p, f in dict(pairs).items() if schema.types.has_field(record_object, f)]


def salesforce_fields(schema: Schema, sobject: str) -> list[str]:
    """What the poll reads of a Lead or Contact: the compared fields, the owner, ids and stamps."""
    record_object = sf_object(sobject)
    extra = {CONVERTED} if record_object == LEAD else set()
    mapped = {f for _, f in compared(schema, record_object)}
    return sorted({"Id", "SystemModstamp", OWNER_FIELD, *mapped, *extra})


def hubspot_properties(schema: Schema) -> list[str]:
    """What the poll reads of a HubSpot contact: every mapped property, the owner and the opt-out."""
    return schema.fields.hubspot_properties()


def holds_what_was_synced(link: Link, side: System, values: Mapping[str, Any], schema: Schema) -> bool:
    """Whether the record read on ``side`` holds, for every field of its pair's mappings, the value
    hssync last synced (and the owner it last synced), with no write in flight."""
    if link.intent is not None:
        return False
    record_object = sf_object(link.sf_object)
    at = 0 if side is System.HUBSPOT else 1
    for prop, field in compared(schema, record_object):
        remembered = link.synced.get(prop)
        raw = values.get(prop if side is System.HUBSPOT else field)
        if remembered is None or schema.comparable(prop, record_object, raw) != remembered[at]:
            return False
    owner = (
        values.get(OWNER_PROPERTY) or None if side is System.HUBSPOT else id_or_none(values.get(OWNER_FIELD))
    )
    remembered_owner = link.synced.get(OWNER_PROPERTY)
    return owner == (remembered_owner[at] if remembered_owner is not None else None)


class PollReconciler:
    """Which of a poll's records of a contact target need dedupe (the rest count as unchanged).

    A HubSpot contact is compared with its portal's link. A Salesforce record is read once for every
    portal of the stack (S3), so it is left alone only when it holds what hssync last synced in each
    of ``salesforce_portals`` (default: ``portal`` alone)."""

    def __init__(
        self, schema: Schema, state: StatePort, portal: str, salesforce_portals: Sequence[str] = ()
    ) -> None:
        self.schema = schema
        self.state = state
        self.portal = portal
        self.salesforce_portals = list(salesforce_portals) or [portal]

    def read_fields(self, system: System, object_type: str) -> list[str]:
        if system is System.HUBSPOT:
            return hubspot_properties(self.schema)
        return salesforce_fields(self.schema, object_type)

    def to_queue(self, system: System, object_type: str, polled: Sequence[Polled]) -> list[Polled]:
        """The records of ``polled`` that do not hold what hssync last synced (one batched read of
        their links)."""
        ids = [p.id for p in polled]
        if system is System.HUBSPOT:
            links = self.state.links_by_hubspot(self.portal, ids)
            return [p for p in polled if not self._unchanged(system, object_type, p, links.get(p.id))]
        changed: set[str] = set()
        for portal in self.salesforce_portals:  # one batched read of the links per portal
            links = self.state.links_by_salesforce(portal, ids)
            changed |= {p.id for p in polled if not self._unchanged(system, object_type, p, links.get(p.id))}
        return [p for p in polled if p.id in changed]

    def _unchanged(self, system: System, object_type: str, polled: Polled, link: Link | None) -> bool:
        if link is None:
            return False
        if system is System.SALESFORCE and not _same_live_record(link, object_type, polled):
            return False
        return holds_what_was_synced(link, system, polled.values, self.schema)


def _same_live_record(link: Link, object_type: str, polled: Polled) -> bool:
    """The link is to this very record (not a duplicate of it), and it is not a converted Lead."""
    return (link.sf_object, link.sf_id) == (object_type, polled.id) and not polled.values.get(CONVERTED)
