"""The one back-off policy both CRM adapters use, and the call accounting benchmarks read.

Neither client retries on its own: hubspot-api-client's urllib3 retries are switched off and
simple-salesforce has none. Each adapter turns a failed attempt into :class:`Retryable` (with a
:class:`Transient` saying why) or into a final error; :class:`Retrier` decides whether and how long
to wait:

- ``429`` waits exactly what ``Retry-After`` asks;
- 5xx, timeouts, dropped connections and ``UNABLE_TO_LOCK_ROW`` back off exponentially with jitter
  (``base_delay * 2**n``, capped at ``max_delay``, drawn from the upper half of that window);
- at most ``max_attempts`` attempts and ``max_total_wait`` seconds of waiting per operation; then
  :class:`~shared.errors.TransientApiError` (with the last ``Retry-After``) so the message goes back
  to its queue instead of holding the Lambda.

A :class:`Transient` is *ambiguous* when the request may have been applied although no answer came
back (a read timeout, a dropped connection, a 5xx). Reads and updates are idempotent and simply
retried; creates are not, and each adapter resolves the ambiguity before creating again (see the
adapters' ``create`` methods).
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from shared.errors import ApiFailure, SuspendedError, TransientApiError
from shared.ports import WriteOutcome

T = TypeVar("T")

ENV_PREFIX = "HSSYNC_RETRY_"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_total_wait) < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number ``retry`` (1-based) when the server named none."""
        ceiling = min(self.max_delay, self.base_delay * (2.0 ** (retry - 1)))
        return ceiling / 2 + rng.uniform(0.0, ceiling / 2)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryPolicy:
        """``HSSYNC_RETRY_MAX_ATTEMPTS``, ``..._BASE_DELAY``, ``..._MAX_DELAY``, ``..._MAX_TOTAL_WAIT``."""
        source = os.environ if env is None else env
        default = cls()
        return cls(
            max_attempts=int(source.get(f"{ENV_PREFIX}MAX_ATTEMPTS", default.max_attempts)),
            base_delay=float(source.get(f"{ENV_PREFIX}BASE_DELAY", default.base_delay)),
            max_delay=float(source.get(f"{ENV_PREFIX}MAX_DELAY", default.max_delay)),
            max_total_wait=float(source.get(f"{ENV_PREFIX}MAX_TOTAL_WAIT", default.max_total_wait)),
        )


@dataclass(frozen=True)
class Transient:
    """Why an attempt failed in a way that may succeed later."""

    reason: str  # e.g. "429", "503 SERVER_UNAVAILABLE", "timeout", "UNABLE_TO_LOCK_ROW"
    retry_after: float | None = None  # what the server asked for, in seconds
    ambiguous: bool = False  # the request may have been applied although no answer came back


class Retryable(Exception):
    """Raised by an adapter's attempt when the failure is transient."""

    def __init__(self, transient: Transient) -> None:
        super().__init__(transient.reason)
        self.transient = transient


class RequestRejected(Exception):
    """The API refused the whole request for good (a malformed query, a missing permission...).

    ``failure`` classifies it like a per-record failure; ``body`` is the decoded error body.
    """

    def __init__(self, failure: ApiFailure, body: object = None) -> None:
        super().__init__(f"{failure.system} {failure.code}: {failure.message}")
        self.failure = failure
        self.body = body


class WriteSuspended(SuspendedError):
    """A suspension met in the middle of a write; ``outcomes`` are the records already settled
    (written or failed for good), so that the caller can record them before stopping."""

    def __init__(self, cause: SuspendedError, outcomes: list[WriteOutcome]) -> None:
        super().__init__(cause.system, cause.code, cause.reason)
        self.outcomes = outcomes


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Budget:
    """The attempts and waiting time left to one operation (shared by all its requests)."""

    def __init__(self, policy: RetryPolicy, sleep: Callable[[float], None], rng: random.Random) -> None:
        self.policy = policy
        self._sleep = sleep
        self._rng = rng
        self.attempts = 1
        self.waited = 0.0

    def next_delay(self, transient: Transient) -> float | None:
        """How long to wait before another attempt, or None when the budget is spent."""
        if self.attempts >= self.policy.max_attempts:
            return None
        if transient.retry_after is not None:
            delay = transient.retry_after
        else:
            delay = self.policy.backoff(self.attempts, self._rng)
        if self.waited + delay > self.policy.max_total_wait:
            return None
        return delay

    def wait(self, transient: Transient) -> bool:
        """Sleep before the next attempt; False (without sleeping) when attempts or time are spent."""
        delay = self.next_delay(transient)
        if delay is None:
            return False
        self.attempts += 1
        self.waited += delay
        if delay > 0:
            self._sleep(delay)
        return True

    def give_up(self, what: str, transient: Transient) -> TransientApiError:
        return TransientApiError(
            f"{what}: {transient.reason} (gave up after {self.attempts} attempts, "
            f"{self.waited:.1f}s of waiting)",
            retry_after=transient.retry_after,
        )


class Retrier:
    """Runs attempts under a :class:`RetryPolicy`. ``sleep`` and ``rng`` are injectable for tests."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self._rng = rng or random.Random()

    def budget(self) -> Budget:
        return Budget(self.policy, self.sleep, self._rng)

    def run(
        self,
        attempt: Callable[[], T],
        *,
        what: str,
        budget: Budget | None = None,
        on_retryable: Callable[[Transient], None] | None = None,
    ) -> T:
        """``attempt()`` until it returns or raises something other than :class:`Retryable`;
        ``on_retryable`` sees each transient failure (e.g. to note that a create is ambiguous)."""
        budget = budget or self.budget()
        while True:
            try:
                return attempt()
            except Retryable as exc:
                if on_retryable is not None:
                    on_retryable(exc.transient)
                if not budget.wait(exc.transient):
                    raise budget.give_up(what, exc.transient) from exc


@dataclass
class CallCounter:
    """API calls made (every attempt, retries included), per operation; ``on_call`` sees each one.

    The Salesforce token request is counted as ``"token"`` (it does not count against the org's
    API limit); :attr:`api_calls` leaves it out.
    """

    system: str
    on_call: Callable[[str, str], None] | None = None
    by_operation: Counter[str] = field(default_factory=Counter)

    def record(self, operation: str) -> None:
        self.by_operation[operation] += 1
        if self.on_call is not None:
            self.on_call(self.system, operation)

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    @property
    def api_calls(self) -> int:
        return self.total - self.by_operation.get("token", 0)

    def reset(self) -> None:
        self.by_operation.clear()
