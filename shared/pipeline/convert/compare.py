"""Comparing: the one text two values that mean the same thing share (echo suppression)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.pipeline.convert.booleans import bool_text, parse_bool
from shared.pipeline.convert.dates import iso_ms, parse_day, parse_moment
from shared.pipeline.convert.kinds import KINDS
from shared.pipeline.convert.numbers import format_decimal, parse_decimal
from shared.pipeline.convert.picklists import split
from shared.pipeline.convert.strings import is_blank, plain_text


def canonical(value: Any, kind: str) -> str | None:
    """One comparable text for a HubSpot or a Salesforce value of this kind (see :func:`value_kind`):
    ``"12"`` == ``12.0``, ``"true"`` == ``True``, ``"b;a"`` == ``"a;b"``, ``"1706659200000"`` ==
    ``"2024-01-31"`` for dates, datetimes in UTC at millisecond precision, picklists case-insensitive.
    Blanks are None. A value that does not parse as its kind compares as its own text (never raises)."""
    if kind not in KINDS:
        raise ValueError(f"unknown value kind {kind!r}; expected one of {', '.join(KINDS)}")
    if is_blank(value):
        return None
    parse = PARSED.get(kind)
    if parse is None:
        return AS_TEXT[kind](value)
    form = parse(value)
    return form if form is not None else plain_text(value).strip()


def _bool(value: Any) -> str | None:
    flag = parse_bool(value)
    return None if flag is None else bool_text(flag)


def _number(value: Any) -> str | None:
    number = parse_decimal(value)
    return None if number is None else format_decimal(number)


def _date(value: Any) -> str | None:
    day = parse_day(value)
    return None if day is None else day.isoformat()


def _datetime(value: Any) -> str | None:
    moment = parse_moment(value)
    return None if moment is None else iso_ms(moment)


def _single(value: Any) -> str | None:
    return str(value).strip().casefold()


def _multi(value: Any) -> str | None:
    return ";".join(sorted({item.casefold() for item in split(value)})) or None


# kinds whose values parse: the parsed form, None when the value does not parse
PARSED: dict[str, Callable[[Any], str | None]] = {
    "bool": _bool,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
}
# kinds compared as text
AS_TEXT: dict[str, Callable[[Any], str | None]] = {"single": _single, "multi": _multi, "text": plain_text}
