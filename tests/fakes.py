"""In-memory fakes of the CRM ports, for unit tests of the pipeline (no sockets).

They keep just enough behaviour to make the pipeline's decisions observable: ids, timestamps,
case-insensitive email lookups, HubSpot's unique emails (409 with the existing id), per-record
failures on demand, call counts, and the change events a real CRM would emit for each write.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.adapters.salesforce.query import MAX_COMPOSITE_QUERIES
from shared.errors import ApiFailure, ErrorCategory, TransientApiError
from shared.matching import normalize_email
from shared.models import ChangeEvent, ChangeType, System
from shared.owners.directory import HubSpotOwner, SalesforceOwner
from shared.ports import HubSpotContact, ModifiedRead, RecordWrite, SalesforceRecord, WriteOutcome
from shared.state.keys import salesforce_id18

ORG = "00D000000000001AAA"
PORTAL = "1000001"
APP_ID = "2000001"  # hssync's HubSpot app: the sourceId of its own writes
PREFIX = {"Lead": "00Q", "Contact": "003"}


def _hs_property(
    name: str, type_: str, field_type: str, *options: str, read_only: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "fieldType": field_type,
        "options": [
            {"label": o.title(), "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options)
        ],
        "modificationMetadata": {"readOnlyValue": read_only, "readOnlyDefinition": True, "archivable": False},
    }


# A few of HubSpot's contact property definitions, as GET /crm/v3/properties/contacts has them.
HS_PROPERTY_TYPES: dict[str, dict[str, Any]] = {
    "email": _hs_property("email", "string", "text"),
    "firstname": _hs_property("firstname", "string", "text"),
    "lastname": _hs_property("lastname", "string", "text"),
    "lifecyclestage": _hs_property(
        "lifecyclestage",
        "enumeration",
        "radio",
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    ),
    "hs_email_optout": _hs_property(
        "hs_email_optout", "bool", "booleancheckbox", "true", "false", read_only=True
    ),
}


class Clock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)

    def tick(self, seconds: float = 1.0) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class _SfRow:
    sobject: str
    fields: dict[str, Any]
    created: dt.datetime
    modified: dt.datetime


@dataclass
class FakeSalesforce:
    clock: Clock
    rows: dict[str, _SfRow] = field(default_factory=dict)
    calls: int = 0
    events: list[ChangeEvent] = field(default_factory=list)
    writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (op, id, fields)
    reject: Callable[[str, Mapping[str, Any]], ApiFailure | None] = lambda _o, _f: None
    transient_calls: int = 0  # the next N write calls raise TransientApiError
    # describe entries of typed fields: (object, field name) -> describe JSON; others are text
    field_types: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)  # merged-away id -> master id
    assigned: list[bool | None] = field(default_factory=list)  # Sforce-Auto-Assign of each create call
    owner_rows: list[SalesforceOwner] = field(default_factory=list)
    deleted: dict[str, _SfRow] = field(default_factory=dict)  # records a user deleted (the recycle bin)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # test helpers (a user working in Salesforce)
    def add(self, sobject: str, **fields: Any) -> str:
        record_id = salesforce_id18(f"{PREFIX[sobject]}{next(self._ids):012d}")
        now = self.clock.tick()
        self.rows[record_id] = _SfRow(sobject, {"Id": record_id, **fields}, now, now)
        self._emit(sobject, record_id, ChangeType.CREATE, origin="client=SfdcUI")
        return record_id

    def edit(self, record_id: str, **fields: Any) -> None:
        row = self.rows[record_id]
        row.fields.update(fields)
        row.modified = self.clock.tick()
        self._emit(row.sobject, record_id, ChangeType.UPDATE, origin="client=SfdcUI")

    def _emit(self, sobject: str, record_id: str, change: ChangeType, origin: str) -> None:
        self.events.append(
            ChangeEvent(
                system=System.SALESFORCE,
                account=ORG,
                object_type=sobject,
                record_id=record_id,
                change_type=change,
                occurred_at=self.clock(),
                origin=f"com/salesforce/api/rest/59.0;{origin}",
                source_event_id=f"{record_id}:{len(self.events)}",
            )
        )

    def drain_events(self) -> list[ChangeEvent]:
        out, self.events = self.events, []
        return out

    def _record(self, record_id: str) -> SalesforceRecord:
        row = self.rows[record_id]
        values = dict(row.fields)
        values.setdefault("IsConverted", False) if row.sobject == "Lead" else None
        return SalesforceRecord(row.sobject, record_id, values, row.created, row.modified)

    # SalesforcePort
    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]:
        return {name.lower(): dict(d) for (obj, name), d in self.field_types.items() if obj == sobject}

    def owners(self) -> list[SalesforceOwner]:
        self.calls += 1
        return list(self.owner_rows)

    def merge_masters(self, sobject: str, ids: Sequence[str]) -> dict[str, str]:
        self.calls += 1
        return {
            salesforce_id18(i): self.merged[salesforce_id18(i)]
            for i in ids
            if salesforce_id18(i) in self.merged
        }

    def merged_into(self, sobject: str, master_ids: Sequence[str]) -> dict[str, str]:
        self.calls += 1
        masters = {salesforce_id18(i) for i in master_ids}
        return {loser: master for loser, master in self.merged.items() if master in masters}

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, SalesforceRecord]:
        self.calls += 1
        found = {}
        for raw in ids:
            record_id = salesforce_id18(raw)
            if record_id in self.rows and self.rows[record_id].sobject == sobject:
                found[record_id] = self._record(record_id)
        return found

    def find_by_email(
        self, sobject: str, emails: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        self.calls += 1
        wanted = {normalize_email(e) for e in emails}
        return [
            self._record(rid)
            for rid, row in self.rows.items()
            if row.sobject == sobject
            and normalize_email(row.fields.get("Email")) in wanted
            and not row.fields.get("IsConverted")
        ]

    def find_people_by_email(
        self, emails: Sequence[str], fields_by_object: Mapping[str, Sequence[str]]
    ) -> list[SalesforceRecord]:
        self.calls += 1  # one composite call, whatever the objects
        wanted = {normalize_email(e) for e in emails}
        return [
            self._record(rid)
            for rid, row in self.rows.items()
            if row.sobject in fields_by_object
            and normalize_email(row.fields.get("Email")) in wanted
            and not row.fields.get("IsConverted")
        ]

    def modified_since(
        self, sobject: str, since: dt.datetime, fields: Sequence[str], limit: int
    ) -> list[SalesforceRecord]:
        self.calls += 1
        rows = sorted(
            (r.modified, rid) for rid, r in self.rows.items() if r.sobject == sobject and r.modified > since
        )
        return [self._record(rid) for _, rid in rows[:limit]]

    def modified_since_each(self, reads: Sequence[ModifiedRead], limit: int) -> list[list[SalesforceRecord]]:
        """One call for up to 5 objects' reads (a Composite call), as the adapter does."""
        calls = self.calls + math.ceil(len(reads) / MAX_COMPOSITE_QUERIES)
        pages = [self.modified_since(r.sobject, r.since, r.fields, limit) for r in reads]
        self.calls = calls
        return pages

    def owned_by(self, sobject: str, owner_id: str) -> list[str]:
        self.calls += 1
        return sorted(
            rid
            for rid, row in self.rows.items()
            if row.sobject == sobject
            and row.fields.get("OwnerId") == owner_id
            and not row.fields.get("IsConverted")
        )

    def _write_call(self) -> None:
        self.calls += 1
        if self.transient_calls:
            self.transient_calls -= 1
            raise TransientApiError("injected 503")

    def create(
        self, sobject: str, writes: Sequence[RecordWrite], *, assign: bool | None = None
    ) -> list[WriteOutcome]:
        self.assigned.append(assign)
        self._write_call()
        out = []
        for write in writes:
            failure = self.reject(sobject, write.fields)
            if failure is not None:
                out.append(WriteOutcome(write.key, None, failure))
                continue
            record_id = salesforce_id18(f"{PREFIX[sobject]}{next(self._ids):012d}")
            now = self.clock.tick(0.001)
            self.rows[record_id] = _SfRow(sobject, {"Id": record_id, **write.fields}, now, now)
            self.writes.append(("create", record_id, dict(write.fields)))
            self._emit(sobject, record_id, ChangeType.CREATE, origin="client=hssync")
            out.append(WriteOutcome(write.key, record_id))
        return out

    def update(self, sobject: str, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self._write_call()
        out = []
        for write in writes:
            record_id = salesforce_id18(str(write.record_id))
            failure = self.reject(sobject, write.fields)
            if failure is not None:
                out.append(WriteOutcome(write.key, None, failure))
                continue
            row = self.rows[record_id]
            row.fields.update(write.fields)
            row.modified = self.clock.tick(0.001)
            self.writes.append(("update", record_id, dict(write.fields)))
            self._emit(sobject, record_id, ChangeType.UPDATE, origin="client=hssync")
            out.append(WriteOutcome(write.key, record_id))
        return out

    def delete(self, sobject: str, ids: Sequence[str]) -> list[WriteOutcome]:
        self._write_call()
        for record_id in ids:
            if self.rows.pop(salesforce_id18(record_id), None) is not None:
                self.writes.append(("delete", salesforce_id18(record_id), {}))
                self._emit(sobject, salesforce_id18(record_id), ChangeType.DELETE, origin="client=hssync")
        return [WriteOutcome(i, i) for i in ids]

    def remove(self, record_id: str) -> None:
        """A user deletes a record in Salesforce."""
        row = self.rows.pop(record_id)
        self.deleted[record_id] = row
        self._emit(row.sobject, record_id, ChangeType.DELETE, origin="client=SfdcUI")

    def api_usage(self) -> tuple[int, int] | None:
        return (self.calls, 15000)


@dataclass
class _HsRow:
    properties: dict[str, str | None]
    changed: dict[str, dt.datetime]
    updated: dt.datetime


@dataclass
class FakeHubSpot:
    clock: Clock
    rows: dict[str, _HsRow] = field(default_factory=dict)
    calls: int = 0
    events: list[ChangeEvent] = field(default_factory=list)
    writes: list[tuple[str, str, dict[str, str | None]]] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)  # list id -> member contact ids
    joined: dict[str, dict[str, dt.datetime]] = field(default_factory=dict)  # list id -> id -> joined at
    opted_out: set[str] = field(default_factory=set)  # addresses unsubscribed from all email
    archived: dict[str, _HsRow] = field(default_factory=dict)
    property_types: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(HS_PROPERTY_TYPES))
    owner_rows: list[HubSpotOwner] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(101))
    _property_types_read: bool = False

    # test helpers (a user working in HubSpot)
    def add(self, **properties: str | None) -> str:
        contact_id = str(next(self._ids))
        now = self.clock.tick()
        props = dict(properties)
        if props.get("email"):
            props["email"] = normalize_email(props["email"])
        self.rows[contact_id] = _HsRow(props, dict.fromkeys(props, now), now)
        self._emit(contact_id, ChangeType.CREATE, "CRM_UI", props)
        return contact_id

    def edit(self, contact_id: str, **properties: str | None) -> None:
        row = self.rows[contact_id]
        now = self.clock.tick()
        for name, value in properties.items():
            row.properties[name] = value
            row.changed[name] = now
        row.updated = now
        self._emit(contact_id, ChangeType.UPDATE, "CRM_UI", properties)

    def _emit(
        self, contact_id: str, change: ChangeType, source: str, values: Mapping[str, str | None]
    ) -> None:
        """Like a webhook request merged per contact: the changed properties with their values,
        and who changed them (``sourceId`` = the app id for API writes, a user for CRM edits)."""
        self.events.append(
            ChangeEvent(
                system=System.HUBSPOT,
                account=PORTAL,
                object_type="contacts",
                record_id=contact_id,
                change_type=change,
                occurred_at=self.clock(),
                origin=source,
                origin_id=APP_ID if source == "INTEGRATION" else "userId:1",
                source_event_id=str(len(self.events) + 1),
                changed_fields=tuple(values),
                reported={k: (None if v is None else str(v)) for k, v in values.items()},
            )
        )

    def drain_events(self) -> list[ChangeEvent]:
        out, self.events = self.events, []
        return out

    def add_list(self, *contact_ids: str) -> str:
        list_id = str(len(self.lists) + 1)
        self.lists[list_id] = list(dict.fromkeys(contact_ids))
        self.joined[list_id] = dict.fromkeys(self.lists[list_id], self.clock())
        return list_id

    def join_list(self, list_id: str, *contact_ids: str, at: dt.datetime | None = None) -> None:
        """Contacts enter the list (all at one moment, as a bulk add does); a rejoin is a new join."""
        moment = at or self.clock.tick()
        for contact_id in contact_ids:
            if contact_id not in self.lists.setdefault(list_id, []):
                self.lists[list_id].append(contact_id)
            self.joined.setdefault(list_id, {})[contact_id] = moment

    def leave_list(self, list_id: str, *contact_ids: str) -> None:
        self.lists[list_id] = [m for m in self.lists.get(list_id, ()) if m not in contact_ids]

    def by_email(self, email: str) -> str | None:
        wanted = normalize_email(email)
        return next((cid for cid, r in self.rows.items() if r.properties.get("email") == wanted), None)

    def _contact(self, contact_id: str) -> HubSpotContact:
        row = self.rows[contact_id]
        return HubSpotContact(contact_id, dict(row.properties), dict(row.changed), row.updated)

    # HubSpotPort
    def owners(self) -> list[HubSpotOwner]:
        self.calls += 1
        return list(self.owner_rows)

    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, HubSpotContact]:
        self.calls += 1
        return {cid: self._contact(cid) for cid in ids if cid in self.rows}

    def contacts_by_email(
        self, emails: Sequence[str], properties: Sequence[str]
    ) -> dict[str, HubSpotContact]:
        self.calls += 1
        out = {}
        for email in emails:
            contact_id = self.by_email(email)
            if contact_id is not None:
                out[str(normalize_email(email))] = self._contact(contact_id)
        return out

    def contacts_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotContact]:
        self.calls += 1
        rows = sorted((r.updated, cid) for cid, r in self.rows.items() if r.updated > since)
        return [self._contact(cid) for _, cid in rows[:limit]]

    def create_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self.calls += 1
        out = []
        for write in writes:
            existing = self.by_email(str(write.fields.get("email") or ""))
            if existing is not None:
                failure = ApiFailure(
                    "hubspot",
                    "CONFLICT",
                    f"Contact already exists. Existing ID: {existing}",
                    ErrorCategory.DUPLICATES,
                    http_status=409,
                    existing_id=existing,
                )
                out.append(WriteOutcome(write.key, None, failure))
                continue
            contact_id = str(next(self._ids))
            now = self.clock.tick(0.001)
            props = {k: (None if v is None else str(v)) for k, v in write.fields.items()}
            if props.get("email"):
                props["email"] = normalize_email(props["email"])
            self.rows[contact_id] = _HsRow(props, dict.fromkeys(props, now), now)
            self.writes.append(("create", contact_id, props))
            self._emit(contact_id, ChangeType.CREATE, "INTEGRATION", props)
            out.append(WriteOutcome(write.key, contact_id))
        return out

    def update_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self.calls += 1
        out = []
        for write in writes:
            row = self.rows[str(write.record_id)]
            now = self.clock.tick(0.001)
            for name, value in write.fields.items():
                row.properties[name] = None if value is None else str(value)
                row.changed[name] = now
            row.updated = now
            self.writes.append(("update", str(write.record_id), dict(write.fields)))
            self._emit(str(write.record_id), ChangeType.UPDATE, "INTEGRATION", write.fields)
            out.append(WriteOutcome(write.key, str(write.record_id)))
        return out

    def archive_contacts(self, ids: Sequence[str]) -> list[WriteOutcome]:
        self.calls += 1
        out = []
        for raw in ids:
            contact_id = str(raw).strip()
            if not contact_id:
                failure = ApiFailure("hubspot", "INVALID_WRITE", "needs a contact id", ErrorCategory.OTHER)
                out.append(WriteOutcome(str(raw), None, failure))
                continue
            row = self.rows.pop(contact_id, None)
            if row is not None:  # already gone: nothing to do, still a success
                self.archived[contact_id] = row
                self.writes.append(("archive", contact_id, {}))
                self._emit(contact_id, ChangeType.DELETE, "INTEGRATION", {})
            out.append(WriteOutcome(str(raw), contact_id))
        return out

    def list_members(self, list_id: str, contact_ids: Sequence[str]) -> set[str]:
        self.calls += 1
        members = {m for m in self.lists.get(str(list_id), ()) if m in self.rows}
        return {str(i) for i in contact_ids} & members

    def list_member_ids(self, list_id: str) -> list[str]:
        self.calls += 1
        return [m for m in self.lists.get(str(list_id), ()) if m in self.rows]

    def list_members_joined_since(self, list_id: str, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
        self.calls += 1
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        joins = self.joined.get(str(list_id), {})
        members = [(m, joins.get(m, epoch)) for m in self.lists.get(str(list_id), ()) if m in self.rows]
        return sorted(((m, at) for m, at in members if at >= since), key=lambda j: (j[1], len(j[0]), j[0]))

    def unsubscribe_from_all(self, emails: Sequence[str]) -> list[WriteOutcome]:
        self.calls += 1
        out = []
        for raw in emails:
            email = normalize_email(raw)
            if not email or "@" not in email:
                failure = ApiFailure(
                    "hubspot",
                    "INVALID_EMAIL",
                    f"not an email address: {raw!r}",
                    ErrorCategory.PROPERTY_VALUES,
                )
                out.append(WriteOutcome(str(raw), None, failure))
                continue
            self.opted_out.add(email)
            contact_id = self.by_email(email)
            row = self.rows.get(contact_id) if contact_id is not None else None
            if contact_id is not None and row is not None and row.properties.get("hs_email_optout") != "true":
                now = self.clock.tick(0.001)
                row.properties["hs_email_optout"] = "true"
                row.changed["hs_email_optout"] = row.updated = now
                self._emit(contact_id, ChangeType.UPDATE, "INTEGRATION", {"hs_email_optout": "true"})
            out.append(WriteOutcome(str(raw), email))
        return out

    def unsubscribed_from_all(self, emails: Sequence[str]) -> dict[str, bool]:
        self.calls += 1
        out = {}
        for email in {e for e in (normalize_email(x) for x in emails) if e}:
            contact_id = self.by_email(email)
            optout = self.rows[contact_id].properties.get("hs_email_optout") if contact_id else None
            out[email] = email in self.opted_out or optout == "true"
        return out

    def contact_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not self._property_types_read:  # the adapter reads the definitions once and caches them
            self.calls += 1
            self._property_types_read = True
        return {n: self.property_types[n] for n in names if n in self.property_types}
