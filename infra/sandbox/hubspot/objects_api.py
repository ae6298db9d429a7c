"""CRM v3 object endpoints: ``/crm/v3/objects/{objectType}`` for contacts, companies and deals
(also addressed as ``0-1``/``0-2``/``0-3``): basic CRUD, batch read/create/update/upsert/archive,
search, merge and GDPR delete, answering the shapes of HubSpot's OpenAPI specs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import json_response, read_json
from infra.sandbox.hubspot import errors, search
from infra.sandbox.hubspot.properties import SEARCHABLE, iso_ms
from infra.sandbox.hubspot.store import CrmRecord, canonical_object_type, to_public

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

MAX_BATCH = 100
MAX_PAGE = 100
MAX_PAGE_WITH_HISTORY = 50
# HUBSPOT_DEFINED association type ids usable in create requests: (from type, type id) -> to type.
ASSOCIATION_TARGETS = {
    ("contacts", 1): "companies", ("contacts", 279): "companies", ("contacts", 4): "deals",
    ("companies", 2): "contacts", ("companies", 280): "contacts", ("companies", 6): "deals",
    ("companies", 342): "deals", ("deals", 3): "contacts", ("deals", 5): "companies",
    ("deals", 341): "companies",
}  # fmt: skip


def object_type_of(name: str) -> str:
    object_type = canonical_object_type(name)
    if object_type is None:
        raise errors.validation_error(f"Unable to infer object type from: {name}")
    return object_type


def list_param(request: Request, name: str) -> list[str] | None:
    """A multi-valued query parameter, repeated or comma-separated; ``None`` when absent."""
    if name not in request.args:
        return None
    return [p.strip() for raw in request.args.getlist(name) for p in raw.split(",") if p.strip()]


def flag(request: Request, name: str) -> bool:
    return request.args.get(name, "false").strip().lower() in ("true", "1")


def body_of(request: Request) -> dict[str, Any]:
    body = read_json(request, error=errors.validation_error)
    if not isinstance(body, dict):
        raise errors.validation_error("The request body must be a JSON object")
    return body


def names_of(raw: Any, field: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise errors.validation_error(f"{field} must be a list of property names")
    return list(raw)


def inputs_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise errors.validation_error("inputs must be a list of objects")
    if len(inputs) > MAX_BATCH:
        raise errors.batch_too_large(len(inputs), MAX_BATCH)
    return inputs


def _traced(result: dict[str, Any], trace: Any) -> dict[str, Any]:
    """A batch write's result with the input's ``objectWriteTraceId``, as HubSpot echoes it (the
    way a caller maps results to inputs that have no unique property, e.g. companies)."""
    if isinstance(trace, str) and trace:
        return {**result, "objectWriteTraceId": trace}
    return result


def batch_body(
    results: list[dict[str, Any]], started: datetime, errs: list[dict[str, Any]]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started),
        "completedAt": iso_ms(datetime.now(UTC)),
    }
    if errs:
        body["numErrors"] = len(errs)
        body["errors"] = errs
    return body


class ObjectsApi:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self.store = emulator.store

    def register_routes(self) -> None:
        route = self.emulator.route
        base = "/crm/v3/objects/<object_type>"
        route("GET", base, self.list_objects)
        route("POST", base, self.create_object)
        route("POST", f"{base}/batch/read", self.batch_read)
        route("POST", f"{base}/batch/create", self.batch_create)
        route("POST", f"{base}/batch/update", self.batch_update)
        route("POST", f"{base}/batch/upsert", self.batch_upsert)
        route("POST", f"{base}/batch/archive", self.batch_archive)
        route("POST", f"{base}/search", self.search)
        route("POST", f"{base}/merge", self.merge)
        route("POST", f"{base}/gdpr-delete", self.gdpr_delete)
        route("GET", f"{base}/<record_id>", self.get_object)
        route("PATCH", f"{base}/<record_id>", self.update_object)
        route("DELETE", f"{base}/<record_id>", self.archive_object)

    # -- helpers ---------------------------------------------------------------------------------
    def _public(
        self,
        record: CrmRecord,
        properties: list[str] | None = None,
        history: list[str] | None = None,
        *,
        all_values: bool = False,
    ) -> dict[str, Any]:
        definitions = self.store.definitions(record.object_type)
        return to_public(record, definitions, properties, history or (), all_values=all_values)

    def _check_id_property(self, object_type: str, id_property: str | None) -> str | None:
        if id_property and not self.store.is_unique_property(object_type, id_property):
            raise errors.validation_error(
                f"{id_property} is not a unique property; use a property with unique values as idProperty"
            )
        return id_property or None

    def _find(
        self, object_type: str, record_id: str, id_property: str | None, *, archived: bool = False
    ) -> CrmRecord | None:
        if id_property and id_property != "hs_object_id":
            found = self.store.find_unique(object_type, id_property, record_id)
            return found if found is not None and not archived else None
        return self.store.resolve(object_type, record_id, archived=archived)

    def _associations(self, object_type: str, raw: Any) -> list[tuple[str, str]]:
        """Validated ``associations`` of a create input: (to type, to id) pairs."""
        if not raw:
            return []
        if not isinstance(raw, list):
            raise errors.validation_error("associations must be a list")
        pairs = []
        for item in raw:
            to_id = str((item.get("to") or {}).get("id", "")) if isinstance(item, dict) else ""
            types = item.get("types") if isinstance(item, dict) else None
            if not to_id or not isinstance(types, list) or not types:
                raise errors.validation_error("Each association needs to.id and a non-empty types list")
            for spec in types:
                type_id = int(spec.get("associationTypeId", -1)) if isinstance(spec, dict) else -1
                to_type = ASSOCIATION_TARGETS.get((object_type, type_id))
                if to_type is None:
                    raise errors.validation_error(
                        f"associationTypeId {type_id} is not a valid association type from {object_type}"
                    )
                if self.store.get(to_type, to_id) is None:
                    raise errors.validation_error(
                        f"Association target {to_type} {to_id} does not exist",
                        sub_category="OBJECT_NOT_FOUND",
                    )
                pairs.append((to_type, to_id))
        return pairs

    def _associate(self, object_type: str, record_id: str, pairs: list[tuple[str, str]]) -> None:
        feature = self.emulator.associations
        for to_type, to_id in pairs:
            feature.associate(object_type, record_id, to_type, to_id)

    # -- basic -----------------------------------------------------------------------------------
    def list_objects(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        history = list_param(request, "propertiesWithHistory")
        cap = MAX_PAGE_WITH_HISTORY if history else MAX_PAGE
        try:
            limit = max(1, min(int(request.args.get("limit", "10")), cap))
            after = int(request.args["after"]) if request.args.get("after") else None
        except ValueError:
            raise errors.validation_error("limit and after must be integers") from None
        with self.emulator.lock:
            pool = (
                self.store.archived_records(object_type)
                if flag(request, "archived")
                else self.store.records(object_type)
            )
            pool = [r for r in pool if after is None or int(r.id) >= after]
            pool.sort(key=lambda r: int(r.id))
            page = pool[: limit + 1]
            props = list_param(request, "properties")
            results = [self._public(r, props, history) for r in page[:limit]]
        body: dict[str, Any] = {"results": results}
        if len(page) > limit:
            next_after = page[limit].id
            link = f"{self.emulator.base_url}/crm/v3/objects/{object_type}?after={next_after}"
            body["paging"] = {"next": {"after": next_after, "link": link}}
        return json_response(body)

    def get_object(self, request: Request, object_type: str, record_id: str) -> Response:
        object_type = object_type_of(object_type)
        id_property = self._check_id_property(object_type, request.args.get("idProperty"))
        with self.emulator.lock:
            record = self._find(object_type, record_id, id_property, archived=flag(request, "archived"))
            if record is None:
                raise errors.not_found()
            body = self._public(
                record, list_param(request, "properties"), list_param(request, "propertiesWithHistory")
            )
        return json_response(body)

    def create_object(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        body = body_of(request)
        with self.emulator.lock:
            pairs = self._associations(object_type, body.get("associations"))
            record = self.store.create(object_type, body.get("properties") or {})
            self._associate(object_type, record.id, pairs)
            result = self._public(record, all_values=True)
        return json_response(result, status=201)

    def update_object(self, request: Request, object_type: str, record_id: str) -> Response:
        object_type = object_type_of(object_type)
        id_property = self._check_id_property(object_type, request.args.get("idProperty"))
        body = body_of(request)
        with self.emulator.lock:
            record = self._find(object_type, record_id, id_property)
            if record is None:
                raise errors.not_found()
            properties = body.get("properties")
            if not properties:
                raise errors.validation_error(
                    "No properties found to update, please provide at least one.",
                    context={"properties": ["{}"]},
                )
            self.store.update(object_type, record, properties)
            result = self._public(record, all_values=True)
        return json_response(result)

    def archive_object(self, request: Request, object_type: str, record_id: str) -> Response:
        object_type = object_type_of(object_type)
        self.store.archive(object_type, record_id)
        return json_response(None, status=204)

    # -- batch -----------------------------------------------------------------------------------
    def batch_read(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        started = datetime.now(UTC)
        body = body_of(request)
        inputs = inputs_of(body)
        id_property = self._check_id_property(object_type, body.get("idProperty"))
        props = names_of(body.get("properties"), "properties") or None
        history = names_of(body.get("propertiesWithHistory"), "propertiesWithHistory")
        archived = flag(request, "archived")
        results, missing, seen = [], [], set()
        with self.emulator.lock:
            for item in inputs:
                wanted = str(item.get("id", ""))
                record = self._find(object_type, wanted, id_property, archived=archived)
                if record is None:
                    missing.append(wanted)
                elif record.id not in seen:
                    seen.add(record.id)
                    results.append(self._public(record, props, history))
        errs = []
        if missing:
            kind = object_type[:-1].upper() if object_type != "companies" else "COMPANY"
            errs.append(
                errors.batch_error(
                    "OBJECT_NOT_FOUND",
                    f"Could not get some {kind} objects, they may be deleted or not exist. "
                    "Check that ids are valid.",
                    {"ids": missing},
                )
            )
        return json_response(batch_body(results, started, errs), status=207 if errs else 200)

    def batch_create(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        started = datetime.now(UTC)
        inputs = inputs_of(body_of(request))
        with self.emulator.lock:
            prepared = []
            seen: dict[str, int] = {}
            for index, item in enumerate(inputs):
                values = self.store.validate(object_type, item.get("properties") or {})
                self.store.check_unique(object_type, values, None)
                email = values.get("email") if object_type == "contacts" else None
                if email:
                    if email in seen:
                        raise errors.validation_error(
                            f"Duplicate email {email} in batch inputs {seen[email]} and {index}",
                            context={"email": [email]},
                        )
                    seen[email] = index
                pairs = self._associations(object_type, item.get("associations"))
                prepared.append((values, pairs, item.get("objectWriteTraceId")))
            results = []
            for values, pairs, trace in prepared:
                record = self.store.create(object_type, values)
                self._associate(object_type, record.id, pairs)
                results.append(_traced(self._public(record, all_values=True), trace))
        return json_response(batch_body(results, started, []), status=201)

    def batch_update(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        started = datetime.now(UTC)
        body = body_of(request)
        inputs = inputs_of(body)
        self._reject_duplicate_ids(inputs)
        with self.emulator.lock:
            planned, missing = [], []
            for item in inputs:
                id_property = self._check_id_property(
                    object_type, item.get("idProperty") or body.get("idProperty")
                )
                record = self._find(object_type, str(item.get("id", "")), id_property)
                values = self.store.validate(object_type, item.get("properties") or {})
                if record is None:
                    missing.append(str(item.get("id", "")))
                    continue
                self.store.check_unique(object_type, values, record.id)
                planned.append((record, values, item.get("objectWriteTraceId")))
            results = []
            for record, values, trace in planned:
                self.store.update(object_type, record, values)
                results.append(_traced(self._public(record, all_values=True), trace))
        errs = [
            errors.batch_error("OBJECT_NOT_FOUND", f"Object not found. objectId={i}", {"ids": [i]})
            for i in missing
        ]
        return json_response(batch_body(results, started, errs), status=207 if errs else 200)

    def batch_upsert(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        started = datetime.now(UTC)
        body = body_of(request)
        inputs = inputs_of(body)
        self._reject_duplicate_ids(inputs)
        with self.emulator.lock:
            planned = []
            for item in inputs:
                id_property = item.get("idProperty") or body.get("idProperty")
                if not id_property or id_property == "hs_object_id":
                    raise errors.validation_error(
                        "Upsert needs idProperty naming a unique property other than hs_object_id"
                    )
                self._check_id_property(object_type, id_property)
                key = str(item.get("id", ""))
                values = self.store.validate(
                    object_type, {**(item.get("properties") or {}), id_property: key}
                )
                record = self.store.find_unique(object_type, id_property, key)
                self.store.check_unique(object_type, values, None if record is None else record.id)
                planned.append((record, values))
            results = []
            for found, values in planned:
                if found is None:
                    record, new = self.store.create(object_type, values), True
                else:
                    record, new = self.store.update(object_type, found, values), False
                results.append({**self._public(record, all_values=True), "new": new})
        return json_response(batch_body(results, started, []))

    def batch_archive(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        inputs = inputs_of(body_of(request))
        with self.emulator.lock:
            for item in inputs:
                self.store.archive(object_type, str(item.get("id", "")))
        return json_response(None, status=204)

    @staticmethod
    def _reject_duplicate_ids(inputs: list[dict[str, Any]]) -> None:
        ids = [str(i.get("id", "")).lower() for i in inputs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise errors.validation_error(
                f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
                context={"ids": duplicates},
            )

    # -- search, merge, GDPR ---------------------------------------------------------------------
    def search(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        try:
            query = search.parse_request(body_of(request))
        except search.SearchError as exc:
            raise errors.validation_error(str(exc)) from None
        kinds = self.store.kinds(object_type)
        unknown = sorted(search.referenced_properties(query) - set(kinds))
        if unknown:
            raise errors.validation_error(
                f"Property {unknown[0]!r} does not exist for {object_type}",
                context={"propertyName": unknown},
            )
        with self.emulator.lock:
            try:
                found = [
                    r
                    for r in self.store.records(object_type)
                    if search.matches(query, r.properties, kinds)
                    and (
                        query.query is None
                        or search.matches_query(query.query, r.properties, SEARCHABLE[object_type])
                    )
                ]
            except search.SearchError as exc:
                raise errors.validation_error(str(exc)) from None
            ordered = search.order(found, query.sorts, lambda r: r.properties, lambda r: int(r.id), kinds)
            window = search.page(len(ordered), query.after, query.limit)
            props = list(query.properties) or None
            results = [self._public(r, props) for r in ordered[window.start : window.end]]
        body: dict[str, Any] = {"total": len(ordered), "results": results}
        if window.next_after is not None:
            body["paging"] = {"next": {"after": window.next_after}}
        return json_response(body)

    def merge(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        body = body_of(request)
        primary, other = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if primary in (None, "") or other in (None, ""):
            raise errors.validation_error("primaryObjectId and objectIdToMerge are required")
        with self.emulator.lock:
            record = self.store.merge(object_type, str(primary), str(other))
            result = self._public(record, all_values=True)
        return json_response(result)

    def gdpr_delete(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        if object_type != "contacts":
            raise errors.not_found()
        body = body_of(request)
        id_property = self._check_id_property(object_type, body.get("idProperty"))
        with self.emulator.lock:
            record = self._find(object_type, str(body.get("objectId", "")), id_property)
            if record is None:
                raise errors.not_found()
            self.store.purge(object_type, record.id)
        return json_response(None, status=204)
