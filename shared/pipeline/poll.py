"""The poller: reconciliation, the fallback for orgs without Change Data Capture, and resyncs.

It reads what changed since its cursor (Salesforce: SOQL on ``SystemModstamp``; HubSpot: search on
``hs_lastmodifieddate``) and queues a RESYNC change event per record; dedupe decides the rest, so
re-reading something already synced costs reads but never writes. The cursor is the newest
timestamp actually processed, stored only after the events are queued: a crash re-reads, it never
skips. Records sharing the boundary timestamp are re-read (not lost) on the next run.

With an inclusion list configured (``inclusion.list_id``), the scheduled poll also asks HubSpot
which contacts joined the list since its own cursor (lists v3 memberships in join order): entering
the list is not a change of the contact, so no webhook and no search would see it. The list cursor
is the newest join timestamp queued plus the ids queued at exactly that timestamp (HubSpot adds a
bulk of records with one timestamp): the next run reads joins from that timestamp on, inclusive,
and skips those ids, so a join sharing the boundary timestamp is neither lost nor queued twice.

Poll requests (the PollRequestsQueue) ask for one of: a poll of one target (``since`` for a
backfill, none for a GAP_OVERFLOW), a resync of given record ids (no API call: one RESYNC event
per id), a resync of every member of a HubSpot list, or a resync of the records of one object that
a Salesforce user or queue owns (what an owner's sync-health entry names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.deals.ports import HubSpotDealsPort
from shared.ids import (
    ACCOUNT_KEY_PREFIX,
    OPPORTUNITY_KEY_PREFIX,
    OWNER_KEY_PREFIXES,
    SALESFORCE_KEY_PREFIXES,
    salesforce_id18,
)
from shared.models import (
    ACCOUNT,
    COMPANIES,
    CONTACTS,
    DEALS,
    OPPORTUNITY,
    RESYNC_ORIGIN,
    SALESFORCE_OBJECTS,
    ChangeEvent,
    ChangeType,
    System,
)
from shared.pipeline.poll_reconcile import Polled, PollReconciler
from shared.ports import (
    HubSpotCompaniesPort,
    HubSpotPort,
    ModifiedRead,
    SalesforcePort,
    SalesforceRecord,
    StatePort,
)
from shared.times import EPOCH, parse_timestamp, utc_now

PAGE = 2000
OBJECT_TYPES = {System.HUBSPOT: (CONTACTS,), System.SALESFORCE: SALESFORCE_OBJECTS}
# with account sync on, the poller also reads these (and takes poll requests for them, not ids)
ACCOUNT_OBJECT_TYPES = {System.HUBSPOT: (COMPANIES,), System.SALESFORCE: (ACCOUNT,)}
# with deal sync on, these too (poll requests and ids, no owners)
DEAL_OBJECT_TYPES = {System.HUBSPOT: (DEALS,), System.SALESFORCE: (OPPORTUNITY,)}
MAX_IDS_PER_REQUEST = 1000  # a poll request stays far below SQS's 256 KiB
ENQUEUE_CHUNK = 500


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
ACCOUNT_TARGETS = (PollTarget(System.HUBSPOT, COMPANIES), PollTarget(System.SALESFORCE, ACCOUNT))
DEAL_TARGETS = (PollTarget(System.HUBSPOT, DEALS), PollTarget(System.SALESFORCE, OPPORTUNITY))


def list_cursor_name(list_id: str) -> str:
    return f"poll:hubspot:list:{list_id}"


class PollRequest(BaseModel):
    """A message on the PollRequestsQueue. One of three kinds:

    - ``{system, object_type, since?, reason}``: poll one target (from ``since``, else its cursor);
    - ``{system, object_type, ids, reason}``: resync these records (Salesforce ids in 15 or 18
      characters, of the object their key prefix says);
    - ``{list_id, reason}``: resync every member of a HubSpot list;
    - ``{system: salesforce, object_type, owner_id, reason}``: resync the records of ``object_type``
      this user (005...) or queue (00G...) owns.

    A HubSpot request may name its ``portal`` (several portals).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: System | None = None
    object_type: str | None = None
    since: dt.datetime | None = None  # a backfill reads from here instead of the cursor
    ids: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=MAX_IDS_PER_REQUEST)
    list_id: str | None = Field(default=None, pattern=r"^[0-9]+$")
    owner_id: str | None = None
    reason: str = "requested"
    # the HubSpot portal of a HubSpot request (several portals, S3); None: a poll of every portal,
    # ids and lists of the stack's first portal (``shared.pipeline.poll_portals``)
    portal: str | None = Field(default=None, pattern=r"^[0-9]+$")

    @model_validator(mode="after")
    def _portal_of_hubspot(self) -> PollRequest:
        if self.portal is not None and self.system is System.SALESFORCE:
            raise ValueError("a Salesforce request names no portal (it is read once for every portal)")
        return self

    @model_validator(mode="after")
    def _one_kind(self) -> PollRequest:
        if self.list_id is not None:
            if self.ids is not None or self.since is not None:
                raise ValueError("a list resync takes no ids and no since")
            if self.system not in (None, System.HUBSPOT) or self.object_type not in (None, "contacts"):
                raise ValueError("a list resync is of HubSpot contacts")
            return self
        if self.system is None or self.object_type is None:
            raise ValueError("system and object_type are required (or list_id)")
        # account and deal sync: no owners
        others = ACCOUNT_OBJECT_TYPES[self.system] + DEAL_OBJECT_TYPES[self.system]
        if self.object_type not in OBJECT_TYPES[self.system] and not (
            self.object_type in others and self.owner_id is None
        ):
            allowed = " or ".join(OBJECT_TYPES[self.system] + others)
            raise ValueError(f"{self.system.value} object_type must be {allowed}, not {self.object_type!r}")
        if self.owner_id is not None:
            return self._owner_request()
        if self.ids is None:
            return self
        if self.since is not None:
            raise ValueError("a resync of ids takes no since")
        for record_id in self.ids:
            normalise_id(self.system, self.object_type, record_id)
        return self

    def _owner_request(self) -> PollRequest:
        if self.system is not System.SALESFORCE or self.ids is not None or self.since is not None:
            raise ValueError("an owner resync is of Salesforce records, without ids or since")
        owner = salesforce_id18(str(self.owner_id))  # ValueError for anything but an id
        if owner[:3] not in OWNER_KEY_PREFIXES:
            raise ValueError(f"{self.owner_id!r} is not a user (005) or queue (00G) id")
        return self

    @property
    def kind(self) -> str:
        if self.owner_id is not None:
            return "owner"
        return "list" if self.list_id is not None else "ids" if self.ids is not None else "poll"


def normalise_id(system: System, object_type: str, record_id: str) -> str:
    """The id as the pipeline keys it (Salesforce: 18 characters); ValueError if it cannot be one."""
    text = record_id.strip()
    if system is System.HUBSPOT:
        if not text.isdigit():
            noun = {COMPANIES: "company", DEALS: "deal"}.get(object_type, "contact")
            raise ValueError(f"not a HubSpot {noun} id: {record_id!r}")
        return text
    id18 = salesforce_id18(text)  # ValueError for anything but 15/18 alphanumerics
    others = {ACCOUNT_KEY_PREFIX: ACCOUNT, OPPORTUNITY_KEY_PREFIX: OPPORTUNITY}
    expected = others.get(id18[:3]) or SALESFORCE_KEY_PREFIXES.get(id18[:3])
    if expected != object_type:
        raise ValueError(f"{record_id!r} is not a {object_type} id (key prefix {id18[:3]})")
    return id18


@dataclass
class PollResult:
    queued: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    # per target, the records read that held what hssync last synced (not queued: a reconciling poll)
    unchanged: dict[str, int] = field(default_factory=dict)

    def merge(self, other: PollResult) -> PollResult:
        for name, count in other.queued.items():
            self.queued[name] = self.queued.get(name, 0) + count
        for name, count in other.unchanged.items():
            self.unchanged[name] = self.unchanged.get(name, 0) + count
        self.cursors.update(other.cursors)
        return self


@dataclass(frozen=True)
class ListCursor:
    """How far the list-join poll got: the newest join queued and the ids joined at exactly then."""

    joined_at: dt.datetime
    ids: frozenset[str] = frozenset()

    def encode(self) -> str:
        return " ".join([self.joined_at.isoformat(), ",".join(sorted(self.ids))]).strip()

    @classmethod
    def decode(cls, value: str | None) -> ListCursor | None:
        if not value:
            return None
        stamp, _, ids = value.partition(" ")
        return cls(dt.datetime.fromisoformat(stamp), frozenset(i for i in ids.split(",") if i))


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
        clock: Callable[[], dt.datetime] = utc_now,
        companies: HubSpotCompaniesPort | None = None,
        deals: HubSpotDealsPort | None = None,
        reconciler: PollReconciler | None = None,
    ) -> None:
        """``companies``: the account sync port, for polling HubSpot companies; ``deals``: the deal
        sync port, for polling HubSpot deals; ``reconciler``: what lets a poll from the cursor skip
        the contacts that hold what hssync last synced (``shared.pipeline.poll_reconcile``); None:
        every record read is queued."""
        self.companies = companies
        self.deals = deals
        self.reconciler = reconciler
        self.portal = portal
        self.org_id = org_id
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.state = state
        self.enqueue = enqueue
        self.max_records = max_records
        self.clock = clock

    # -- the schedule: poll(ALL_TARGETS), then poll_list_joins(inclusion list) when one is set --
    def poll(
        self, targets: Sequence[PollTarget] = ALL_TARGETS, *, since: dt.datetime | None = None
    ) -> PollResult:
        """Queue what changed since each target's cursor (or since ``since``, e.g. a backfill from the
        epoch, which leaves the cursor alone unless it moves it forward)."""
        result = PollResult()
        reconcile = since is None
        cursors = {t: self._cursor(t) for t in targets}
        starts = {t: since or cursors[t] or EPOCH for t in targets}
        first_pages = self._salesforce_first_pages(targets, starts, reconcile=reconcile)
        for target in targets:
            cursor = cursors[target]
            newest, count, unchanged = self._poll_target(
                target, starts[target], reconcile=reconcile, first_page=first_pages.get(target)
            )
            result.queued[target.cursor_name] = count
            if unchanged:
                result.unchanged[target.cursor_name] = unchanged
            if newest is not None and (cursor is None or newest > cursor):
                self.state.set_cursor(self.portal, target.cursor_name, newest.isoformat())
                result.cursors[target.cursor_name] = newest.isoformat()
        return result

    def _cursor(self, target: PollTarget) -> dt.datetime | None:
        stored = self.state.get_cursor(self.portal, target.cursor_name)
        return dt.datetime.fromisoformat(stored) if stored else None

    def _salesforce_first_pages(
        self, targets: Sequence[PollTarget], starts: Mapping[PollTarget, dt.datetime], *, reconcile: bool
    ) -> dict[PollTarget, list[Polled]]:
        """The first page of every Salesforce target, read together where there are several (one
        Composite call holds up to 5 objects' queries): a poll after a quiet spell costs one call."""
        salesforce = [t for t in targets if t.system is System.SALESFORCE]
        if len(salesforce) < 2:
            return {}
        reads = [
            ModifiedRead(
                t.object_type,
                starts[t],
                self._salesforce_fields(t, self._reconciler(t) if reconcile else None),
            )
            for t in salesforce
        ]
        pages = self.salesforce.modified_since_each(reads, PAGE)
        return {t: [_polled(r) for r in records] for t, records in zip(salesforce, pages, strict=True)}

    def poll_list_joins(self, list_id: str) -> PollResult:
        """Queue a RESYNC for each contact that joined the list since the list's cursor (every member
        on the first run), at most ``max_records`` a run; the cursor moves after they are queued."""
        name = list_cursor_name(list_id)
        cursor = ListCursor.decode(self.state.get_cursor(self.portal, name))
        joined = self.hubspot.list_members_joined_since(list_id, cursor.joined_at if cursor else EPOCH)
        fresh: dict[str, dt.datetime] = {}
        for contact_id, stamp in sorted(joined, key=lambda joined_at: joined_at[1]):  # stable
            if cursor is not None and (
                stamp < cursor.joined_at or (stamp == cursor.joined_at and contact_id in cursor.ids)
            ):
                continue
            if contact_id not in fresh:
                fresh[contact_id] = stamp
            if len(fresh) >= self.max_records:
                break
        result = PollResult(queued={name: len(fresh)})
        if not fresh:
            return result
        joins = [self._hubspot_event(cid, stamp, origin="hssync:list-join") for cid, stamp in fresh.items()]
        self._enqueue(joins)
        newest = max(fresh.values())
        at_newest = {cid for cid, stamp in fresh.items() if stamp == newest}
        if cursor is not None and newest == cursor.joined_at:
            at_newest |= cursor.ids
        value = ListCursor(newest, frozenset(at_newest)).encode()
        self.state.set_cursor(self.portal, name, value)
        result.cursors[name] = value
        return result

    # -- requests --------------------------------------------------------------------------------
    def serve(self, request: PollRequest) -> PollResult:
        """What one poll request asks for."""
        if request.list_id is not None:
            return self.resync_list(request.list_id)
        if request.system is None or request.object_type is None:  # PollRequest's validator refuses it
            raise ValueError("a poll request without system and object_type")
        if request.ids is not None:
            return self.resync(request.system, request.object_type, request.ids)
        if request.owner_id is not None:
            return self.resync_owned(request.object_type, request.owner_id)
        return self.poll([PollTarget(request.system, request.object_type)], since=request.since)

    def resync(self, system: System, object_type: str, ids: Sequence[str]) -> PollResult:
        """One RESYNC event per record (no API call): dedupe reads each and syncs what differs."""
        wanted = list(dict.fromkeys(normalise_id(system, object_type, i) for i in ids))
        now = self.clock()
        self._enqueue([self._event(PollTarget(system, object_type), i, now, RESYNC_ORIGIN) for i in wanted])
        return PollResult(queued={f"resync:{system.value}:{object_type}": len(wanted)})

    def resync_owned(self, object_type: str, owner_id: str) -> PollResult:
        """Every record of ``object_type`` the Salesforce user or queue owns, as RESYNC events."""
        owned = self.salesforce.owned_by(object_type, salesforce_id18(owner_id))
        now = self.clock()
        target = PollTarget(System.SALESFORCE, object_type)
        self._enqueue([self._event(target, i, now, RESYNC_ORIGIN) for i in dict.fromkeys(owned)])
        return PollResult(queued={f"resync:salesforce:{object_type}:owner:{owner_id}": len(owned)})

    def resync_list(self, list_id: str) -> PollResult:
        """Every current member of the HubSpot list, as RESYNC events."""
        members = list(dict.fromkeys(self.hubspot.list_member_ids(list_id)))
        now = self.clock()
        self._enqueue([self._hubspot_event(cid, now, origin=RESYNC_ORIGIN) for cid in members])
        return PollResult(queued={f"resync:hubspot:list:{list_id}": len(members)})

    def _enqueue(self, events: Sequence[ChangeEvent]) -> None:
        for start in range(0, len(events), ENQUEUE_CHUNK):
            self.enqueue(events[start : start + ENQUEUE_CHUNK])

    # -- reading ---------------------------------------------------------------------------------
    def _poll_target(
        self,
        target: PollTarget,
        start: dt.datetime,
        *,
        reconcile: bool,
        first_page: list[Polled] | None = None,
    ) -> tuple[dt.datetime | None, int, int]:
        """(the newest stamp read, records queued, records left alone as unchanged); ``first_page``:
        the target's first page, when it was read already."""
        reconciler = self._reconciler(target) if reconcile else None
        seen: set[str] = set()
        newest: dt.datetime | None = None
        since = start
        queued = 0
        while len(seen) < self.max_records:
            page = first_page if first_page is not None else self._read(target, since, reconciler)
            first_page = None
            fresh = [p for p in page if p.id not in seen]
            if fresh:
                changed = (
                    reconciler.to_queue(target.system, target.object_type, fresh) if reconciler else fresh
                )
                if changed:
                    self.enqueue([self._event(target, p.id, p.stamp) for p in changed])
                queued += len(changed)
                seen.update(p.id for p in fresh)
                newest = max([p.stamp for p in fresh] + ([newest] if newest else []))
            if len(page) < PAGE or not fresh:
                break
            # the next page starts just before the last timestamp: records sharing it are not lost
            since = max(p.stamp for p in page) - dt.timedelta(milliseconds=1)
        return newest, queued, len(seen) - queued

    def _reconciler(self, target: PollTarget) -> PollReconciler | None:
        """The reconciler for a contact target (companies and Accounts are read and queued whole)."""
        contact_target = target.object_type in OBJECT_TYPES[target.system]
        return self.reconciler if contact_target else None

    def _read(
        self, target: PollTarget, since: dt.datetime, reconciler: PollReconciler | None
    ) -> list[Polled]:
        if target.system is System.HUBSPOT and target.object_type == COMPANIES:
            if self.companies is None:
                raise ValueError("polling companies needs the companies port (account sync)")
            companies = self.companies.companies_modified_since(since, ["name"], PAGE)
            return [Polled(c.id, c.updated_at, c.properties) for c in companies]
        if target.system is System.HUBSPOT and target.object_type == DEALS:
            if self.deals is None:
                raise ValueError("polling deals needs the deals port (deal sync)")
            deals = self.deals.deals_modified_since(since, ["dealname"], PAGE)
            return [Polled(d.id, d.updated_at, d.properties) for d in deals]
        if target.system is System.HUBSPOT:
            fields = reconciler.read_fields(target.system, target.object_type) if reconciler else None
            contacts = self.hubspot.contacts_modified_since(since, fields or ["email"], PAGE)
            return [Polled(c.id, c.updated_at, c.properties) for c in contacts]
        wanted = self._salesforce_fields(target, reconciler)
        return [_polled(r) for r in self.salesforce.modified_since(target.object_type, since, wanted, PAGE)]

    @staticmethod
    def _salesforce_fields(target: PollTarget, reconciler: PollReconciler | None) -> list[str]:
        fields = reconciler.read_fields(target.system, target.object_type) if reconciler else None
        return list(fields or ["Id", "SystemModstamp"])

    def _hubspot_event(self, contact_id: str, stamp: dt.datetime, *, origin: str) -> ChangeEvent:
        return self._event(PollTarget(System.HUBSPOT, "contacts"), contact_id, stamp, origin)

    def _event(
        self, target: PollTarget, record_id: str, stamp: dt.datetime, origin: str = "hssync:poll"
    ) -> ChangeEvent:
        kind = origin.removeprefix("hssync:")
        return ChangeEvent(
            system=target.system,
            account=self.portal if target.system is System.HUBSPOT else self.org_id,
            object_type=target.object_type,
            record_id=record_id,
            change_type=ChangeType.RESYNC,
            occurred_at=stamp,
            origin=origin,
            source_event_id=f"{kind}:{stamp.isoformat()}",
        )


def _polled(record: SalesforceRecord) -> Polled:
    return Polled(
        record.id, _modstamp(record.fields.get("SystemModstamp")) or record.last_modified, record.fields
    )


def _modstamp(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return parse_timestamp(value)
