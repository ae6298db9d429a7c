"""HubSpot's API rate limits, per access token: a rolling 10-second burst limit (190 for private apps
on Professional/Enterprise portals), a daily limit, and a per-second limit on the CRM search
endpoints. Over a limit the API answers 429 with ``Retry-After`` and a ``RATE_LIMIT`` body; every
other answer carries the ``X-HubSpot-RateLimit-*`` headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from infra.sandbox.http import ApiError, correlation_id


@dataclass
class LimitSettings:
    burst_limit: int = 190
    burst_window_seconds: float = 10.0
    daily_limit: int = 1_000_000
    search_per_second: int = 5
    rate_limits_enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, body: Mapping[str, Any]) -> LimitSettings:
        """A copy with the given fields changed; ``ValueError`` on unknown or invalid ones."""
        known = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(body) - set(known))
        if unknown:
            raise ValueError(f"unknown settings {unknown}; known: {sorted(known)}")
        values = self.to_json()
        for key, raw in body.items():
            if key == "rate_limits_enabled":
                if not isinstance(raw, bool):
                    raise ValueError("rate_limits_enabled must be a boolean")
                values[key] = raw
                continue
            number = float(raw) if key == "burst_window_seconds" else int(raw)
            if number <= 0:
                raise ValueError(f"{key} must be positive")
            values[key] = number
        return LimitSettings(**values)


@dataclass(frozen=True)
class Policy:
    name: str  # policyName in the 429 body
    label: str  # as it appears in the message
    group: str


class _Usage:
    def __init__(self) -> None:
        self.burst: deque[float] = deque()
        self.search: deque[float] = deque()
        self.day: date | None = None
        self.daily = 0


class RateLimiter:
    """Thread-safe; ``clock`` (monotonic seconds) and ``today`` are injectable for tests."""

    def __init__(
        self,
        settings: LimitSettings | None = None,
        *,
        portal_id: int = 0,
        app_id: int = 0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings or LimitSettings()
        self.portal_id = portal_id
        self.app_id = app_id
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._usage: dict[str, _Usage] = {}

    def configure(self, body: Mapping[str, Any]) -> LimitSettings:
        with self._lock:
            self.settings = self.settings.updated(body)
            return self.settings

    def reset(self) -> None:
        with self._lock:
            self.settings = LimitSettings()
            self._usage.clear()

    def acquire(self, key: str, *, search: bool = False) -> dict[str, str]:
        """Count one call by ``key`` (the token); the usage headers, or :class:`ApiError` 429."""
        with self._lock:
            s = self.settings
            usage = self._usage.setdefault(key, _Usage())
            now = self._clock()
            today = self._now().date()
            if usage.day != today:
                usage.day, usage.daily = today, 0
            _trim(usage.burst, now - s.burst_window_seconds)
            _trim(usage.search, now - 1.0)
            if s.rate_limits_enabled:
                if usage.daily >= s.daily_limit:
                    raise self._limited(self._daily_policy(), self._seconds_to_midnight(), usage, now)
                if search and len(usage.search) >= s.search_per_second:
                    retry = max(1, math.ceil(usage.search[0] + 1.0 - now))
                    raise self._limited(self._secondly_policy(), retry, usage, now)
                if len(usage.burst) >= s.burst_limit:
                    retry = max(1, math.ceil(usage.burst[0] + s.burst_window_seconds - now))
                    raise self._limited(self._burst_policy(), retry, usage, now)
            usage.daily += 1
            usage.burst.append(now)
            if search:
                usage.search.append(now)
            return self._headers(usage, now)

    def rate_limited(self, key: str, policy_name: str = "TEN_SECONDLY_ROLLING") -> ApiError:
        """The 429 the API answers for ``policy_name`` (used for injected faults)."""
        with self._lock:
            usage = self._usage.setdefault(key, _Usage())
            policy = {
                "DAILY": self._daily_policy(),
                "SECONDLY": self._secondly_policy(),
            }.get(policy_name, self._burst_policy())
            return self._limited(policy, 1, usage, self._clock())

    # -- helpers ---------------------------------------------------------------------------------
    def _burst_policy(self) -> Policy:
        group = f"publicapi:private-app-api-calls-ten-secondly:{self.app_id}:{self.portal_id}"
        return Policy("TEN_SECONDLY_ROLLING", "ten_secondly_rolling", group)

    def _secondly_policy(self) -> Policy:
        group = f"publicapi:crm-search-secondly:{self.app_id}:{self.portal_id}"
        return Policy("SECONDLY", "secondly", group)

    def _daily_policy(self) -> Policy:
        return Policy("DAILY", "daily", f"publicapi:private-app-api-calls-daily:{self.portal_id}")

    def _seconds_to_midnight(self) -> int:
        now = self._now()
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        return max(1, math.ceil((midnight - now).total_seconds()))

    def _headers(self, usage: _Usage, now: float) -> dict[str, str]:
        s = self.settings
        window_ms = int(s.burst_window_seconds * 1000)
        secondly = max(1, int(s.burst_limit / s.burst_window_seconds))
        last_second = sum(1 for t in usage.burst if t > now - 1.0)
        return {
            "X-HubSpot-RateLimit-Daily": str(s.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, s.daily_limit - usage.daily)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(window_ms),
            "X-HubSpot-RateLimit-Max": str(s.burst_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, s.burst_limit - len(usage.burst))),
            "X-HubSpot-RateLimit-Secondly": str(secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, secondly - last_second)),
        }

    def _limited(self, policy: Policy, retry_after: int, usage: _Usage, now: float) -> ApiError:
        cid = correlation_id()
        body = {
            "status": "error",
            "message": f"You have reached your {policy.label} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": cid,
            "policyName": policy.name,
            "groupName": policy.group,
            "category": "RATE_LIMITS",
        }
        headers = self._headers(usage, now)
        headers["Retry-After"] = str(retry_after)
        headers["X-HubSpot-Correlation-Id"] = cid
        return ApiError(429, body, headers)


def _trim(window: deque[float], horizon: float) -> None:
    while window and window[0] <= horizon:
        window.popleft()
