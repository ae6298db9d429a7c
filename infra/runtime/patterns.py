"""EventBridge event patterns (also Lambda's event filtering): decide whether an event matches a pattern.

Supported: nested keys, exact values (strings, numbers compared numerically, booleans, null), ``prefix``,
``suffix``, ``equals-ignore-case``, ``wildcard``, ``anything-but`` (a value, a list, or a prefix/suffix/
equals-ignore-case/wildcard form), ``numeric`` ranges, ``exists``, ``cidr`` and ``$or``. A pattern's leaf
is a list of alternatives; an array in the event matches when any element does. A field the event lacks
matches only ``{"exists": false}``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any


class PatternError(ValueError):
    """The pattern uses a form EventBridge would reject (or this subset does not know)."""


class _Missing:
    pass


MISSING: Any = _Missing()


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    if not isinstance(pattern, Mapping):
        raise PatternError(f"a pattern must be an object, got {pattern!r}")
    return _match_object(pattern, event)


def _match_object(pattern: Mapping[str, Any], value: Any) -> bool:
    if isinstance(value, list):
        return any(_match_object(pattern, item) for item in value if isinstance(item, dict))
    fields = value if isinstance(value, dict) else {}
    for key, expected in pattern.items():
        if key == "$or":
            if not isinstance(expected, list) or not expected:
                raise PatternError("$or needs a non-empty list of patterns")
            if not any(_match_object(alternative, value) for alternative in expected):
                return False
            continue
        actual = fields.get(key, MISSING)
        if isinstance(expected, Mapping):
            if actual is MISSING or not isinstance(actual, dict | list):
                actual = {}
            if not _match_object(expected, actual):
                return False
        elif isinstance(expected, list):
            if not _match_leaf(expected, actual):
                return False
        else:
            raise PatternError(f"pattern value for {key!r} must be a list or an object, got {expected!r}")
    return True


def _match_leaf(alternatives: list[Any], actual: Any) -> bool:
    values = [] if actual is MISSING else (actual if isinstance(actual, list) else [actual])
    for alternative in alternatives:
        if isinstance(alternative, Mapping) and "exists" in alternative:
            if bool(alternative["exists"]) == (actual is not MISSING):
                return True
            continue
        if actual is MISSING:
            continue
        if any(_match_value(alternative, value) for value in values):
            return True
    return False


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return bool(expected == value)


def _wildcard(expression: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = re.split(r"(?<!\\)\*", expression)
    regex = ".*".join(re.escape(part.replace("\\*", "*")) for part in parts)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _string_form(kind: str, expected: Any, value: Any) -> bool:
    """prefix / suffix / equals-ignore-case / wildcard, each possibly with an equals-ignore-case twist."""
    if not isinstance(value, str):
        return False
    if kind == "wildcard":
        return _wildcard(str(expected), value)
    if kind == "equals-ignore-case":
        return isinstance(expected, str) and value.lower() == expected.lower()
    ignore_case = isinstance(expected, Mapping) and "equals-ignore-case" in expected
    text = expected["equals-ignore-case"] if ignore_case else expected
    if not isinstance(text, str):
        raise PatternError(f"{kind} needs a string, got {expected!r}")
    subject, text = (value.lower(), text.lower()) if ignore_case else (value, text)
    return subject.startswith(text) if kind == "prefix" else subject.endswith(text)


def _numeric(conditions: Any, value: Any) -> bool:
    if not isinstance(conditions, list) or len(conditions) % 2:
        raise PatternError(f"numeric needs [operator, number, ...], got {conditions!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    for operator, bound in zip(conditions[::2], conditions[1::2], strict=True):
        checks = {
            "=": value == bound,
            "<": value < bound,
            "<=": value <= bound,
            ">": value > bound,
            ">=": value >= bound,
        }
        if operator not in checks:
            raise PatternError(f"unknown numeric operator {operator!r}")
        if not checks[operator]:
            return False
    return True


def _cidr(network: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(str(network), strict=False)
    except ValueError:
        return False


def _anything_but(excluded: Any, value: Any) -> bool:
    if isinstance(excluded, Mapping):
        ((kind, expected),) = excluded.items()
        if kind in ("prefix", "suffix", "wildcard"):
            return isinstance(value, str) and not _string_form(kind, expected, value)
        if kind == "equals-ignore-case":
            options = expected if isinstance(expected, list) else [expected]
            return isinstance(value, str) and all(value.lower() != str(o).lower() for o in options)
        raise PatternError(f"anything-but does not take {kind!r}")
    options = excluded if isinstance(excluded, list) else [excluded]
    return not any(_equal(option, value) for option in options)


def _match_value(expected: Any, value: Any) -> bool:
    if not isinstance(expected, Mapping):
        return _equal(expected, value)
    if len(expected) != 1:
        raise PatternError(f"a matcher has exactly one key, got {dict(expected)!r}")
    ((kind, argument),) = expected.items()
    if kind in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        return _string_form(kind, argument, value)
    if kind == "anything-but":
        return _anything_but(argument, value)
    if kind == "numeric":
        return _numeric(argument, value)
    if kind == "cidr":
        return _cidr(argument, value)
    raise PatternError(f"unknown matcher {kind!r}")
