"""``POST /services/data/vXX.X/composite``: up to 25 subrequests in one call, with ``@{ref.path}``
references to earlier results, ``allOrNone`` (one transaction, rolled back on the first failure) and
``collateSubrequests`` (accepted; subrequests run in order either way).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from infra.sandbox.http import json_response
from infra.sandbox.salesforce.errors import api_error
from infra.sandbox.salesforce.rest import ACTOR_KEY, VERSION_KEY, actor_of, body_object, parse_version

if TYPE_CHECKING:
    from infra.sandbox.salesforce.app import SalesforceEmulator

MAX_SUBREQUESTS = 25
_REFERENCE = re.compile(r"@\{([^}]+)\}")
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


class UnresolvedReference(Exception):
    pass


def _lookup(results: dict[str, Any], expression: str) -> Any:
    """``refAccount.id`` / ``refQuery.records[0].Id`` against the earlier subrequests' bodies."""
    ref, _, path = expression.partition(".")
    if ref not in results:
        raise UnresolvedReference(expression)
    value = results[ref]
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError, TypeError) as exc:
            raise UnresolvedReference(expression) from exc
    if value is None:
        raise UnresolvedReference(expression)
    return value


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(results, whole[1])
        return _REFERENCE.sub(lambda m: str(_lookup(results, m[1])), value)
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    return value


def _halted(reference_id: str, message: str = HALTED) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference_id,
    }


class CompositeApi:
    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emu = emulator

    def register(self) -> None:
        self.emu.api("POST", "/services/data/<version>/composite", self.composite)

    def composite(self, request: Request, version: str) -> Response:
        body = body_object(request)
        subrequests = body.get("compositeRequest")
        if not isinstance(subrequests, list) or not subrequests:
            raise api_error(400, "INVALID_FIELD", "compositeRequest is required and must be a non-empty list")
        if len(subrequests) > MAX_SUBREQUESTS:
            raise api_error(
                400,
                "LIMIT_EXCEEDED",
                f"Limit Exceeded: You can have a maximum of {MAX_SUBREQUESTS} subrequests "
                "in a composite request.",
            )
        for sub in subrequests:
            if (
                not isinstance(sub, dict)
                or not sub.get("referenceId")
                or not sub.get("url")
                or not sub.get("method")
            ):
                raise api_error(400, "INVALID_FIELD", "Each subrequest needs method, url and referenceId")
        references = [str(sub["referenceId"]) for sub in subrequests]
        if len(set(references)) != len(references):
            raise api_error(400, "DUPLICATE_VALUE", "Duplicate referenceId provided in the request")
        if body.get("allOrNone"):
            return json_response({"compositeResponse": self._all_or_none(request, subrequests)})
        return json_response({"compositeResponse": self._independent(request, subrequests)})

    def _independent(self, request: Request, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: dict[str, Any] = {}
        out = []
        for sub in subrequests:
            reference = str(sub["referenceId"])
            try:
                response = self._call(request, sub, results)
            except UnresolvedReference as exc:
                response = _halted(
                    reference,
                    f"Invalid reference specified. No value for {exc} found in {reference}. "
                    "Provided referenceId ('" + str(exc).split(".")[0] + "') must be a valid referenceId "
                    "of a previous successful subrequest.",
                )
            if response["httpStatusCode"] < 400:
                results[reference] = response["body"]
            out.append(response)
        return out

    def _all_or_none(self, request: Request, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        store = self.emu.store
        results: dict[str, Any] = {}
        out: list[dict[str, Any]] = []
        with store.transaction(actor_of(request)):
            mark = store.mark()
            failed_at: int | None = None
            for index, sub in enumerate(subrequests):
                reference = str(sub["referenceId"])
                try:
                    response = self._call(request, sub, results)
                except UnresolvedReference as exc:
                    response = _halted(reference, f"Invalid reference specified. No value for {exc} found.")
                out.append(response)
                if response["httpStatusCode"] >= 400:
                    failed_at = index
                    break
                results[reference] = response["body"]
            if failed_at is not None:
                store.rollback_to(mark)
                out = [r if i == failed_at else _halted(r["referenceId"]) for i, r in enumerate(out)]
                out += [_halted(str(sub["referenceId"])) for sub in subrequests[failed_at + 1 :]]
        return out

    def _call(self, outer: Request, sub: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
        reference = str(sub["referenceId"])
        method = str(sub["method"]).upper()
        url = str(_resolve(sub["url"], results))
        payload = _resolve(sub["body"], results) if "body" in sub else None
        parts = urlsplit(url)
        segments = parts.path.split("/")
        version = (
            parse_version(segments[3])
            if len(segments) > 3 and parts.path.startswith("/services/data/")
            else None
        )
        if version is None or parts.path.rstrip("/").endswith("/composite"):
            return {
                "body": [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
                "httpHeaders": {},
                "httpStatusCode": 404,
                "referenceId": reference,
            }
        forwarded = ("authorization", "sforce-call-options")
        headers = [(k, v) for k, v in outer.headers.items() if k.lower() in forwarded]
        headers += [(str(k), str(v)) for k, v in (sub.get("httpHeaders") or {}).items()]
        builder = EnvironBuilder(
            path=parts.path,
            query_string=parts.query,
            method=method,
            headers=headers,
            data=json.dumps(payload) if payload is not None else None,
            content_type="application/json",
        )
        environ = builder.get_environ()
        environ[ACTOR_KEY] = actor_of(outer)
        environ[VERSION_KEY] = version
        response = self.emu.call_internal(Request(environ))
        raw = response.get_data()
        body = json.loads(raw) if raw else None
        out_headers: dict[str, str] = {}
        if response.status_code == 201 and isinstance(body, dict) and body.get("id"):
            sobject = parts.path.rstrip("/").split("/")[-1]
            out_headers["Location"] = f"/services/data/v{version}/sobjects/{sobject}/{body['id']}"
        return {
            "body": body,
            "httpHeaders": out_headers,
            "httpStatusCode": response.status_code,
            "referenceId": reference,
        }
