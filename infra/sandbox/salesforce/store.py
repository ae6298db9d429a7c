"""The org's records: validation, writes inside transactions, the recycle bin, and reads for SOQL.

Every write happens inside :meth:`Store.transaction`. A transaction keeps an undo log so a failed
all-or-none operation restores every record it touched, and a list of :class:`Change` that is handed
to ``on_commit`` (change data capture) when it commits. Callers hold the emulator's lock.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.sandbox.salesforce import ids
from infra.sandbox.salesforce.errors import RecordFailure, RequestError, SfError, deleted
from infra.sandbox.salesforce.schema import (
    NUMBER_TYPES,
    STAGE_INFO,
    STRING_TYPES,
    FieldDef,
    ObjectDef,
    Schema,
)
from infra.sandbox.salesforce.settings import OrgSettings
from infra.sandbox.salesforce.values import coerce, now, stamp

SYSTEM_FIELDS = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
    }
)
PERSON_ONLY_FIELDS = frozenset({"FirstName", "LastName", "Salutation", "RecordTypeId"})
# Account person fields and the person Contact fields they mirror.
PERSON_CONTACT_FIELDS = {
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Salutation": "Salutation",
    "PersonEmail": "Email",
    "PersonTitle": "Title",
    "PersonMobilePhone": "MobilePhone",
    "PersonHasOptedOutOfEmail": "HasOptedOutOfEmail",
    "PersonLeadSource": "LeadSource",
    "PersonMailingStreet": "MailingStreet",
    "PersonMailingCity": "MailingCity",
    "PersonMailingState": "MailingState",
    "PersonMailingPostalCode": "MailingPostalCode",
    "PersonMailingCountry": "MailingCountry",
    "Phone": "Phone",
    "OwnerId": "OwnerId",
}
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
# Records deleted with a parent, restored with it: (object, lookup field) per parent object.
CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Task", "WhatId")),
    "Contact": (("OpportunityContactRole", "ContactId"), ("Task", "WhoId")),
    "Opportunity": (("OpportunityContactRole", "OpportunityId"), ("Task", "WhatId")),
    "Lead": (("Task", "WhoId"),),
}


@dataclass(frozen=True)
class Actor:
    """Who writes and through which API: ``commitUser`` and ``changeOrigin`` of change events."""

    user_id: str
    api_version: str = ""
    client: str | None = None
    # Sforce-Auto-Assign: the org's lead assignment rule runs on an API create unless it is FALSE
    auto_assign: bool = False

    @property
    def origin(self) -> str:
        if not self.api_version:
            return ""
        base = f"com/salesforce/api/rest/{self.api_version}"
        return f"{base};client={self.client}" if self.client else base


@dataclass
class Change:
    entity: str
    change_type: str  # CREATE, UPDATE, DELETE, UNDELETE
    record_id: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    emit: bool = True


@dataclass
class Transaction:
    actor: Actor
    emit: bool = True
    undo: list[tuple[str, str, dict[str, Any] | None, str | None]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    timestamp: datetime = field(default_factory=now)


def _blank(value: Any) -> bool:
    return value is None or value == ""


class Store:
    def __init__(self, schema: Schema, settings: OrgSettings, id_generator: ids.IdGenerator) -> None:
        self.schema = schema
        self.settings = settings
        self.ids = id_generator
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in schema.objects}
        self.deleted_on: dict[str, str] = {}
        self.cascaded: dict[str, list[str]] = {}
        self.on_commit: Callable[[Transaction], None] = lambda _tx: None
        self._tx: Transaction | None = None

    # -- schema ------------------------------------------------------------------------------
    def set_schema(self, schema: Schema) -> None:
        """Switch to a new schema; records gain its new fields (as null or their default)."""
        self.schema = schema
        for name, obj in schema.objects.items():
            for record in self.tables.setdefault(name, {}).values():
                for f in obj.fields.values():
                    record.setdefault(f.name, f.default if f.type == "boolean" else None)

    def obj(self, name: str) -> ObjectDef:
        found = self.schema.get(name)
        if found is None:
            raise KeyError(name)
        return found

    # -- reads (SoqlData) --------------------------------------------------------------------
    def rows(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        table = self.tables.get(sobject, {})
        return [r for r in table.values() if include_deleted or not r["IsDeleted"]]

    def get(self, sobject: str, record_id: str, *, include_deleted: bool) -> Mapping[str, Any] | None:
        full = ids.normalize(record_id)
        record = self.tables.get(sobject, {}).get(full) if full else None
        if record is None or (record["IsDeleted"] and not include_deleted):
            return None
        return record

    def find(self, record_id: str) -> tuple[ObjectDef, dict[str, Any]] | None:
        """The object and record of any id (deleted ones included)."""
        full = ids.normalize(record_id)
        obj = self.schema.object_for_id(full) if full else None
        if obj is None or full is None:
            return None
        record = self.tables[obj.name].get(full)
        return (obj, record) if record is not None else None

    def live(self, sobject: str, record_id: str) -> dict[str, Any]:
        """A record to write to: RecordFailure NOT_FOUND (404) or ENTITY_IS_DELETED when unusable."""
        full = ids.normalize(record_id)
        record = self.tables.get(sobject, {}).get(full) if full else None
        if record is None:
            raise RecordFailure.one("NOT_FOUND", "The requested resource does not exist", status=404)
        if record["IsDeleted"]:
            raise deleted()
        return record

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def transaction(self, actor: Actor, *, emit: bool = True) -> Iterator[Transaction]:
        """A unit of work; joins the open one if any. Rolls back when an exception leaves it."""
        if self._tx is not None:
            yield self._tx
            return
        tx = Transaction(actor, emit=emit)
        self._tx = tx
        try:
            yield tx
        except BaseException:
            self._rollback(tx, 0)
            raise
        finally:
            self._tx = None
        if tx.changes and tx.emit:
            self.on_commit(tx)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo what the block wrote if it fails (RecordFailure/RequestError), then re-raise."""
        tx = self._require_tx()
        mark_undo, mark_changes = len(tx.undo), len(tx.changes)
        try:
            yield
        except (RecordFailure, RequestError):
            self._rollback(tx, mark_undo)
            del tx.changes[mark_changes:]
            raise

    def mark(self) -> tuple[int, int]:
        """A point of the open transaction to roll back to (:meth:`rollback_to`)."""
        tx = self._require_tx()
        return len(tx.undo), len(tx.changes)

    def rollback_to(self, mark: tuple[int, int]) -> None:
        """Undo what the open transaction wrote since ``mark`` (an all-or-none failure)."""
        tx = self._require_tx()
        self._rollback(tx, mark[0])
        del tx.changes[mark[1] :]

    def _rollback(self, tx: Transaction, mark: int) -> None:
        while len(tx.undo) > mark:
            sobject, record_id, previous, deleted_on = tx.undo.pop()
            if previous is None:
                self.tables[sobject].pop(record_id, None)
            else:
                self.tables[sobject][record_id] = previous
            if deleted_on is None:
                self.deleted_on.pop(record_id, None)
            else:
                self.deleted_on[record_id] = deleted_on

    def _require_tx(self) -> Transaction:
        if self._tx is None:
            raise RuntimeError("writes need an open transaction")
        return self._tx

    def _remember(self, sobject: str, record_id: str) -> None:
        tx = self._require_tx()
        previous = self.tables[sobject].get(record_id)
        tx.undo.append(
            (
                sobject,
                record_id,
                copy.deepcopy(previous) if previous else None,
                self.deleted_on.get(record_id),
            )
        )

    def _record_change(self, change: Change) -> None:
        self._require_tx().changes.append(change)

    # -- writes ------------------------------------------------------------------------------
    def create(
        self, sobject: str, values: Mapping[str, Any], *, system: bool = False, emit: bool = True
    ) -> str:
        """Insert a record; returns its id. ``system`` writes read-only fields (seed, conversions)."""
        tx = self._require_tx()
        obj = self.obj(sobject)
        if not obj.createable and not system:
            raise RecordFailure.one(
                "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {obj.name}"
            )
        given = self._coerce(obj, values, creating=True, system=system)
        record: dict[str, Any] = {
            f.name: (f.default if f.type in ("boolean", "picklist") else None) for f in obj.fields.values()
        }
        record.update(given)
        self._derive(obj, record, given, None)
        if not system:
            self._check_account_kind(obj, record, given, None)
        self._validate(obj, record, given, None, tx.actor)
        when = stamp(tx.timestamp)
        record_id = str(given["Id"]) if system and given.get("Id") else self.ids.new(obj.key_prefix)
        record["Id"] = record_id
        record["IsDeleted"] = False
        for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            record[name] = given.get(name) or when
        for name in ("CreatedById", "LastModifiedById"):
            record[name] = given.get(name) or tx.actor.user_id
        if obj.name == "Lead" and tx.actor.auto_assign and self.settings.lead_assignment_owner:
            record["OwnerId"] = self.settings.lead_assignment_owner  # the rule wins over a given owner
        if "OwnerId" in obj.fields and record.get("OwnerId") is None:
            record["OwnerId"] = tx.actor.user_id
        self._remember(obj.name, record_id)
        self.tables[obj.name][record_id] = record
        if obj.name == "Account" and record.get("IsPersonAccount"):
            record["PersonContactId"] = self._create_person_contact(record)
        self._record_change(Change(obj.name, "CREATE", record_id, None, copy.deepcopy(record), emit))
        return record_id

    def update(
        self, sobject: str, record_id: str, values: Mapping[str, Any], *, system: bool = False
    ) -> dict[str, Any]:
        """Update a record; returns it. RecordFailure when refused."""
        tx = self._require_tx()
        obj = self.obj(sobject)
        if not obj.updateable and not system:
            raise RecordFailure.one(
                "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be updated: {obj.name}"
            )
        current = self.live(obj.name, record_id)
        if obj.name == "Lead" and current.get("IsConverted") and not system:
            raise RecordFailure.one("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        if obj.name == "Contact" and current.get("IsPersonAccount") and not system:
            raise RecordFailure.one(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Person account contacts can be updated only through their account: "
                f"{current.get('AccountId')}",
            )
        given = self._coerce(obj, values, creating=False, system=system)
        candidate = dict(current)
        candidate.update(given)
        self._derive(obj, candidate, given, current)
        if not system:
            self._check_account_kind(obj, candidate, given, current)
        self._validate(obj, candidate, given, current, tx.actor)
        when = stamp(tx.timestamp)
        candidate["LastModifiedDate"] = given.get("LastModifiedDate") or when
        candidate["SystemModstamp"] = given.get("SystemModstamp") or when
        candidate["LastModifiedById"] = tx.actor.user_id
        self._remember(obj.name, current["Id"])
        old = copy.deepcopy(current)
        self.tables[obj.name][current["Id"]] = candidate
        if obj.name == "Account" and candidate.get("IsPersonAccount") and candidate.get("PersonContactId"):
            self._sync_person_contact(candidate)
        self._record_change(Change(obj.name, "UPDATE", current["Id"], old, copy.deepcopy(candidate)))
        return candidate

    def delete(self, sobject: str | None, record_id: str) -> str:
        """Move a record (and its cascade) to the recycle bin; returns the 18-character id."""
        tx = self._require_tx()
        if sobject is None:
            found = self.find(record_id)
            if found is None:
                raise RecordFailure.one("ENTITY_IS_DELETED", "entity is deleted", status=404)
            sobject = found[0].name
        obj = self.obj(sobject)
        if not obj.deletable:
            raise RecordFailure.one(
                "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {obj.name}"
            )
        record = self.live(obj.name, record_id)
        when = stamp(tx.timestamp)
        children: list[str] = []
        self._mark_deleted(obj, record, when)
        for child_obj, lookup in CASCADES.get(obj.name, ()):
            for child in list(self.tables[child_obj].values()):
                if child[lookup] == record["Id"] and not child["IsDeleted"]:
                    children.append(child["Id"])
                    self._delete_tree(self.obj(child_obj), child, when, children)
        self.cascaded[record["Id"]] = children
        return str(record["Id"])

    def _delete_tree(self, obj: ObjectDef, record: dict[str, Any], when: str, acc: list[str]) -> None:
        self._mark_deleted(obj, record, when)
        for child_obj, lookup in CASCADES.get(obj.name, ()):
            for child in list(self.tables[child_obj].values()):
                if child[lookup] == record["Id"] and not child["IsDeleted"]:
                    acc.append(child["Id"])
                    self._delete_tree(self.obj(child_obj), child, when, acc)

    def _mark_deleted(self, obj: ObjectDef, record: dict[str, Any], when: str) -> None:
        self._remember(obj.name, record["Id"])
        record["IsDeleted"] = True
        record["SystemModstamp"] = when
        self.deleted_on[record["Id"]] = when
        emit = not (obj.name == "Contact" and record.get("IsPersonAccount"))
        self._record_change(Change(obj.name, "DELETE", record["Id"], copy.deepcopy(record), None, emit))

    def undelete(self, record_id: str) -> str:
        tx = self._require_tx()
        found = self.find(record_id)
        if found is None or not found[1]["IsDeleted"]:
            raise RecordFailure.one("UNDELETE_FAILED", "Entity is not in the recycle bin")
        record = found[1]
        when = stamp(tx.timestamp)
        for rid in [record["Id"], *self.cascaded.pop(record["Id"], [])]:
            hit = self.find(rid)
            if hit is None or not hit[1]["IsDeleted"]:
                continue
            child_obj, child = hit
            self._remember(child_obj.name, rid)
            child["IsDeleted"] = False
            child["SystemModstamp"] = when
            child["LastModifiedDate"] = when
            child["LastModifiedById"] = tx.actor.user_id
            self.deleted_on.pop(rid, None)
            emit = not (child_obj.name == "Contact" and child.get("IsPersonAccount"))
            self._record_change(Change(child_obj.name, "UNDELETE", rid, None, copy.deepcopy(child), emit))
        return str(record["Id"])

    # -- person accounts ---------------------------------------------------------------------
    def _person_contact_values(self, account: Mapping[str, Any]) -> dict[str, Any]:
        values = {target: account.get(source) for source, target in PERSON_CONTACT_FIELDS.items()}
        values["AccountId"] = account["Id"]
        values["IsPersonAccount"] = True
        return values

    def _create_person_contact(self, account: Mapping[str, Any]) -> str:
        values = self._person_contact_values(account)
        for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            values[name] = account[name]
        return self.create("Contact", values, system=True, emit=False)

    def _sync_person_contact(self, account: Mapping[str, Any]) -> None:
        contact = self.tables["Contact"].get(account["PersonContactId"])
        if contact is None or contact["IsDeleted"]:
            return
        self._remember("Contact", contact["Id"])
        contact.update(self._person_contact_values(account))
        self._derive(self.obj("Contact"), contact, {}, contact)
        contact["LastModifiedDate"] = account["LastModifiedDate"]
        contact["SystemModstamp"] = account["SystemModstamp"]
        contact["LastModifiedById"] = account["LastModifiedById"]

    def _check_account_kind(
        self,
        obj: ObjectDef,
        record: dict[str, Any],
        given: Mapping[str, Any],
        current: Mapping[str, Any] | None,
    ) -> None:
        if obj.name != "Account" or not self.schema.person_accounts:
            return
        person = bool(record.get("IsPersonAccount"))
        if person:
            wrong = ["Name"] if "Name" in given else []
        else:
            wrong = [
                name
                for name in given
                if (name in PERSON_ONLY_FIELDS - {"RecordTypeId"} or name.startswith("Person"))
                and not _blank(given[name])
            ]
        if (
            current is not None
            and "RecordTypeId" in given
            and given["RecordTypeId"] != current["RecordTypeId"]
        ):
            wrong.append("RecordTypeId")
        if wrong:
            raise RecordFailure.one(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Account: bad field names on insert/update call: {', '.join(wrong)}",
                wrong,
            )

    # -- value handling ----------------------------------------------------------------------
    def _coerce(
        self, obj: ObjectDef, values: Mapping[str, Any], *, creating: bool, system: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        refused: list[str] = []
        for key, value in values.items():
            if key == "attributes" or (key == "Id" and not creating):
                continue
            f = obj.field(key)
            if f is None:
                raise RequestError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")
            writable = f.createable if creating else f.updateable
            if not writable and not system:
                refused.append(f.name)
                continue
            out[f.name] = coerce(f, value)
        if refused:
            raise RecordFailure.one(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(refused)}. Please check the security settings "
                "of this field and verify that it is read/write for your profile or permission set.",
                refused,
            )
        return out

    def _derive(
        self,
        obj: ObjectDef,
        record: dict[str, Any],
        given: Mapping[str, Any],
        current: Mapping[str, Any] | None,
    ) -> None:
        """Fields Salesforce computes: names, compound addresses, stage and status flags."""
        name = obj.name
        if name == "Account" and self.schema.person_accounts:
            if current is None:
                rt = record.get("RecordTypeId") or self.schema.record_types.business_id
                record["RecordTypeId"] = ids.normalize(rt) or rt
                record["IsPersonAccount"] = record["RecordTypeId"] == self.schema.record_types.person_id
            if record.get("IsPersonAccount"):
                record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        if name in ("Lead", "Contact", "User"):
            record["Name"] = (
                " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p) or None
            )
        for f in obj.fields.values():
            if f.type == "address":
                record[f.name] = self._address(obj, f.name, record)
        if name == "Opportunity":
            stage = record.get("StageName")
            if stage in STAGE_INFO:
                probability, closed, won = STAGE_INFO[stage]
                record["IsClosed"], record["IsWon"] = closed, won
                if "Probability" not in given and (current is None or "StageName" in given):
                    record["Probability"] = float(probability)
        if name == "Task":
            record["IsClosed"] = record.get("Status") == "Completed"
            if current is None and record.get("TaskSubtype") is None:
                record["TaskSubtype"] = "Task"

    @staticmethod
    def _address(obj: ObjectDef, compound: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
        parts = {
            f.name[len(f.name) - len(suffix) :]: record.get(f.name)
            for f in obj.fields.values()
            if f.compound == compound
            for suffix in ("Street", "City", "State", "PostalCode", "Country")
            if f.name.endswith(suffix)
        }
        if all(v is None for v in parts.values()):
            return None
        return {
            "city": parts.get("City"),
            "country": parts.get("Country"),
            "geocodeAccuracy": None,
            "latitude": None,
            "longitude": None,
            "postalCode": parts.get("PostalCode"),
            "state": parts.get("State"),
            "street": parts.get("Street"),
        }

    # -- validation --------------------------------------------------------------------------
    def _validate(
        self,
        obj: ObjectDef,
        record: dict[str, Any],
        given: Mapping[str, Any],
        current: Mapping[str, Any] | None,
        actor: Actor,
    ) -> None:
        errors = self._required(obj, record, given, current)
        for name in given:
            f = obj.fields[name]
            error = self._check_value(obj, f, record.get(name))
            if error is not None:
                errors.append(error)
        if errors:
            raise RecordFailure(errors)
        for name in given:
            f = obj.fields[name]
            if f.type == "reference" and record.get(name) is not None:
                record[name] = self._check_reference(obj, f, record[name])
            if f.unique and record.get(name) is not None:
                self._check_unique(obj, f, record)
        for rule in self.settings.validation_rules:
            if rule.object == obj.name and rule.violated(record):
                raise RecordFailure.one(
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, [rule.field] if rule.at_field else []
                )
        if obj.name in self.settings.duplicate_rule and record.get("Email"):
            self._check_duplicates(obj, record, actor)

    def _required(
        self,
        obj: ObjectDef,
        record: Mapping[str, Any],
        given: Mapping[str, Any],
        current: Mapping[str, Any] | None,
    ) -> list[SfError]:
        person = obj.name == "Account" and bool(record.get("IsPersonAccount"))
        missing = []
        for f in obj.fields.values():
            if f.nillable or f.type == "boolean" or f.calculated or f.name in SYSTEM_FIELDS:
                continue
            if not f.createable and not f.updateable:
                continue
            if (person and f.name == "Name") or (f.name == "OwnerId" and current is None):
                continue
            if (current is None or f.name in given) and _blank(record.get(f.name)):
                missing.append(f.name)
        if person and _blank(record.get("LastName")):
            missing.append("LastName")
        if not missing:
            return []
        return [
            SfError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        ]

    @staticmethod
    def _check_value(obj: ObjectDef, f: FieldDef, value: Any) -> SfError | None:
        if value is None:
            return None
        label = f.label or f.name
        if f.type in ("picklist", "multipicklist") and f.restricted:
            chosen = str(value).split(";") if f.type == "multipicklist" else [str(value)]
            if any(v not in f.picklist_values for v in chosen):
                return SfError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{label}: bad value for restricted picklist field: {value}",
                    [f.name],
                )
        if f.type in STRING_TYPES and f.length and len(str(value)) > f.length:
            return SfError(
                "STRING_TOO_LONG", f"{label}: data value too large: {value} (max length={f.length})", [f.name]
            )
        if f.type == "email" and not _EMAIL_RE.match(str(value)):
            return SfError("INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {value}", [f.name])
        if f.type in NUMBER_TYPES and f.precision and abs(float(value)) >= 10 ** (f.precision - f.scale):
            message = f"{label}: value outside of valid range on numeric field: {value}"
            return SfError("NUMBER_OUTSIDE_VALID_RANGE", message, [f.name])
        return None

    def _check_reference(self, obj: ObjectDef, f: FieldDef, value: Any) -> str:
        label = f.label or f.name
        full = ids.normalize(value)
        if full is None:
            raise RecordFailure.one("MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [f.name])
        target = self.schema.object_for_id(full)
        if target is None or target.name not in f.reference_to:
            raise RecordFailure.one(
                "FIELD_INTEGRITY_EXCEPTION", f"{label}: id value of incorrect type: {value}", [f.name]
            )
        record = self.tables[target.name].get(full)
        if record is None:
            raise RecordFailure.one("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name])
        if record["IsDeleted"]:
            raise RecordFailure.one("ENTITY_IS_DELETED", "entity is deleted", [f.name])
        if f.name == "OwnerId":
            if target.name == "User" and not record["IsActive"]:
                raise RecordFailure.one(
                    "INACTIVE_OWNER_OR_USER",
                    f"operation performed with inactive user [{full}] as owner of {obj.name.lower()}",
                    [f.name],
                )
            if target.name == "Group" and record["Type"] != "Queue":
                raise RecordFailure.one(
                    "FIELD_INTEGRITY_EXCEPTION", f"{label}: id value of incorrect type: {value}", [f.name]
                )
        return full

    def _check_unique(self, obj: ObjectDef, f: FieldDef, record: Mapping[str, Any]) -> None:
        wanted = str(record[f.name]).lower()
        for other in self.tables[obj.name].values():
            if other["Id"] == record.get("Id") or other["IsDeleted"]:
                continue
            value = other.get(f.name)
            if value is not None and str(value).lower() == wanted:
                raise RecordFailure.one(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {f.name} duplicates value on record with id: {other['Id']}",
                )

    def _check_duplicates(self, obj: ObjectDef, record: Mapping[str, Any], actor: Actor) -> None:
        email = str(record["Email"]).strip().lower()
        matches = [
            other["Id"]
            for other in self.tables[obj.name].values()
            if other["Id"] != record.get("Id")
            and not other["IsDeleted"]
            and str(other.get("Email") or "").strip().lower() == email
        ]
        if not matches:
            return
        version = actor.api_version or "59.0"
        message = "Use one of these records?"
        result = {
            "allowSave": False,
            "duplicateRule": f"Standard_{obj.name}_Duplicate_Rule",
            "duplicateRuleEntityType": obj.name,
            "errorMessage": message,
            "matchResults": [
                {
                    "entityType": obj.name,
                    "errors": [],
                    "matchEngine": "ExactMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {
                                "attributes": {
                                    "type": obj.name,
                                    "url": f"/services/data/v{version}/sobjects/{obj.name}/{rid}",
                                },
                                "Id": rid,
                            },
                        }
                        for rid in matches
                    ],
                    "rule": f"Standard_{obj.name}_Match_Rule_v1_0",
                    "size": len(matches),
                    "success": True,
                }
            ],
        }
        raise RecordFailure([SfError("DUPLICATES_DETECTED", message, [], {"duplicateResult": result})])
