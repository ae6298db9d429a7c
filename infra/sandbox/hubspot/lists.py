"""HubSpot CRM lists v3: lists of contacts (or companies, deals) and their memberships.

The subset a connector needs to use a list as an inclusion list. ``MANUAL`` lists change only
through the membership endpoints; a ``SNAPSHOT`` list is filled once from its filters when it is
created and is then managed like a manual list; a ``DYNAMIC`` list's members are the records that
currently match its filters (property filters only: ``PROPERTY`` filters inside ``OR``/``AND``
branches). Lists are processed instantly, so ``processingStatus`` is always ``COMPLETE``.
Archived records are not members while archived.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import ApiError, json_response, read_json
from infra.sandbox.hubspot.errors import hs_error

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

OBJECT_TYPES = {"0-1": "contacts", "0-2": "companies", "0-3": "deals"}
PROCESSING_TYPES = ("MANUAL", "SNAPSHOT", "DYNAMIC")
MEMBERSHIP_PAGE_DEFAULT = 100
MEMBERSHIP_PAGE_MAX = 250
SEARCH_COUNT_DEFAULT = 20
SEARCH_COUNT_MAX = 500
BATCH_READ_LIMIT = 100
CREATED_BY_ID = "1"
FIRST_LIST_ID = 1


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, message: str, category: str = "VALIDATION_ERROR") -> ApiError:
    return hs_error(status, message, category)


def _bad_body(message: str) -> ApiError:
    return _error(400, f"Invalid input JSON on line 1, column 1: {message}")


def _not_found(list_id: str) -> ApiError:
    return _error(404, f"List {list_id} does not exist.", "OBJECT_NOT_FOUND")


# -- property filters ------------------------------------------------------------------------------
Predicate = Callable[[dict[str, str | None]], bool]


def compile_filter_branch(branch: Any) -> Predicate:
    """A predicate over a record's properties for a list ``filterBranch``; ValueError if unsupported."""
    if not isinstance(branch, dict):
        raise ValueError("filterBranch must be an object")
    kind = branch.get("filterBranchType")
    parts = [compile_filter_branch(b) for b in branch.get("filterBranches") or []]
    parts += [_compile_filter(f) for f in branch.get("filters") or []]
    if kind == "OR":
        return lambda props: any(p(props) for p in parts)
    if kind == "AND":
        return lambda props: all(p(props) for p in parts)
    raise ValueError(f"filterBranchType {kind!r} is not supported by the sandbox (OR and AND are)")


def _compile_filter(spec: Any) -> Predicate:
    if not isinstance(spec, dict) or spec.get("filterType") != "PROPERTY":
        raise ValueError("only PROPERTY filters are supported by the sandbox")
    prop = spec.get("property")
    operation = spec.get("operation")
    if not isinstance(prop, str) or not isinstance(operation, dict):
        raise ValueError("a PROPERTY filter needs 'property' and 'operation'")
    operator = str(operation.get("operator", ""))
    if operator in ("IS_KNOWN", "IS_UNKNOWN"):
        known = operator == "IS_KNOWN"
        return lambda props: (props.get(prop) not in (None, "")) == known
    test = _value_test(operator, operation)
    with_empty = bool(operation.get("includeObjectsWithNoValueSet", False))

    def predicate(props: dict[str, str | None]) -> bool:
        value = props.get(prop)
        if value is None or value == "":
            return with_empty
        return test(value)

    return predicate


def _value_test(operator: str, operation: dict[str, Any]) -> Callable[[str], bool]:
    values = operation.get("values")
    if values is None and "value" in operation:
        values = [operation["value"]]
    if not isinstance(values, list) or not values:
        raise ValueError(f"operator {operator} needs 'value' or 'values'")
    wanted = [str(v).lower() for v in values]
    tests: dict[str, Callable[[str], bool]] = {
        "IS_EQUAL_TO": lambda v: v.lower() in wanted,
        "IS_ANY_OF": lambda v: v.lower() in wanted,
        "IS_NOT_EQUAL_TO": lambda v: v.lower() not in wanted,
        "IS_NONE_OF": lambda v: v.lower() not in wanted,
        "CONTAINS": lambda v: any(w in v.lower() for w in wanted),
        "DOES_NOT_CONTAIN": lambda v: all(w not in v.lower() for w in wanted),
        "STARTS_WITH": lambda v: any(v.lower().startswith(w) for w in wanted),
        "ENDS_WITH": lambda v: any(v.lower().endswith(w) for w in wanted),
    }
    if operator in tests:
        return tests[operator]
    numeric = {
        "IS_GREATER_THAN": lambda a, b: a > b,
        "IS_GREATER_THAN_OR_EQUAL_TO": lambda a, b: a >= b,
        "IS_LESS_THAN": lambda a, b: a < b,
        "IS_LESS_THAN_OR_EQUAL_TO": lambda a, b: a <= b,
    }
    if operator in numeric:
        compare: Callable[[float, float], bool] = numeric[operator]
        bound = float(values[0])
        return lambda v: _is_number(v) and compare(float(v), bound)
    raise ValueError(f"operator {operator} is not supported by the sandbox")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


# -- lists -----------------------------------------------------------------------------------------
@dataclass
class ObjectList:
    list_id: str
    name: str
    object_type_id: str
    processing_type: str
    created_at: datetime
    updated_at: datetime
    filter_branch: dict[str, Any] | None = None
    list_version: int = 1
    deleted_at: datetime | None = None
    # record id -> (first added, last added); a manual/snapshot list's members
    members: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    last_added_at: datetime | None = None
    last_removed_at: datetime | None = None

    @property
    def object_type(self) -> str:
        return OBJECT_TYPES[self.object_type_id]

    @property
    def dynamic(self) -> bool:
        return self.processing_type == "DYNAMIC"


class Lists:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self._lists: dict[str, ObjectList] = {}
        self._ids = itertools.count(FIRST_LIST_ID)

    def register_routes(self) -> None:
        e = self.emulator
        e.route("POST", "/crm/v3/lists", self._create)
        e.route("GET", "/crm/v3/lists", self._get_many)
        e.route("POST", "/crm/v3/lists/search", self._search)
        e.route("GET", "/crm/v3/lists/object-type-id/<objectTypeId>/name/<listName>", self._get_by_name)
        e.route("GET", "/crm/v3/lists/<listId>", self._get)
        e.route("DELETE", "/crm/v3/lists/<listId>", self._delete)
        e.route("PUT", "/crm/v3/lists/<listId>/restore", self._restore)
        e.route("PUT", "/crm/v3/lists/<listId>/update-list-name", self._rename)
        e.route("PUT", "/crm/v3/lists/<listId>/update-list-filters", self._update_filters)
        e.route("GET", "/crm/v3/lists/<listId>/memberships", self._memberships)
        e.route("GET", "/crm/v3/lists/<listId>/memberships/join-order", self._memberships_join_order)
        e.route("DELETE", "/crm/v3/lists/<listId>/memberships", self._remove_all)
        e.route("PUT", "/crm/v3/lists/<listId>/memberships/add", self._add)
        e.route("PUT", "/crm/v3/lists/<listId>/memberships/remove", self._remove)
        e.route("PUT", "/crm/v3/lists/<listId>/memberships/add-and-remove", self._add_and_remove)
        e.route("PUT", "/crm/v3/lists/<listId>/memberships/add-from/<sourceListId>", self._add_from)
        e.route(
            "GET", "/crm/v3/lists/records/<objectTypeId>/<recordId>/memberships", self._record_memberships
        )
        e.route("POST", "/crm/v3/lists/records/memberships/batch/read", self._batch_record_memberships)

    def reset(self) -> None:
        self._lists.clear()
        self._ids = itertools.count(FIRST_LIST_ID)

    # -- model (callers hold the lock) -------------------------------------------------------------
    def create_list(
        self,
        name: str,
        object_type_id: str,
        processing_type: str,
        filter_branch: dict[str, Any] | None = None,
        *,
        created_at: datetime | None = None,
    ) -> ObjectList:
        with self.emulator.lock:
            if object_type_id not in OBJECT_TYPES:
                raise _error(400, f"Unsupported objectTypeId: {object_type_id}")
            if processing_type not in PROCESSING_TYPES:
                raise _error(400, f"processingType must be one of {', '.join(PROCESSING_TYPES)}")
            if not name.strip():
                raise _error(400, "A list name is required")
            if self._find_by_name(object_type_id, name) is not None:
                raise _error(400, f"A list named '{name}' already exists.", "VALIDATION_ERROR")
            if processing_type == "MANUAL" and filter_branch is not None:
                raise _error(400, "A MANUAL list cannot have a filterBranch")
            if processing_type == "DYNAMIC" and filter_branch is None:
                raise _error(400, "A DYNAMIC list needs a filterBranch")
            predicate = self._predicate(filter_branch)
            moment = created_at or _now()
            lst = ObjectList(
                str(next(self._ids)), name, object_type_id, processing_type, moment, moment, filter_branch
            )
            if processing_type == "SNAPSHOT" and predicate is not None:
                for record in self.emulator.store.records(lst.object_type):
                    if predicate(record.properties):
                        lst.members[record.id] = (moment, moment)
                lst.last_added_at = moment if lst.members else None
            self._lists[lst.list_id] = lst
            return lst

    def add_members(
        self, lst: ObjectList, record_ids: Iterable[str], *, at: datetime | None = None
    ) -> list[str]:
        """Add existing records; returns the ids added (already-members are left as they are)."""
        moment = at or _now()
        added: list[str] = []
        for record_id in record_ids:
            if record_id in lst.members or not self._exists(lst, record_id):
                continue
            lst.members[record_id] = (moment, moment)
            added.append(record_id)
        if added:
            lst.last_added_at = lst.updated_at = moment
        return added

    def member_ids(self, lst: ObjectList) -> list[str]:
        """Current members sorted by record id (numerically)."""
        if lst.dynamic:
            predicate = self._predicate(lst.filter_branch)
            ids = [
                r.id
                for r in self.emulator.store.records(lst.object_type)
                if predicate is not None and predicate(r.properties)
            ]
        else:
            ids = [i for i in lst.members if self._exists(lst, i)]
        return sorted(ids, key=_id_key)

    def seed_demo(self, contact_ids: list[str]) -> int:
        """The demo's inclusion list "Salesforce sync" (manual, the given contacts) and the legacy preset
        "Everyone except subscribers" (dynamic: lifecycle stage is not subscriber). Returns the number
        of lists."""
        created = _now() - timedelta(days=120)
        with self.emulator.lock:
            manual = self.create_list("Salesforce sync", "0-1", "MANUAL", created_at=created)
            self.add_members(manual, contact_ids, at=created + timedelta(days=1))
            self.create_list(
                "Everyone except subscribers",
                "0-1",
                "DYNAMIC",
                _not_subscriber_filter(),
                created_at=created,
            )
        return 2

    def _exists(self, lst: ObjectList, record_id: str) -> bool:
        return self.emulator.store.get(lst.object_type, record_id) is not None

    def _predicate(self, branch: dict[str, Any] | None) -> Predicate | None:
        if branch is None:
            return None
        try:
            return compile_filter_branch(branch)
        except ValueError as exc:
            raise _error(400, str(exc)) from exc

    def _find_by_name(self, object_type_id: str, name: str) -> ObjectList | None:
        wanted = name.strip().lower()
        for lst in self._lists.values():
            if lst.deleted_at is None and lst.object_type_id == object_type_id and lst.name.lower() == wanted:
                return lst
        return None

    def _live(self, list_id: str) -> ObjectList:
        lst = self._lists.get(list_id)
        if lst is None or lst.deleted_at is not None:
            raise _not_found(list_id)
        return lst

    def _manual(self, list_id: str) -> ObjectList:
        lst = self._live(list_id)
        if lst.dynamic:
            raise _error(
                400,
                f"List {list_id} is a DYNAMIC list; only MANUAL and SNAPSHOT lists accept membership changes",
            )
        return lst

    def _to_api(self, lst: ObjectList, *, include_filters: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "listId": lst.list_id,
            "listVersion": lst.list_version,
            "name": lst.name,
            "objectTypeId": lst.object_type_id,
            "processingType": lst.processing_type,
            "processingStatus": "COMPLETE",
            "createdAt": _iso(lst.created_at),
            "createdById": CREATED_BY_ID,
            "updatedAt": _iso(lst.updated_at),
            "updatedById": CREATED_BY_ID,
            "filtersUpdatedAt": _iso(lst.created_at),
            "size": len(self.member_ids(lst)),
        }
        if lst.deleted_at is not None:
            body["deletedAt"] = _iso(lst.deleted_at)
        if include_filters and lst.filter_branch is not None:
            body["filterBranch"] = lst.filter_branch
        return body

    def _search_result(self, lst: ObjectList) -> dict[str, Any]:
        body = self._to_api(lst)
        size = body.pop("size")
        extra = {"hs_list_size": str(size), "hs_list_reference_count": "0"}
        if lst.last_added_at is not None:
            extra["hs_last_record_added_at"] = str(int(lst.last_added_at.timestamp() * 1000))
        if lst.last_removed_at is not None:
            extra["hs_last_record_removed_at"] = str(int(lst.last_removed_at.timestamp() * 1000))
        body["additionalProperties"] = extra
        return body

    # -- list handlers ---------------------------------------------------------------------------------
    def _create(self, request: Request) -> Response:
        body = read_json(request, error=_bad_body)
        if not isinstance(body, dict):
            raise _bad_body("expected an object")
        missing = [k for k in ("name", "objectTypeId", "processingType") if not isinstance(body.get(k), str)]
        if missing:
            raise _error(400, f"Missing required field(s): {', '.join(missing)}")
        branch = body.get("filterBranch")
        if branch is not None and not isinstance(branch, dict):
            raise _error(400, "filterBranch must be an object")
        with self.emulator.lock:
            lst = self.create_list(body["name"], body["objectTypeId"], body["processingType"], branch)
            return json_response({"list": self._to_api(lst, include_filters=True)})

    def _get(self, request: Request, listId: str) -> Response:
        with self.emulator.lock:
            lst = self._live(listId)
            return json_response(
                {"list": self._to_api(lst, include_filters=_flag(request, "includeFilters"))}
            )

    def _get_many(self, request: Request) -> Response:
        include = _flag(request, "includeFilters")
        wanted = request.args.getlist("listIds")
        with self.emulator.lock:
            found = [self._lists.get(i) for i in wanted]
            lists = [
                self._to_api(lst, include_filters=include) for lst in found if lst and lst.deleted_at is None
            ]
        return json_response({"lists": lists})

    def _get_by_name(self, request: Request, objectTypeId: str, listName: str) -> Response:
        with self.emulator.lock:
            lst = self._find_by_name(objectTypeId, listName)
            if lst is None:
                raise _error(404, f"List with name '{listName}' does not exist.", "OBJECT_NOT_FOUND")
            return json_response(
                {"list": self._to_api(lst, include_filters=_flag(request, "includeFilters"))}
            )

    def _search(self, request: Request) -> Response:
        body = read_json(request, error=_bad_body)
        if not isinstance(body, dict):
            raise _bad_body("expected an object")
        offset = body.get("offset") or 0
        count = body.get("count") or SEARCH_COUNT_DEFAULT
        if not isinstance(offset, int) or not isinstance(count, int) or offset < 0 or count < 1:
            raise _error(400, "offset and count must be non-negative integers")
        count = min(count, SEARCH_COUNT_MAX)
        query = str(body.get("query") or "").lower()
        types = body.get("processingTypes") or list(PROCESSING_TYPES)
        ids = body.get("listIds")
        object_type_id = body.get("objectTypeId")
        with self.emulator.lock:
            matches = [
                lst
                for lst in sorted(self._lists.values(), key=lambda x: int(x.list_id))
                if lst.deleted_at is None
                and query in lst.name.lower()
                and lst.processing_type in types
                and (not ids or lst.list_id in ids)
                and (not object_type_id or lst.object_type_id == object_type_id)
            ]
            page = [self._search_result(lst) for lst in matches[offset : offset + count]]
        return json_response(
            {
                "lists": page,
                "offset": offset + len(page),
                "hasMore": offset + len(page) < len(matches),
                "total": len(matches),
            }
        )

    def _delete(self, _request: Request, listId: str) -> Response:
        with self.emulator.lock:
            self._live(listId).deleted_at = _now()
        return json_response(None, status=204)

    def _restore(self, _request: Request, listId: str) -> Response:
        with self.emulator.lock:
            lst = self._lists.get(listId)
            if lst is None:
                raise _not_found(listId)
            if lst.deleted_at is not None:
                if self._find_by_name(lst.object_type_id, lst.name) is not None:
                    raise _error(400, f"A list named '{lst.name}' already exists.")
                lst.deleted_at = None
                lst.updated_at = _now()
        return json_response(None, status=204)

    def _rename(self, request: Request, listId: str) -> Response:
        name = request.args.get("listName", "")
        with self.emulator.lock:
            lst = self._live(listId)
            if not name.strip():
                raise _error(400, "listName is required")
            other = self._find_by_name(lst.object_type_id, name)
            if other is not None and other is not lst:
                raise _error(400, f"A list named '{name}' already exists.")
            lst.name, lst.updated_at = name, _now()
            lst.list_version += 1
            body = self._to_api(lst, include_filters=_flag(request, "includeFilters"))
        return json_response({"updatedList": body})

    def _update_filters(self, request: Request, listId: str) -> Response:
        body = read_json(request, error=_bad_body)
        branch = body.get("filterBranch") if isinstance(body, dict) else None
        if not isinstance(branch, dict):
            raise _error(400, "filterBranch is required")
        with self.emulator.lock:
            lst = self._live(listId)
            if lst.processing_type == "MANUAL":
                raise _error(400, f"List {listId} is a MANUAL list and has no filters")
            self._predicate(branch)
            lst.filter_branch, lst.updated_at = branch, _now()
            lst.list_version += 1
            return json_response({"updatedList": self._to_api(lst, include_filters=True)})

    # -- membership handlers -----------------------------------------------------------------------------
    def _memberships(self, request: Request, listId: str) -> Response:
        with self.emulator.lock:
            lst = self._live(listId)
            ids = self.member_ids(lst)
            joined = {i: self._joined_at(lst, i) for i in ids}
        return _page_response(request, ids, joined)

    def _memberships_join_order(self, request: Request, listId: str) -> Response:
        with self.emulator.lock:
            lst = self._live(listId)
            ids = self.member_ids(lst)
            joined = {i: self._joined_at(lst, i) for i in ids}
        ordered = sorted(ids, key=lambda i: (joined[i], _id_key(i)))
        return _page_response(request, ordered, joined)

    def _joined_at(self, lst: ObjectList, record_id: str) -> datetime:
        if record_id in lst.members:
            return lst.members[record_id][1]
        record = self.emulator.store.get(lst.object_type, record_id)
        created = getattr(record, "created_at", None)
        return created if isinstance(created, datetime) else lst.created_at

    def _add(self, request: Request, listId: str) -> Response:
        record_ids = _id_array(read_json(request, error=_bad_body))
        with self.emulator.lock:
            lst = self._manual(listId)
            return json_response(self._change(lst, record_ids, []))

    def _remove(self, request: Request, listId: str) -> Response:
        record_ids = _id_array(read_json(request, error=_bad_body))
        with self.emulator.lock:
            lst = self._manual(listId)
            return json_response(self._change(lst, [], record_ids))

    def _add_and_remove(self, request: Request, listId: str) -> Response:
        body = read_json(request, error=_bad_body)
        if not isinstance(body, dict):
            raise _bad_body("expected an object")
        to_add = _id_array(body.get("recordIdsToAdd", []))
        to_remove = _id_array(body.get("recordIdsToRemove", []))
        with self.emulator.lock:
            lst = self._manual(listId)
            return json_response(self._change(lst, to_add, to_remove))

    def _change(self, lst: ObjectList, to_add: list[str], to_remove: list[str]) -> dict[str, Any]:
        missing = [i for i in dict.fromkeys(to_add + to_remove) if not self._exists(lst, i)]
        added = self.add_members(lst, to_add)
        removed = [i for i in dict.fromkeys(to_remove) if lst.members.pop(i, None) is not None]
        if removed:
            lst.last_removed_at = lst.updated_at = _now()
        return {"recordsIdsAdded": added, "recordIdsRemoved": removed, "recordIdsMissing": missing}

    def _add_from(self, _request: Request, listId: str, sourceListId: str) -> Response:
        if listId == sourceListId:
            raise _error(400, "The source and destination lists must be different")
        with self.emulator.lock:
            destination = self._manual(listId)
            source = self._live(sourceListId)
            if source.object_type_id != destination.object_type_id:
                raise _error(400, "The source and destination lists must hold the same object type")
            self.add_members(destination, self.member_ids(source))
        return json_response(None, status=204)

    def _remove_all(self, _request: Request, listId: str) -> Response:
        with self.emulator.lock:
            lst = self._manual(listId)
            if lst.members:
                lst.members.clear()
                lst.last_removed_at = lst.updated_at = _now()
        return json_response(None, status=204)

    def _record_lists(self, object_type_id: str, record_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for lst in sorted(self._lists.values(), key=lambda x: int(x.list_id)):
            if lst.deleted_at is not None or lst.object_type_id != object_type_id:
                continue
            if record_id not in self.member_ids(lst):
                continue
            first, last = lst.members.get(record_id, (self._joined_at(lst, record_id),) * 2)
            out.append(
                {
                    "listId": lst.list_id,
                    "listVersion": lst.list_version,
                    "firstAddedTimestamp": _iso(first),
                    "lastAddedTimestamp": _iso(last),
                }
            )
        return out

    def _record_memberships(self, _request: Request, objectTypeId: str, recordId: str) -> Response:
        if objectTypeId not in OBJECT_TYPES:
            raise _error(400, f"Unsupported objectTypeId: {objectTypeId}")
        with self.emulator.lock:
            results = self._record_lists(objectTypeId, recordId)
        return json_response({"results": results, "total": len(results)})

    def _batch_record_memberships(self, request: Request) -> Response:
        started = _iso(_now())
        body = read_json(request, error=_bad_body)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise _bad_body("missing required field 'inputs'")
        if len(inputs) > BATCH_READ_LIMIT:
            raise _error(
                400, f"Batch input size of {len(inputs)} exceeds the limit of {BATCH_READ_LIMIT} inputs."
            )
        results: list[dict[str, Any]] = []
        with self.emulator.lock:
            for item in inputs:
                if not isinstance(item, dict) or item.get("objectTypeId") not in OBJECT_TYPES:
                    raise _bad_body("each input needs a supported objectTypeId and a recordId")
                object_type_id, record_id = str(item["objectTypeId"]), str(item.get("recordId", ""))
                results.append(
                    {
                        "objectTypeId": object_type_id,
                        "recordId": record_id,
                        "recordListMemberships": self._record_lists(object_type_id, record_id),
                    }
                )
        return json_response(
            {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": _iso(_now())}
        )


# -- module helpers ----------------------------------------------------------------------------------
def _not_subscriber_filter() -> dict[str, Any]:
    return {
        "filterBranchType": "OR",
        "filters": [],
        "filterBranches": [
            {
                "filterBranchType": "AND",
                "filterBranches": [],
                "filters": [
                    {
                        "filterType": "PROPERTY",
                        "property": "lifecyclestage",
                        "operation": {
                            "operationType": "ENUMERATION",
                            "operator": "IS_NONE_OF",
                            "values": ["subscriber"],
                            "includeObjectsWithNoValueSet": True,
                        },
                    }
                ],
            }
        ],
    }


def _id_key(record_id: str) -> tuple[int, str]:
    return (int(record_id), record_id) if record_id.isdigit() else (2**63, record_id)


def _flag(request: Request, name: str) -> bool:
    return request.args.get(name, "false").lower() == "true"


def _id_array(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        raise _bad_body("expected an array of record ids")
    return [str(v) for v in value]


def _page_response(request: Request, ids: list[str], joined: dict[str, datetime]) -> Response:
    """Memberships in ``ids`` order, paged with ``after``/``before`` cursors (positions) and ``limit``."""
    raw_limit = request.args.get("limit", str(MEMBERSHIP_PAGE_DEFAULT))
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        raise _error(400, f"Invalid value for limit: {raw_limit}")
    limit = min(int(raw_limit), MEMBERSHIP_PAGE_MAX)
    after, before = request.args.get("after"), request.args.get("before")
    if after is not None:
        start = _cursor(after)
    elif before is not None:
        start = max(0, _cursor(before) - limit)
    else:
        start = 0
    end = min(start + limit, len(ids))
    if before is not None:
        end = min(end, _cursor(before))
    page = ids[start:end]
    body: dict[str, Any] = {
        "results": [{"recordId": i, "membershipTimestamp": _iso(joined[i])} for i in page],
        "total": len(ids),
    }
    paging: dict[str, Any] = {}
    if end < len(ids):
        paging["next"] = {"after": str(end)}
    if start > 0:
        paging["prev"] = {"before": str(start)}
    if paging:
        body["paging"] = paging
    return json_response(body)


def _cursor(raw: str) -> int:
    if not raw.isdigit():
        raise _error(400, f"Invalid paging cursor: {raw}")
    return int(raw)
