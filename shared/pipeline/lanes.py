"""The two lanes a change travels in: people's edits apart from bulk loads (issue 17).

Each stage has a queue per lane (``template.yaml``: ``ChangesQueue``, ``OwnersQueue`` and
``WritesQueue`` are the fast lane, ``BulkChangesQueue``, ``BulkOwnersQueue`` and
``BulkWritesQueue`` the bulk lane), each consumed by its own event source on the same function, so
that a backlog of thousands of bulk records never stands in front of a person's edit.

Where a change enters (the webhook, the Salesforce event relay, the poller) it is classified once,
here, and the lane travels with it: a change carries ``bulk``, and so does the message of plans
dedupe makes of it (``PlanBatch.bulk``); every stage sends what it passes on, holds, defers or sends
back to the queue of that lane.

A change is bulk when

- it comes from the poller (a scheduled poll, a backfill, a resync, a list join) or from a
  HubSpot import: bulk by origin; or
- it arrives with many others of its kind: at least :data:`BULK_CHANGES` distinct records of one
  object from one origin (HubSpot: its change source and source id) in one arrival (one webhook
  request, one batch of Salesforce change events). A Salesforce change event naming many
  ``recordIds`` is many changes of one origin; a Salesforce change event naming one record is a
  person's save (Salesforce puts the records of a load's transaction in one event), so it is
  never counted with a load from the same API client.

Everything else is a person's edit, in the fast lane. The count is per origin, so a person's edit
that arrives with an import's or an integration's notifications stays in the fast lane.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.models import RESYNC_ORIGIN, ChangeEvent, System
from shared.queues import Queue

# this many records of one object in one arrival are a bulk load, not people editing records
BULK_CHANGES = 50
# HubSpot's change source of an import
HUBSPOT_IMPORT = "IMPORT"
# the origins of the poller's changes (``shared.pipeline.poll``): what it finds, a backfill, a
# resync of records or of a list, the members joining the inclusion list
POLLER_ORIGINS = frozenset({"hssync:poll", RESYNC_ORIGIN, "hssync:list-join"})
BULK_ORIGINS = POLLER_ORIGINS | {HUBSPOT_IMPORT}

Group = tuple[str, str, str, str | None, str | None]  # system, account, object, origin, origin id


def _group(event: ChangeEvent) -> Group:
    return (str(event.system), event.account, event.object_type, event.origin, event.origin_id)


SourceEvent = tuple[str, str, str, str]  # account, object, the source's event id, change type


def _source_event(event: ChangeEvent) -> SourceEvent:
    return (event.account, event.object_type, event.source_event_id, str(event.change_type))


def _single_saves(events: Iterable[ChangeEvent]) -> set[SourceEvent]:
    """The Salesforce change events that name one record: a person's save."""
    records: dict[SourceEvent, set[str]] = {}
    for event in events:
        if event.system is System.SALESFORCE:
            records.setdefault(_source_event(event), set()).add(event.record_id)
    return {key for key, ids in records.items() if len(ids) == 1}


def bulk_groups(events: Sequence[ChangeEvent], threshold: int = BULK_CHANGES) -> set[Group]:
    """The (system, account, object, origin, origin id) groups of ``events`` naming at least
    ``threshold`` distinct records (a Salesforce change event of one record is not counted)."""
    single = _single_saves(events)
    records: dict[Group, set[str]] = {}
    for event in events:
        if _source_event(event) in single:
            continue
        records.setdefault(_group(event), set()).add(event.record_id)
    return {group for group, ids in records.items() if len(ids) >= threshold}


def classify(
    events: Sequence[ChangeEvent], *, bulk_source: bool = False, threshold: int = BULK_CHANGES
) -> list[ChangeEvent]:
    """``events`` (one arrival) with their lane set: ``bulk`` for a bulk load (see the module),
    every event when ``bulk_source`` (the poller's own). An event already bulk stays bulk."""
    many = bulk_groups(events, threshold)
    single = _single_saves(events)

    def bulk(event: ChangeEvent) -> bool:
        if bulk_source or event.bulk or event.origin in BULK_ORIGINS:
            return True
        return _source_event(event) not in single and _group(event) in many

    return [e if e.bulk == bulk(e) else e.model_copy(update={"bulk": bulk(e)}) for e in events]


def split(events: Iterable[ChangeEvent]) -> tuple[list[ChangeEvent], list[ChangeEvent]]:
    """(the fast lane's, the bulk lane's) of ``events``, in order."""
    fast: list[ChangeEvent] = []
    bulk: list[ChangeEvent] = []
    for event in events:
        (bulk if event.bulk else fast).append(event)
    return fast, bulk


def all_bulk(flags: Iterable[bool]) -> bool:
    """The lane of what a stage made of one batch: bulk only when every message of it was bulk
    (a batch comes from one lane's queue; anything fast in it keeps the fast lane)."""
    seen = list(flags)
    return bool(seen) and all(seen)


@dataclass(frozen=True)
class LaneQueues:
    """A stage's queue in each lane; without a bulk queue, both lanes share the fast one."""

    fast: Queue
    bulk: Queue | None = None

    def of(self, bulk: bool) -> Queue:
        return self.bulk if bulk and self.bulk is not None else self.fast

    def send(self, bodies: Sequence[str], *, bulk: bool, delay_seconds: int = 0) -> None:
        if bodies:
            self.of(bulk).send(bodies, delay_seconds=delay_seconds)
