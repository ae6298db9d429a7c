"""The API allocation rule (``shared.guardrails.allocation``): who may call a CRM now, and how long
waiting work waits."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.crm_state import CrmState, CrmStatus
from shared.guardrails.allocation import (
    LONGEST_WAIT_SECONDS,
    Allocation,
    Lane,
    Verdict,
    lane_of,
    may_call,
    wait_seconds,
)
from shared.models import System

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _state(
    status: CrmStatus = CrmStatus.RUNNING, used: int | None = None, limit: int | None = 2000
) -> CrmState:
    return CrmState(System.SALESFORCE, "00D000000000001EAA", status, NOW, NOW, api_used=used, api_max=limit)


def test_the_allocation_is_a_share_of_the_daily_limit():
    half = Allocation(50)
    assert half.line(2000) == 1000
    assert not half.spent(999, 2000)
    assert half.spent(1000, 2000)  # N >= M x percent
    assert Allocation(100).line(15000) == 15000


def test_bulk_work_stops_before_live_changes():
    half = Allocation(50)
    assert half.line(2000, Lane.BULK) == 900  # 90 % of the allocation
    assert half.spent(900, 2000, Lane.BULK)
    assert not half.spent(900, 2000, Lane.LIVE)


@pytest.mark.parametrize("percent", [0, 101])
def test_an_allocation_is_between_1_and_100_percent(percent):
    with pytest.raises(ValueError, match="1-100"):
        Allocation(percent)


@pytest.mark.parametrize(
    ("state", "lane", "verdict"),
    [
        (None, Lane.LIVE, Verdict.CALL),  # never stored: running, usage unknown
        (_state(used=None), Lane.LIVE, Verdict.CALL),
        (_state(used=500), Lane.BULK, Verdict.CALL),
        (_state(used=950), Lane.LIVE, Verdict.CALL),
        (_state(used=950), Lane.BULK, Verdict.WAIT),  # under pressure: people first
        (_state(used=1000), Lane.LIVE, Verdict.PAUSE),
        (_state(used=1000), Lane.BULK, Verdict.PAUSE),
        (_state(CrmStatus.PAUSED, used=10), Lane.LIVE, Verdict.PAUSED),  # only the probe resumes it
        (_state(CrmStatus.SUSPENDED, used=10), Lane.LIVE, Verdict.SUSPENDED),
    ],
)
def test_may_a_stage_call_the_crm_now(state, lane, verdict):
    assert may_call(state, Allocation(50), lane) is verdict


def test_without_an_allocation_only_the_status_stops_calls():
    assert may_call(_state(used=1999), None) is Verdict.CALL
    assert may_call(_state(CrmStatus.SUSPENDED), None) is Verdict.SUSPENDED


def test_waits_grow_with_the_pause_up_to_sqs_longest_delay():
    assert wait_seconds(dt.timedelta()) == 30
    assert wait_seconds(dt.timedelta(seconds=100)) == 100  # about as long again: waits double
    assert wait_seconds(dt.timedelta(hours=5)) == LONGEST_WAIT_SECONDS == 900
    assert wait_seconds(dt.timedelta(hours=5), shortest=2, longest=5000) == 900  # never past SQS's 15 min
    assert wait_seconds(dt.timedelta(), shortest=2, longest=10) == 2


def test_the_lane_of_a_change_is_its_origin():
    assert lane_of(None) is Lane.LIVE
    assert lane_of("hssync:poll") is Lane.LIVE  # without Event Relay, how Salesforce edits arrive
    assert lane_of("hssync:decide-again") is Lane.LIVE
    assert lane_of("hssync:resync") is Lane.BULK
    assert lane_of("hssync:list-join") is Lane.BULK
