"""The adaptive batching rule (``shared.pacing``): a lone change goes at once, a trickle is rationed by
the budget, a full batch never waits, and no change waits longer than the longest wait."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.pacing import Bucket, Budget, Demand, Why, available, decide

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
# a sandbox org's 100,000 calls a day, the default allocation (50 %) and budget share (50 %)
DEFAULT = Budget.of_allocation(100_000, 50, 0.5, max_wait_seconds=60)


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def test_the_default_budget_is_a_quarter_of_the_limit() -> None:
    assert DEFAULT.calls_per_day == 25_000
    assert DEFAULT.refill_per_second == pytest.approx(25_000 / 86_400)


def test_a_lone_change_into_an_idle_stack_goes_at_once() -> None:
    pacing = decide([Demand(DEFAULT, None, calls=3)], now=NOW, full=False, waited_seconds=0)
    assert pacing.go
    assert pacing.why is Why.BUDGET
    assert pacing.wait_seconds == 0
    (bucket,) = pacing.buckets
    assert bucket == Bucket(calls=DEFAULT.burst(3) - 3, at=NOW)


def test_an_empty_bucket_makes_a_window_wait_until_it_holds_the_calls() -> None:
    empty = Bucket(calls=0.0, at=NOW)
    pacing = decide([Demand(DEFAULT, empty, calls=2)], now=NOW, full=False, waited_seconds=0)
    assert not pacing.go
    assert pacing.why is Why.RATIONED
    assert pacing.wait_seconds == 7  # 2 calls at 0.289 calls/s: 6.9 s
    # waiting spends nothing; the windows that wait after it come back with it
    assert pacing.buckets == (Bucket(calls=0.0, at=NOW, next_window=at(7)),)
    later = decide([Demand(DEFAULT, empty, calls=2)], now=at(7), full=False, waited_seconds=7)
    assert later.go
    assert later.why is Why.BUDGET


def test_a_full_batch_goes_at_once_and_spends_nothing_of_the_bucket() -> None:
    empty = Bucket(calls=0.0, at=NOW)
    pacing = decide([Demand(DEFAULT, empty, calls=4)], now=NOW, full=True, waited_seconds=0)
    assert pacing.go
    assert pacing.why is Why.FULL
    assert pacing.buckets == (empty,)  # a bulk load leaves people's edits the budget


def test_windows_that_wait_after_the_first_come_back_with_it() -> None:
    empty = Bucket(calls=0.0, at=NOW)
    first = decide([Demand(DEFAULT, empty, calls=2)], now=NOW, full=False, waited_seconds=0)
    (waiting,) = first.buckets
    second = decide([Demand(DEFAULT, waiting, calls=2)], now=at(3), full=False, waited_seconds=0)
    assert (second.go, second.wait_seconds) == (False, 4)  # back at 7 s, as the first
    assert second.buckets == (waiting,)
    # one whose own longest wait ends first does not wait for the others
    starved = Budget(calls_per_day=25_000, max_wait_seconds=5)
    late = decide([Demand(starved, waiting, calls=2)], now=at(3), full=False, waited_seconds=3)
    assert late.wait_seconds == 2


def test_no_window_waits_longer_than_the_longest_wait() -> None:
    starved = Budget(calls_per_day=100, max_wait_seconds=60)  # about one call every 14 minutes
    empty = Bucket(calls=0.0, at=NOW)
    first = decide([Demand(starved, empty, calls=2)], now=NOW, full=False, waited_seconds=45)
    assert not first.go
    assert first.wait_seconds == 15  # what is left of the 60 s, not the 29 minutes the budget wants
    forced = decide([Demand(starved, empty, calls=2)], now=at(15), full=False, waited_seconds=60)
    assert forced.go
    assert forced.why is Why.MAX_WAIT


def test_debt_is_bounded_by_one_burst() -> None:
    budget = Budget(calls_per_day=1_000, max_wait_seconds=60)
    bucket = Bucket(calls=-budget.burst(50), at=NOW)
    pacing = decide([Demand(budget, bucket, calls=50)], now=NOW, full=False, waited_seconds=60)
    (after,) = pacing.buckets
    assert after is not None
    assert after.calls == -budget.burst(50)


def test_the_window_waits_for_the_poorest_crm_and_spends_only_where_it_calls() -> None:
    rich = Budget(calls_per_day=1_000_000)
    poor = Budget(calls_per_day=8_640)  # 0.1 call per second
    hubspot_idle = Bucket(calls=0.0, at=NOW)
    demands = [
        Demand(rich, None, calls=2),
        Demand(poor, Bucket(0.0, NOW), calls=1),
        Demand(poor, hubspot_idle, 0),
    ]
    pacing = decide(demands, now=NOW, full=False, waited_seconds=0)
    assert not pacing.go
    assert pacing.wait_seconds == 10
    gone = decide(demands, now=at(10), full=False, waited_seconds=10)
    assert gone.go
    assert gone.buckets[2] is hubspot_idle  # a CRM the window does not call keeps its bucket


def test_a_bucket_refills_up_to_one_burst() -> None:
    demand = Demand(DEFAULT, Bucket(calls=-5.0, at=NOW), calls=2)
    assert available(demand, at(10)) == pytest.approx(-5 + 10 * 25_000 / 86_400)
    assert available(demand, at(86_400)) == DEFAULT.burst(2)


def _trickle(
    rate_per_second: float, seconds: int, calls_per_window: int, warm_up: int = 0
) -> tuple[int, int, float]:
    """A stage invoked every second (the queue's 1 s batching window) with what arrived: (windows,
    changes, the longest wait of a change), counted after the first ``warm_up`` seconds."""
    bucket: Bucket | None = None
    pending: list[float] = []
    windows = changes = 0
    longest = 0.0
    arrivals = (n / rate_per_second for n in range(int((warm_up + seconds) * rate_per_second)))
    next_arrival = next(arrivals, None)
    for second in range(warm_up + seconds + 120):
        while next_arrival is not None and next_arrival <= second:
            pending.append(next_arrival)
            next_arrival = next(arrivals, None)
        if not pending:
            continue
        waited = second - pending[0]
        pacing = decide(
            [Demand(DEFAULT, bucket, calls_per_window)], now=at(second), full=False, waited_seconds=waited
        )
        if pacing.go:
            (bucket,) = pacing.buckets
            if second >= warm_up:
                windows += 1
                changes += len(pending)
                longest = max(longest, waited)
            pending = []
    return windows, changes, longest


def test_a_day_of_100000_changes_projects_to_at_most_a_quarter_of_the_limit() -> None:
    # ten minutes of the steady state (after the first minute spent the idle bucket's burst)
    windows, changes, longest = _trickle(1.16, seconds=600, calls_per_window=2, warm_up=60)
    assert changes >= 690
    # any period spends at most its share of the budget and the one window that may straddle its end
    assert windows * 2 <= 25_000 / SECONDS_PER_DAY_OVER_600 + 2
    projected_calls_per_day = (windows - 1) * 2 * SECONDS_PER_DAY_OVER_600
    assert projected_calls_per_day <= 25_000
    assert longest <= 60


def test_at_one_change_per_second_no_change_costs_more_than_one_call() -> None:
    windows, changes, _longest = _trickle(1.0, seconds=600, calls_per_window=2)
    assert windows * 2 <= changes


def test_a_slow_trickle_within_the_budget_is_never_held() -> None:
    # one change a minute: a window's 2 calls refill in 7 s, so every change goes at once
    windows, changes, longest = _trickle(1 / 60, seconds=3_600, calls_per_window=2)
    assert windows == changes == 60
    assert longest == 0


SECONDS_PER_DAY_OVER_600 = 86_400 / 600
