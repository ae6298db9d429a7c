"""What ``hssync resync`` and ``hssync backfill`` ask the poller for: poll requests (see
:class:`shared.pipeline.poll.PollRequest`), built and checked here so that the command line only
parses arguments and sends.

- records by id: HubSpot contact ids, Salesforce Lead (key prefix ``00Q``) and Contact (``003``) ids
  in 15 or 18 characters, or the ``system:object:id`` form that sync health prints in its resync
  command (``hubspot:contacts:123``, ``salesforce:Lead:00Q...``; with account sync, companies and
  Accounts in that form only: ``hubspot:companies:456``, ``salesforce:Account:001...``; with deal
  sync, deals and Opportunities likewise: ``hubspot:deals:789``, ``salesforce:Opportunity:006...``); one
  request per object and per
  :data:`~shared.pipeline.poll.MAX_IDS_PER_REQUEST` ids, no API call until dedupe reads them;
- an owner, as an owner's sync-health entry names it (``salesforce:User:005...``,
  ``salesforce:Group:00G...`` for a queue): every Lead and Contact it owns;
- a HubSpot list: every current member;
- everything (the backfill): a poll of every target from ``since`` (default: the epoch).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.ids import OWNER_KEY_PREFIXES, SALESFORCE_KEY_PREFIXES, salesforce_id18
from shared.models import SALESFORCE_OBJECTS, System
from shared.pipeline.poll import (
    ACCOUNT_OBJECT_TYPES,
    ACCOUNT_TARGETS,
    ALL_TARGETS,
    DEAL_OBJECT_TYPES,
    DEAL_TARGETS,
    MAX_IDS_PER_REQUEST,
    OBJECT_TYPES,
    PollRequest,
    normalise_id,
)
from shared.state.keys import record_key
from shared.times import EPOCH


class ResyncError(ValueError):
    """An argument that names no record (or no list) hssync syncs; the message says why."""


@dataclass(frozen=True)
class RecordRef:
    system: System
    object_type: str
    record_id: str  # normalised: Salesforce ids in 18 characters

    def __str__(self) -> str:
        return record_key(self.system.value, self.object_type, self.record_id)


def hubspot_contact(record_id: str) -> RecordRef:
    try:
        return RecordRef(System.HUBSPOT, "contacts", normalise_id(System.HUBSPOT, "contacts", record_id))
    except ValueError as exc:
        raise ResyncError(f"{record_id!r} is not a HubSpot contact id (digits only)") from exc


def salesforce_record(record_id: str) -> RecordRef:
    """A Lead or Contact, told apart by the key prefix (00Q, 003)."""
    try:
        id18 = salesforce_id18(record_id.strip())
    except ValueError as exc:
        raise ResyncError(f"{record_id!r} is not a Salesforce id (15 or 18 letters and digits)") from exc
    sobject = SALESFORCE_KEY_PREFIXES.get(id18[:3])
    if sobject is None:
        known = ", ".join(f"{o} {p}" for p, o in SALESFORCE_KEY_PREFIXES.items())
        raise ResyncError(
            f"{record_id!r} is neither a Lead nor a Contact id (key prefix {id18[:3]}; hssync syncs {known})"
        )
    return RecordRef(System.SALESFORCE, sobject, id18)


def salesforce_owner(text: str, object_type: str, record_id: str) -> RecordRef:
    """A user (005...) or queue (00G...): its records are resynced."""
    try:
        id18 = salesforce_id18(record_id.strip())
    except ValueError as exc:
        raise ResyncError(f"{text!r}: {record_id!r} is not a Salesforce id") from exc
    if OWNER_KEY_PREFIXES.get(id18[:3]) != object_type:
        raise ResyncError(f"{text!r}: {record_id} is not a {object_type} id")
    return RecordRef(System.SALESFORCE, object_type, id18)


def parse_record(text: str) -> RecordRef:
    """``hubspot:contacts:123``, ``salesforce:Lead:00Q...``, an owner ``salesforce:User:005...``, a
    company ``hubspot:companies:456``, an Account ``salesforce:Account:001...``, a deal
    ``hubspot:deals:789`` or an Opportunity ``salesforce:Opportunity:006...`` (sync health's form)."""
    system, _, rest = text.strip().partition(":")
    object_type, _, record_id = rest.partition(":")
    if system not in (System.HUBSPOT.value, System.SALESFORCE.value) or not object_type or not record_id:
        expected = (
            "hubspot:contacts|companies:ID or salesforce:Lead|Contact|Account|User|Group:ID"
            " (deal sync: hubspot:deals:ID, salesforce:Opportunity:ID)"
        )
        raise ResyncError(f"{text!r}: expected {expected}")
    if system == System.SALESFORCE.value and object_type in OWNER_KEY_PREFIXES.values():
        return salesforce_owner(text, object_type, record_id)
    if object_type in ACCOUNT_OBJECT_TYPES[System(system)] + DEAL_OBJECT_TYPES[System(system)]:
        return account_record(text, System(system), object_type, record_id)
    if object_type not in OBJECT_TYPES[System(system)]:
        raise ResyncError(f"{text!r}: hssync does not sync {system} {object_type}")
    ref = hubspot_contact(record_id) if system == System.HUBSPOT.value else salesforce_record(record_id)
    if ref.object_type != object_type:
        raise ResyncError(f"{text!r}: {record_id} is a {ref.object_type} id, not a {object_type} id")
    return ref


def account_record(text: str, system: System, object_type: str, record_id: str) -> RecordRef:
    """A company or an Account (account sync): ``hubspot:companies:ID``, ``salesforce:Account:ID``;
    a deal or an Opportunity (deal sync): ``hubspot:deals:ID``, ``salesforce:Opportunity:ID``."""
    try:
        return RecordRef(system, object_type, normalise_id(system, object_type, record_id))
    except ValueError as exc:
        raise ResyncError(f"{text!r}: {exc}") from exc


def list_id_of(text: str) -> str:
    value = text.strip()
    if not value.isdigit():
        raise ResyncError(f"{text!r} is not a HubSpot list id (the lists v3 id: digits only)")
    return value


def backfill_requests(
    since: dt.datetime | None = None, *, reason: str = "backfill", accounts: bool = False, deals: bool = False
) -> list[PollRequest]:
    """The initial sync: a poll of every target from ``since`` (default: everything); ``accounts``:
    companies and Accounts too (account sync on), after the contacts; ``deals``: deals and
    Opportunities too (deal sync on), last (their contacts and companies are synced first)."""
    start = since or EPOCH
    targets = ALL_TARGETS + (ACCOUNT_TARGETS if accounts else ()) + (DEAL_TARGETS if deals else ())
    return [
        PollRequest(system=t.system, object_type=t.object_type, since=start, reason=reason) for t in targets
    ]


def is_owner(ref: RecordRef) -> bool:
    return ref.system is System.SALESFORCE and ref.object_type in OWNER_KEY_PREFIXES.values()


def owner_requests(owners: Iterable[RecordRef], *, reason: str = "resync") -> list[PollRequest]:
    """Per owner, a request per synced Salesforce object: the records it owns."""
    return [
        PollRequest(system=System.SALESFORCE, object_type=sobject, owner_id=ref.record_id, reason=reason)
        for ref in dict.fromkeys(owners)
        for sobject in SALESFORCE_OBJECTS
    ]


def record_requests(records: Iterable[RecordRef], *, reason: str = "resync") -> list[PollRequest]:
    """One request per object type and per ``MAX_IDS_PER_REQUEST`` ids (each id once, in order);
    owners (``salesforce:User:...``, ``salesforce:Group:...``) ask for the records they own."""
    grouped: dict[tuple[System, str], list[str]] = {}
    refs = list(records)
    for ref in (r for r in refs if not is_owner(r)):
        ids = grouped.setdefault((ref.system, ref.object_type), [])
        if ref.record_id not in ids:
            ids.append(ref.record_id)
    return [
        PollRequest(
            system=system, object_type=object_type, ids=tuple(ids[i : i + MAX_IDS_PER_REQUEST]), reason=reason
        )
        for (system, object_type), ids in grouped.items()
        for i in range(0, len(ids), MAX_IDS_PER_REQUEST)
    ] + owner_requests([r for r in refs if is_owner(r)], reason=reason)


def resync_requests(
    *,
    hubspot_ids: Sequence[str] = (),
    salesforce_ids: Sequence[str] = (),
    records: Sequence[str] = (),
    list_ids: Sequence[str] = (),
    everything: bool = False,
    since: dt.datetime | None = None,
    reason: str = "resync",
    portal: str | None = None,
) -> list[PollRequest]:
    """The requests for one ``hssync resync``; :class:`ResyncError` names the first bad argument.
    ``portal``: several portals, the portal of the HubSpot records (default: the stack's first for
    ids and lists, every portal for ``everything``)."""
    if since is not None and not everything:
        raise ResyncError("--since goes with --all (a resync of records re-reads them as they are now)")
    refs = [
        *(hubspot_contact(i) for i in hubspot_ids),
        *(salesforce_record(i) for i in salesforce_ids),
        *(parse_record(r) for r in records),
    ]
    lists = list(dict.fromkeys(list_id_of(i) for i in list_ids))
    out = backfill_requests(since, reason=reason) if everything else []
    out += record_requests(refs, reason=reason)
    out += [PollRequest(list_id=list_id, reason=reason) for list_id in lists]
    if not out:
        raise ResyncError("nothing to resync: give record ids, --list LIST_ID or --all")
    return out if portal is None else [in_portal(r, portal) for r in out]


def in_portal(request: PollRequest, portal: str) -> PollRequest:
    """A HubSpot request of that portal (a Salesforce request is read once for every portal)."""
    if request.system is System.SALESFORCE:
        return request
    try:
        return PollRequest.model_validate({**request.model_dump(exclude_none=True), "portal": portal.strip()})
    except ValueError as exc:
        raise ResyncError(f"{portal!r} is not a HubSpot portal id (digits only)") from exc


def bodies(requests: Sequence[PollRequest]) -> list[str]:
    """The messages for the PollRequestsQueue."""
    return [r.model_dump_json(exclude_none=True) for r in requests]


def describe(requests: Sequence[PollRequest]) -> list[str]:
    """What was asked for, a line per kind (for the command's output)."""
    lines: list[str] = []
    polls = [r for r in requests if r.kind == "poll"]
    if polls:
        starts = {r.since for r in polls}
        start = starts.pop() if len(starts) == 1 else None
        since = ""
        if start is not None:
            since = " (everything)" if start == EPOCH else f" changed since {start.isoformat()}"
        names = ", ".join(_poll_name(r) for r in polls)
        lines.append(f"every {names}{since}")
    counts: Counter[tuple[str, str]] = Counter()
    for r in requests:
        if r.kind == "ids" and r.system is not None and r.object_type is not None and r.ids is not None:
            counts[(r.system.value, r.object_type)] += len(r.ids)
    for (system, object_type), n in counts.items():
        crm, noun = (
            ("HubSpot", _HUBSPOT_NOUNS.get(object_type, "contact"))
            if system == "hubspot"
            else ("Salesforce", object_type)
        )
        lines.append(f"{n} {crm} {noun}{'' if n == 1 else 's'}")
    lines += [f"every member of HubSpot list {r.list_id}" for r in requests if r.kind == "list"]
    owners = dict.fromkeys(str(r.owner_id) for r in requests if r.kind == "owner")
    lines += [f"every Lead and Contact owned by Salesforce {_owner_name(o)} {o}" for o in owners]
    return lines


_HUBSPOT_NOUNS = {"deals": "deal"}  # else "contact", as before


def _owner_name(owner_id: str) -> str:
    return "queue" if OWNER_KEY_PREFIXES.get(owner_id[:3]) == "Group" else "user"


def _poll_name(request: PollRequest) -> str:
    if request.system is System.HUBSPOT:
        return f"HubSpot {_HUBSPOT_NOUNS.get(str(request.object_type), 'contact')}"
    return f"Salesforce {request.object_type}"
