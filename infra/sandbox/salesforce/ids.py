"""Salesforce record ids: 15-character case-sensitive ids and their 18-character case-safe form.

An id is ``<3-char key prefix><12 chars>``; the 18-character form appends a 3-character checksum that
encodes which of the first 15 characters are upper-case letters, five characters per checksum char.
"""

from __future__ import annotations

import re
import string
import threading

_CHECKSUM_ALPHABET = string.ascii_uppercase + "012345"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")

# The pod/instance part of generated ids, as in ``00Q5g00000AbCdE``.
_INSTANCE = "5g"


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id."""
    out = []
    for chunk in range(3):
        bits = 0
        for pos in range(5):
            char = id15[chunk * 5 + pos]
            if "A" <= char <= "Z":
                bits |= 1 << pos
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def to_18(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character id (which must look like an id)."""
    if len(record_id) == 18:
        return record_id[:15] + checksum(record_id[:15])
    return record_id + checksum(record_id)


def looks_like_id(value: str) -> bool:
    """True for a well-formed 15-character id or an 18-character id with a valid checksum."""
    if not _ID_RE.match(value):
        return False
    return len(value) == 15 or checksum(value[:15]) == value[15:]


def normalize(value: object) -> str | None:
    """The 18-character id for a well-formed id string, else None."""
    if isinstance(value, str) and looks_like_id(value):
        return to_18(value)
    return None


def make_id(prefix: str, number: int) -> str:
    """The 18-character id number ``number`` of the object with key prefix ``prefix``."""
    digits = []
    for _ in range(5):
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    id15 = f"{prefix}{_INSTANCE}00000{''.join(reversed(digits))}"
    return id15 + checksum(id15)


class IdGenerator:
    """Thread-safe, per-prefix sequences of realistic ids; deterministic after :meth:`reset`."""

    def __init__(self, start: int = 1_000_000) -> None:
        self._start = start
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}

    def new(self, prefix: str) -> str:
        with self._lock:
            number = self._next.get(prefix, self._start)
            self._next[prefix] = number + 1
        return make_id(prefix, number)

    def reset(self) -> None:
        with self._lock:
            self._next.clear()
