"""HubSpot webhooks: the management API (settings, subscriptions) and signed delivery.

Management (``/webhooks/v3/{appId}/...``, developer key checked by the emulator) keeps one app's
target URL, throttling and event subscriptions. :meth:`Webhooks.publish` is called by the CRM
store for every change; it turns the change into one notification per active matching
subscription and queues it on a :class:`~infra.sandbox.delivery.Deliverer`, which POSTs JSON
arrays of notifications to the target URL, signed as HubSpot signs them (v1 and v3 headers), and
retries failed requests with a growing ``attemptNumber``. The real service retries up to 10
times over 24 hours; the sandbox compresses the schedule (``POST /_sandbox/webhooks/settings``).

Control endpoints: ``GET /_sandbox/webhooks/deliveries`` (recent delivery attempts and their
status codes), ``GET|POST /_sandbox/webhooks/settings`` (delivery tuning),
``POST /_sandbox/webhooks/hold`` and ``POST /_sandbox/webhooks/release`` (delivery latency: while
held, new notifications queue up, counted as pending; release delivers them in order), both
answering ``{"held": <bool>, "pending": <notifications queued or in flight>}``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from infra.sandbox.config import HubSpotCredentials
from infra.sandbox.delivery import Deliverer
from infra.sandbox.http import Emulator, json_response, read_json
from infra.sandbox.hubspot.errors import batch_error, hs_error, not_found, validation_error
from infra.sandbox.hubspot.signing import canonical_uri, sign_v1, sign_v3

USER_AGENT = (
    "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client) "
    "- WebhooksExecutorDaemon-executor"
)

_CRM_ACTIONS = ("creation", "deletion", "propertyChange", "merge", "restore", "associationChange")

# every eventType the v3 API accepts (the spec's enum); the sandbox emits the contact, company
# and deal ones, the others are accepted and stored like the real API does
EVENT_TYPES = frozenset(
    [
        f"{obj}.{action}"
        for obj in ("contact", "company", "deal", "ticket", "line_item", "object")
        for action in _CRM_ACTIONS
    ]
    + [f"product.{a}" for a in ("creation", "deletion", "propertyChange", "merge", "restore")]
    + [
        f"conversation.{a}"
        for a in ("creation", "deletion", "newMessage", "privacyDeletion", "propertyChange")
    ]
    + ["contact.privacyDeletion", "event.completed"]
)

THROTTLING_PERIODS = {"SECONDLY": 1.0, "ROLLING_MINUTE": 60.0}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# -- state ---------------------------------------------------------------------------------------


@dataclass
class WebhookSettings:
    target_url: str
    max_concurrent_requests: int
    period: str | None
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        throttling: dict[str, Any] = {"maxConcurrentRequests": self.max_concurrent_requests}
        if self.period is not None:
            throttling["period"] = self.period
        return {
            "createdAt": self.created_at,
            "targetUrl": self.target_url,
            "throttling": throttling,
            "updatedAt": self.updated_at,
        }


@dataclass
class Subscription:
    id: int
    event_type: str
    property_name: str | None
    object_type_id: str | None
    active: bool
    created_at: str
    updated_at: str

    def matches(self, subscription_type: str, property_name: Any) -> bool:
        if not self.active or self.event_type != subscription_type:
            return False
        return not subscription_type.endswith(".propertyChange") or self.property_name == property_name

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "active": self.active,
            "createdAt": self.created_at,
            "eventType": self.event_type,
            "id": str(self.id),
        }
        if self.property_name is not None:
            body["propertyName"] = self.property_name
        if self.object_type_id is not None:
            body["objectTypeId"] = self.object_type_id
        body["updatedAt"] = self.updated_at
        return body


@dataclass
class Notification:
    """One event for one subscription; ``attempts`` failed deliveries so far (= its attemptNumber)."""

    event: dict[str, Any]
    generation: int
    attempts: int = 0

    def payload(self) -> dict[str, Any]:
        body = dict(self.event)
        body["attemptNumber"] = self.attempts
        return body


@dataclass
class DeliveryTuning:
    """How the sandbox delivers; the real service retries 10 times over 24 hours."""

    retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)
    max_attempts: int = 10
    max_batch: int = 99
    timeout_ms: int = 10_000
    linger: float = 0.02

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["retry_delays"] = list(self.retry_delays)
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any], base: DeliveryTuning) -> DeliveryTuning:
        unknown = sorted(set(body) - set(asdict(base)))
        if unknown:
            raise ValueError(f"unknown delivery settings {unknown}")
        delays = tuple(float(d) for d in body.get("retry_delays", base.retry_delays))
        tuning = cls(
            retry_delays=delays,
            max_attempts=int(body.get("max_attempts", base.max_attempts)),
            max_batch=int(body.get("max_batch", base.max_batch)),
            timeout_ms=int(body.get("timeout_ms", base.timeout_ms)),
            linger=float(body.get("linger", base.linger)),
        )
        if not delays or any(d < 0 for d in delays):
            raise ValueError("retry_delays must be a non-empty list of non-negative seconds")
        if tuning.max_attempts < 1 or not 1 <= tuning.max_batch <= 100:
            raise ValueError("max_attempts must be >= 1 and max_batch between 1 and 100")
        if tuning.timeout_ms < 1 or tuning.linger < 0:
            raise ValueError("timeout_ms must be positive and linger non-negative")
        return tuning


@dataclass
class DeliveryAttempt:
    at: str
    url: str
    event_ids: list[int]
    attempt_numbers: list[int]
    status: int | None = None
    error: str | None = None
    abandoned_event_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "ok": self.status is not None and 200 <= self.status < 300,
            "size": len(self.event_ids),
            "eventIds": self.event_ids,
            "attemptNumbers": self.attempt_numbers,
            "abandonedEventIds": self.abandoned_event_ids,
        }


class Throttle:
    """At most ``limit`` requests per ``period`` seconds (a sliding window); waits are interruptible."""

    def __init__(self, stopping: threading.Event) -> None:
        self._sent: deque[float] = deque()
        self._stopping = stopping

    def wait_turn(self, limit: int, period: float | None) -> None:
        if period is None:
            return
        while not self._stopping.is_set():
            now = time.monotonic()
            while self._sent and now - self._sent[0] >= period:
                self._sent.popleft()
            if len(self._sent) < limit:
                self._sent.append(now)
                return
            self._stopping.wait(period - (now - self._sent[0]))


# -- the component -------------------------------------------------------------------------------


class Webhooks:
    def __init__(self, emulator: Emulator, credentials: HubSpotCredentials) -> None:
        self.emulator = emulator
        self.credentials = credentials
        self.tuning = DeliveryTuning()
        self._settings: WebhookSettings | None = None
        self._subscriptions: dict[int, Subscription] = {}
        self._next_subscription_id = 1
        # event ids grow for the life of the process and start from the clock (µs), so that they
        # stay unique across resets and restarts (consumers deduplicate on them)
        self._next_event_id = time.time_ns() // 1000
        self._generation = 0
        self._attempts: deque[DeliveryAttempt] = deque(maxlen=1000)
        self._abandoned = 0  # notifications given up after max_attempts (since the last reset)
        self._stopping = threading.Event()
        self._throttle = Throttle(self._stopping)
        self._http = requests.Session()
        self._http.trust_env = False  # the target is reached directly, never through a proxy
        self._http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or True
        self._deliverer: Deliverer[Notification] = Deliverer(
            "hubspot-webhooks",
            self._send,
            max_batch=self.tuning.max_batch,
            retry_delays=self.tuning.retry_delays,
            linger=self.tuning.linger,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    def register_routes(self) -> None:
        base = "/webhooks/v3/<int:appId>"
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", "/settings", self._get_settings),
            ("PUT", "/settings", self._put_settings),
            ("DELETE", "/settings", self._delete_settings),
            ("GET", "/subscriptions", self._list_subscriptions),
            ("POST", "/subscriptions", self._create_subscription),
            ("POST", "/subscriptions/batch/update", self._batch_update_subscriptions),
            ("GET", "/subscriptions/<int:subscriptionId>", self._get_subscription),
            ("PATCH", "/subscriptions/<int:subscriptionId>", self._patch_subscription),
            ("DELETE", "/subscriptions/<int:subscriptionId>", self._delete_subscription),
        ]
        for method, rule, handler in routes:
            self.emulator.route(method, base + rule, handler)
        self.emulator.control("GET", "webhooks/deliveries", self._control_deliveries)
        self.emulator.control("GET", "webhooks/settings", self._control_get_tuning)
        self.emulator.control("POST", "webhooks/settings", self._control_set_tuning)
        self.emulator.control("POST", "webhooks/hold", lambda _r: self._control_hold(True))
        self.emulator.control("POST", "webhooks/release", lambda _r: self._control_hold(False))

    def start(self) -> None:
        self._stopping.clear()
        self._deliverer.start()

    def stop(self) -> None:
        self._stopping.set()
        self._deliverer.stop()

    def pending(self) -> int:
        return self._deliverer.pending()

    def reset(self) -> None:
        with self.emulator.lock:
            self._settings = None
            self._subscriptions.clear()
            self._next_subscription_id = 1
            self._generation += 1
            self._attempts.clear()
            self._abandoned = 0
            self._apply_tuning(DeliveryTuning())
            self._deliverer.clear()
            self._deliverer.release()

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, subscription_type: str, object_id: int, **fields: Any) -> None:
        """Queue a notification for each active subscription to ``subscription_type``.

        ``fields`` are the event's own fields (``changeSource``, ``occurredAt``, ``propertyName``,
        ``propertyValue``, ``mergedObjectIds``, ``fromObjectId``, ...); ``None`` values are left out.
        """
        with self.emulator.lock:
            if self._settings is None:
                return
            matching = [
                s
                for s in sorted(self._subscriptions.values(), key=lambda s: s.id)
                if s.matches(subscription_type, fields.get("propertyName"))
            ]
            if not matching:
                return
            occurred_at = fields.pop("occurredAt", None) or _now_ms()
            extra = {k: v for k, v in fields.items() if v is not None}
            for sub in matching:
                event: dict[str, Any] = {
                    "eventId": self._next_event_id,
                    "subscriptionId": sub.id,
                    "portalId": self.credentials.portal_id,
                    "appId": self.credentials.app_id,
                    "occurredAt": occurred_at,
                    "subscriptionType": subscription_type,
                    "objectId": int(object_id),
                    **extra,
                }
                self._next_event_id += 1
                self._deliverer.put(Notification(event, self._generation))

    # -- delivery (the deliverer's thread) -------------------------------------------------------
    def _send(self, batch: list[Notification]) -> bool:
        with self.emulator.lock:
            settings, tuning, generation = self._settings, self.tuning, self._generation
        live = [n for n in batch if n.generation == generation and n.attempts < tuning.max_attempts]
        if settings is None or not live:
            return True  # reset, target removed, or every notification abandoned: nothing to send
        self._throttle.wait_turn(
            settings.max_concurrent_requests, THROTTLING_PERIODS.get(settings.period or "")
        )
        payloads = [n.payload() for n in live]
        body = json.dumps(payloads, separators=(",", ":"))
        timestamp = _now_ms()
        secret = self.credentials.client_secret
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-HubSpot-Request-Timestamp": str(timestamp),
            "X-HubSpot-Signature": sign_v1(secret, body),
            "X-HubSpot-Signature-Version": "v1",
            "X-HubSpot-Signature-v3": sign_v3(
                secret, "POST", canonical_uri(settings.target_url), body, timestamp
            ),
            "X-HubSpot-Timeout-Millis": str(tuning.timeout_ms),
        }
        attempt = DeliveryAttempt(
            at=_now_iso(),
            url=settings.target_url,
            event_ids=[p["eventId"] for p in payloads],
            attempt_numbers=[p["attemptNumber"] for p in payloads],
        )
        try:
            response = self._http.post(
                settings.target_url,
                data=body.encode("utf-8"),
                headers=headers,
                timeout=tuning.timeout_ms / 1000,
            )
            attempt.status = response.status_code
            response.close()
        except requests.RequestException as exc:
            attempt.error = f"{exc.__class__.__name__}: {exc}"
        ok = attempt.status is not None and 200 <= attempt.status < 300
        if not ok:
            for n in live:
                n.attempts += 1
                if n.attempts >= tuning.max_attempts:
                    attempt.abandoned_event_ids.append(int(n.event["eventId"]))
        with self.emulator.lock:
            self._attempts.append(attempt)
            self._abandoned += len(attempt.abandoned_event_ids)
        return ok

    # -- management API --------------------------------------------------------------------------
    def _check_app(self, app_id: int) -> None:
        if app_id != self.credentials.app_id:
            raise not_found(f"Unable to find app with id {app_id}")

    def _get_settings(self, _request: Request, appId: int) -> Response:
        self._check_app(appId)
        with self.emulator.lock:
            if self._settings is None:
                raise not_found(f"No webhook settings found for app {appId}")
            return json_response(self._settings.to_json())

    def _put_settings(self, request: Request, appId: int) -> Response:
        self._check_app(appId)
        body = _json_object(request)
        target_url = body.get("targetUrl")
        if not isinstance(target_url, str) or not target_url.startswith(("https://", "http://")):
            raise validation_error("targetUrl must be an absolute http(s) URL")
        throttling = body.get("throttling")
        if not isinstance(throttling, dict):
            raise validation_error('throttling is required: {"maxConcurrentRequests": <integer>}')
        max_concurrent = throttling.get("maxConcurrentRequests")
        if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int) or max_concurrent < 1:
            raise validation_error("throttling.maxConcurrentRequests must be a positive integer")
        period = throttling.get("period")
        if period is not None and period not in THROTTLING_PERIODS:
            raise validation_error(f"throttling.period must be one of {sorted(THROTTLING_PERIODS)}")
        now = _now_iso()
        with self.emulator.lock:
            created = self._settings.created_at if self._settings else now
            self._settings = WebhookSettings(target_url, max_concurrent, period, created, now)
            return json_response(self._settings.to_json())

    def _delete_settings(self, _request: Request, appId: int) -> Response:
        self._check_app(appId)
        with self.emulator.lock:
            self._settings = None  # subscriptions stay, paused until a target is set again
            self._generation += 1
            self._deliverer.clear()
        return json_response(None, status=204)

    def _list_subscriptions(self, _request: Request, appId: int) -> Response:
        self._check_app(appId)
        with self.emulator.lock:
            results = [s.to_json() for s in sorted(self._subscriptions.values(), key=lambda s: s.id)]
        return json_response({"results": results})

    def _create_subscription(self, request: Request, appId: int) -> Response:
        self._check_app(appId)
        body = _json_object(request)
        event_type = body.get("eventType")
        if event_type not in EVENT_TYPES:
            raise validation_error(f"{event_type!r} is not a valid eventType, e.g. contact.creation")
        property_name = body.get("propertyName")
        if event_type.endswith(".propertyChange"):
            if not isinstance(property_name, str) or not property_name:
                raise validation_error(f"propertyName is required for {event_type} subscriptions")
        elif property_name is not None:
            raise validation_error(
                f"propertyName only applies to propertyChange subscriptions, not {event_type}"
            )
        active = body.get("active", False)
        if not isinstance(active, bool):
            raise validation_error("active must be a boolean")
        object_type_id = body.get("objectTypeId")
        if object_type_id is not None and not isinstance(object_type_id, str):
            raise validation_error("objectTypeId must be a string")
        now = _now_iso()
        with self.emulator.lock:
            for existing in self._subscriptions.values():
                if existing.event_type == event_type and existing.property_name == property_name:
                    what = event_type + (f" on {property_name}" if property_name else "")
                    raise hs_error(
                        409, f"A subscription for {what} already exists: {existing.id}", "CONFLICT"
                    )
            sub = Subscription(
                self._next_subscription_id, event_type, property_name, object_type_id, active, now, now
            )
            self._subscriptions[sub.id] = sub
            self._next_subscription_id += 1
            return json_response(sub.to_json(), status=201)

    def _batch_update_subscriptions(self, request: Request, appId: int) -> Response:
        self._check_app(appId)
        started = _now_iso()
        body = _json_object(request)
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise validation_error('inputs must be an array of {"id": <integer>, "active": <boolean>}')
        for item in inputs:
            if (
                not isinstance(item, dict)
                or isinstance(item.get("id"), bool)
                or not isinstance(item.get("id"), int)
                or not isinstance(item.get("active"), bool)
            ):
                raise validation_error("each input needs an integer id and a boolean active")
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        with self.emulator.lock:
            now = _now_iso()
            for item in inputs:
                sub = self._subscriptions.get(item["id"])
                if sub is None:
                    missing.append(str(item["id"]))
                    continue
                sub.active = item["active"]
                sub.updated_at = now
                results.append(sub.to_json())
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now_iso(),
        }
        if not missing:
            return json_response(answer)
        answer["numErrors"] = 1
        answer["errors"] = [
            batch_error(
                "SUBSCRIPTION_ID_NOT_FOUND",
                f"Failed to find subscriptions by id `{', '.join(missing)}`. "
                "Try again using a different subscriptionId.",
                {"subscriptionIds": missing},
            )
        ]
        return json_response(answer, status=207)

    def _subscription(self, app_id: int, subscription_id: int) -> Subscription:
        self._check_app(app_id)
        sub = self._subscriptions.get(subscription_id)
        if sub is None:
            raise not_found(f"Subscription {subscription_id} not found")
        return sub

    def _get_subscription(self, _request: Request, appId: int, subscriptionId: int) -> Response:
        with self.emulator.lock:
            return json_response(self._subscription(appId, subscriptionId).to_json())

    def _patch_subscription(self, request: Request, appId: int, subscriptionId: int) -> Response:
        self._check_app(appId)
        body = _json_object(request)
        active = body.get("active")
        if active is not None and not isinstance(active, bool):
            raise validation_error("active must be a boolean")
        with self.emulator.lock:
            sub = self._subscription(appId, subscriptionId)
            if active is not None:
                sub.active = active
                sub.updated_at = _now_iso()
            return json_response(sub.to_json())

    def _delete_subscription(self, _request: Request, appId: int, subscriptionId: int) -> Response:
        with self.emulator.lock:
            self._subscription(appId, subscriptionId)
            del self._subscriptions[subscriptionId]
        return json_response(None, status=204)

    # -- control endpoints -----------------------------------------------------------------------
    def _control_deliveries(self, _request: Request) -> Response:
        with self.emulator.lock:
            attempts = [a.to_json() for a in self._attempts]
        return json_response(
            {
                "pending": self.pending(),
                "held": self._deliverer.held,
                "delivered": self._deliverer.delivered,
                "failedAttempts": self._deliverer.failed_attempts,
                "abandoned": self._abandoned,
                "attempts": attempts,
            }
        )

    def _control_hold(self, hold: bool) -> Response:
        if hold:
            self._deliverer.hold()
        else:
            self._deliverer.release()
        return json_response({"held": self._deliverer.held, "pending": self.pending()})

    def _control_get_tuning(self, _request: Request) -> Response:
        return json_response(self.tuning.to_json())

    def _control_set_tuning(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            tuning = DeliveryTuning.from_json(body, self.tuning)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)
        with self.emulator.lock:
            self._apply_tuning(tuning)
        return json_response(tuning.to_json())

    def _apply_tuning(self, tuning: DeliveryTuning) -> None:
        self.tuning = tuning
        self._deliverer.retry_delays = tuning.retry_delays
        self._deliverer.max_batch = tuning.max_batch
        self._deliverer.linger = tuning.linger


def _json_object(request: Request) -> dict[str, Any]:
    body = read_json(request, error=validation_error)
    if not isinstance(body, dict):
        raise validation_error("The request body must be a JSON object")
    return body
