"""What both emulators share: routing, call statistics, fault injection and control endpoints.

An emulator is a WSGI application. API routes are registered with :meth:`Emulator.route`; they
are counted in the statistics and may be hit by injected faults. Control routes live under
``/_sandbox/`` on every emulator, need no credentials, are never counted and never fail.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.sandbox.delays import Delays
from infra.sandbox.serving import SOCKET_ENVIRON_KEY

Handler = Callable[..., Response]

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"


class ApiError(Exception):
    """Raised by a handler to answer with an error status and body in the emulated API's format."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; ``body=None`` with 204 gives an empty body."""
    if status == 204 or body is None:
        resp = Response(status=status)
    else:
        resp = Response(
            json.dumps(body, separators=(",", ":")), status=status, content_type=JSON_CONTENT_TYPE
        )
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def read_json(request: Request, *, error: Callable[[str], ApiError]) -> Any:
    """Parse a JSON request body, raising ``error(message)`` when it is missing or malformed."""
    raw = request.get_data(cache=True)
    if not raw:
        raise error("The request body is empty")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise error(f"Invalid JSON in request body: {exc}") from exc


def werkzeug_rule_to_template(rule: str) -> str:
    """``/crm/v3/objects/<object_type>/<record_id>`` -> ``/crm/v3/objects/{object_type}/{record_id}``."""
    out = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            name = part[1:-1].split(":")[-1]
            out.append("{" + name + "}")
        else:
            out.append(part)
    return "/".join(out)


class CallStats:
    """Counts API calls by method and path template. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()

    def record(self, method: str, template: str) -> None:
        with self._lock:
            self._calls[f"{method} {template}"] += 1

    def record_status(self, status: int) -> None:
        with self._lock:
            self._statuses[status] += 1

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._statuses.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "api_calls_total": sum(self._calls.values()),
                "calls": dict(sorted(self._calls.items())),
                "statuses": {str(k): v for k, v in sorted(self._statuses.items())},
            }


FAULT_KINDS = ("429", "5xx", "timeout", "lock", "lost")
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class FaultSettings:
    rate: float = 0.0
    kinds: list[str] = field(default_factory=lambda: ["429", "5xx", "timeout"])
    seed: int | None = None
    timeout_seconds: float = 2.0
    writes_only: bool = False
    path: str | None = None  # only calls whose path contains it (e.g. "/companies/batch/create")
    limit: int | None = None  # at most this many faults, then none


class FaultInjector:
    """Decides, per API call, whether to answer with an injected fault instead of the real answer.

    Deterministic for a given seed and call order. A timeout fault holds the request for
    ``timeout_seconds`` and then drops the connection without an answer, as a hung server would.
    A lost fault ("applied, then the answer lost") handles a write normally (the change is
    committed, its change events and webhooks go out), then waits ``timeout_seconds`` and drops the
    connection the same way; on a read (or a call the emulator says cannot be lost) it is a timeout.
    """

    def __init__(self, supported: Iterable[str]) -> None:
        self.supported = tuple(supported)
        self._lock = threading.Lock()
        self.settings = FaultSettings(kinds=[k for k in ("429", "5xx", "timeout") if k in self.supported])
        self._rng = random.Random()
        self.injected: Counter[str] = Counter()

    def configure(self, body: dict[str, Any]) -> FaultSettings:
        rate = float(body.get("rate", 0.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        kinds = list(body.get("kinds") or self.supported)
        unknown = [k for k in kinds if k not in self.supported]
        if unknown:
            raise ValueError(
                f"unsupported fault kinds {unknown}; this emulator supports {list(self.supported)}"
            )
        settings = FaultSettings(
            rate=rate,
            kinds=kinds,
            seed=body.get("seed"),
            timeout_seconds=float(body.get("timeout_seconds", 2.0)),
            writes_only=bool(body.get("writes_only", False)),
            path=str(body["path"]) if body.get("path") else None,
            limit=int(body["limit"]) if body.get("limit") is not None else None,
        )
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)
            self.injected.clear()
        return settings

    def pick(self, is_write: bool, path: str = "") -> str | None:
        with self._lock:
            s = self.settings
            if s.rate <= 0 or not s.kinds or (s.writes_only and not is_write):
                return None
            if (s.path is not None and s.path not in path) or (
                s.limit is not None and sum(self.injected.values()) >= s.limit
            ):
                return None
            if self._rng.random() >= s.rate:
                return None
            kinds = [k for k in s.kinds if k != "lock" or is_write] or s.kinds
            kind = self._rng.choice(kinds)
            self.injected[kind] += 1
            return kind

    def describe(self) -> dict[str, Any]:
        with self._lock:
            s = self.settings
            return {
                "rate": s.rate,
                "kinds": s.kinds,
                "seed": s.seed,
                "timeout_seconds": s.timeout_seconds,
                "writes_only": s.writes_only,
                "path": s.path,
                "limit": s.limit,
                "injected": dict(self.injected),
                "supported": list(self.supported),
            }


class DropConnection(Exception):
    """Raised to close the client connection without any HTTP answer."""


@dataclass
class RouteInfo:
    template: str
    handler: Handler
    counted: bool


class Emulator:
    """Base WSGI application of an emulated API."""

    name = "emulator"
    fault_kinds: tuple[str, ...] = ("429", "5xx", "timeout", "lost")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.stats = CallStats()
        self.faults = FaultInjector(self.fault_kinds)
        self.delays = Delays()
        self._map = Map(strict_slashes=False, merge_slashes=False)
        self._routes: dict[str, RouteInfo] = {}
        self._control: dict[tuple[str, str], Callable[[Request], Response]] = {}
        self.control("GET", "health", lambda _r: json_response({"status": "ok", "emulator": self.name}))
        self.control("GET", "stats", lambda _r: json_response(self.stats.snapshot()))
        self.control("DELETE", "stats", self._reset_stats)
        self.control("GET", "faults", lambda _r: json_response(self.faults.describe()))
        self.control("POST", "faults", self._set_faults)
        self.control("POST", "reset", self._reset)
        self.control("GET", "pending", lambda _r: json_response({"pending": self.pending_deliveries()}))
        self.control("GET", "delays", lambda _r: json_response(self.delays.describe()))
        self.control("POST", "delays", self._add_delay)
        self.control("DELETE", "delays", self._clear_delays)

    # -- registration ------------------------------------------------------------------------
    def route(self, methods: str | Iterable[str], rule: str, handler: Handler) -> None:
        """Register an API route. ``handler(request, **url_values) -> Response``."""
        method_list = [methods] if isinstance(methods, str) else list(methods)
        endpoint = f"{'|'.join(method_list)} {rule}"
        self._routes[endpoint] = RouteInfo(werkzeug_rule_to_template(rule), handler, True)
        self._map.add(Rule(rule, methods=method_list, endpoint=endpoint))

    @property
    def url_map(self) -> Map:
        """The API routes (not the control endpoints), e.g. for conformance checks."""
        return self._map

    def control(self, method: str, name: str, handler: Callable[[Request], Response]) -> None:
        """Register ``METHOD /_sandbox/<name>``."""
        self._control[(method, name.strip("/"))] = handler

    # -- hooks for subclasses ----------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget all data (``POST /_sandbox/reset``)."""

    def pending_deliveries(self) -> int:
        """Events (change events, webhooks) queued or in flight to their target."""
        return 0

    def before_request(self, request: Request, template: str) -> None:
        """Authenticate and meter an API call; raise :class:`ApiError` to refuse it."""

    def after_request(self, request: Request, response: Response) -> None:
        """Decorate an API response (e.g. usage headers)."""

    def answer_can_be_lost(self, request: Request) -> bool:
        """Whether a "lost" fault may apply this call before dropping its answer (else: a timeout)."""
        return request.method in WRITE_METHODS

    def fault_response(self, kind: str, request: Request) -> Response:
        """The answer for an injected fault of ``kind`` (not called for ``timeout`` or ``lost``)."""
        return json_response({"message": f"injected fault {kind}"}, status=500 if kind == "5xx" else 429)

    def error_response(self, error: ApiError) -> Response:
        return json_response(error.body, status=error.status, headers=error.headers)

    def not_found(self, request: Request) -> Response:
        return json_response({"message": f"No route for {request.method} {request.path}"}, status=404)

    def method_not_allowed(self, request: Request) -> Response:
        return json_response(
            {"message": f"Method {request.method} not allowed on {request.path}"}, status=405
        )

    def internal_error(self, request: Request, exc: Exception) -> Response:
        return json_response({"message": f"internal error: {exc.__class__.__name__}: {exc}"}, status=500)

    # -- control handlers --------------------------------------------------------------------
    def _reset_stats(self, _request: Request) -> Response:
        self.stats.reset()
        return json_response(None, status=204)

    def _set_faults(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
            settings = self.faults.configure(body)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response({"rate": settings.rate, "kinds": settings.kinds, "seed": settings.seed})

    def _add_delay(self, request: Request) -> Response:
        try:
            rule = self.delays.add(json.loads(request.get_data() or b"{}"))
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response(rule.to_json(), status=201)

    def _clear_delays(self, _request: Request) -> Response:
        self.delays.clear()
        return json_response(None, status=204)

    def _reset(self, _request: Request) -> Response:
        with self.lock:
            self.reset_state()
        self.stats.reset()
        self.delays.reset()
        self.faults.configure({"rate": 0})
        return json_response({"status": "reset"})

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
            # drain what the handler did not read, so a keep-alive connection stays in step
            request.get_data(cache=False)
        except DropConnection:
            sock = environ.get(SOCKET_ENVIRON_KEY)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(2)
            response = Response(status=504)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_sandbox/"):
            handler = self._control.get((request.method, path[len("/_sandbox/") :].strip("/")))
            if handler is None:
                return json_response({"error": f"unknown control endpoint {request.method} {path}"}, 404)
            return handler(request)

        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            self.stats.record(request.method, "<unmatched>")
            return self.not_found(request)
        except MethodNotAllowed:
            self.stats.record(request.method, "<unmatched>")
            return self.method_not_allowed(request)
        except HTTPException as exc:  # e.g. RequestRedirect; never expected with strict_slashes off
            return json_response({"message": str(exc)}, status=exc.code or 400)

        info = self._routes[str(endpoint)]
        self.stats.record(request.method, info.template)
        delay = self.delays.claim(request.method, path)
        self.delays.hold_before(delay)
        try:
            response = self._answer(request, info, values)
            self.delays.hold_after(delay)
        finally:
            self.delays.finish(delay)
        return response

    def _answer(self, request: Request, info: RouteInfo, values: Mapping[str, Any]) -> Response:
        """Handle a matched API call, or answer it with an injected fault."""
        kind = self.faults.pick(is_write=request.method in WRITE_METHODS, path=request.path)
        if kind == "lost" and not self.answer_can_be_lost(request):
            kind = "timeout"
        if kind == "timeout":
            time.sleep(self.faults.settings.timeout_seconds)
            raise DropConnection()
        try:
            if kind is not None and kind != "lost":
                response = self.fault_response(kind, request)
            else:
                self.before_request(request, info.template)
                response = info.handler(request, **values)
        except ApiError as err:
            response = self.error_response(err)
        except DropConnection:
            raise
        except Exception as exc:
            response = self.internal_error(request, exc)
        if kind == "lost":  # applied (or refused) as usual; the answer never reaches the client
            time.sleep(self.faults.settings.timeout_seconds)
            raise DropConnection()
        self.after_request(request, response)
        self.stats.record_status(response.status_code)
        return response


def correlation_id() -> str:
    return str(uuid.uuid4())
