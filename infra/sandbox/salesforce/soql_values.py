"""How SOQL compares values: field kinds, normal forms of stored values, LIKE patterns, date literals.

Stored values arrive in Salesforce's JSON form (strings for ids, text, dates and datetimes).
Each field kind has a *normal form* in which SOQL's comparisons become plain Python ones:

- text: lower-cased (Salesforce compares text case-insensitively); an empty string is null;
- id/reference: the 15-character case-sensitive form, so 15- and 18-character ids compare equal;
- datetime: ``YYYY-MM-DDTHH:MM:SS.mmm`` in UTC, so instants compare as strings whatever the offset;
- date: ``YYYY-MM-DD``; number: int/float; boolean: bool;
- multipicklist: the frozenset of its lower-cased values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

TEXT = "text"
ID = "id"
BOOLEAN = "boolean"
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
MULTIPICKLIST = "multipicklist"

_KIND_BY_TYPE = {
    "string": TEXT,
    "email": TEXT,
    "phone": TEXT,
    "url": TEXT,
    "textarea": TEXT,
    "picklist": TEXT,
    "combobox": TEXT,
    "encryptedstring": TEXT,
    "id": ID,
    "reference": ID,
    "boolean": BOOLEAN,
    "int": NUMBER,
    "long": NUMBER,
    "double": NUMBER,
    "currency": NUMBER,
    "percent": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
    "multipicklist": MULTIPICKLIST,
}

# Types Salesforce never lets a WHERE clause use (compound fields, binary content).
NEVER_FILTERABLE = frozenset({"address", "location", "base64"})

# The type Salesforce names in "value of filter criterion for field 'X' must be of type T".
_FILTER_TYPE_NAME = {
    TEXT: "string",
    ID: "id",
    BOOLEAN: "boolean",
    DATE: "date",
    DATETIME: "dateTime",
    MULTIPICKLIST: "string",
}


def field_kind(describe_type: str) -> str | None:
    """The comparison kind of a describe type, or None when SOQL filters cannot use it here."""
    return _KIND_BY_TYPE.get(describe_type.lower())


def filter_type_name(kind: str, describe_type: str) -> str:
    if kind == NUMBER:
        return "integer" if describe_type.lower() in ("int", "long") else "double"
    return _FILTER_TYPE_NAME[kind]


def quoted_kind(kind: str) -> bool:
    """Whether literals of this kind are written in quotes."""
    return kind in (TEXT, ID, MULTIPICKLIST)


# --- datetimes -------------------------------------------------------------------------------

_DATETIME_PARTS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$"
)


def datetime_key(value: str) -> str | None:
    """The UTC normal form ``YYYY-MM-DDTHH:MM:SS.mmm`` of a datetime string, None if it is not one."""
    if len(value) == 28 and value.endswith("+0000") and value[10] == "T":
        return value[:23]  # the form the record store writes: nothing to convert
    return _converted_datetime_key(value)


@functools.lru_cache(maxsize=65536)
def _converted_datetime_key(value: str) -> str | None:
    match = _DATETIME_PARTS.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:3].ljust(3, "0")) * 1000,
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23]


def midnight_key(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000"


# --- normal forms of stored values -------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _id(value: Any) -> str | None:
    return value[:15] if isinstance(value, str) and value else None


def _boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _date(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and value else None


def _datetime(value: Any) -> str | None:
    return datetime_key(value) if isinstance(value, str) and value else None


def _multipicklist(value: Any) -> frozenset[str] | None:
    if not isinstance(value, str) or not value:
        return None
    return multipicklist_set(value)


def multipicklist_set(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.split(";") if part.strip())


NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    TEXT: _text,
    ID: _id,
    BOOLEAN: _boolean,
    NUMBER: _number,
    DATE: _date,
    DATETIME: _datetime,
    MULTIPICKLIST: _multipicklist,
}


_ID_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def is_valid_id(value: str) -> bool:
    """A 15-character id, or an 18-character one whose suffix matches the case of its first 15."""
    if len(value) not in (15, 18) or not value.isascii() or not value.isalnum():
        return False
    return len(value) == 15 or value[15:] == id_suffix(value[:15])


def id_suffix(id15: str) -> str:
    """The 3 characters that make an id case-safe: each encodes which of 5 characters are capitals."""
    suffix = ""
    for chunk in range(0, 15, 5):
        bits = sum(1 << bit for bit, char in enumerate(id15[chunk : chunk + 5]) if "A" <= char <= "Z")
        suffix += _ID_SUFFIX_ALPHABET[bits]
    return suffix


# --- LIKE ----------------------------------------------------------------------------------


def like_regex(raw: str, escapes: dict[str, str]) -> re.Pattern[str]:
    """Compile the source text of a LIKE pattern (between its quotes): ``%`` any run, ``_`` one
    character, ``\\%`` and ``\\_`` themselves; matching is case-insensitive and whole-value."""
    parts: list[str] = []
    pos = 0
    while pos < len(raw):
        char = raw[pos]
        if char == "\\" and pos + 1 < len(raw):
            parts.append(re.escape(escapes.get(raw[pos + 1], raw[pos + 1])))
            pos += 2
            continue
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        pos += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


# --- relative date literals ---------------------------------------------------------------------

# Relative date literals this engine evaluates; the value is whether it takes ":n".
DATE_WORDS = {
    "TODAY": False,
    "YESTERDAY": False,
    "TOMORROW": False,
    "LAST_N_DAYS": True,
    "NEXT_N_DAYS": True,
    "N_DAYS_AGO": True,
}

# Other relative date literals of real SOQL: recognised so that they fail as "not supported"
# instead of as a syntax error.
UNSUPPORTED_DATE_WORDS = frozenset(
    {
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "THIS_QUARTER",
        "LAST_QUARTER",
        "NEXT_QUARTER",
        "THIS_YEAR",
        "LAST_YEAR",
        "NEXT_YEAR",
        "THIS_FISCAL_QUARTER",
        "LAST_FISCAL_QUARTER",
        "NEXT_FISCAL_QUARTER",
        "THIS_FISCAL_YEAR",
        "LAST_FISCAL_YEAR",
        "NEXT_FISCAL_YEAR",
        "NEXT_N_WEEKS",
        "LAST_N_WEEKS",
        "N_WEEKS_AGO",
        "NEXT_N_MONTHS",
        "LAST_N_MONTHS",
        "N_MONTHS_AGO",
        "NEXT_N_QUARTERS",
        "LAST_N_QUARTERS",
        "N_QUARTERS_AGO",
        "NEXT_N_YEARS",
        "LAST_N_YEARS",
        "N_YEARS_AGO",
        "NEXT_N_FISCAL_QUARTERS",
        "LAST_N_FISCAL_QUARTERS",
        "N_FISCAL_QUARTERS_AGO",
        "NEXT_N_FISCAL_YEARS",
        "LAST_N_FISCAL_YEARS",
        "N_FISCAL_YEARS_AGO",
    }
)


def date_word_days(word: str, n: int, today: date) -> tuple[date, date]:
    """The days a relative date literal covers, as a half-open range [first, after_last)."""
    tomorrow = today + timedelta(days=1)
    if word == "TODAY":
        return today, tomorrow
    if word == "YESTERDAY":
        return today - timedelta(days=1), today
    if word == "TOMORROW":
        return tomorrow, tomorrow + timedelta(days=1)
    if word == "LAST_N_DAYS":
        return today - timedelta(days=n), tomorrow
    if word == "NEXT_N_DAYS":
        return tomorrow, tomorrow + timedelta(days=n)
    if word == "N_DAYS_AGO":
        day = today - timedelta(days=n)
        return day, day + timedelta(days=1)
    raise ValueError(f"unknown date literal {word}")
