"""HubSpot CRM associations v4 between contacts, companies and deals.

Associations are stored in both directions: creating contact→company also makes company→contact
readable, with the inverse HubSpot-defined type (279 ↔ 280, 1 ↔ 2, ...). Every association carries
the unlabeled type of its pair; "Primary" is an extra label next to it, and a contact (or deal) has
at most one primary company: labelling another one moves the label.

Archiving a record takes its associations out of every read (they come back if the record is
restored); merging moves the merged record's associations to the primary record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import ApiError, json_response, read_json
from infra.sandbox.hubspot.errors import batch_error, batch_too_large, validation_error

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal"}

BATCH_READ_LIMIT = 1000
BATCH_WRITE_LIMIT = 2000
PAGE_SIZE = 500
CHANGE_SOURCE = "INTEGRATION"

Edge = tuple[str, str]  # (from object type, to object type), canonical plural names


@dataclass(frozen=True)
class AssociationType:
    """A HubSpot-defined association type in one direction."""

    from_type: str
    to_type: str
    type_id: int
    inverse_id: int
    label: str | None = None
    category: str = "HUBSPOT_DEFINED"

    @property
    def primary(self) -> bool:
        return self.label == "Primary"

    def spec(self) -> dict[str, Any]:
        """``AssociationSpecWithLabel``; the real API sends ``"label": null`` for unlabeled types, the
        OpenAPI spec does not allow null, so the key is left out (clients read it as None either way)."""
        spec: dict[str, Any] = {"category": self.category, "typeId": self.type_id}
        if self.label is not None:
            spec["label"] = self.label
        return spec


ASSOCIATION_TYPES: tuple[AssociationType, ...] = (
    AssociationType("contacts", "companies", 279, 280),
    AssociationType("contacts", "companies", 1, 2, "Primary"),
    AssociationType("companies", "contacts", 280, 279),
    AssociationType("companies", "contacts", 2, 1, "Primary"),
    AssociationType("deals", "contacts", 3, 4),
    AssociationType("contacts", "deals", 4, 3),
    AssociationType("deals", "companies", 341, 342),
    AssociationType("deals", "companies", 5, 6, "Primary"),
    AssociationType("companies", "deals", 342, 341),
    AssociationType("companies", "deals", 6, 5, "Primary"),
)
TYPES_BY_ID = {t.type_id: t for t in ASSOCIATION_TYPES}
DEFAULT_TYPE: dict[Edge, int] = {
    (t.from_type, t.to_type): t.type_id for t in ASSOCIATION_TYPES if t.label is None
}
# A contact has one primary company and a deal one primary company: these directions are unique.
UNIQUE_PRIMARY = {1, 5}
PRIMARY_COMPANY = 1
PRIMARY_COMPANY_PROPERTY = "associatedcompanyid"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def batch_response(
    results: list[Any], errors: list[dict[str, Any]], started_at: str, *, ok_status: int = 200
) -> Response:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started_at,
        "completedAt": _now_iso(),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return json_response(body, status=207 if errors else ok_status)


def _bad_body(message: str) -> ApiError:
    return validation_error(f"Invalid input JSON on line 1, column 1: {message}")


class Associations:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        # (from type, to type) -> from id -> to id -> type ids, kept in both directions
        self._edges: dict[Edge, dict[str, dict[str, set[int]]]] = {}
        # associations of archived records, restored by on_restore: (type, id) -> [(to type, to id, ids)]
        self._parked: dict[tuple[str, str], list[tuple[str, str, set[int]]]] = {}

    # -- wiring --------------------------------------------------------------------------------
    def register_routes(self) -> None:
        e = self.emulator
        base = "/crm/v4/objects/<objectType>/<objectId>/associations/<toObjectType>"
        e.route("GET", base, self._list)
        e.route("PUT", f"{base}/<toObjectId>", self._put_labelled)
        e.route("DELETE", f"{base}/<toObjectId>", self._delete_pair)
        e.route(
            "PUT",
            "/crm/v4/objects/<fromObjectType>/<fromObjectId>/associations/default/<toObjectType>/<toObjectId>",
            self._put_default,
        )
        batch = "/crm/v4/associations/<fromObjectType>/<toObjectType>"
        e.route("POST", f"{batch}/batch/read", self._batch_read)
        e.route("POST", f"{batch}/batch/create", self._batch_create)
        e.route("POST", f"{batch}/batch/associate/default", self._batch_default)
        e.route("POST", f"{batch}/batch/archive", self._batch_archive)
        e.route("POST", f"{batch}/batch/labels/archive", self._batch_labels_archive)
        e.route("GET", f"{batch}/labels", self._labels)

    def reset(self) -> None:
        self._edges.clear()
        self._parked.clear()

    # -- model ---------------------------------------------------------------------------------
    def types_between(self, from_type: str, from_id: str, to_type: str, to_id: str) -> set[int]:
        """The association type ids from one record to another (empty when not associated)."""
        with self.emulator.lock:
            return set(self._edges.get((from_type, to_type), {}).get(from_id, {}).get(to_id, set()))

    def associated_ids(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        with self.emulator.lock:
            return sorted(self._edges.get((from_type, to_type), {}).get(from_id, {}), key=_id_key)

    def associate(
        self,
        from_type: str,
        from_id: str,
        to_type: str,
        to_id: str,
        type_id: int | None = None,
        *,
        publish: bool = True,
    ) -> None:
        """Associate two records with the pair's default type, plus ``type_id`` when it is a label.

        Used by the demo seed (``publish=False``: no webhook events).
        """
        pair = (_canonical(from_type), _canonical(to_type))
        if pair not in DEFAULT_TYPE:
            raise ValueError(f"no association between {from_type} and {to_type}")
        type_ids = {DEFAULT_TYPE[pair]} | ({type_id} if type_id is not None else set())
        with self.emulator.lock:
            self._add(pair[0], str(from_id), pair[1], str(to_id), type_ids, publish=publish)

    def on_archive(self, object_type: str, record_id: str) -> None:
        """The record was archived: its associations disappear from reads until it is restored."""
        kind = _canonical(object_type)
        with self.emulator.lock:
            parked = self._detach(kind, str(record_id))
            if parked:
                self._parked[(kind, str(record_id))] = parked
            if kind == "companies":
                for to_type, contact_id, _types in parked:
                    if to_type == "contacts":
                        self._sync_primary_company(contact_id, publish=True)

    def on_restore(self, object_type: str, record_id: str) -> None:
        """The record was restored: bring back the associations it had when it was archived."""
        kind = _canonical(object_type)
        with self.emulator.lock:
            for to_type, to_id, type_ids in self._parked.pop((kind, str(record_id)), []):
                if self._exists(to_type, to_id):
                    self._add(kind, str(record_id), to_type, to_id, type_ids, publish=False)
            if kind == "contacts":
                self._sync_primary_company(str(record_id), publish=False)

    def on_merge(self, object_type: str, primary_id: str, merged_id: str) -> None:
        """Move the merged record's associations to the primary record.

        The primary keeps its own primary company when both had one.
        """
        kind = _canonical(object_type)
        primary, merged = str(primary_id), str(merged_id)
        with self.emulator.lock:
            moved = self._detach(kind, merged) + self._parked.pop((kind, merged), [])
            for to_type, to_id, type_ids in moved:
                keep = set(type_ids)
                for type_id in type_ids & UNIQUE_PRIMARY:
                    if self._primary_target(kind, primary, to_type, type_id) is not None:
                        keep.discard(type_id)
                self._add(kind, primary, to_type, to_id, keep, publish=False)
            if kind == "contacts":
                self._sync_primary_company(primary, publish=False)

    # -- internals (callers hold the lock) -----------------------------------------------------
    def _index(self, from_type: str, to_type: str) -> dict[str, dict[str, set[int]]]:
        return self._edges.setdefault((from_type, to_type), {})

    def _exists(self, object_type: str, record_id: str) -> bool:
        return self.emulator.store.get(object_type, record_id) is not None

    def _primary_target(self, from_type: str, from_id: str, to_type: str, type_id: int) -> str | None:
        for to_id, type_ids in self._index(from_type, to_type).get(from_id, {}).items():
            if type_id in type_ids:
                return to_id
        return None

    def _add(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: set[int], *, publish: bool
    ) -> None:
        forward = self._index(from_type, to_type).setdefault(from_id, {}).setdefault(to_id, set())
        backward = self._index(to_type, from_type).setdefault(to_id, {}).setdefault(from_id, set())
        created = not forward
        before_primary = any(TYPES_BY_ID[t].primary for t in forward)
        wanted = set(type_ids) | {DEFAULT_TYPE[(from_type, to_type)]}
        for type_id in sorted(wanted):
            inverse = TYPES_BY_ID[type_id].inverse_id
            self._move_unique_primary(from_type, from_id, to_type, to_id, type_id, publish=publish)
            self._move_unique_primary(to_type, to_id, from_type, from_id, inverse, publish=publish)
            forward.add(type_id)
            backward.add(inverse)
        now_primary = any(TYPES_BY_ID[t].primary for t in forward)
        if publish and (created or now_primary != before_primary):
            self._publish(from_type, from_id, to_type, to_id, removed=False, primary=now_primary)
        self._sync_pair(from_type, from_id, to_type, to_id, publish=publish)

    def _move_unique_primary(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int, *, publish: bool
    ) -> None:
        """Before labelling ``from → to`` primary, take the label off ``from``'s current primary."""
        if type_id not in UNIQUE_PRIMARY:
            return
        current = self._primary_target(from_type, from_id, to_type, type_id)
        if current is None or current == to_id:
            return
        self._remove(from_type, from_id, to_type, current, {type_id}, publish=publish, sync=False)

    def _remove(
        self,
        from_type: str,
        from_id: str,
        to_type: str,
        to_id: str,
        type_ids: set[int] | None,
        *,
        publish: bool,
        sync: bool = True,
    ) -> None:
        """Remove some types (all when ``type_ids`` is None or the default type is among them)."""
        forward_map = self._index(from_type, to_type).get(from_id, {})
        forward = forward_map.get(to_id)
        if not forward:
            return
        backward_map = self._index(to_type, from_type).get(to_id, {})
        was_primary = any(TYPES_BY_ID[t].primary for t in forward)
        default = DEFAULT_TYPE[(from_type, to_type)]
        if type_ids is None or default in type_ids:
            forward_map.pop(to_id, None)
            backward_map.pop(from_id, None)
            if publish:
                self._publish(from_type, from_id, to_type, to_id, removed=True, primary=was_primary)
        else:
            removed = forward & type_ids
            forward -= removed
            backward_map.get(from_id, set()).difference_update(TYPES_BY_ID[t].inverse_id for t in removed)
            if publish and was_primary and not any(TYPES_BY_ID[t].primary for t in forward):
                self._publish(from_type, from_id, to_type, to_id, removed=True, primary=True)
        if sync:
            self._sync_pair(from_type, from_id, to_type, to_id, publish=publish)

    def _sync_pair(self, from_type: str, from_id: str, to_type: str, to_id: str, *, publish: bool) -> None:
        if from_type == "contacts" and to_type == "companies":
            self._sync_primary_company(from_id, publish=publish)
        elif from_type == "companies" and to_type == "contacts":
            self._sync_primary_company(to_id, publish=publish)

    def _sync_primary_company(self, contact_id: str, *, publish: bool) -> None:
        """Keep the contact's ``associatedcompanyid`` equal to its primary company, as HubSpot does."""
        contact = self.emulator.store.get("contacts", contact_id)
        if contact is None:
            return
        primary = self._primary_target("contacts", contact_id, "companies", PRIMARY_COMPANY) or ""
        if (contact.properties.get(PRIMARY_COMPANY_PROPERTY) or "") != primary:
            self.emulator.store.set_system_properties(
                "contacts",
                contact_id,
                {PRIMARY_COMPANY_PROPERTY: primary},
                source="CALCULATED",
                publish=publish,
            )

    def _detach(self, object_type: str, record_id: str) -> list[tuple[str, str, set[int]]]:
        """Remove every association of a record and return them."""
        detached: list[tuple[str, str, set[int]]] = []
        for (from_type, to_type), index in list(self._edges.items()):
            if from_type != object_type or record_id not in index:
                continue
            for to_id, type_ids in list(index[record_id].items()):
                detached.append((to_type, to_id, set(type_ids)))
                self._index(to_type, from_type).get(to_id, {}).pop(record_id, None)
            del index[record_id]
        return detached

    def _publish(
        self, from_type: str, from_id: str, to_type: str, to_id: str, *, removed: bool, primary: bool
    ) -> None:
        occurred_at = int(time.time() * 1000)
        for a_type, a_id, b_type, b_id in (
            (from_type, from_id, to_type, to_id),
            (to_type, to_id, from_type, from_id),
        ):
            self.emulator.webhooks.publish(
                f"{SINGULAR[a_type]}.associationChange",
                int(a_id),
                fromObjectId=int(a_id),
                toObjectId=int(b_id),
                associationType=f"{SINGULAR[a_type].upper()}_TO_{SINGULAR[b_type].upper()}",
                associationRemoved=removed,
                isPrimaryAssociation=primary,
                changeSource=CHANGE_SOURCE,
                occurredAt=occurred_at,
            )

    def _association_types(
        self, from_type: str, from_id: str, to_type: str, to_id: str
    ) -> list[dict[str, Any]]:
        type_ids = self._index(from_type, to_type).get(from_id, {}).get(to_id, set())
        ordered = sorted(type_ids, key=lambda t: (TYPES_BY_ID[t].label is not None, t))
        return [TYPES_BY_ID[t].spec() for t in ordered]

    def _labels_between(self, from_type: str, from_id: str, to_type: str, to_id: str) -> dict[str, Any]:
        type_ids = self._index(from_type, to_type).get(from_id, {}).get(to_id, set())
        labels = sorted({label for t in type_ids if (label := TYPES_BY_ID[t].label) is not None})
        return {
            "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
            "fromObjectId": from_id,
            "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
            "toObjectId": to_id,
            "labels": labels,
        }

    def _page(
        self, from_type: str, from_id: str, to_type: str, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        to_ids = sorted(self._index(from_type, to_type).get(from_id, {}), key=_id_key)
        start = _offset(after)
        chunk = to_ids[start : start + limit]
        results = [
            {
                "toObjectId": to_id,
                "associationTypes": self._association_types(from_type, from_id, to_type, to_id),
            }
            for to_id in chunk
        ]
        next_after = str(start + limit) if start + limit < len(to_ids) else None
        return results, next_after

    # -- validation helpers ----------------------------------------------------------------------
    def _pair(self, from_type: str, to_type: str) -> Edge:
        pair = (_object_type(from_type), _object_type(to_type))
        if pair not in DEFAULT_TYPE:
            raise validation_error(
                f"No association definitions exist between {SINGULAR[pair[0]]} and {SINGULAR[pair[1]]}",
            )
        return pair

    def _types_from_specs(self, pair: Edge, specs: Any) -> set[int]:
        if not isinstance(specs, list) or not specs:
            raise _bad_body("expected a non-empty array of association types")
        type_ids: set[int] = set()
        for spec in specs:
            if not isinstance(spec, dict):
                raise _bad_body("association types must be objects")
            type_id, category = spec.get("associationTypeId"), spec.get("associationCategory")
            known = TYPES_BY_ID.get(type_id) if isinstance(type_id, int) else None
            if known is None or (known.from_type, known.to_type) != pair or category != known.category:
                raise validation_error(
                    f"invalid association type: {category}/{type_id} between {SINGULAR[pair[0]]} "
                    f"and {SINGULAR[pair[1]]}",
                )
            type_ids.add(known.type_id)
        return type_ids

    def _require_objects(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        missing = self._missing(from_type, from_id, to_type, to_id)
        if missing:
            raise validation_error(missing)

    def _missing(self, from_type: str, from_id: str, to_type: str, to_id: str) -> str | None:
        for kind, record_id in ((from_type, from_id), (to_type, to_id)):
            if not self._exists(kind, record_id):
                return f"{SINGULAR[kind].capitalize()} with id {record_id} does not exist"
        return None

    # -- single-pair handlers ----------------------------------------------------------------------
    def _list(self, request: Request, objectType: str, objectId: str, toObjectType: str) -> Response:
        pair = self._pair(objectType, toObjectType)
        limit = _int_arg(request, "limit", PAGE_SIZE, maximum=PAGE_SIZE)
        with self.emulator.lock:
            results, next_after = self._page(pair[0], objectId, pair[1], request.args.get("after"), limit)
        body: dict[str, Any] = {"results": results}
        if next_after is not None:
            body["paging"] = {"next": {"after": next_after, "link": _next_link(request, next_after)}}
        return json_response(body)

    def _put_labelled(
        self, request: Request, objectType: str, objectId: str, toObjectType: str, toObjectId: str
    ) -> Response:
        pair = self._pair(objectType, toObjectType)
        specs = read_json(request, error=_bad_body)
        type_ids = self._types_from_specs(pair, specs)
        with self.emulator.lock:
            self._require_objects(pair[0], objectId, pair[1], toObjectId)
            self._add(pair[0], objectId, pair[1], toObjectId, type_ids, publish=True)
            body = self._labels_between(pair[0], objectId, pair[1], toObjectId)
        return json_response(body, status=201)

    def _put_default(
        self, _request: Request, fromObjectType: str, fromObjectId: str, toObjectType: str, toObjectId: str
    ) -> Response:
        started = _now_iso()
        pair = self._pair(fromObjectType, toObjectType)
        with self.emulator.lock:
            self._require_objects(pair[0], fromObjectId, pair[1], toObjectId)
            self._add(pair[0], fromObjectId, pair[1], toObjectId, set(), publish=True)
        return batch_response(_default_results(pair, fromObjectId, toObjectId), [], started)

    def _delete_pair(
        self, _request: Request, objectType: str, objectId: str, toObjectType: str, toObjectId: str
    ) -> Response:
        pair = self._pair(objectType, toObjectType)
        with self.emulator.lock:
            self._remove(pair[0], objectId, pair[1], toObjectId, None, publish=True)
        return json_response(None, status=204)

    def _labels(self, _request: Request, fromObjectType: str, toObjectType: str) -> Response:
        pair = self._pair(fromObjectType, toObjectType)
        types = [t for t in ASSOCIATION_TYPES if (t.from_type, t.to_type) == pair]
        return json_response({"results": [t.spec() for t in sorted(types, key=lambda t: t.type_id)]})

    # -- batch handlers ------------------------------------------------------------------------------
    def _batch_read(self, request: Request, fromObjectType: str, toObjectType: str) -> Response:
        started = _now_iso()
        pair = self._pair(fromObjectType, toObjectType)
        inputs = _inputs(request, BATCH_READ_LIMIT)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.emulator.lock:
            for item in inputs:
                from_id = _object_id(item.get("id") if isinstance(item, dict) else None)
                after = item.get("after") if isinstance(item, dict) else None
                to, next_after = self._page(pair[0], from_id, pair[1], after, PAGE_SIZE)
                if not to:
                    errors.append(_no_associations(pair, from_id))
                    continue
                result: dict[str, Any] = {"from": {"id": from_id}, "to": to}
                if next_after is not None:
                    result["paging"] = {"next": {"after": next_after}}
                results.append(result)
        return batch_response(results, errors, started)

    def _batch_create(self, request: Request, fromObjectType: str, toObjectType: str) -> Response:
        started = _now_iso()
        pair = self._pair(fromObjectType, toObjectType)
        inputs = _inputs(request, BATCH_WRITE_LIMIT)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.emulator.lock:
            for item in inputs:
                from_id, to_id = _from_to(item)
                try:
                    type_ids = self._types_from_specs(pair, item.get("types"))
                except ApiError as err:
                    errors.append(_invalid_input(err, from_id, to_id))
                    continue
                missing = self._missing(pair[0], from_id, pair[1], to_id)
                if missing:
                    errors.append(_invalid_objects(missing, from_id, to_id))
                    continue
                self._add(pair[0], from_id, pair[1], to_id, type_ids, publish=True)
                results.append(self._labels_between(pair[0], from_id, pair[1], to_id))
        return batch_response(results, errors, started, ok_status=201)

    def _batch_default(self, request: Request, fromObjectType: str, toObjectType: str) -> Response:
        started = _now_iso()
        pair = self._pair(fromObjectType, toObjectType)
        inputs = _inputs(request, BATCH_WRITE_LIMIT)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.emulator.lock:
            for item in inputs:
                from_id, to_id = _from_to(item)
                missing = self._missing(pair[0], from_id, pair[1], to_id)
                if missing:
                    errors.append(_invalid_objects(missing, from_id, to_id))
                    continue
                self._add(pair[0], from_id, pair[1], to_id, set(), publish=True)
                results.extend(_default_results(pair, from_id, to_id))
        return batch_response(results, errors, started)

    def _batch_archive(self, request: Request, fromObjectType: str, toObjectType: str) -> Response:
        pair = self._pair(fromObjectType, toObjectType)
        inputs = _inputs(request, BATCH_WRITE_LIMIT)
        with self.emulator.lock:
            for item in inputs:
                if not isinstance(item, dict) or not isinstance(item.get("to"), list):
                    raise _bad_body("each input needs 'from' and a 'to' array")
                from_id = _object_id(item["from"].get("id") if isinstance(item.get("from"), dict) else None)
                for target in item["to"]:
                    to_id = _object_id(target.get("id") if isinstance(target, dict) else None)
                    self._remove(pair[0], from_id, pair[1], to_id, None, publish=True)
        return json_response(None, status=204)

    def _batch_labels_archive(self, request: Request, fromObjectType: str, toObjectType: str) -> Response:
        pair = self._pair(fromObjectType, toObjectType)
        inputs = _inputs(request, BATCH_WRITE_LIMIT)
        with self.emulator.lock:
            for item in inputs:
                from_id, to_id = _from_to(item)
                type_ids = self._types_from_specs(pair, item.get("types"))
                self._remove(pair[0], from_id, pair[1], to_id, type_ids, publish=True)
        return json_response(None, status=204)


# -- module helpers ----------------------------------------------------------------------------------
def object_type_name(name: str) -> str | None:
    """``contact``/``contacts``/``CONTACT``/``0-1`` -> ``contacts``; None when not an associable type."""
    return _TYPE_NAMES.get(name.strip().lower())


_TYPE_NAMES = {
    alias: plural
    for plural, type_id in OBJECT_TYPE_IDS.items()
    for alias in (plural, SINGULAR[plural], type_id)
}


def _canonical(object_type: str) -> str:
    kind = object_type_name(object_type)
    if kind is None:
        raise ValueError(f"unknown object type {object_type!r}")
    return kind


def _object_type(name: str) -> str:
    kind = object_type_name(name)
    if kind is None:
        raise validation_error(f"Unable to infer object type from: {name}")
    return kind


def _id_key(record_id: str) -> tuple[int, str]:
    return (int(record_id), record_id) if record_id.isdigit() else (2**63, record_id)


def _offset(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isdigit():
        raise validation_error(f"Invalid paging cursor: {after}")
    return int(after)


def _int_arg(request: Request, name: str, default: int, *, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise validation_error(f"Invalid value for {name}: {raw}") from exc
    return max(1, min(value, maximum))


def _next_link(request: Request, after: str) -> str:
    return f"{request.base_url}?after={after}"


def _object_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return value
    raise _bad_body("each input needs an object id")


def _inputs(request: Request, limit: int) -> list[Any]:
    body = read_json(request, error=_bad_body)
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise _bad_body("missing required field 'inputs'")
    if len(inputs) > limit:
        raise batch_too_large(len(inputs), limit)
    return inputs


def _from_to(item: Any) -> tuple[str, str]:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("from"), dict)
        or not isinstance(item.get("to"), dict)
    ):
        raise _bad_body("each input needs 'from' and 'to' objects")
    return _object_id(item["from"].get("id")), _object_id(item["to"].get("id"))


def _default_results(pair: Edge, from_id: str, to_id: str) -> list[dict[str, Any]]:
    forward = DEFAULT_TYPE[pair]
    backward = TYPES_BY_ID[forward].inverse_id
    return [
        {
            "from": {"id": from_id},
            "to": {"id": to_id},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": forward},
        },
        {
            "from": {"id": to_id},
            "to": {"id": from_id},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": backward},
        },
    ]


def _no_associations(pair: Edge, from_id: str) -> dict[str, Any]:
    """HubSpot also sends ``"subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND"`` here; the OpenAPI
    spec types ``StandardError.subCategory`` as an object, so the string is left out (the category,
    message and context still say it)."""
    from_name, to_name = SINGULAR[pair[0]], SINGULAR[pair[1]]
    return batch_error(
        "OBJECT_NOT_FOUND",
        f"No {to_name} is associated with {from_name} {from_id}.",
        {"fromObjectId": [from_id], "fromObjectType": [from_name], "toObjectType": [to_name]},
    )


def _invalid_objects(message: str, from_id: str, to_id: str) -> dict[str, Any]:
    return batch_error("VALIDATION_ERROR", message, {"fromObjectId": [from_id], "toObjectId": [to_id]})


def _invalid_input(err: ApiError, from_id: str, to_id: str) -> dict[str, Any]:
    body = err.body if isinstance(err.body, dict) else {}
    return batch_error(
        str(body.get("category", "VALIDATION_ERROR")),
        str(body.get("message", "invalid input")),
        {"fromObjectId": [from_id], "toObjectId": [to_id]},
    )
