"""Time conversions used across hssync: now, epoch milliseconds, and the timestamps both APIs send.

Every datetime hssync keeps is timezone-aware; a timestamp without an offset means UTC.
"""

from __future__ import annotations

import datetime as dt
import re

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_COMPACT_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})$")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def from_epoch_ms(ms: int) -> dt.datetime:
    """The UTC datetime of epoch milliseconds (HubSpot's ``occurredAt``, CDC's ``commitTimestamp``).
    ``OverflowError`` outside the datetime range."""
    return EPOCH + dt.timedelta(milliseconds=ms)


def epoch_ms(moment: dt.datetime) -> int:
    """Whole epoch milliseconds of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(moment.timestamp() * 1000)


def parse_timestamp(text: str) -> dt.datetime:
    """``2026-11-28T20:18:04.000+0000`` (Salesforce's REST form) or ISO 8601 (``Z`` included) -> an
    aware datetime, in the offset it was given; without an offset, UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = _COMPACT_OFFSET.search(value)
    if match and value[match.start() - 1 : match.start()] != ":":
        value = f"{value[: match.start()]}{match[1]}{match[2]}:{match[3]}"
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def as_utc(value: dt.datetime | str) -> dt.datetime:
    """A UTC datetime from a datetime or a timestamp (see :func:`parse_timestamp`); naive means UTC."""
    parsed = value if isinstance(value, dt.datetime) else parse_timestamp(str(value))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
