"""What the stack asks of AWS, counted as AWS bills it (a WSGI middleware in moto's process).

Every request to moto is counted by service and operation, apart for the functions (requests signed
by a role session: what the functions' code calls) and for the rest (the runtime standing in for
Lambda's SQS pollers, and anything signed with another key). DynamoDB requests are also measured in
the request units on-demand capacity bills, from the items they write and the items they answer:

- a write: 1 unit per started KB of the item (a transaction's: 2); an update or a delete, whose item
  size only the table knows, is counted from what the request carries (a lower bound: at least 1);
- a read: 1 unit per started 4 KB of the item, half of it eventually consistent (a transaction's:
  2); a batch or a get counts each key, a query the total size of what it answers.

Each is also counted per kind of item (``key_kind``: the upper-case tags of its key), the breakdown
of what the state table is asked for.

An SQS request is billed per started 64 KB of its payload. ``GET /_hssync/requests`` answers the
counts, ``DELETE /_hssync/requests`` resets them.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from infra.runtime.iam.enforcer import StartResponse, WsgiApp, operation_and_params, read_body

METER_PATH = "/_hssync/requests"
_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
SQS_CHUNK = 64 * 1024
WRITE_UNIT = 1024
READ_UNIT = 4 * 1024


# -- DynamoDB item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
def attribute_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one typed attribute value (``{"S": ...}``, ``{"N": ...}``, ...)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").lstrip("0")
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return math.ceil(len(str(data)) * 3 / 4)  # base64 in the request
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: item}) for item in data)
    if kind == "L":
        return 3 + sum(1 + attribute_size(item) for item in data)
    if kind == "M":
        return 3 + item_size(data)
    return len(json.dumps(data))


def item_size(item: Mapping[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def _read_factor(params: Mapping[str, Any]) -> float:
    return 1.0 if params.get("ConsistentRead") else 0.5


def key_kind(key: Mapping[str, Any]) -> str:
    """What kind of item a key names, from its upper-case tags (``P#1#HS#123`` / ``LINK`` -> ``P#HS/LINK``):
    the cost model's breakdown of what the state table is asked for."""

    def tags(value: Mapping[str, Any] | None) -> str:
        text = str((value or {}).get("S") or "")
        return "#".join(t for t in text.split("#") if t.isalpha() and t.isupper())

    sort = tags(key.get("sk"))
    return f"{tags(key.get('pk'))}/{sort}" if sort else tags(key.get("pk"))


def _key_of(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in ("pk", "sk") if name in item}


def _signature(key: Mapping[str, Any]) -> str:
    return json.dumps(_key_of(key), sort_keys=True)


def _writes(operation: str, params: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(kind, write units) of each item a write request writes."""
    if operation == "PutItem":
        item = params.get("Item") or {}
        return [(key_kind(item), _units(item_size(item), WRITE_UNIT))]
    if operation in ("UpdateItem", "DeleteItem"):
        key = params.get("Key") or {}
        carried = item_size(key) + item_size(params.get("ExpressionAttributeValues") or {})
        return [(key_kind(key), _units(carried, WRITE_UNIT))]
    if operation == "BatchWriteItem":
        out: list[tuple[str, float]] = []
        for request in (r for table in (params.get("RequestItems") or {}).values() for r in table):
            if "PutRequest" in request:
                out += _writes("PutItem", request["PutRequest"])
            else:
                out.append((key_kind((request.get("DeleteRequest") or {}).get("Key") or {}), 1))
        return out
    if operation == "TransactWriteItems":
        out = []
        for entry in params.get("TransactItems") or []:
            ((kind, body),) = entry.items()
            op = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind)
            written = _writes(op, body) if op else [(key_kind(body.get("Key") or {}), 1.0)]  # a check
            out += [(k, 2 * units) for k, units in written]
        return out
    return []


def _reads(operation: str, params: Mapping[str, Any], answer: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(kind, read units) of what a read request reads."""
    if operation == "GetItem":
        units = _units(item_size(answer.get("Item") or {}), READ_UNIT) * _read_factor(params)
        return [(key_kind(params.get("Key") or {}), units)]
    if operation == "BatchGetItem":
        out: list[tuple[str, float]] = []
        for table, request in (params.get("RequestItems") or {}).items():
            found = {_signature(i): i for i in (answer.get("Responses") or {}).get(table) or []}
            for key in request.get("Keys") or []:  # a key not found reads 1 unit too
                item = found.get(_signature(key)) or {}
                out.append((key_kind(key), _units(item_size(item), READ_UNIT) * _read_factor(request)))
        return out
    if operation in ("Query", "Scan"):
        items = answer.get("Items") or []
        kind = key_kind(_key_of(items[0])) if items else "(none)"
        return [(kind, _units(sum(item_size(i) for i in items), READ_UNIT) * _read_factor(params))]
    if operation == "TransactGetItems":
        return [("(transaction)", 2.0 * max(1, len(params.get("TransactItems") or [])))]
    return []


class RequestMeter:
    """Counts the requests passing to ``app`` (see the module's docstring)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()  # "caller service Operation" -> requests
        # "caller sqs requests" (billed per 64 KB), "caller dynamodb write|read" (request units)
        self.billed: dict[str, float] = {}

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {"requests": dict(self.requests), "billed": dict(self.billed)}

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.billed.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == METER_PATH:
            return self._control(environ, start_response)
        credential = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION") or ""))
        if credential is None:
            return self.app(environ, start_response)
        service = credential.group(3)
        body = read_body(environ)
        operation, params = operation_and_params(environ, body)
        # a role session's temporary credentials carry a session token: a function's worker
        caller = "function" if environ.get("HTTP_X_AMZ_SECURITY_TOKEN") else "runtime"
        answer = b"".join(self.app(environ, start_response))
        self._count(caller, service, operation or "?", params, body, answer)
        return [answer]

    def _count(
        self, caller: str, service: str, operation: str, params: Mapping[str, Any], body: bytes, answer: bytes
    ) -> None:
        billed: dict[str, float] = {}
        if service == "sqs":
            billed[f"{caller} sqs requests"] = max(1, math.ceil(max(len(body), len(answer)) / SQS_CHUNK))
        elif service == "dynamodb":
            for side, units in (
                ("write", _writes(operation, params)),
                ("read", _reads(operation, params, _json(answer))),
            ):
                for kind, amount in units:
                    billed[f"{caller} dynamodb {side}"] = (
                        billed.get(f"{caller} dynamodb {side}", 0.0) + amount
                    )
                    billed[f"{caller} dynamodb {side} {kind}"] = (
                        billed.get(f"{caller} dynamodb {side} {kind}", 0.0) + amount
                    )
        with self._lock:
            self.requests[f"{caller} {service} {operation}"] += 1
            for name, amount in billed.items():
                self.billed[name] = self.billed.get(name, 0.0) + amount

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        if environ.get("REQUEST_METHOD") == "DELETE":
            self.reset()
        data = json.dumps(self.snapshot()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def _json(answer: bytes) -> Mapping[str, Any]:
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
