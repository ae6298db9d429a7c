"""What the stack asks of AWS, counted as AWS bills it (a WSGI middleware in moto's process).

Every request to moto is counted by service and operation, apart for the functions (requests signed
by a role session: what the functions' code calls) and for the rest (the runtime standing in for
Lambda's SQS pollers, and anything signed with another key). DynamoDB requests are also measured in
the request units on-demand capacity bills, from the items they write and the items they answer:

- a write: 1 unit per started KB of the item (a transaction's: 2); an update or a delete, whose item
  size only the table knows, is counted from what the request carries (a lower bound: at least 1);
- a read: 1 unit per started 4 KB of the item, half of it eventually consistent (a transaction's:
  2); a batch or a get counts each key, a query the total size of what it answers.

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


def _write_units(operation: str, params: Mapping[str, Any]) -> float:
    if operation == "PutItem":
        return _units(item_size(params.get("Item") or {}), WRITE_UNIT)
    if operation in ("UpdateItem", "DeleteItem"):
        carried = item_size(params.get("Key") or {}) + item_size(
            params.get("ExpressionAttributeValues") or {}
        )
        return _units(carried, WRITE_UNIT)
    if operation == "BatchWriteItem":
        requests = [r for table in (params.get("RequestItems") or {}).values() for r in table]
        return sum(
            _units(item_size((r.get("PutRequest") or {}).get("Item") or {}), WRITE_UNIT) for r in requests
        )
    if operation == "TransactWriteItems":
        total = 0.0
        for entry in params.get("TransactItems") or []:
            ((kind, body),) = entry.items()
            op = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind)
            total += 2 * (_write_units(op, body) if op else 1)  # a ConditionCheck reads: counted as 1 write
        return total
    return 0.0


def _read_units(operation: str, params: Mapping[str, Any], answer: Mapping[str, Any]) -> float:
    if operation == "GetItem":
        return _units(item_size(answer.get("Item") or {}), READ_UNIT) * _read_factor(params)
    if operation == "BatchGetItem":
        total = 0.0
        for table, request in (params.get("RequestItems") or {}).items():
            found = (answer.get("Responses") or {}).get(table) or []
            sizes = [item_size(item) for item in found]
            missing = len(request.get("Keys") or []) - len(found)  # a key not found reads 1 unit too
            total += (sum(_units(s, READ_UNIT) for s in sizes) + max(0, missing)) * _read_factor(request)
        return total
    if operation in ("Query", "Scan"):
        size = sum(item_size(item) for item in answer.get("Items") or [])
        return _units(size, READ_UNIT) * _read_factor(params)
    if operation == "TransactGetItems":
        return 2.0 * max(1, len(params.get("TransactItems") or []))
    return 0.0


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
            billed[f"{caller} dynamodb write"] = _write_units(operation, params)
            if operation in ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"):
                billed[f"{caller} dynamodb read"] = _read_units(operation, params, _json(answer))
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
