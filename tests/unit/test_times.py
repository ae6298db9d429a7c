"""Time helpers (shared/times.py): now, epoch milliseconds, the timestamps both APIs send."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.times import EPOCH, as_utc, epoch_ms, from_epoch_ms, parse_timestamp, utc_now

MOMENT = dt.datetime(2026, 11, 28, 20, 18, 4, 123000, tzinfo=dt.UTC)


def test_epoch_is_utc_midnight_1970():
    assert dt.datetime(1970, 1, 1, tzinfo=dt.UTC) == EPOCH
    assert EPOCH.timestamp() == 0


def test_utc_now_is_aware_and_utc():
    now = utc_now()
    assert now.tzinfo is not None
    assert now.utcoffset() == dt.timedelta(0)


def test_epoch_milliseconds_round_trip():
    ms = epoch_ms(MOMENT)
    assert ms == 1_795_897_084_123
    assert from_epoch_ms(ms) == MOMENT
    assert from_epoch_ms(0) == EPOCH
    assert from_epoch_ms(-1) == EPOCH - dt.timedelta(milliseconds=1)


def test_epoch_ms_of_another_offset_is_the_same_instant():
    paris = MOMENT.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert epoch_ms(paris) == epoch_ms(MOMENT)


def test_epoch_ms_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        epoch_ms(dt.datetime(2026, 1, 1))


def test_from_epoch_ms_overflows_outside_the_datetime_range():
    with pytest.raises(OverflowError):
        from_epoch_ms(10**20)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T20:18:04.123+0000",  # Salesforce's REST form
        "2026-11-28T20:18:04.123Z",
        "2026-11-28T20:18:04.123+00:00",
        " 2026-11-28T20:18:04.123Z ",
        "2026-11-28T21:18:04.123+0100",
        "2026-11-28T20:18:04.123",  # no offset: UTC
    ],
)
def test_parse_timestamp_forms(text):
    assert parse_timestamp(text) == MOMENT
    assert parse_timestamp(text).tzinfo is not None


def test_parse_timestamp_keeps_the_offset_and_as_utc_converts():
    parsed = parse_timestamp("2026-11-28T21:18:04.123+0100")
    assert parsed.utcoffset() == dt.timedelta(hours=1)
    assert as_utc(parsed).utcoffset() == dt.timedelta(0)
    assert as_utc("2026-11-28T21:18:04.123+01:00") == MOMENT


def test_as_utc_takes_datetimes_naive_meaning_utc():
    assert as_utc(MOMENT) is MOMENT or as_utc(MOMENT) == MOMENT
    assert as_utc(MOMENT.replace(tzinfo=None)) == MOMENT


def test_parse_timestamp_refuses_what_is_not_a_timestamp():
    with pytest.raises(ValueError):  # noqa: PT011 - fromisoformat's own message
        parse_timestamp("yesterday")
