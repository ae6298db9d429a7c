"""Dates and datetimes: ISO 8601 or epoch milliseconds in, UTC out.

HubSpot sends a date as ``2024-01-31`` or epoch milliseconds at midnight UTC, a datetime as ISO 8601
or epoch milliseconds; Salesforce wants ``YYYY-MM-DD`` dates and ISO 8601 datetimes.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from shared.times import EPOCH

_EPOCH_MS = re.compile(r"-?\d{1,16}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_moment(value: Any) -> dt.datetime | None:
    """An instant in UTC from epoch milliseconds or ISO 8601 (naive: UTC; date only: midnight UTC)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(0))
    elif isinstance(value, int) and not isinstance(value, bool):
        return from_epoch_ms(value)
    elif isinstance(value, str):
        text = value.strip()
        if _EPOCH_MS.fullmatch(text):
            return from_epoch_ms(int(text))
        if not _ISO_DAY.match(text):
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def from_epoch_ms(ms: int) -> dt.datetime | None:
    """The instant ``ms`` milliseconds from the epoch; None beyond the years datetime holds."""
    try:
        return EPOCH + dt.timedelta(milliseconds=ms)
    except OverflowError:
        return None


def parse_day(value: Any) -> dt.date | None:
    """A calendar date: ``YYYY-MM-DD`` as it is; epoch ms and datetimes as their UTC date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    moment = parse_moment(value)
    return moment.date() if moment else None


def iso_ms(moment: dt.datetime) -> str:
    """``2024-01-31T10:00:00.000Z``: UTC, milliseconds, as both APIs accept."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def midnight(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in UTC (a date written to a datetime field)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
