"""The poller: reconciliation and the fallback for orgs without Change Data Capture.

It reads what changed since its cursor (Salesforce: SOQL on ``SystemModstamp``; HubSpot: search on
``hs_lastmodifieddate``) and queues a RESYNC change event per record; dedupe decides the rest, so
re-reading something already synced costs reads but never writes. The cursor is the newest
timestamp actually processed, stored only after the events are queued: a crash re-reads, it never
skips. Records sharing the boundary timestamp are re-read (not lost) on the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.models import ChangeEvent, ChangeType, System
from shared.ports import HubSpotPort, SalesforcePort, StatePort

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PAGE = 2000
SALESFORCE_OBJECTS = ("Lead", "Contact")


@dataclass(frozen=True)
class PollTarget:
    system: System
    object_type: str  # "contacts" or an sObject

    @property
    def cursor_name(self) -> str:
        return f"poll:{self.system.value}:{self.object_type}"


ALL_TARGETS = (
    PollTarget(System.HUBSPOT, "contacts"),
    *(PollTarget(System.SALESFORCE, o) for o in SALESFORCE_OBJECTS),
)


@dataclass
class PollResult:
    queued: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)


class Poller:
    def __init__(
        self,
        *,
        portal: str,
        org_id: str,
        salesforce: SalesforcePort,
        hubspot: HubSpotPort,
        state: StatePort,
        enqueue: Callable[[Sequence[ChangeEvent]], object],
        max_records: int = 10_000,
    ) -> None:
        self.portal = portal
        self.org_id = org_id
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.state = state
        self.enqueue = enqueue
        self.max_records = max_records

    def poll(
        self, targets: Sequence[PollTarget] = ALL_TARGETS, *, since: dt.datetime | None = None
    ) -> PollResult:
        """Queue what changed since each target's cursor (or since ``since``, e.g. a backfill from the
        epoch, which leaves the cursor alone unless it moves it forward)."""
        result = PollResult()
        for target in targets:
            stored = self.state.get_cursor(self.portal, target.cursor_name)
            cursor = dt.datetime.fromisoformat(stored) if stored else None
            start = since or cursor or EPOCH
            newest, count = self._poll_target(target, start)
            result.queued[target.cursor_name] = count
            if newest is not None and (cursor is None or newest > cursor):
                self.state.set_cursor(self.portal, target.cursor_name, newest.isoformat())
                result.cursors[target.cursor_name] = newest.isoformat()
        return result

    def _poll_target(self, target: PollTarget, start: dt.datetime) -> tuple[dt.datetime | None, int]:
        seen: set[str] = set()
        newest: dt.datetime | None = None
        since = start
        while len(seen) < self.max_records:
            page = self._read(target, since)
            fresh = [(record_id, stamp) for record_id, stamp in page if record_id not in seen]
            if fresh:
                self.enqueue([self._event(target, record_id, stamp) for record_id, stamp in fresh])
                seen.update(record_id for record_id, _ in fresh)
                newest = max([stamp for _, stamp in fresh] + ([newest] if newest else []))
            if len(page) < PAGE or not fresh:
                break
            # the next page starts just before the last timestamp: records sharing it are not lost
            since = max(stamp for _, stamp in page) - dt.timedelta(milliseconds=1)
        return newest, len(seen)

    def _read(self, target: PollTarget, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
        if target.system is System.HUBSPOT:
            contacts = self.hubspot.contacts_modified_since(since, ["email"], PAGE)
            return [(c.id, c.updated_at) for c in contacts]
        records = self.salesforce.modified_since(target.object_type, since, ["Id", "SystemModstamp"], PAGE)
        return [(r.id, _modstamp(r.fields.get("SystemModstamp")) or r.last_modified) for r in records]

    def _event(self, target: PollTarget, record_id: str, stamp: dt.datetime) -> ChangeEvent:
        return ChangeEvent(
            system=target.system,
            account=self.portal if target.system is System.HUBSPOT else self.org_id,
            object_type=target.object_type,
            record_id=record_id,
            change_type=ChangeType.RESYNC,
            occurred_at=stamp,
            origin="hssync:poll",
            source_event_id=f"poll:{stamp.isoformat()}",
        )


def _modstamp(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # Salesforce's +0000 offset form
    return dt.datetime.fromisoformat(text)
