"""The REST data API's handlers: versions, describe, sObject rows, upsert, query, getUpdated/getDeleted,
limits. Collections and Composite live in :mod:`collections_api` and :mod:`composite`.

Handlers run under the emulator lock (see :meth:`SalesforceEmulator.api`); the request's actor and
API version were put in the WSGI environ by ``before_request``.
"""

from __future__ import annotations

import json
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import ApiError, json_response
from infra.sandbox.salesforce import ids, soql
from infra.sandbox.salesforce.errors import api_error, not_found
from infra.sandbox.salesforce.records import (
    check_path_id,
    external_id_field,
    match_external_id,
    object_or_404,
    parse_fields,
    record_url,
    render,
)
from infra.sandbox.salesforce.store import Actor
from infra.sandbox.salesforce.values import format_datetime, now, parse_datetime

if TYPE_CHECKING:
    from infra.sandbox.salesforce.app import SalesforceEmulator

MIN_VERSION = 52
MAX_VERSION = 64
RELEASES = {52: "Summer '21", 53: "Winter '22", 54: "Spring '22", 55: "Summer '22", 56: "Winter '23",
            57: "Spring '23", 58: "Summer '23", 59: "Winter '24", 60: "Spring '24", 61: "Summer '24",
            62: "Winter '25", 63: "Spring '25", 64: "Summer '25"}  # fmt: skip
QUERY_BATCH = 2000
MIN_QUERY_BATCH = 200
MAX_CURSORS = 200
ACTOR_KEY = "sfemu.actor"
VERSION_KEY = "sfemu.version"


def actor_of(request: Request) -> Actor:
    actor = request.environ.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        raise RuntimeError("request was not authenticated")
    return actor


def version_of(request: Request) -> str:
    return str(request.environ.get(VERSION_KEY, f"{MAX_VERSION}.0"))


def parse_version(segment: str) -> str | None:
    """``v59.0`` -> ``59.0`` for a served version, else None."""
    if not segment.startswith("v"):
        return None
    major, _, minor = segment[1:].partition(".")
    if not major.isdigit() or minor != "0" or not MIN_VERSION <= int(major) <= MAX_VERSION:
        return None
    return f"{int(major)}.0"


def body_json(request: Request) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise api_error(
            400, "JSON_PARSER_ERROR", "The HTTP entity body is required, but this request has no entity body."
        )
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise api_error(400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {exc}") from exc


def body_object(request: Request) -> dict[str, Any]:
    body = body_json(request)
    if not isinstance(body, dict):
        raise api_error(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from START_ARRAY value"
        )
    return body


@dataclass
class Cursor:
    records: list[dict[str, Any]]
    total_size: int
    batch: int


class RestApi:
    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emu = emulator
        self.cursors: OrderedDict[str, Cursor] = OrderedDict()

    def register(self) -> None:
        e, data = self.emu, "/services/data/<version>"
        e.route("GET", "/services/data", self.versions)
        e.api("GET", data, self.resources)
        e.api("GET", f"{data}/limits", self.limits)
        e.api("GET", f"{data}/sobjects", self.describe_global)
        e.api("GET", f"{data}/sobjects/<sobject>", self.basic_info)
        e.api("POST", f"{data}/sobjects/<sobject>", self.create)
        e.api("GET", f"{data}/sobjects/<sobject>/describe", self.describe)
        e.api("GET", f"{data}/sobjects/<sobject>/updated", self.updated)
        e.api("GET", f"{data}/sobjects/<sobject>/deleted", self.deleted)
        e.api("GET", f"{data}/sobjects/<sobject>/<record_id>", self.get)
        e.api("PATCH", f"{data}/sobjects/<sobject>/<record_id>", self.update)
        e.api("DELETE", f"{data}/sobjects/<sobject>/<record_id>", self.delete)
        e.api("GET", f"{data}/sobjects/<sobject>/<field>/<path:value>", self.get_by_external_id)
        e.api("PATCH", f"{data}/sobjects/<sobject>/<field>/<path:value>", self.upsert)
        e.api("GET", f"{data}/query", self.query)
        e.api("GET", f"{data}/queryAll", self.query_all)
        e.api("GET", f"{data}/query/<locator>", self.query_more)
        e.api("GET", f"{data}/queryAll/<locator>", self.query_more)

    def reset(self) -> None:
        self.cursors.clear()

    # -- discovery ---------------------------------------------------------------------------
    def versions(self, _request: Request) -> Response:
        return json_response(
            [
                {"label": RELEASES[v], "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
                for v in range(MIN_VERSION, MAX_VERSION + 1)
            ]
        )

    def resources(self, request: Request, version: str) -> Response:
        base = f"/services/data/v{version_of(request)}"
        names = ["tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing", "jsonxform",
                 "chatter", "tabs", "appMenu", "quickActions", "queryAll", "commerce", "wave", "iot",
                 "analytics", "search", "identity", "composite", "parameterizedSearch", "fingerprint",
                 "theme", "nouns", "domino", "event", "serviceTemplates", "recent", "connect", "licensing",
                 "limits", "process", "dedupe", "async-queries", "query", "jobs", "match", "emailConnect",
                 "compactLayouts", "knowledgeManagement", "sobjects", "actions", "support"]  # fmt: skip
        out = {name: f"{base}/{name}" for name in names}
        out["identity"] = f"{self.emu.base_url}/id/{self.emu.credentials.org_id}/{actor_of(request).user_id}"
        return json_response(out)

    def limits(self, _request: Request, version: str) -> Response:
        limit = self.emu.settings.daily_api_limit
        usage = self.emu.api_usage

        def pair(maximum: int, remaining: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": remaining}

        return json_response(
            {
                "ConcurrentAsyncGetReportInstances": pair(200, 200),
                "ConcurrentSyncReportRuns": pair(20, 20),
                "DailyApiRequests": pair(limit, max(0, limit - usage)),
                "DailyAsyncApexExecutions": pair(250000, 250000),
                "DailyBulkApiBatches": pair(15000, 15000),
                "DailyBulkV2QueryFileStorageMB": pair(976562, 976562),
                "DailyBulkV2QueryJobs": pair(10000, 10000),
                "DailyDurableStreamingApiEvents": pair(1000000, 1000000),
                "DailyStandardVolumePlatformEvents": pair(10000, 10000),
                "DataStorageMB": pair(5, 5),
                "FileStorageMB": pair(20, 20),
                "HourlyODataCallout": pair(10000, 10000),
                "MassEmail": pair(10, 10),
                "MonthlyPlatformEventsUsageEntitlement": pair(300000, 300000),
                "SingleEmail": pair(15, 15),
            }
        )

    def describe_global(self, request: Request, version: str) -> Response:
        ver = version_of(request)
        return json_response(
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [o.describe_global(ver) for o in self.emu.store.schema.objects.values()],
            }
        )

    def basic_info(self, request: Request, version: str, sobject: str) -> Response:
        obj = object_or_404(self.emu.store, sobject)
        ver = version_of(request)
        live = [r for r in self.emu.store.tables[obj.name].values() if not r["IsDeleted"]]
        live.sort(key=lambda r: str(r["LastModifiedDate"]), reverse=True)
        recent = [render(obj, r, ver, [f for f in ("Id", "Name") if f in obj.fields]) for r in live[:5]]
        return json_response({"objectDescribe": obj.describe_global(ver), "recentItems": recent})

    def describe(self, request: Request, version: str, sobject: str) -> Response:
        obj = object_or_404(self.emu.store, sobject)
        return json_response(obj.describe(version_of(request)))

    # -- rows --------------------------------------------------------------------------------
    def create(self, request: Request, version: str, sobject: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        body = body_object(request)
        if "Id" in body or "id" in body:
            raise api_error(400, "INVALID_FIELD", "cannot specify Id in an insert call", fields=["Id"])
        with store.transaction(actor_of(request)):
            record_id = store.create(obj.name, body)
        return json_response({"id": record_id, "success": True, "errors": []}, 201)

    def get(self, request: Request, version: str, sobject: str, record_id: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        full = check_path_id(obj, record_id, write=False)
        record = store.get(obj.name, full, include_deleted=False)
        if record is None:
            raise not_found()
        fields = parse_fields(obj, request.args.get("fields"))
        return json_response(render(obj, record, version_of(request), fields))

    def update(self, request: Request, version: str, sobject: str, record_id: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        full = check_path_id(obj, record_id, write=True)
        body = body_object(request)
        with store.transaction(actor_of(request)):
            store.update(obj.name, full, body)
        return json_response(None, 204)

    def delete(self, request: Request, version: str, sobject: str, record_id: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        full = check_path_id(obj, record_id, write=True)
        with store.transaction(actor_of(request)):
            store.delete(obj.name, full)
        return json_response(None, 204)

    def get_by_external_id(
        self, request: Request, version: str, sobject: str, field: str, value: str
    ) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        name = external_id_field(obj, field)
        matches = match_external_id(store, obj, name, value)
        ver = version_of(request)
        if not matches:
            raise not_found()
        if len(matches) > 1:
            raise ApiError(300, [record_url(ver, obj.name, r["Id"]) for r in matches])
        fields = parse_fields(obj, request.args.get("fields"))
        return json_response(render(obj, matches[0], ver, fields))

    def upsert(self, request: Request, version: str, sobject: str, field: str, value: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        name = external_id_field(obj, field)
        body = body_object(request)
        matches = match_external_id(store, obj, name, value)
        ver = version_of(request)
        if len(matches) > 1:
            raise ApiError(300, [record_url(ver, obj.name, r["Id"]) for r in matches])
        with store.transaction(actor_of(request)):
            if matches:
                store.update(obj.name, matches[0]["Id"], {k: v for k, v in body.items() if k != name})
                return json_response(
                    {"id": matches[0]["Id"], "success": True, "errors": [], "created": False}, 200
                )
            if name == "Id":
                raise not_found()
            record_id = store.create(obj.name, {**body, name: value})
        return json_response({"id": record_id, "success": True, "errors": [], "created": True}, 201)

    # -- replication -------------------------------------------------------------------------
    def _window(self, request: Request) -> tuple[str, str]:
        raw_start, raw_end = request.args.get("start"), request.args.get("end")
        if not raw_start or not raw_end:
            raise api_error(400, "MISSING_ARGUMENT", "start and end parameters are required")
        start, end = parse_datetime(raw_start), parse_datetime(raw_end)
        if start is None or end is None:
            raise api_error(400, "INVALID_REPLICATION_DATE", f"Invalid date range: {raw_start} to {raw_end}")
        if end < start:
            raise api_error(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
        return format_datetime(start), format_datetime(min(end, now()))

    def updated(self, request: Request, version: str, sobject: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        start, end = self._window(request)
        matched = [
            r["Id"]
            for r in store.tables[obj.name].values()
            if not r["IsDeleted"] and _between(r["SystemModstamp"], start, end)
        ]
        return json_response({"ids": matched, "latestDateCovered": end})

    def deleted(self, request: Request, version: str, sobject: str) -> Response:
        store = self.emu.store
        obj = object_or_404(store, sobject)
        start, end = self._window(request)
        gone = [
            {"id": r["Id"], "deletedDate": store.deleted_on[r["Id"]]}
            for r in store.tables[obj.name].values()
            if r["IsDeleted"]
            and r["Id"] in store.deleted_on
            and _between(store.deleted_on[r["Id"]], start, end)
        ]
        earliest = min(store.deleted_on.values(), default=end, key=_instant)
        return json_response(
            {"deletedRecords": gone, "earliestDateAvailable": earliest, "latestDateCovered": end}
        )

    # -- SOQL --------------------------------------------------------------------------------
    def query(self, request: Request, version: str) -> Response:
        return self._query(request, include_deleted=False)

    def query_all(self, request: Request, version: str) -> Response:
        return self._query(request, include_deleted=True)

    def _query(self, request: Request, *, include_deleted: bool) -> Response:
        text = request.args.get("q")
        if not text:
            raise api_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        store = self.emu.store
        try:
            parsed = soql.parse(text, store.schema)
            result = soql.execute(
                parsed, store, include_deleted=include_deleted, api_version=version_of(request)
            )
        except soql.SoqlError as exc:
            raise ApiError(400, [{"message": exc.message, "errorCode": exc.error_code}]) from exc
        if result.count_only:
            return json_response({"totalSize": result.total_size, "done": True, "records": []})
        batch = self._batch_size(request)
        cursor = Cursor(result.records, result.total_size, batch)
        return json_response(
            self._page(request, cursor, self._new_locator() if len(result.records) > batch else "", 0)
        )

    def query_more(self, request: Request, version: str, locator: str) -> Response:
        key, _, offset = locator.rpartition("-")
        cursor = self.cursors.get(key)
        if cursor is None or not offset.isdigit() or int(offset) > len(cursor.records):
            raise api_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return json_response(self._page(request, cursor, key, int(offset)))

    def _page(self, request: Request, cursor: Cursor, key: str, offset: int) -> dict[str, Any]:
        end = offset + cursor.batch
        page: dict[str, Any] = {"totalSize": cursor.total_size, "done": end >= len(cursor.records)}
        if end < len(cursor.records):
            self.cursors[key] = cursor
            self.cursors.move_to_end(key)
            while len(self.cursors) > MAX_CURSORS:
                self.cursors.popitem(last=False)
            page["nextRecordsUrl"] = f"/services/data/v{version_of(request)}/query/{key}-{end}"
        else:
            self.cursors.pop(key, None)
        page["records"] = cursor.records[offset:end]
        return page

    @staticmethod
    def _batch_size(request: Request) -> int:
        options = request.headers.get("Sforce-Query-Options", "")
        for part in options.split(","):
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "batchsize" and value.strip().isdigit():
                return max(MIN_QUERY_BATCH, min(QUERY_BATCH, int(value.strip())))
        return QUERY_BATCH

    @staticmethod
    def _new_locator() -> str:
        """A query locator like ``01g5g00000AbCdE`` (the 15-character id of the server-side cursor)."""
        return ids.make_id("01g", secrets.randbelow(62**5))[:15]


def _instant(text: str) -> str:
    parsed = parse_datetime(text)
    return format_datetime(parsed) if parsed else text


def _between(value: str, start: str, end: str) -> bool:
    return start <= _instant(value) <= end
