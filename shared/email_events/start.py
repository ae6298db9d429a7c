"""Where the first read of email events starts (``email_events.start``): ``now``, an ISO date or
date-time (UTC unless it says otherwise), or a lookback such as ``P30D`` or ``PT12H``. Never the
beginning of time."""

from __future__ import annotations

import datetime as dt
import re

NOW = "now"
_LOOKBACK = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$")
MAX_LOOKBACK = dt.timedelta(days=366)


def _lookback(spec: str) -> dt.timedelta | None:
    found = _LOOKBACK.match(spec)
    if found is None or not any(found.groupdict().values()) or spec.endswith("T"):
        return None
    parts = {name: int(value or 0) for name, value in found.groupdict().items()}
    return dt.timedelta(**parts)


def _moment(spec: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(spec)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def check_start(spec: str) -> str:
    """``spec`` if it is a valid start; ValueError naming the accepted forms otherwise."""
    lookback = _lookback(spec)
    if spec == NOW or _moment(spec) is not None:
        return spec
    if lookback is not None:
        if lookback > MAX_LOOKBACK:
            raise ValueError("a lookback is at most 366 days (HubSpot keeps events that long at most)")
        return spec
    raise ValueError("start is 'now', an ISO date (2026-11-01) or a lookback such as P30D or PT12H")


def start_at(spec: str, now: dt.datetime) -> dt.datetime:
    """The moment ``spec`` names, seen at ``now``."""
    check_start(spec)
    if spec == NOW:
        return now
    lookback = _lookback(spec)
    if lookback is not None:
        return now - lookback
    moment = _moment(spec)
    assert moment is not None
    return moment
