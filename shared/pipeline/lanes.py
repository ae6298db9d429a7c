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
- its source wrote it together with other records (:data:`TOGETHER`): a Salesforce transaction
  that wrote several records (``ChangeEvent.transaction_records``: its change event names several
  ``recordIds``, or is not the first event of its transaction), or one HubSpot app or user
  (change source and source id) changing several records of one object in one webhook request. A
  Salesforce deletion counts only the records it names, and is a load only when it names more than
  a merge deletes (:data:`MERGED_AT_MOST`): a merge's deletions travel with its master's update,
  the first event of its transaction.

Salesforce gives each new record of an import its own change event (their values differ) but one
transaction per 200 records, and the relay receives at most 10 events at a time, often one; HubSpot
sends a notification per property, up to 100 a request, which the webhook folds into a change per
record, so a 100-contact batch write is about a dozen changes a request. A count of 50 (dedupe's
``BULK_CHANGES``, for holding a part of a batch back) is never reached at the entry, so a load
shows by what its source wrote together. A person's save is one record: the first of its Salesforce
transaction (what a trigger or a flow then writes in it is numbered after it and takes the bulk
lane), one record of a HubSpot user in a request.

Everything else is a person's edit, in the fast lane, also when it arrives in the same request as
a load's notifications or relayed with a load's change events. A person who edits several records
at once (a mass edit) takes the bulk lane: when no load fills it, that lane is as fast as the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from shared.models import RESYNC_ORIGIN, ChangeEvent, ChangeType, System
from shared.queues import Queue

# records written together by one source (a Salesforce transaction; a HubSpot app or user in one
# webhook request) that make a load or a mass update, not a person's save
TOGETHER = 2
# a merge deletes at most two records (Salesforce merges up to three) in the transaction that
# updates its master: a deletion naming no more is not a load, so it travels with the master's update
MERGED_AT_MOST = 2
# HubSpot's change source of an import
HUBSPOT_IMPORT = "IMPORT"
# the origins of the poller's changes (``shared.pipeline.poll``): what it finds, a backfill, a
# resync of records or of a list, the members joining the inclusion list
POLLER_ORIGINS = frozenset({"hssync:poll", RESYNC_ORIGIN, "hssync:list-join"})
BULK_ORIGINS = POLLER_ORIGINS | {HUBSPOT_IMPORT}

Writer = tuple[str, str, str, str, str]  # system, account, object, origin, origin id


def _writer(event: ChangeEvent) -> Writer | None:
    """Who wrote a HubSpot change, when its notifications say (folded ones of several do not)."""
    if event.system is System.SALESFORCE or event.origin is None or event.origin_id is None:
        return None
    return (str(event.system), event.account, event.object_type, event.origin, event.origin_id)


def writers_of_many(events: Sequence[ChangeEvent], together: int = TOGETHER) -> set[Writer]:
    """The HubSpot apps and users that changed at least ``together`` records of an object in ``events``."""
    records: dict[Writer, set[str]] = {}
    for event in events:
        writer = _writer(event)
        if writer is not None:
            records.setdefault(writer, set()).add(event.record_id)
    return {writer for writer, ids in records.items() if len(ids) >= together}


def classify(events: Sequence[ChangeEvent], *, bulk_source: bool = False) -> list[ChangeEvent]:
    """``events`` (one arrival: a webhook request, a batch of change events, a poll) with their lane
    set: ``bulk`` for a load (see the module), every event when ``bulk_source`` (the poller's own).
    An event already bulk stays bulk."""
    many = writers_of_many(events)

    def bulk(event: ChangeEvent) -> bool:
        if bulk_source or event.bulk or event.origin in BULK_ORIGINS:
            return True
        if event.system is System.SALESFORCE:
            if event.change_type is ChangeType.DELETE:
                return event.transaction_records > MERGED_AT_MOST
            return event.transaction_records >= TOGETHER
        return _writer(event) in many

    lanes = [(event, bulk(event)) for event in events]
    return [e if e.bulk == lane else e.model_copy(update={"bulk": lane}) for e, lane in lanes]


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

    def by_queue(self, events: Sequence[ChangeEvent]) -> list[tuple[Queue, list[ChangeEvent]]]:
        """``events`` per queue of their lanes, in order (one queue for both: all of them, as they came)."""
        queues: dict[int, tuple[Queue, list[ChangeEvent]]] = {}
        for event in events:
            queue = self.of(event.bulk)
            queues.setdefault(id(queue), (queue, []))[1].append(event)
        return list(queues.values())

    def send_changes(
        self, events: Sequence[ChangeEvent], body: Callable[[ChangeEvent], str], *, delay_seconds: int = 0
    ) -> None:
        """Each change (as ``body`` writes it) to the queue of its lane."""
        for queue, mine in self.by_queue(events):
            queue.send([body(event) for event in mine], delay_seconds=delay_seconds)
