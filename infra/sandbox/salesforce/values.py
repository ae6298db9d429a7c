"""Field values in their Salesforce JSON form: parsing what clients send, formatting what we answer.

Records hold dates as ``"2026-11-28"``, datetimes as ``"2026-11-28T20:18:04.000+0000"``, numbers,
booleans and ``None``. Change events write datetimes as ``"2026-11-28T20:18:04.000Z"``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from infra.sandbox.salesforce.errors import RequestError
from infra.sandbox.salesforce.schema import NUMBER_TYPES, STRING_TYPES, FieldDef

UTC = dt.UTC
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def format_datetime(value: dt.datetime) -> str:
    """``2026-11-28T20:18:04.000+0000``: UTC, millisecond precision, as the REST API writes it."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def stamp(value: dt.datetime) -> str:
    """A record timestamp: Salesforce keeps whole seconds in CreatedDate/LastModifiedDate."""
    return format_datetime(value.replace(microsecond=0))


def parse_datetime(text: str) -> dt.datetime | None:
    """Parse the datetime forms Salesforce accepts; None when it is not one."""
    match = _DATETIME_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        value = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
            int((frac or "0").ljust(6, "0")[:6]), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        value -= sign * offset
    return value


def parse_date(text: str) -> dt.date | None:
    match = _DATE_RE.match(text.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def cdc_datetime(value: str) -> str:
    """A record datetime as change events carry it (``...000Z``)."""
    parsed = parse_datetime(value)
    if parsed is None:
        return value
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def _parser_error(f: FieldDef, value: Any) -> RequestError:
    kind = {"boolean": "boolean", "date": "date", "datetime": "datetime", "int": "int"}.get(f.type, "double")
    token = "VALUE_STRING" if isinstance(value, str) else f"VALUE_{type(value).__name__.upper()}"
    return RequestError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {token} value {value} "
        "or request may be missing a required field",
    )


def coerce(f: FieldDef, value: Any) -> Any:
    """The stored form of a value a client sent for field ``f``; RequestError when it cannot be."""
    if value is None:
        return False if f.type == "boolean" else None
    if f.type in STRING_TYPES or f.type in ("id", "reference"):
        return _text(value)
    if f.type == "boolean":
        return _boolean(f, value)
    if f.type in NUMBER_TYPES:
        return _number(f, value)
    if f.type == "date":
        return _date(f, value)
    if f.type == "datetime":
        return _datetime(f, value)
    raise RequestError("INVALID_FIELD", f"Field {f.name} is not writable")


def _text(value: Any) -> str | None:
    if isinstance(value, bool | dict | list):
        raise RequestError(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of string from {type(value).__name__} value",
        )
    text = str(value)
    return text if text != "" else None


def _boolean(f: FieldDef, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _parser_error(f, value)


def _date(f: FieldDef, value: Any) -> str:
    if isinstance(value, str):
        parsed_date = parse_date(value[:10]) if len(value) >= 10 else None
        if parsed_date is not None:
            return parsed_date.isoformat()
    raise _parser_error(f, value)


def _datetime(f: FieldDef, value: Any) -> str:
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return format_datetime(parsed)
        parsed_day = parse_date(value)
        if parsed_day is not None:
            return format_datetime(dt.datetime.combine(parsed_day, dt.time(), UTC))
    raise _parser_error(f, value)


def _number(f: FieldDef, value: Any) -> int | float | None:
    if isinstance(value, bool):
        raise _parser_error(f, value)
    if isinstance(value, str):
        if value.strip() == "":
            return None
        try:
            value = float(value)
        except ValueError as exc:
            raise _parser_error(f, value) from exc
    if not isinstance(value, int | float):
        raise _parser_error(f, value)
    if f.type == "int":
        if isinstance(value, float) and not value.is_integer():
            raise _parser_error(f, value)
        return int(value)
    return float(value)
