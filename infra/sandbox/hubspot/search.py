"""The CRM search API's request rules and matching logic, as pure functions.

A request has up to 5 ``filterGroups`` (ORed) of up to 6 filters each (ANDed), 18 filters in all,
one sort, an optional free-text ``query``, ``limit`` up to 200 and an ``after`` offset; no query
pages beyond 10,000 results. String comparisons ignore case, as HubSpot's search index does;
number, date and datetime properties compare numerically (datetimes given as epoch milliseconds
or ISO 8601).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from infra.sandbox.hubspot.properties import parse_timestamp

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_LIMIT = 200
DEFAULT_LIMIT = 10
MAX_RESULTS = 10_000
MAX_QUERY_LENGTH = 3000

OPERATORS = (
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
    "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
)  # fmt: skip
_TOKEN_SPLIT = re.compile(r"[\s@.,;:_\-/()+]+")

T = TypeVar("T")


class SearchError(ValueError):
    """The request breaks a rule of the search API; answered as a 400 VALIDATION_ERROR."""


@dataclass(frozen=True)
class Kind:
    """What the matcher needs to know of a property."""

    type: str = "string"
    multiple: bool = False


@dataclass(frozen=True)
class Filter:
    property_name: str
    operator: str
    value: str | None = None
    values: tuple[str, ...] = ()
    high_value: str | None = None


@dataclass(frozen=True)
class Sort:
    property_name: str
    descending: bool = False


@dataclass(frozen=True)
class SearchRequest:
    filter_groups: tuple[tuple[Filter, ...], ...] = ()
    sorts: tuple[Sort, ...] = ()
    query: str | None = None
    properties: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    after: int = 0


# -- parsing -------------------------------------------------------------------------------------
def parse_request(body: Any) -> SearchRequest:
    if not isinstance(body, Mapping):
        raise SearchError("The search request must be a JSON object")
    groups = _parse_groups(body.get("filterGroups") or [])
    sorts = tuple(_parse_sort(s) for s in body.get("sorts") or [])
    if len(sorts) > 1:
        raise SearchError("Only one sort is supported per search request")
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise SearchError("query must be a string")
    if query is not None and len(query) > MAX_QUERY_LENGTH:
        raise SearchError(f"query must be at most {MAX_QUERY_LENGTH} characters")
    props = body.get("properties") or []
    if not isinstance(props, list) or not all(isinstance(p, str) for p in props):
        raise SearchError("properties must be a list of property names")
    limit = _int_field(body.get("limit"), "limit", DEFAULT_LIMIT)
    if not 0 < limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    after = _int_field(body.get("after"), "after", 0)
    if after < 0:
        raise SearchError("after must not be negative")
    if after >= MAX_RESULTS:
        raise SearchError(
            f"Paging beyond {MAX_RESULTS} results is not supported: narrow the query's filters "
            f"(after={after})"
        )
    return SearchRequest(groups, sorts, query or None, tuple(props), limit, after)


def _int_field(raw: Any, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise SearchError(f"{name} must be an integer, got {raw!r}") from None


def _parse_groups(raw: Any) -> tuple[tuple[Filter, ...], ...]:
    if not isinstance(raw, list):
        raise SearchError("filterGroups must be a list")
    if len(raw) > MAX_GROUPS:
        raise SearchError(f"Too many filter groups: {len(raw)} (the maximum is {MAX_GROUPS})")
    groups = []
    total = 0
    for group in raw:
        filters = group.get("filters") if isinstance(group, Mapping) else None
        if not isinstance(filters, list):
            raise SearchError("Each filter group needs a list of filters")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(
                f"Too many filters in a group: {len(filters)} (the maximum is {MAX_FILTERS_PER_GROUP})"
            )
        total += len(filters)
        groups.append(tuple(_parse_filter(f) for f in filters))
    if total > MAX_FILTERS:
        raise SearchError(f"Too many filters: {total} (the maximum is {MAX_FILTERS})")
    return tuple(groups)


def _parse_filter(raw: Any) -> Filter:
    if not isinstance(raw, Mapping) or not raw.get("propertyName"):
        raise SearchError("Each filter needs a propertyName and an operator")
    operator = str(raw.get("operator") or "")
    if operator not in OPERATORS:
        raise SearchError(f"Unknown filter operator {operator!r}")
    value = raw.get("value")
    values = raw.get("values") or []
    if operator in ("IN", "NOT_IN") and not values:
        raise SearchError(f"The {operator} operator needs a non-empty values list")
    if operator == "BETWEEN" and (value is None or raw.get("highValue") is None):
        raise SearchError("The BETWEEN operator needs value and highValue")
    if operator not in ("IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY") and value is None:
        raise SearchError(f"The {operator} operator needs a value")
    high = raw.get("highValue")
    return Filter(
        property_name=str(raw["propertyName"]),
        operator=operator,
        value=None if value is None else _text(value),
        values=tuple(_text(v) for v in values),
        high_value=None if high is None else _text(high),
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_sort(raw: Any) -> Sort:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except ValueError:
                raise SearchError(f"Invalid sort {raw!r}") from None
        else:
            return Sort(text.lstrip("-"), descending=text.startswith("-"))
    if not isinstance(raw, Mapping) or not raw.get("propertyName"):
        raise SearchError("Each sort needs a propertyName")
    direction = str(raw.get("direction") or "ASCENDING").upper()
    if direction not in ("ASCENDING", "DESCENDING"):
        raise SearchError(f"Unknown sort direction {direction!r}")
    return Sort(str(raw["propertyName"]), descending=direction == "DESCENDING")


def referenced_properties(request: SearchRequest) -> set[str]:
    names = {f.property_name for group in request.filter_groups for f in group}
    return names | {s.property_name for s in request.sorts}


# -- matching ------------------------------------------------------------------------------------
def matches(request: SearchRequest, props: Mapping[str, str | None], kinds: Mapping[str, Kind]) -> bool:
    """The record matches when any filter group matches (all of its filters), or there are none."""
    if not request.filter_groups:
        return True
    return any(
        all(matches_filter(f, props.get(f.property_name), kinds.get(f.property_name, Kind())) for f in group)
        for group in request.filter_groups
    )


def _present(value: str | None) -> bool:
    return value is not None and value != ""


def matches_filter(flt: Filter, value: str | None, kind: Kind) -> bool:
    op = flt.operator
    if op == "HAS_PROPERTY":
        return _present(value)
    if op == "NOT_HAS_PROPERTY":
        return not _present(value)
    negated = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}
    if op in negated:
        return not matches_filter(Filter(flt.property_name, negated[op], flt.value, flt.values), value, kind)
    if value is None or value == "":
        return False
    if op == "CONTAINS_TOKEN":
        return contains_token(value, flt.value or "")
    candidates = value.split(";") if kind.multiple else [value]
    if op == "EQ":
        return any(_compare(c, flt.value or "", kind) == 0 for c in candidates)
    if op == "IN":
        return any(_compare(c, v, kind) == 0 for c in candidates for v in flt.values)
    if op == "BETWEEN":
        low = _compare(value, flt.value or "", kind)
        high = _compare(value, flt.high_value or "", kind)
        return low is not None and high is not None and low >= 0 and high <= 0
    order = _compare(value, flt.value or "", kind)
    if order is None:
        return False
    return {"LT": order < 0, "LTE": order <= 0, "GT": order > 0, "GTE": order >= 0}[op]


def _compare(stored: str, wanted: str, kind: Kind) -> int | None:
    """-1/0/1 comparing a stored value with a filter value under the property's type; ``None``
    when the stored value cannot be compared (it then matches no comparison)."""
    left: Any
    right: Any
    if kind.type == "number":
        left, right = _number(stored), _number(wanted, strict=True)
    elif kind.type in ("date", "datetime"):
        left, right = _millis(stored), _millis(wanted, strict=True)
    else:
        left, right = stored.strip().lower(), wanted.strip().lower()
    if left is None:
        return None
    return int(left > right) - int(left < right)


def _number(text: str, *, strict: bool = False) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        if strict:
            raise SearchError(f"{text!r} is not a valid number") from None
        return None


def _millis(text: str, *, strict: bool = False) -> int | None:
    moment = parse_timestamp(text)
    if moment is None:
        if strict:
            raise SearchError(f"{text!r} is not a valid date: use epoch milliseconds or ISO 8601")
        return None
    return int(moment.timestamp() * 1000)


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN_SPLIT.split(text.lower()) if t]


def contains_token(value: str, pattern: str) -> bool:
    """A whole token of the value (or the whole value) equals the pattern; ``*`` is a wildcard."""
    wanted = pattern.strip().lower()
    if not wanted:
        return False
    whole = value.strip().lower()
    if "*" in wanted:
        return fnmatch.fnmatchcase(whole, wanted) or any(
            fnmatch.fnmatchcase(t, wanted) for t in tokens(value)
        )
    return whole == wanted or wanted in tokens(value) or _phrase_in(tokens(wanted), tokens(value))


def _phrase_in(needle: Sequence[str], hay: Sequence[str]) -> bool:
    n = len(needle)
    return n > 1 and any(list(hay[i : i + n]) == list(needle) for i in range(len(hay) - n + 1))


def matches_query(query: str, props: Mapping[str, str | None], searchable: Iterable[str]) -> bool:
    """Free-text search: every word of the query starts a token of a searchable property (or the
    query is contained in one of them)."""
    wanted = query.strip().lower()
    if not wanted:
        return True
    values = [v for v in (props.get(name) for name in searchable) if v]
    if any(wanted in v.lower() for v in values):
        return True
    value_tokens = [t for v in values for t in tokens(v)]
    return all(any(t.startswith(w) for t in value_tokens) for w in tokens(wanted))


# -- ordering and paging -------------------------------------------------------------------------
def order(
    items: list[T],
    sorts: Sequence[Sort],
    props_of: Callable[[T], Mapping[str, str | None]],
    id_of: Callable[[T], int],
    kinds: Mapping[str, Kind],
) -> list[T]:
    """Sort by the request's sort (records without a value last), then by id; default: by id."""
    result = sorted(items, key=id_of)
    for sort in reversed(sorts):
        kind = kinds.get(sort.property_name, Kind())
        present = [i for i in result if _present(props_of(i).get(sort.property_name))]
        absent = [i for i in result if not _present(props_of(i).get(sort.property_name))]
        name = sort.property_name

        def key(item: T, name: str = name, kind: Kind = kind) -> tuple[int, Any]:
            return _sort_key(props_of(item).get(name) or "", kind)

        present.sort(key=key, reverse=sort.descending)
        result = present + absent
    return result


def _sort_key(value: str, kind: Kind) -> tuple[int, Any]:
    if kind.type == "number":
        number = _number(value)
        return (0, number) if number is not None else (1, value.lower())
    if kind.type in ("date", "datetime"):
        millis = _millis(value)
        return (0, millis) if millis is not None else (1, value.lower())
    return (0, value.lower())


@dataclass(frozen=True)
class Page:
    start: int
    end: int
    next_after: str | None


def page(total: int, after: int, limit: int) -> Page:
    """The slice of ``total`` ordered results to return; no page reaches past 10,000 results."""
    reachable = min(total, MAX_RESULTS)
    start = min(after, reachable)
    end = min(start + limit, reachable)
    return Page(start, end, str(end) if end < reachable else None)
