"""The shared retry policy: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from shared.adapters.retry import (
    CallCounter,
    RequestRejected,
    Retrier,
    Retryable,
    RetryPolicy,
    Transient,
    parse_retry_after,
)
from shared.errors import ApiFailure, ErrorCategory, TransientApiError


class Flaky:
    """Fails with the given transients, then answers."""

    def __init__(self, *failures: Transient, answer: str = "ok") -> None:
        self.failures = list(failures)
        self.answer = answer
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise Retryable(self.failures.pop(0))
        return self.answer


def retrier(policy: RetryPolicy, slept: list[float]) -> Retrier:
    return Retrier(policy, sleep=slept.append, rng=random.Random(3))


def test_retry_after_is_honoured_exactly():
    slept: list[float] = []
    attempt = Flaky(Transient("429", retry_after=7.0))
    assert retrier(RetryPolicy(), slept).run(attempt, what="x") == "ok"
    assert slept == [7.0]
    assert attempt.calls == 2


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    rng = random.Random(1)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        for _ in range(50):
            delay = policy.backoff(retry, rng)
            assert ceiling / 2 <= delay <= ceiling


def test_gives_up_after_max_attempts_with_transient_api_error():
    slept: list[float] = []
    attempt = Flaky(*[Transient("503 SERVER_UNAVAILABLE")] * 10)
    with pytest.raises(TransientApiError, match="503 SERVER_UNAVAILABLE") as info:
        retrier(RetryPolicy(max_attempts=3, base_delay=0.1), slept).run(attempt, what="salesforce query")
    assert attempt.calls == 3
    assert len(slept) == 2
    assert "salesforce query" in str(info.value)


def test_gives_up_when_the_total_wait_would_exceed_the_budget():
    slept: list[float] = []
    attempt = Flaky(Transient("429", retry_after=4.0), Transient("429", retry_after=4.0))
    with pytest.raises(TransientApiError) as info:
        retrier(RetryPolicy(max_attempts=10, max_total_wait=5.0), slept).run(attempt, what="x")
    assert slept == [4.0]  # the second wait would pass 5 s: no sleeping it, give up instead
    assert info.value.retry_after == 4.0  # the queue can delay the message accordingly


def test_a_retry_after_longer_than_the_budget_is_not_slept():
    slept: list[float] = []
    with pytest.raises(TransientApiError):
        retrier(RetryPolicy(max_total_wait=10.0), slept).run(
            Flaky(Transient("429", retry_after=3600.0)), what="x"
        )
    assert slept == []


def test_other_exceptions_are_not_retried():
    calls = []
    failure = ApiFailure("salesforce", "MALFORMED_QUERY", "bad", ErrorCategory.OTHER)

    def attempt() -> str:
        calls.append(1)
        raise RequestRejected(failure)

    with pytest.raises(RequestRejected):
        retrier(RetryPolicy(), []).run(attempt, what="x")
    assert calls == [1]


def test_on_retryable_sees_each_transient_and_a_shared_budget_is_spent_once():
    slept: list[float] = []
    seen: list[Transient] = []
    r = retrier(RetryPolicy(max_attempts=3, base_delay=0.01), slept)
    budget = r.budget()
    timeout = Transient("timeout", ambiguous=True)
    assert r.run(Flaky(timeout), what="x", budget=budget, on_retryable=seen.append) == "ok"
    assert seen == [timeout]
    with pytest.raises(TransientApiError):  # one attempt left of three: the next failure ends it
        r.run(Flaky(timeout, timeout), what="x", budget=budget)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("1.5", 1.5), (" 2 ", 2.0), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_parse_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0


def test_policy_from_env_and_validation():
    policy = RetryPolicy.from_env({"HSSYNC_RETRY_MAX_ATTEMPTS": "2", "HSSYNC_RETRY_MAX_TOTAL_WAIT": "3.5"})
    assert policy.max_attempts == 2
    assert policy.max_total_wait == 3.5
    assert policy.base_delay == RetryPolicy().base_delay
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_call_counter_counts_attempts_and_reports_each_call():
    seen: list[tuple[str, str]] = []
    counter = CallCounter("salesforce", on_call=lambda system, op: seen.append((system, op)))
    for operation in ("token", "create", "create", "retrieve"):
        counter.record(operation)
    assert counter.total == 4
    assert counter.api_calls == 3
    assert counter.by_operation["create"] == 2
    assert seen[0] == ("salesforce", "token")
    counter.reset()
    assert counter.total == 0
