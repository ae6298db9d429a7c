"""Lambda Function URLs: an HTTP request becomes a payload format 2.0 event; the handler's answer
becomes the HTTP response, by the Function URL rules (a dict with ``statusCode`` is a full response;
anything else is a 200 ``application/json`` response whose body is the JSON of the return value).
A request whose event exceeds Lambda's 6 MB invocation payload is answered 413 without invoking."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from infra.runtime.functions import InvocationResult

# Lambda's synchronous invocation payload quota (6 MB): a Function URL request whose event is larger
# never reaches the function; AWS answers 413
MAX_REQUEST_PAYLOAD = 6 * 1024 * 1024
TOO_LARGE_MESSAGE = (
    f"Request must be smaller than {MAX_REQUEST_PAYLOAD} bytes for the InvokeFunction operation"
)

_TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/yaml")


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml"))


def request_event(request: Request, *, url_id: str, account_id: str) -> dict[str, Any]:
    """The payload format 2.0 event Lambda builds for a Function URL request."""
    environ = request.environ
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path)
    raw_path = raw_uri.split("?", 1)[0] or "/"
    raw_query = str(environ.get("QUERY_STRING", ""))
    headers, cookies = _headers_and_cookies(request)
    host = headers.get("host", f"{url_id}.lambda-url.local")
    source_ip = request.remote_addr or "127.0.0.1"
    headers.setdefault("x-forwarded-proto", request.scheme)
    headers.setdefault("x-forwarded-port", str(environ.get("SERVER_PORT", "")))
    headers["x-forwarded-for"] = source_ip
    headers["x-amzn-trace-id"] = (
        f"Root=1-{int(dt.datetime.now(dt.UTC).timestamp()):08x}-{secrets.token_hex(12)}"
    )
    now = dt.datetime.now(dt.UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": url_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if request.args:
        event["queryStringParameters"] = {key: ",".join(request.args.getlist(key)) for key in request.args}
    event.update(_body(request))
    return event


def _headers_and_cookies(request: Request) -> tuple[dict[str, str], list[str]]:
    """The headers (lower-case names, repeated ones joined with commas) and the cookies apart."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers.items():
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def _body(request: Request) -> dict[str, Any]:
    """``body`` (text as is, anything else in base64 with ``isBase64Encoded``); nothing if empty."""
    body = request.get_data(cache=False)
    if not body:
        return {}
    if _is_text(request.content_type or ""):
        try:
            return {"body": body.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def http_response(result: InvocationResult) -> Response:
    """Map an invocation result to the HTTP response a Function URL returns."""
    if not result.ok:
        return Response("Internal Server Error", status=502, content_type="text/plain")
    payload = result.payload
    if isinstance(payload, dict) and "statusCode" in payload:
        try:
            status = int(payload["statusCode"])
        except (TypeError, ValueError):
            return Response("Internal Server Error", status=502, content_type="text/plain")
        headers = Headers()
        for name, value in (payload.get("headers") or {}).items():
            headers.add(str(name), str(value))
        for cookie in payload.get("cookies") or []:
            headers.add("Set-Cookie", str(cookie))
        body = payload.get("body")
        if body is None:
            data = b""
        elif isinstance(body, str):
            data = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode("utf-8")
        else:
            data = json.dumps(body).encode("utf-8")
        if "Content-Type" not in headers:  # werkzeug's Headers compare names case-insensitively
            headers["Content-Type"] = "application/json"
        return Response(data, status=status, headers=headers)
    return Response(json.dumps(payload), status=200, content_type="application/json")


class FunctionUrlApp:
    """The WSGI application serving one function's URL."""

    def __init__(self, invoke: Callable[[Any], InvocationResult], *, url_id: str, account_id: str) -> None:
        self._invoke = invoke
        self.url_id = url_id
        self.account_id = account_id

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if (request.content_length or 0) > MAX_REQUEST_PAYLOAD:
            _discard(request)  # read (not kept), so that the client is not cut off while sending
            return too_large()(environ, start_response)
        event = request_event(request, url_id=self.url_id, account_id=self.account_id)
        if payload_bytes(event) > MAX_REQUEST_PAYLOAD:
            return too_large()(environ, start_response)
        response = http_response(self._invoke(event))
        return response(environ, start_response)


def _discard(request: Request) -> None:
    while request.stream.read(1 << 16):
        pass


def payload_bytes(event: dict[str, Any]) -> int:
    """The size of the invocation payload: the event as compact UTF-8 JSON."""
    return len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def too_large() -> Response:
    """AWS's answer to a request over the payload quota (the function is not invoked)."""
    return Response(json.dumps({"Message": TOO_LARGE_MESSAGE}), status=413, content_type="application/json")
