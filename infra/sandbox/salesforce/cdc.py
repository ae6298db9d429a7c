"""Change Data Capture: change events for committed writes, relayed as Event Relay does to EventBridge.

Each committed transaction yields one event per changed record (a record created then updated in
the same transaction yields one CREATE with its final values); records of one object with identical
changes in a transaction share one event with several ``recordIds``, as Salesforce groups them.

An event is wrapped in the EventBridge envelope of a Salesforce Event Relay partner event source::

    {"version": "0", "id": <uuid>, "detail-type": "LeadChangeEvent",
     "source": "aws.partner/salesforce.com/<orgId>/<relayChannelId>", "account": ..., "time": ...,
     "region": ..., "resources": [],
     "detail": {"payload": {<fields>..., "ChangeEventHeader": {...}}, "schemaId": ..., "id": <uuid>,
                "event": {"replayId": N}}}

Delivery: when a target URL is set, envelopes are POSTed to it in commit order as a JSON array of at
most 10 envelopes (the size of an EventBridge ``PutEvents`` batch); a 2xx answer acknowledges the
whole array, anything else is retried with back-off (at least once, never reordered). Delivery can
be held (a stand-in for Event Relay's latency): events queue up, counted as pending, until released.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import requests

from infra.sandbox.delivery import Deliverer
from infra.sandbox.salesforce.schema import ObjectDef, Schema
from infra.sandbox.salesforce.store import Change, Transaction
from infra.sandbox.salesforce.values import cdc_datetime

SKIPPED_FIELDS = frozenset({"Id", "IsDeleted", "SystemModstamp"})
ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country")
EVENT_LOG_SIZE = 5000
DELIVERY_BATCH = 10


def _merge(changes: list[Change]) -> list[Change]:
    """One change per record: CREATE+UPDATE -> CREATE, UPDATE+UPDATE -> UPDATE (first old, last new)."""
    out: list[Change] = []
    last: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = (change.entity, change.record_id)
        prev = last.get(key)
        if prev is not None and change.change_type == "UPDATE" and prev.change_type in ("CREATE", "UPDATE"):
            prev.new = change.new
            continue
        out.append(change)
        last[key] = change
    return out


def _cdc_value(ftype: str, value: Any) -> Any:
    if ftype == "datetime" and isinstance(value, str):
        return cdc_datetime(value)
    return value


def _uses_compound_name(obj: ObjectDef, record: dict[str, Any]) -> bool:
    has_parts = any(f.compound == "Name" for f in obj.fields.values())
    return has_parts and (obj.name != "Account" or bool(record.get("IsPersonAccount")))


def build_payload(obj: ObjectDef, change: Change) -> tuple[dict[str, Any], list[str], list[str]]:
    """(payload fields, changedFields, nulledFields) of one change."""
    if change.change_type == "DELETE" or change.new is None:
        return {}, [], []
    new = change.new
    old = change.old if change.change_type == "UPDATE" else None
    compound_name = _uses_compound_name(obj, new)
    payload, changed, nulled = _plain_fields(obj, old, new, compound_name)
    for compound, parts in _compound_parts(obj, compound_name).items():
        sub, sub_changed, sub_nulled = _compound_fields(compound, parts, old, new)
        changed += sub_changed
        nulled += sub_nulled
        if sub:
            payload[compound] = sub
    return payload, changed, nulled


def _differs(old: dict[str, Any] | None, new: dict[str, Any], name: str) -> bool:
    return old is None or old.get(name) != new.get(name)


def _plain_fields(
    obj: ObjectDef, old: dict[str, Any] | None, new: dict[str, Any], compound_name: bool
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The fields outside compound fields: (payload, changedFields, nulledFields)."""
    payload: dict[str, Any] = {}
    changed: list[str] = []
    nulled: list[str] = []
    for f in obj.fields.values():
        if f.name in SKIPPED_FIELDS or f.type == "address" or (compound_name and f.name == "Name"):
            continue
        if f.compound is not None and (f.compound != "Name" or compound_name):
            continue
        value = new.get(f.name)
        if old is None:
            if value is not None:
                payload[f.name] = _cdc_value(f.type, value)
        elif _differs(old, new, f.name) or f.name == "LastModifiedDate":
            payload[f.name] = _cdc_value(f.type, value)
            changed.append(f.name)
            if value is None:
                nulled.append(f.name)
    return payload, changed, nulled


def _compound_parts(obj: ObjectDef, compound_name: bool) -> dict[str, list[tuple[str, str]]]:
    """Each compound field's (part, field name) pairs, e.g. MailingAddress: (City, MailingCity)."""
    compounds: dict[str, list[tuple[str, str]]] = {}
    for f in obj.fields.values():
        if f.compound is not None and (f.compound != "Name" or compound_name):
            part = f.name if f.compound == "Name" else next(p for p in ADDRESS_PARTS if f.name.endswith(p))
            compounds.setdefault(f.compound, []).append((part, f.name))
    return compounds


def _compound_fields(
    compound: str, parts: list[tuple[str, str]], old: dict[str, Any] | None, new: dict[str, Any]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """One compound field: (its payload value, changedFields, nulledFields)."""
    sub: dict[str, Any] = {}
    changed: list[str] = []
    nulled: list[str] = []
    for part, name in parts:
        value = new.get(name)
        if old is None:
            if value is not None:
                sub[part] = value
        elif _differs(old, new, name):
            sub[part] = value
            changed.append(f"{compound}.{part}")
            if value is None:
                nulled.append(f"{compound}.{part}")
    return sub, changed, nulled


def schema_id(entity: str) -> str:
    digest = hashlib.sha256(f"{entity}ChangeEvent".encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


class ChangeEvents:
    """Builds, logs and delivers change events. Thread-safe."""

    def __init__(
        self,
        org_id: str,
        relay_channel_id: str,
        schema: Callable[[], Schema],
        *,
        account: str = "000000000000",
        region: str = "us-east-1",
    ) -> None:
        self.org_id = org_id
        self.source = f"aws.partner/salesforce.com/{org_id}/{relay_channel_id}"
        self.account = account
        self.region = region
        self._schema = schema
        self._lock = threading.Lock()
        self.log: deque[dict[str, Any]] = deque(maxlen=EVENT_LOG_SIZE)
        self.target: str | None = None
        self._replay_id = 0
        self._commit_number = 1_745_500_000_000_000_000
        self.deliverer: Deliverer[dict[str, Any]] = Deliverer(
            "salesforce-cdc", self._send, max_batch=DELIVERY_BATCH
        )

    # -- building ----------------------------------------------------------------------------
    def publish(self, tx: Transaction) -> None:
        """Turn a committed transaction into events (call in commit order)."""
        schema = self._schema()
        groups: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        for change in _merge([c for c in tx.changes if c.emit]):
            obj = schema.objects.get(change.entity)
            if obj is None or not obj.cdc:
                continue
            payload, changed, nulled = build_payload(obj, change)
            key = json.dumps([change.entity, change.change_type, payload, changed, nulled], sort_keys=True)
            if key in groups:
                groups[key]["recordIds"].append(change.record_id)
                continue
            groups[key] = {
                "entity": change.entity,
                "changeType": change.change_type,
                "payload": payload,
                "changedFields": changed,
                "nulledFields": nulled,
                "recordIds": [change.record_id],
            }
            order.append(key)
        self._emit([groups[k] for k in order], tx.actor.user_id, tx.actor.origin, tx.timestamp)

    def gap(self, entity: str, record_ids: list[str], change_type: str, overflow: bool, user_id: str) -> int:
        """Emit a GAP_<type> (or GAP_OVERFLOW) event, as Salesforce does when it cannot send changes."""
        kind = "GAP_OVERFLOW" if overflow else f"GAP_{change_type}"
        item = {
            "entity": entity,
            "changeType": kind,
            "payload": {},
            "changedFields": [],
            "nulledFields": [],
            "recordIds": list(record_ids),
        }
        return self._emit([item], user_id, "", dt.datetime.now(dt.UTC))[0]

    def _emit(self, items: list[dict[str, Any]], user_id: str, origin: str, when: dt.datetime) -> list[int]:
        if not items:
            return []
        timestamp_ms = int(when.timestamp() * 1000) // 1000 * 1000
        transaction_key = str(uuid.uuid4())
        replay_ids = []
        with self._lock:
            self._commit_number += 1
            for sequence, item in enumerate(items, start=1):
                self._replay_id += 1
                header = {
                    "entityName": item["entity"],
                    "recordIds": item["recordIds"],
                    "changeType": item["changeType"],
                    "changeOrigin": origin,
                    "transactionKey": transaction_key,
                    "sequenceNumber": sequence,
                    "commitTimestamp": timestamp_ms,
                    "commitNumber": self._commit_number,
                    "commitUser": user_id,
                    "nulledFields": item["nulledFields"],
                    "diffFields": [],
                    "changedFields": item["changedFields"],
                }
                envelope = self._envelope(
                    item["entity"], {**item["payload"], "ChangeEventHeader": header}, when
                )
                self.log.append(envelope)
                replay_ids.append(self._replay_id)
                if self.target:
                    self.deliverer.put(envelope)
        return replay_ids

    def _envelope(self, entity: str, payload: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": f"{entity}ChangeEvent",
            "source": self.source,
            "account": self.account,
            "time": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [],
            "detail": {
                "payload": payload,
                "schemaId": schema_id(entity),
                "id": str(uuid.uuid4()),
                "event": {"replayId": self._replay_id},
            },
        }

    # -- log and delivery --------------------------------------------------------------------
    def events(self, after: int = 0, entity: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                e
                for e in self.log
                if e["detail"]["event"]["replayId"] > after
                and (entity is None or e["detail"]["payload"]["ChangeEventHeader"]["entityName"] == entity)
            ]

    def set_target(self, url: str | None) -> None:
        with self._lock:
            self.target = url or None
            if self.target is None:
                self.deliverer.clear()

    def _send(self, batch: list[dict[str, Any]]) -> bool:
        target = self.target
        if target is None:
            return True
        response = requests.post(target, json=batch, timeout=5)
        return 200 <= response.status_code < 300

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self.target = None
            self.deliverer.clear()
            self.deliverer.release()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "target": self.target,
                "source": self.source,
                "pending": self.deliverer.pending(),
                "held": self.deliverer.held,
                "delivered": self.deliverer.delivered,
                "last_replay_id": self._replay_id,
            }
