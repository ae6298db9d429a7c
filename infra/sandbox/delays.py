"""Targeted one-shot delays of API requests, for deterministic race tests.

A rule (``POST /_sandbox/delays``) names a method and a regular expression searched in the
request path (anchor it with ``^``/``$`` to match the whole path); the next ``count`` API requests
that match are held ``before_seconds`` before they are handled and, once handled (their changes
committed, change events and webhooks published), their answer is held ``after_seconds`` more.
A client therefore sees a slow call whose effect is visible to everyone else before its answer.

Holding happens in the serving thread, outside the emulator's lock: other requests go on.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

HTTP_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


@dataclass
class DelayRule:
    id: int
    method: str
    path: re.Pattern[str]
    before_seconds: float
    after_seconds: float
    count: int

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and method == self.method and self.path.search(path) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path.pattern,
            "before_seconds": self.before_seconds,
            "after_seconds": self.after_seconds,
            "count": self.count,
        }


@dataclass(frozen=True)
class Delay:
    """The hold one request got from a rule."""

    rule_id: int
    before_seconds: float
    after_seconds: float


def _seconds(body: dict[str, Any], name: str) -> float:
    value = float(body.get(name, 0.0))
    if not 0.0 <= value <= 600.0:
        raise ValueError(f"{name} must be between 0 and 600 seconds")
    return value


def parse_rule(rule_id: int, body: Any) -> DelayRule:
    """A rule from a ``POST /_sandbox/delays`` body; ValueError when it is malformed."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    method = str(body.get("method", "")).upper()
    if method not in HTTP_METHODS:
        raise ValueError(f"method must be one of {list(HTTP_METHODS)}")
    pattern = body.get("path")
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("path must be a regular expression (searched in the request path)")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"path is not a valid regular expression: {exc}") from exc
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    return DelayRule(
        rule_id, method, compiled, _seconds(body, "before_seconds"), _seconds(body, "after_seconds"), count
    )


class Delays:
    """The registered rules and the requests they hold. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[DelayRule] = []
        self._ids = itertools.count(1)
        self.waiting = 0  # held before being handled
        self.committed = 0  # handled, answer held
        self.done = 0  # finished (answered, or dropped)

    def add(self, body: Any) -> DelayRule:
        with self._lock:
            rule = parse_rule(next(self._ids), body)
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self.done = 0

    def claim(self, method: str, path: str) -> Delay | None:
        """The hold for this request (one use of the first matching rule), if any."""
        with self._lock:
            rule = next((r for r in self._rules if r.matches(method, path)), None)
            if rule is None:
                return None
            rule.count -= 1
            if rule.count == 0:
                self._rules.remove(rule)
            return Delay(rule.id, rule.before_seconds, rule.after_seconds)

    def hold_before(self, delay: Delay | None) -> None:
        if delay is not None:
            self._hold(delay.before_seconds, "waiting")

    def hold_after(self, delay: Delay | None) -> None:
        if delay is not None:
            self._hold(delay.after_seconds, "committed")

    def finish(self, delay: Delay | None) -> None:
        if delay is not None:
            with self._lock:
                self.done += 1

    def _hold(self, seconds: float, counter: str) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                setattr(self, counter, getattr(self, counter) - 1)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [r.to_json() for r in self._rules],
                "waiting": self.waiting,
                "committed": self.committed,
                "done": self.done,
            }
