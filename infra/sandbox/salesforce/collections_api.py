"""sObject Collections: create, update, upsert, delete (<=200 records) and retrieve (<=2000 ids).

Results are per record, in request order: ``{"id", "success", "errors": [{"statusCode", "message",
"fields"}]}`` (upsert adds ``created``). With ``allOrNone`` a single failure rolls back every record
of the request; the records that were fine report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import ApiError, json_response
from infra.sandbox.salesforce import ids
from infra.sandbox.salesforce.errors import ROLLED_BACK_MESSAGE, RecordFailure, SfError, api_error
from infra.sandbox.salesforce.records import (
    external_id_field,
    match_external_id,
    object_or_404,
    parse_fields,
    render,
)
from infra.sandbox.salesforce.rest import actor_of, body_object, version_of

if TYPE_CHECKING:
    from infra.sandbox.salesforce.app import SalesforceEmulator

MAX_RECORDS = 200
MAX_RETRIEVE = 2000
LIMIT_MESSAGE = "record limit reached. cannot submit more than 200 records into this call"

Result = dict[str, Any]


def _failure(record_id: str | None, errors: list[SfError], **extra: Any) -> Result:
    return {"id": record_id, "success": False, "errors": [e.as_result() for e in errors], **extra}


def _success(record_id: str, **extra: Any) -> Result:
    return {"id": record_id, "success": True, "errors": [], **extra}


class CollectionsApi:
    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emu = emulator

    def register(self) -> None:
        e, base = self.emu, "/services/data/<version>/composite/sobjects"
        e.api("POST", base, self.create)
        e.api("PATCH", base, self.update)
        e.api("DELETE", base, self.delete)
        e.api("GET", f"{base}/<sobject>", self.retrieve)
        e.api("POST", f"{base}/<sobject>", self.retrieve)
        e.api("PATCH", f"{base}/<sobject>/<field>", self.upsert)

    # -- shared ------------------------------------------------------------------------------
    def _records(self, request: Request) -> tuple[list[dict[str, Any]], bool]:
        body = body_object(request)
        records = body.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise api_error(
                400, "INVALID_FIELD", "The records field is required and must be a list of records"
            )
        if len(records) > MAX_RECORDS:
            raise api_error(400, "EXCEEDED_ID_LIMIT", LIMIT_MESSAGE)
        return records, bool(body.get("allOrNone", False))

    def _run(
        self,
        request: Request,
        items: list[Any],
        all_or_none: bool,
        write: Callable[[Any], Result],
        ids_of: Callable[[Any], str | None],
    ) -> list[Result]:
        """Apply ``write`` to each item in one transaction, with per-record failures and all-or-none."""
        store = self.emu.store
        results: list[Result] = []
        locked = self.emu.locked_rows(len(items))
        with store.transaction(actor_of(request)):
            mark = store.mark()
            for index, item in enumerate(items):
                if index in locked:
                    record_id = ids_of(item)
                    message = (
                        f"unable to obtain exclusive access to this record or 1 records: {record_id or ''}"
                    )
                    results.append(_failure(record_id, [SfError("UNABLE_TO_LOCK_ROW", message.strip())]))
                    continue
                try:
                    with store.savepoint():
                        results.append(write(item))
                except RecordFailure as failure:
                    results.append(_failure(ids_of(item), failure.errors))
            if all_or_none and any(not r["success"] for r in results):
                store.rollback_to(mark)
                rolled = SfError("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK_MESSAGE)
                results = [
                    _failure(ids_of(item), [rolled]) if r["success"] else r
                    for item, r in zip(items, results, strict=True)
                ]
        return results

    @staticmethod
    def _type_of(record: dict[str, Any]) -> str:
        attributes = record.get("attributes")
        kind = attributes.get("type") if isinstance(attributes, dict) else None
        if not kind:
            raise api_error(400, "INVALID_TYPE", "No SObject Type defined in JSON")
        return str(kind)

    # -- writes ------------------------------------------------------------------------------
    def create(self, request: Request, version: str) -> Response:
        records, all_or_none = self._records(request)
        store = self.emu.store
        for record in records:
            object_or_404(store, self._type_of(record))

        def write(record: dict[str, Any]) -> Result:
            if record.get("Id") or record.get("id"):
                raise RecordFailure.one("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            return _success(store.create(self._type_of(record), record))

        return json_response(self._run(request, records, all_or_none, write, lambda _r: None))

    def update(self, request: Request, version: str) -> Response:
        records, all_or_none = self._records(request)
        store = self.emu.store
        for record in records:
            object_or_404(store, self._type_of(record))

        def record_id(record: dict[str, Any]) -> str | None:
            value = record.get("Id", record.get("id"))
            return str(value) if value else None

        def write(record: dict[str, Any]) -> Result:
            given = record_id(record)
            obj = object_or_404(store, self._type_of(record))
            if given is None:
                raise RecordFailure.one("MISSING_ARGUMENT", "Id not specified in an update call")
            full = ids.normalize(given)
            if full is None or full[:3] != obj.key_prefix:
                raise RecordFailure.one(
                    "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {given}", ["Id"]
                )
            updated = store.update(obj.name, full, {k: v for k, v in record.items() if k not in ("Id", "id")})
            return _success(updated["Id"])

        return json_response(self._run(request, records, all_or_none, write, record_id))

    def delete(self, request: Request, version: str) -> Response:
        raw = request.args.get("ids", "")
        wanted = [i.strip() for i in raw.split(",") if i.strip()]
        if not wanted:
            raise api_error(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(wanted) > MAX_RECORDS:
            raise api_error(400, "EXCEEDED_ID_LIMIT", LIMIT_MESSAGE)
        all_or_none = request.args.get("allOrNone", "false").lower() == "true"
        store = self.emu.store

        def write(given: str) -> Result:
            full = ids.normalize(given)
            if full is None:
                raise RecordFailure.one("MALFORMED_ID", f"malformed id {given}")
            found = store.find(full)
            if found is None:
                raise RecordFailure.one("ENTITY_IS_DELETED", "entity is deleted")
            return _success(store.delete(found[0].name, full))

        return json_response(self._run(request, wanted, all_or_none, write, lambda i: i))

    def upsert(self, request: Request, version: str, sobject: str, field: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        name = external_id_field(obj, field)
        records, all_or_none = self._records(request)
        for record in records:
            if self._type_of(record).lower() != obj.name.lower():
                raise api_error(
                    400, "INVALID_TYPE", f"Record type {self._type_of(record)} doesn't match {obj.name}"
                )

        def write(record: dict[str, Any]) -> Result:
            value = record.get(name)
            if value in (None, ""):
                raise RecordFailure.one("MISSING_ARGUMENT", f"{name} not specified", [name])
            matches = match_external_id(store, obj, name, str(value))
            if len(matches) > 1:
                raise RecordFailure.one(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{name}: more than one record found for external id field: "
                    f"[{', '.join(m['Id'] for m in matches)}]",
                    [name],
                )
            if matches:
                store.update(obj.name, matches[0]["Id"], {k: v for k, v in record.items() if k != name})
                return _success(matches[0]["Id"], created=False)
            return _success(store.create(obj.name, record), created=True)

        results = self._run(request, records, all_or_none, write, lambda _r: None)
        for result in results:
            result.setdefault("created", False)
        return json_response(results)

    # -- retrieve ----------------------------------------------------------------------------
    def retrieve(self, request: Request, version: str, sobject: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        if request.method == "POST":
            body = body_object(request)
            wanted, raw_fields = body.get("ids"), body.get("fields")
            if not isinstance(wanted, list) or not isinstance(raw_fields, list):
                raise api_error(400, "INVALID_FIELD", "ids and fields are required lists")
        else:
            wanted = [i for i in request.args.get("ids", "").split(",") if i.strip()]
            raw_fields = request.args.get("fields")
        if not wanted:
            raise api_error(400, "MISSING_ARGUMENT", "ids parameter is required")
        if not raw_fields:
            raise api_error(400, "MISSING_ARGUMENT", "fields parameter is required")
        if len(wanted) > MAX_RETRIEVE:
            raise api_error(400, "EXCEEDED_ID_LIMIT", "Too many ids; the maximum is 2000")
        fields = parse_fields(obj, raw_fields) or []
        ver = version_of(request)
        out: list[dict[str, Any] | None] = []
        for given in wanted:
            full = ids.normalize(str(given).strip())
            if full is None:
                raise ApiError(400, [{"message": f"invalid id: {given}", "errorCode": "MALFORMED_ID"}])
            record = store.get(obj.name, full, include_deleted=False)
            out.append(render(obj, record, ver, fields) if record is not None else None)
        return json_response(out)
