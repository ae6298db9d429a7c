"""Bulk-load batching: a batch costs whole API calls, so under a bulk load of Salesforce changes (an
import, a mass update) dedupe works on whole chunks of records and holds the rest for the next
batch.

Salesforce changes are looked up in HubSpot (batch read by email or id) and their new contacts
created there, 100 records per call: a batch of Salesforce changes costs calls per 100 records.
An event is held back at most once, and a batch of fewer than :data:`BULK_CHANGES` changes of an
object (a person editing records) is never held, so single edits keep their latency.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from shared.models import ChangeEvent, System
from shared.pipeline.dedupe.echo import made_in_salesforce_by_hssync
from shared.pipeline.dedupe.records import READABLE, SF_OBJECTS

HUBSPOT_CHUNK = 100
# this many changes of one object in one batch are a bulk load, not people editing records
BULK_CHANGES = 50


def fill_batches(
    events: Sequence[ChangeEvent],
    *,
    chunk: int = HUBSPOT_CHUNK,
    bulk: int = BULK_CHANGES,
    objects: Collection[str] = SF_OBJECTS,
    chunks: Mapping[str, int] | None = None,
) -> tuple[list[ChangeEvent], list[ChangeEvent]]:
    """Splits a batch into what to work on now and what to hold back for the next batch, so that
    under a bulk load the HubSpot calls a batch makes are full.

    Per Salesforce object of ``objects`` (Leads and Contacts; with account sync on, Accounts too:
    their companies are read and created 100 a call as well; with deal sync on, Opportunities and
    their contact roles, whose chunks ``chunks`` names), counting distinct records: more than
    a chunk -> whole chunks now, the rest held; a part of a chunk that looks like a bulk load (at
    least ``bulk`` records, none held before) -> all held, to be joined by what arrives next.
    Records held before are always worked on now, so nothing waits more than one extra batch. Held
    events come back marked ``held``; HubSpot notifications, deletions and hssync's own changes are
    never held.
    """
    hold: set[tuple[str, str]] = set()
    for sf_object, seen in _records(events, objects).items():
        size = (chunks or {}).get(sf_object, chunk)
        hold.update((sf_object, rid) for rid in _to_hold(seen, size, bulk))

    def waits(event: ChangeEvent) -> bool:
        return event.system is System.SALESFORCE and (event.object_type, event.record_id) in hold

    now = [e for e in events if not waits(e)]
    held = [e.model_copy(update={"held": True}) for e in events if waits(e)]
    return now, held


def _records(events: Sequence[ChangeEvent], objects: Collection[str]) -> dict[str, dict[str, bool]]:
    """Object -> record id -> whether it was held before, in arrival order, of the changes that
    cost HubSpot calls."""
    records: dict[str, dict[str, bool]] = {}
    for event in events:
        if _fills_hubspot_calls(event, objects):
            seen = records.setdefault(event.object_type, {})
            seen[event.record_id] = seen.get(event.record_id, False) or event.held
    return records


def _to_hold(seen: dict[str, bool], chunk: int, bulk: int) -> list[str]:
    """The records of one object to hold back (see :func:`fill_batches`)."""
    total, before = len(seen), sum(seen.values())
    if total > chunk:
        keep = max(before, total - total % chunk)
    elif before == 0 and bulk <= total < chunk:
        keep = 0
    else:
        return []
    # the newest arrivals wait: they have waited least
    fresh = [rid for rid, was_held in seen.items() if not was_held]
    return fresh[len(fresh) - (total - keep) :]


def _fills_hubspot_calls(event: ChangeEvent, objects: Collection[str]) -> bool:
    return (
        event.system is System.SALESFORCE
        and event.object_type in objects
        and event.change_type in READABLE
        and not made_in_salesforce_by_hssync(event)
    )
