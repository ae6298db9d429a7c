"""The emulated portal's CRM records (contacts, companies, deals) and the rules HubSpot applies to them.

Record ids are numeric strings that only grow. Every value change is kept in the property's history
(newest first) with its source. Contact emails are unique, trimmed and lower-cased. Archiving keeps
the record (``archived``); a merge creates a new record with a new id from the two it merges, both
of which become archived aliases that still resolve to the merged record. Mutations publish webhook
events and tell the associations feature about archives and merges.

All state is guarded by the emulator's lock (one re-entrant lock for the whole emulator, so that
features calling back into the store cannot deadlock with it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from infra.sandbox.hubspot import errors
from infra.sandbox.hubspot.errors import PropertyIssue
from infra.sandbox.hubspot.properties import (
    ALWAYS_RETURNED,
    DEFAULT_RETURNED,
    PropertyDefinition,
    default_definitions,
    epoch_ms,
    iso_ms,
    normalize_value,
)
from infra.sandbox.hubspot.search import Kind

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal"}
_ALIASES = {
    **{name: name for name in OBJECT_TYPE_IDS},
    **{type_id: name for name, type_id in OBJECT_TYPE_IDS.items()},
    **{singular: name for name, singular in SINGULAR.items()},
}
ID_START = {"contacts": 101, "companies": 5_000_001, "deals": 9_000_001}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MODIFIED = {"contacts": ("lastmodifieddate", "hs_lastmodifieddate")}


def canonical_object_type(name: str) -> str | None:
    """``contact``/``contacts``/``CONTACT``/``0-1`` -> ``contacts``; ``None`` when unknown."""
    return _ALIASES.get(name.strip().lower())


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class WriteSource:
    """Who made a change: the property history's source and the webhook's ``changeSource``."""

    source_type: str = "INTEGRATION"
    source_id: str | None = None
    user_id: int | None = None

    @property
    def change_source(self) -> str:
        return self.source_type


CALCULATED = WriteSource("CALCULATED")


@dataclass(frozen=True)
class PropertyVersion:
    value: str
    timestamp: datetime
    source_type: str
    source_id: str | None = None
    updated_by_user_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "value": self.value,
            "timestamp": iso_ms(self.timestamp),
            "sourceType": self.source_type,
        }
        if self.source_id is not None:
            body["sourceId"] = self.source_id
        if self.updated_by_user_id is not None:
            body["updatedByUserId"] = self.updated_by_user_id
        return body


@dataclass
class CrmRecord:
    id: str
    object_type: str
    properties: dict[str, str | None]
    history: dict[str, list[PropertyVersion]] = field(default_factory=dict)  # newest first
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    archived: bool = False
    archived_at: datetime | None = None
    merged_into: str | None = None  # set on both records a merge consumed

    def value(self, name: str) -> str | None:
        return self.properties.get(name)


def to_public(
    record: CrmRecord,
    definitions: Mapping[str, PropertyDefinition],
    properties: Iterable[str] | None = None,
    with_history: Iterable[str] = (),
    *,
    all_values: bool = False,
) -> dict[str, Any]:
    """A ``SimplePublicObject``: requested properties (unknown names left out, unset ones ``null``)
    plus the id and timestamps HubSpot always returns, the object's defaults when none are named,
    or every property with a value when ``all_values`` (the answer to a write)."""
    if all_values:
        props: dict[str, str | None] = {k: v for k, v in sorted(record.properties.items()) if v is not None}
    else:
        if properties is None:
            names = set(DEFAULT_RETURNED[record.object_type])
        else:
            names = set(properties) | set(ALWAYS_RETURNED[record.object_type])
        props = {n: record.properties.get(n) for n in sorted(names) if n in definitions}
    body: dict[str, Any] = {
        "id": record.id,
        "properties": props,
        "createdAt": iso_ms(record.created_at),
        "updatedAt": iso_ms(record.updated_at),
        "archived": record.archived,
    }
    if record.archived and record.archived_at is not None:
        body["archivedAt"] = iso_ms(record.archived_at)
    history_names = [n for n in sorted(set(with_history)) if n in definitions]
    if history_names:
        body["propertiesWithHistory"] = {
            n: [v.to_json() for v in record.history.get(n, [])] for n in history_names
        }
    return body


class CrmStore:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self._lock: threading.RLock = emulator.lock
        self.writing_app = threading.local()  # the app id of the request being served
        self.reset()

    # -- state -----------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._records: dict[str, dict[str, CrmRecord]] = {t: {} for t in OBJECT_TYPE_IDS}
            self._next_id = dict(ID_START)
            self._emails: dict[str, str] = {}
            self._definitions = default_definitions()

    @property
    def api_source(self) -> WriteSource:
        """The source of writes through the API with the sandbox's private-app token."""
        app_id = getattr(self.writing_app, "app_id", None) or self.emulator.credentials.app_id
        return WriteSource("INTEGRATION", str(app_id))

    # -- property definitions --------------------------------------------------------------------
    def definitions(self, object_type: str) -> dict[str, PropertyDefinition]:
        with self._lock:
            return {n: d for n, d in self._definitions[object_type].items() if not d.archived}

    def all_definitions(self, object_type: str) -> dict[str, PropertyDefinition]:
        """Every definition, archived custom properties included."""
        with self._lock:
            return dict(self._definitions[object_type])

    def definition(self, object_type: str, name: str) -> PropertyDefinition | None:
        with self._lock:
            found = self._definitions[object_type].get(name)
            return found if found is not None and not found.archived else None

    def put_definition(self, object_type: str, definition: PropertyDefinition) -> None:
        with self._lock:
            self._definitions[object_type][definition.name] = definition

    def kinds(self, object_type: str) -> dict[str, Kind]:
        return {n: Kind(d.type, d.multiple) for n, d in self.definitions(object_type).items()}

    # -- reads -----------------------------------------------------------------------------------
    def get(self, object_type: str, record_id: str, *, include_archived: bool = False) -> CrmRecord | None:
        """The record with exactly this id (no merge aliasing)."""
        with self._lock:
            record = self._records[object_type].get(str(record_id).strip())
            if record is None or (record.archived and not include_archived):
                return None
            return record

    def resolve(self, object_type: str, record_id: str, *, archived: bool = False) -> CrmRecord | None:
        """The record an API read by id reaches: ids consumed by a merge lead to the merged record;
        ``archived=True`` reaches only archived records, as the API's ``archived`` flag does."""
        with self._lock:
            record = self._records[object_type].get(str(record_id).strip())
            seen = 0
            while record is not None and record.merged_into is not None and seen < 100:
                record = self._records[object_type].get(record.merged_into)
                seen += 1
            if record is None or record.archived != archived:
                return None
            return record

    def records(self, object_type: str) -> list[CrmRecord]:
        """Records not archived, oldest id first."""
        with self._lock:
            return [r for r in self._records[object_type].values() if not r.archived]

    def archived_records(self, object_type: str) -> list[CrmRecord]:
        """Archived records (merged-away records excluded), oldest id first."""
        with self._lock:
            return [r for r in self._records[object_type].values() if r.archived and r.merged_into is None]

    def contact_by_email(self, email: str) -> CrmRecord | None:
        with self._lock:
            record_id = self._emails.get(normalize_email(email))
            return None if record_id is None else self.get("contacts", record_id)

    def is_unique_property(self, object_type: str, name: str) -> bool:
        if name == "hs_object_id" or (object_type == "contacts" and name == "email"):
            return True
        definition = self.definition(object_type, name)
        return definition is not None and definition.has_unique_value

    def find_unique(self, object_type: str, name: str, value: str) -> CrmRecord | None:
        """The active record whose unique property ``name`` equals ``value``."""
        with self._lock:
            if name == "hs_object_id":
                return self.resolve(object_type, value)
            if object_type == "contacts" and name == "email":
                return self.contact_by_email(value)
            wanted = value.strip().lower()
            for record in self.records(object_type):
                stored = record.properties.get(name)
                if stored is not None and stored.lower() == wanted:
                    return record
            return None

    # -- validation ------------------------------------------------------------------------------
    def validate(self, object_type: str, properties: Any, *, allow_read_only: bool = False) -> dict[str, str]:
        """Stored forms of written values; raises HubSpot's 400 listing every invalid property."""
        if properties is None:
            return {}
        if not isinstance(properties, Mapping):
            raise errors.validation_error("properties must be an object of property names to values")
        definitions = self.definitions(object_type)
        values: dict[str, str] = {}
        issues: list[PropertyIssue] = []
        for name, raw in properties.items():
            definition = definitions.get(str(name))
            if definition is None:
                issues.append(
                    PropertyIssue(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                )
                continue
            if definition.read_only and not allow_read_only:
                issues.append(
                    PropertyIssue(
                        name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'
                    )
                )
                continue
            result = normalize_value(definition, raw)
            if isinstance(result, PropertyIssue):
                issues.append(result)
                continue
            if object_type == "contacts" and name == "email" and result:
                result = normalize_email(result)
                if not EMAIL.match(result):
                    issues.append(PropertyIssue(name, "INVALID_EMAIL", f"Email address {raw} is invalid"))
                    continue
            values[str(name)] = result
        if issues:
            raise errors.property_validation_error(issues, self.emulator.credentials.portal_id)
        return values

    def check_unique(self, object_type: str, values: Mapping[str, str], record_id: str | None) -> None:
        """409 when a unique value (a contact's email, a unique custom property) is taken."""
        with self._lock:
            for name, value in values.items():
                if not value or name == "hs_object_id" or not self.is_unique_property(object_type, name):
                    continue
                existing = self.find_unique(object_type, name, value)
                if existing is None or existing.id == record_id:
                    continue
                if object_type == "contacts" and name == "email":
                    raise errors.contact_exists(existing.id)
                singular = SINGULAR[object_type]
                raise errors.hs_error(
                    409,
                    f"A {singular} with {name}={value} already exists. Existing ID: {existing.id}",
                    "CONFLICT",
                    context={"existingId": [existing.id]},
                )

    # -- writes ----------------------------------------------------------------------------------
    def create(
        self,
        object_type: str,
        properties: Any,
        *,
        source: WriteSource | None = None,
        at: datetime | None = None,
        publish: bool = True,
        allow_read_only: bool = False,
    ) -> CrmRecord:
        """Validate and create a record; ``at`` backdates it and ``publish=False`` sends no webhooks
        (both for seeding)."""
        source = source or self.api_source
        with self._lock:
            values = self.validate(object_type, properties, allow_read_only=allow_read_only)
            self.check_unique(object_type, values, None)
            if object_type == "deals":
                values.setdefault("pipeline", "default")
            moment = at or datetime.now(UTC)
            record_id = str(self._next_id[object_type])
            self._next_id[object_type] += 1
            record = CrmRecord(record_id, object_type, {}, created_at=moment, updated_at=moment)
            self._records[object_type][record_id] = record
            created = iso_ms(moment)
            system = {"hs_object_id": record_id, "createdate": created, "hs_createdate": created}
            self._write(record, system, CALCULATED, moment)
            changed = self._write(record, {k: v for k, v in values.items() if v != ""}, source, moment)
            self._touch(record, moment)
            self._index(record)
        if publish:
            self._publish(record, "creation", source, changeFlag="NEW")
            for name in changed:
                self._publish_change(record, name, source)
        return record

    def update(
        self,
        object_type: str,
        record: CrmRecord,
        properties: Any,
        *,
        source: WriteSource | None = None,
        allow_read_only: bool = False,
        publish: bool = True,
    ) -> CrmRecord:
        source = source or self.api_source
        with self._lock:
            values = self.validate(object_type, properties, allow_read_only=allow_read_only)
            self.check_unique(object_type, values, record.id)
            moment = datetime.now(UTC)
            self._unindex(record)
            changed = self._write(record, values, source, moment)
            if changed:
                self._touch(record, moment)
            self._index(record)
        for name in changed if publish else ():
            self._publish_change(record, name, source)
        return record

    def set_system_properties(
        self,
        object_type: str,
        record_id: str,
        values: Mapping[str, str | None],
        *,
        source: str,
        publish: bool = True,
    ) -> CrmRecord:
        """Write properties as HubSpot itself does (read-only ones too), e.g. ``hs_email_optout`` set
        by the communication-preferences API; records history and publishes webhooks."""
        with self._lock:
            record = self.get(object_type, record_id)
            if record is None:
                raise errors.not_found()
            return self.update(
                object_type, record, values, source=WriteSource(source), allow_read_only=True, publish=publish
            )

    def archive(self, object_type: str, record_id: str, *, source: WriteSource | None = None) -> bool:
        """Archive an active record; ``False`` when there is none with that id."""
        source = source or self.api_source
        with self._lock:
            record = self.get(object_type, record_id)
            if record is None:
                return False
            moment = datetime.now(UTC)
            record.archived, record.archived_at = True, moment
            self._unindex(record)
            self._associations_call("on_archive", object_type, record.id)
        self._publish(record, "deletion", source, changeFlag="DELETED")
        return True

    def restore(self, object_type: str, record_id: str, *, source: WriteSource | None = None) -> CrmRecord:
        """Bring an archived record back (as restoring from the recycle bin does)."""
        source = source or WriteSource("CRM_UI")
        with self._lock:
            record = self._records[object_type].get(record_id)
            if record is None or not record.archived or record.merged_into is not None:
                raise errors.not_found(f"No archived {SINGULAR[object_type]} with id {record_id}")
            self.check_unique(object_type, self._unique_values(record), record.id)
            record.archived, record.archived_at = False, None
            self._index(record)
            self._associations_call("on_restore", object_type, record.id)
        self._publish(record, "restore", source, changeFlag="RESTORED")
        return record

    def purge(self, object_type: str, record_id: str) -> bool:
        """Delete a record permanently (GDPR delete)."""
        with self._lock:
            record = self._records[object_type].get(record_id)
            if record is None or record.merged_into is not None:
                return False
            if not record.archived:
                self._associations_call("on_archive", object_type, record.id)
            self._unindex(record)
            del self._records[object_type][record_id]
        self._publish(record, "privacyDeletion", self.api_source)
        return True

    def merge(
        self, object_type: str, primary_id: str, merged_id: str, *, source: WriteSource | None = None
    ) -> CrmRecord:
        """Merge two records into a new one with a new id. The primary's values win where it has one;
        the secondary's fill the rest. Both originals become archived aliases of the new record."""
        source = source or self.api_source
        with self._lock:
            primary = self.get(object_type, primary_id)
            secondary = self.get(object_type, merged_id)
            missing = [i for i, r in ((primary_id, primary), (merged_id, secondary)) if r is None]
            if missing or primary is None or secondary is None:
                raise errors.validation_error(
                    f"Object(s) not found for merge: {', '.join(missing)}",
                    sub_category="OBJECT_NOT_FOUND",
                    context={"ids": missing},
                )
            if primary.id == secondary.id:
                raise errors.validation_error("Cannot merge an object with itself")
            moment = datetime.now(UTC)
            record = self._merged_record(object_type, primary, secondary, moment)
            moved = sum(
                1
                for name, value in secondary.properties.items()
                if value and not primary.properties.get(name) and name not in _SYSTEM
            )
            for old in (primary, secondary):
                self._unindex(old)
                old.archived, old.archived_at, old.merged_into = True, moment, record.id
            self._records[object_type][record.id] = record
            self._index(record)
            for old in (primary, secondary):
                self._associations_call("on_merge", object_type, record.id, old.id)
        self._publish(
            record,
            "merge",
            source,
            primaryObjectId=int(primary.id),
            mergedObjectIds=[int(secondary.id)],
            newObjectId=int(record.id),
            numberOfPropertiesMoved=moved,
            changeFlag="MERGED",
        )
        return record

    # -- internals -------------------------------------------------------------------------------
    def _merged_record(
        self, object_type: str, primary: CrmRecord, secondary: CrmRecord, moment: datetime
    ) -> CrmRecord:
        record_id = str(self._next_id[object_type])
        self._next_id[object_type] += 1
        created = min(primary.created_at, secondary.created_at)
        record = CrmRecord(record_id, object_type, {}, created_at=created, updated_at=moment)
        names = set(primary.properties) | set(secondary.properties)
        merged_ids = [primary.id, secondary.id]
        for old in (primary, secondary):
            merged_ids += [i for i in (old.properties.get("hs_merged_object_ids") or "").split(";") if i]
        values: dict[str, str | None] = {}
        for name in names:
            values[name] = primary.properties.get(name) or secondary.properties.get(name)
        values.update(
            hs_object_id=record_id,
            createdate=iso_ms(created),
            hs_createdate=iso_ms(created),
            hs_merged_object_ids=";".join(sorted(set(merged_ids), key=int)),
        )
        if object_type == "contacts":
            emails = [primary.properties.get("email"), secondary.properties.get("email")]
            for old in (primary, secondary):
                emails += (old.properties.get("hs_additional_emails") or "").split(";")
            kept = values.get("email")
            extra = sorted({e for e in emails if e and e != kept})
            values["hs_additional_emails"] = ";".join(extra) if extra else None
        for name in names | set(values):
            versions = sorted(
                primary.history.get(name, []) + secondary.history.get(name, []),
                key=lambda v: v.timestamp,
                reverse=True,
            )
            value = values.get(name)
            if value is not None and (not versions or versions[0].value != value):
                versions.insert(0, PropertyVersion(value, moment, "MERGE"))
            record.history[name] = versions
            record.properties[name] = value
        self._touch(record, moment)
        return record

    def _write(
        self, record: CrmRecord, values: Mapping[str, str], source: WriteSource, moment: datetime
    ) -> list[str]:
        """Set values, keep history; the names whose value changed."""
        changed = []
        for name, value in values.items():
            current = record.properties.get(name)
            if current == value or (current is None and value == ""):
                continue
            record.properties[name] = value
            version = PropertyVersion(value, moment, source.source_type, source.source_id, source.user_id)
            record.history.setdefault(name, []).insert(0, version)
            changed.append(name)
        return changed

    def _touch(self, record: CrmRecord, moment: datetime) -> None:
        record.updated_at = moment
        names = MODIFIED.get(record.object_type, ("hs_lastmodifieddate",))
        self._write(record, dict.fromkeys(names, iso_ms(moment)), CALCULATED, moment)

    def _unique_values(self, record: CrmRecord) -> dict[str, str]:
        return {
            name: value
            for name, value in record.properties.items()
            if value and name != "hs_object_id" and self.is_unique_property(record.object_type, name)
        }

    def _emails_of(self, record: CrmRecord) -> list[str]:
        if record.object_type != "contacts":
            return []
        emails = [record.properties.get("email") or ""]
        emails += (record.properties.get("hs_additional_emails") or "").split(";")
        return [normalize_email(e) for e in emails if e]

    def _index(self, record: CrmRecord) -> None:
        if not record.archived:
            for email in self._emails_of(record):
                self._emails[email] = record.id

    def _unindex(self, record: CrmRecord) -> None:
        for email in self._emails_of(record):
            if self._emails.get(email) == record.id:
                del self._emails[email]

    def _associations_call(self, method: str, *args: str) -> None:
        feature = getattr(self.emulator, "associations", None)
        hook = getattr(feature, method, None)
        if callable(hook):
            hook(*args)

    def _publish(self, record: CrmRecord, event: str, source: WriteSource, **fields: Any) -> None:
        self.emulator.webhooks.publish(
            f"{SINGULAR[record.object_type]}.{event}",
            int(record.id),
            occurredAt=epoch_ms(datetime.now(UTC)),
            changeSource=source.change_source,
            sourceId=_webhook_source_id(source),
            **fields,
        )

    def _publish_change(self, record: CrmRecord, name: str, source: WriteSource) -> None:
        self._publish(
            record, "propertyChange", source, propertyName=name, propertyValue=record.properties[name]
        )


_SYSTEM = frozenset(
    {
        "hs_object_id",
        "createdate",
        "hs_createdate",
        "lastmodifieddate",
        "hs_lastmodifieddate",
        "hs_merged_object_ids",
    }
)


def _webhook_source_id(source: WriteSource) -> str | None:
    if source.user_id is not None:
        return f"userId:{source.user_id}"
    return source.source_id
