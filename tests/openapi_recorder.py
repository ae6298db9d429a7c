"""Record HTTP exchanges at the WSGI level and validate them against HubSpot's OpenAPI specs.

- :class:`Recorder` is a WSGI middleware around an emulator; :meth:`Recorder.serve` puts it on a
  local threaded server so real clients talk to it over HTTP, exactly as to the sandbox.
- :class:`SpecCatalog` loads the specs, finds the operation of a recorded request (mapping the
  client's ``/crm/v3/objects/deals`` to the spec's ``/crm/v3/objects/0-3``) and validates the
  request and the response with openapi-core.
- :func:`served_operations` and :func:`registered_routes` derive, from the emulator's own routing,
  which spec operations it serves, so a conformance test can require that each one was exercised.
"""

from __future__ import annotations

import io
import json
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.serving import make_server

SPEC_FILES = (
    "crm-contacts-v3.json",
    "crm-companies-v3.json",
    "crm-deals-v3.json",
    "crm-associations-v4.json",
    "crm-owners-v3.json",
    "crm-lists-v3.json",
    "crm-pipelines-v3.json",
    "webhooks-v3.json",
)
# the hubspot client says /crm/v3/objects/deals where the deals spec says /crm/v3/objects/0-3
PATH_ALIASES = {"/crm/v3/objects/deals": "/crm/v3/objects/0-3"}
# a route parameter may stand for these literal path segments of the specs (object types)
OBJECT_TYPE_SEGMENTS = frozenset({"contacts", "companies", "deals", "0-1", "0-2", "0-3"})
# what to put in a spec path parameter to build a concrete path
SAMPLE_PARAMETERS = {"objectType": "contacts", "fromObjectType": "contacts", "toObjectType": "companies"}


# -- recording -------------------------------------------------------------------------------------


@dataclass
class Exchange:
    method: str
    path: str
    query: str
    request_headers: Headers
    request_body: bytes
    status: int
    response_headers: Headers
    response_body: bytes
    invalid_request_expected: bool = False

    def describe(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status}"


class Recorder:
    """WSGI middleware that records every request/response pair passing through it."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._expect_invalid = False

    @contextmanager
    def invalid_requests(self) -> Iterator[None]:
        """Mark the exchanges recorded inside the block as deliberately invalid requests (the
        response is still validated, the request is not)."""
        self._expect_invalid = True
        try:
            yield
        finally:
            self._expect_invalid = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH")
        stream = environ["wsgi.input"]
        body = (
            stream.read(int(length))
            if length
            else stream.read()
            if environ.get("wsgi.input_terminated")
            else b""
        )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = Headers(headers)
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        try:
            response_body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        request_headers = Headers()
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                request_headers.add(key[5:].replace("_", "-").title(), value)
        if environ.get("CONTENT_TYPE"):
            request_headers["Content-Type"] = environ["CONTENT_TYPE"]
        exchange = Exchange(
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO", ""),
            query=environ.get("QUERY_STRING", ""),
            request_headers=request_headers,
            request_body=body,
            status=captured["status"],
            response_headers=captured["headers"],
            response_body=response_body,
            invalid_request_expected=self._expect_invalid,
        )
        with self._lock:
            self.exchanges.append(exchange)
        return [response_body]

    @contextmanager
    def serve(self, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve the recorder on a free port; yields its base URL."""
        server = make_server(host, 0, self, threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="openapi-recorder", daemon=True
        )
        thread.start()
        try:
            yield f"http://{host}:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)


# -- specs -----------------------------------------------------------------------------------------


def _segments(template: str) -> list[str | None]:
    """Path segments; ``None`` for a parameter."""
    return [None if s.startswith("{") else s for s in template.strip("/").split("/")]


@dataclass(frozen=True)
class Operation:
    spec: str
    method: str
    template: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def literal_count(self) -> int:
        return sum(s is not None for s in _segments(self.template))

    def matches(self, path: str) -> bool:
        pattern = "/".join("[^/]+" if seg is None else re.escape(seg) for seg in _segments(self.template))
        return re.fullmatch("/" + pattern, path) is not None

    @property
    def client_template(self) -> str:
        """The template as the hubspot client spells it (``/crm/v3/objects/deals/...``)."""
        for client_prefix, spec_prefix in PATH_ALIASES.items():
            if self.template == spec_prefix or self.template.startswith(spec_prefix + "/"):
                return client_prefix + self.template[len(spec_prefix) :]
        return self.template

    def sample_path(self) -> str:
        """A concrete path for this operation, as the client would send it."""
        return re.sub(r"\{([^/}]+)\}", lambda m: SAMPLE_PARAMETERS.get(m.group(1), "1"), self.client_template)


class ConformanceError(AssertionError):
    pass


@dataclass
class SpecRequest:
    """openapi-core's request protocol, for a recorded request aimed at the spec's server."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass
class SpecResponse:
    """openapi-core's response protocol, for a recorded response."""

    data: bytes
    status_code: int
    content_type: str
    headers: Headers


def spec_path(path: str) -> str:
    """A request path as the specs spell it: no trailing slash (the client sends ``/crm/v3/owners/``),
    and the client's aliases replaced."""
    path = path.rstrip("/") or "/"
    for client_prefix, spec_prefix in PATH_ALIASES.items():
        if path == client_prefix or path.startswith(client_prefix + "/"):
            return spec_prefix + path[len(client_prefix) :]
    return path


def _explain(exc: BaseException) -> str:
    """openapi-core hides the schema errors in the exception's cause chain."""
    parts = [f"{type(exc).__name__}: {exc}"]
    seen: BaseException | None = exc.__cause__
    while seen is not None:
        errors = getattr(seen, "schema_errors", None)
        if errors:
            parts.extend(
                f"  - {getattr(e, 'message', e)} at {list(getattr(e, 'absolute_path', []))}" for e in errors
            )
        else:
            parts.append(f"  caused by {type(seen).__name__}: {seen}")
        seen = seen.__cause__
    return "\n".join(parts)


def _normalised(spec: dict[str, Any]) -> dict[str, Any]:
    """Three quirks of HubSpot's specs, fixed as the real API behaves:

    - error bodies are declared as ``*/*`` but are JSON (openapi-core would validate the raw
      bytes against the Error object);
    - 204 answers declare ``content: {}`` (openapi-core would then demand a body);
    - a CRM object's ``properties`` map is declared as strings, but the API answers ``null`` for
      a requested (or default) property that has no value, e.g. a new deal's ``amount``.
    """
    responses = list(spec.get("components", {}).get("responses", {}).values())
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                responses.extend(operation.get("responses", {}).values())
    for schema in spec.get("components", {}).get("schemas", {}).values():
        values = schema.get("properties", {}).get("properties", {}).get("additionalProperties")
        if isinstance(values, dict) and values.get("type") == "string":
            values["nullable"] = True
    for response in responses:
        content = response.get("content")
        if content == {}:
            del response["content"]
        elif content is not None and "*/*" in content:
            content["application/json"] = content.pop("*/*")
    return spec


@dataclass
class SpecCatalog:
    spec_dir: Path
    operations: list[Operation] = field(default_factory=list)
    _apps: dict[str, OpenAPI] = field(default_factory=dict)
    _servers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in SPEC_FILES:
            spec = _normalised(json.loads((self.spec_dir / name).read_text()))
            self._apps[name] = OpenAPI.from_dict(spec)
            self._servers[name] = spec["servers"][0]["url"]
            for template, item in spec["paths"].items():
                for method in item:
                    if method in ("get", "put", "post", "patch", "delete"):
                        self.operations.append(Operation(name, method.upper(), template))

    def prefixes(self) -> set[str]:
        """The first three segments of every spec'd path, e.g. ``/crm/v3/objects``, ``/webhooks/v3``."""
        out = set()
        for op in self.operations:
            literal = []
            for seg in _segments(op.template)[:3]:
                if seg is None:
                    break
                literal.append(seg)
            out.add("/" + "/".join(literal))
        return out

    def find(self, method: str, path: str) -> Operation | None:
        """The most specific operation (most literal segments) matching a request."""
        mapped = spec_path(path)
        candidates = [op for op in self.operations if op.method == method and op.matches(mapped)]
        return max(candidates, key=lambda op: op.literal_count, default=None)

    def validate(self, exchange: Exchange) -> Operation:
        """Validate a recorded exchange against its operation; raise :class:`ConformanceError`."""
        op = self.find(exchange.method, exchange.path)
        if op is None:
            raise ConformanceError(f"{exchange.describe()}: no operation in the specs")
        app = self._apps[op.spec]
        request = SpecRequest(
            host_url=self._servers[op.spec],
            path=spec_path(exchange.path),
            method=exchange.method.lower(),
            body=exchange.request_body or None,
            content_type=exchange.request_headers.get("Content-Type", "application/octet-stream"),
            parameters=RequestParameters(
                query=ImmutableMultiDict(parse_qsl(exchange.query, keep_blank_values=True)),
                header=exchange.request_headers,
                cookie=ImmutableMultiDict(),
            ),
        )
        mimetype = exchange.response_headers.get("Content-Type", "").split(";")[0].strip()
        response = SpecResponse(
            data=exchange.response_body,
            status_code=exchange.status,
            content_type=mimetype or "application/octet-stream",
            headers=exchange.response_headers,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # oauth2 security schemes are "unsupported" by openapi-core
            if not exchange.invalid_request_expected:
                try:
                    app.validate_request(request)
                except OpenAPIError as exc:
                    raise ConformanceError(
                        f"{exchange.describe()} [{op.key}] request: {_explain(exc)}"
                    ) from exc
            try:
                app.validate_response(request, response)
            except OpenAPIError as exc:
                body = exchange.response_body[:600].decode("utf-8", "replace")
                raise ConformanceError(
                    f"{exchange.describe()} [{op.key}] response: {_explain(exc)}\n  body: {body}"
                ) from exc
        return op


# -- the emulator's routes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    template: str


def registered_routes(url_map: Map, prefixes: Iterable[str]) -> list[Route]:
    """The API routes of a werkzeug map whose path starts with one of ``prefixes``."""
    out = []
    for rule in url_map.iter_rules():
        template = re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", rule.rule)
        if not any(template == p or template.startswith(p + "/") for p in prefixes):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append(Route(str(rule.endpoint), method, template))
    return out


def route_of(url_map: Map, method: str, path: str) -> str | None:
    """The endpoint the emulator routes a request to, or None."""
    try:
        endpoint, _values = url_map.bind("sandbox").match(path, method=method)
    except HTTPException:
        return None
    return str(endpoint)


def _compatible(route_template: str, op: Operation) -> bool:
    """Whether a route has the shape of an operation: literal segments agree (the client's alias
    counts), and a route parameter only stands for an object type, never for another keyword."""
    route, spec, client = _segments(route_template), _segments(op.template), _segments(op.client_template)
    if len(route) != len(spec):
        return False
    for r, s, c in zip(route, spec, client, strict=True):
        if r is None:
            if s is not None and s not in OBJECT_TYPE_SEGMENTS:
                return False
        elif s is not None and r not in (s, c):
            return False
    return True


def served_operations(catalog: SpecCatalog, url_map: Map, routes: list[Route]) -> dict[Operation, Route]:
    """Each spec operation the emulator serves, with the route serving it."""
    by_endpoint = {(r.endpoint, r.method): r for r in routes}
    served: dict[Operation, Route] = {}
    for op in catalog.operations:
        endpoint = route_of(url_map, op.method, op.sample_path())
        route = by_endpoint.get((endpoint or "", op.method))
        if route is not None and _compatible(route.template, op):
            served[op] = route
    return served
