"""Running a parsed :class:`Query` against the record store and shaping the REST API's records.

The WHERE clause is compiled once per run into a tree of closures over normalised values
(``soql_values``); literals were normalised when the query was parsed, so a row costs a few
dictionary lookups and comparisons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from infra.sandbox.salesforce import soql_values as values
from infra.sandbox.salesforce.soql_ast import (
    Comparison,
    Condition,
    FieldRef,
    Junction,
    Negation,
    Operand,
    OrderItem,
    ProjectedChildren,
    ProjectedField,
    ProjectedParent,
    Projection,
    Query,
)
from infra.sandbox.salesforce.soql_model import FieldMeta, SoqlData

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]
Getter = Callable[[Row], Any]

# attributes.type of a record reached through a polymorphic lookup (OwnerId -> User or Group)
POLYMORPHIC_TYPE = "Name"


@dataclass
class QueryResult:
    total_size: int  # rows returned, after OFFSET and LIMIT (what Salesforce reports as totalSize)
    records: list[dict[str, Any]]  # JSON-ready, in the REST API's shape
    count_only: bool  # SELECT COUNT(): no records, total_size is the count


def execute(
    query: Query,
    data: SoqlData,
    *,
    include_deleted: bool,
    api_version: str,
    now: datetime | None = None,
) -> QueryResult:
    """Run ``query``. ``include_deleted`` is queryAll; ``now`` (UTC, default the clock) fixes what
    TODAY and the other relative date literals mean."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    run = _Run(data, include_deleted, "v" + api_version.lstrip("vV"), today)
    rows = run.select(query, data.rows(query.sobject, include_deleted=include_deleted))
    if query.count_only:
        return QueryResult(total_size=len(rows), records=[], count_only=True)
    records = [run.render(query.sobject, row, query.projection) for row in rows]
    return QueryResult(total_size=len(records), records=records, count_only=False)


class _Run:
    """State of one execution: parent records already looked up, child rows grouped by parent."""

    def __init__(self, data: SoqlData, include_deleted: bool, version: str, today: date) -> None:
        self.data = data
        self.include_deleted = include_deleted
        self.version = version
        self.today = today
        self.parents: dict[tuple[tuple[str, ...], str], tuple[str, Row] | None] = {}
        self.children: dict[int, dict[str, list[Row]]] = {}

    # --- rows ----------------------------------------------------------------------------------

    def select(self, query: Query, rows: Iterable[Row]) -> list[Row]:
        """Filter, sort and window ``rows`` as the query says."""
        if query.where is not None:
            predicate = self.compile(query.where)
            selected = [row for row in rows if predicate(row)]
        else:
            selected = list(rows)
        self.sort(selected, query.order_by)
        end = None if query.limit is None else query.offset + query.limit
        return selected[query.offset : end]

    def parent(self, lookup: FieldMeta, record_id: str) -> tuple[str, Row] | None:
        """The record a lookup points at and its sObject; polymorphic lookups try each target."""
        key = (lookup.reference_to, record_id)
        if key not in self.parents:
            found = None
            for target in lookup.reference_to:
                record = self.data.get(target, record_id, include_deleted=self.include_deleted)
                if record is not None:
                    found = (target, record)
                    break
            self.parents[key] = found
        return self.parents[key]

    def getter(self, ref: FieldRef) -> Getter:
        name = ref.field.name
        if not ref.hops:
            return lambda row: row.get(name)
        hops = ref.hops

        def through_parents(row: Row) -> Any:
            current = row
            for hop in hops:
                record_id = current.get(hop.name)
                found = self.parent(hop, record_id) if record_id else None
                if found is None:
                    return None
                current = found[1]
            return current.get(name)

        return through_parents

    # --- WHERE ---------------------------------------------------------------------------------

    def compile(self, condition: Condition) -> Predicate:
        if isinstance(condition, Negation):
            inner = self.compile(condition.term)
            return lambda row: not inner(row)
        if isinstance(condition, Junction):
            terms = [self.compile(term) for term in condition.terms]
            if condition.op == "AND":
                return lambda row: all(term(row) for term in terms)
            return lambda row: any(term(row) for term in terms)
        return self.comparison(condition)

    def comparison(self, comparison: Comparison) -> Predicate:
        get = self.getter(comparison.field)
        op = comparison.op
        if op == "LIKE":
            assert comparison.pattern is not None
            match = comparison.pattern.fullmatch
            return lambda row: _like(match, get(row))
        normalize = values.NORMALIZERS[comparison.field.kind]

        def value_of(row: Row) -> Any:
            return normalize(get(row))

        if op in ("INCLUDES", "EXCLUDES"):
            specs = [operand.value for operand in comparison.operands if operand.value]
            includes = _includes(specs)
            if op == "INCLUDES":
                return lambda row: includes(value_of(row))
            return lambda row: not includes(value_of(row))
        bounds = [self.bound(comparison.field.kind, operand) for operand in comparison.operands]
        if op in ("=", "!=", "IN", "NOT_IN"):
            equals = _equality(bounds)
            if op in ("=", "IN"):
                return lambda row: equals(value_of(row))
            return lambda row: not equals(value_of(row))
        test = _ordering(op, bounds[0])
        return lambda row: test(value_of(row))

    def bound(self, kind: str, operand: Operand) -> Any:
        """A point value, or for a relative date literal the half-open range (first, after_last)."""
        if not operand.word:
            return operand.value
        first, after = values.date_word_days(operand.word, operand.n, self.today)
        if kind == values.DATE:
            return _Range(first.isoformat(), after.isoformat())
        return _Range(values.midnight_key(first), values.midnight_key(after))

    # --- ORDER BY ------------------------------------------------------------------------------

    def sort(self, rows: list[Row], order_by: tuple[OrderItem, ...]) -> None:
        """Sort in place: one stable sort per key, last key first. Text sorts case-insensitively."""
        for item in reversed(order_by):
            # Nulls get a rank that lands them first or last once the direction is applied.
            null_rank = 0 if item.nulls_first != item.descending else 2
            key = _sort_key(self.getter(item.field), values.NORMALIZERS[item.field.kind], null_rank)
            rows.sort(key=key, reverse=item.descending)

    # --- records -------------------------------------------------------------------------------

    def render(self, sobject: str, row: Row, projection: Projection, type_name: str = "") -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {
                "type": type_name or sobject,
                "url": f"/services/data/{self.version}/sobjects/{sobject}/{row.get('Id')}",
            }
        }
        for item in projection.items:
            if isinstance(item, ProjectedField):
                record[item.name] = row.get(item.name)
            elif isinstance(item, ProjectedParent):
                lookup = item.lookup
                key = lookup.relationship_name or lookup.name
                record_id = row.get(lookup.name)
                found = self.parent(lookup, record_id) if record_id else None
                if found is None:
                    record[key] = None
                else:
                    parent_type = POLYMORPHIC_TYPE if len(lookup.reference_to) > 1 else ""
                    record[key] = self.render(found[0], found[1], item.projection, parent_type)
            else:
                record[item.name] = self.child_records(item, row)
        return record

    def child_records(self, item: ProjectedChildren, row: Row) -> dict[str, Any] | None:
        """A child subquery's result for one parent record: ``{totalSize, done, records}`` or null."""
        query = item.query
        parent_id = row.get("Id")
        candidates = self.child_index(query).get(parent_id[:15], []) if parent_id else []
        if not candidates:
            return None
        rows = list(candidates)
        self.sort(rows, query.order_by)
        if query.limit is not None:
            rows = rows[: query.limit]
        if not rows:
            return None
        records = [self.render(query.sobject, child, query.projection) for child in rows]
        return {"totalSize": len(records), "done": True, "records": records}

    def child_index(self, query: Query) -> dict[str, list[Row]]:
        """The child rows matching the subquery's WHERE, by the 15-character id of their parent."""
        index = self.children.get(id(query))
        if index is None:
            assert query.parent_field is not None
            parent_field = query.parent_field
            predicate = self.compile(query.where) if query.where is not None else None
            index = {}
            for child in self.data.rows(query.sobject, include_deleted=self.include_deleted):
                parent_id = child.get(parent_field)
                if parent_id and (predicate is None or predicate(child)):
                    index.setdefault(parent_id[:15], []).append(child)
            self.children[id(query)] = index
        return index


@dataclass(frozen=True)
class _Range:
    first: Any  # inclusive
    after: Any  # exclusive


def _like(match: Callable[[str], Any], value: Any) -> bool:
    return isinstance(value, str) and bool(value) and match(value) is not None


def _includes(specs: list[frozenset[str]]) -> Callable[[Any], bool]:
    """INCLUDES: the value holds every item of at least one spec ('a;b' needs both a and b)."""

    def includes(value: Any) -> bool:
        return value is not None and any(spec <= value for spec in specs)

    return includes


def _equality(bounds: list[Any]) -> Callable[[Any], bool]:
    """``=`` / ``IN``: equal to one of the points, or within one of the ranges; null matches null."""
    points = {bound for bound in bounds if bound is not None and not isinstance(bound, _Range)}
    ranges = [bound for bound in bounds if isinstance(bound, _Range)]
    null_matches = any(bound is None for bound in bounds)
    if not ranges:
        if len(points) == 1 and not null_matches:
            (point,) = points
            return lambda value: value == point
        return lambda value: (value is None and null_matches) or (value is not None and value in points)

    def equals(value: Any) -> bool:
        if value is None:
            return null_matches
        return value in points or any(r.first <= value < r.after for r in ranges)

    return equals


def _ordering(op: str, bound: Any) -> Callable[[Any], bool]:
    """``<`` ``<=`` ``>`` ``>=`` against a point or a date range; null on either side never matches."""
    if bound is None:
        return lambda value: False
    if isinstance(bound, _Range):
        # Against a range: before its first day, up to its last day, after it, from its first day.
        low, high = bound.first, bound.after
        tests: dict[str, Callable[[Any], bool]] = {
            "<": lambda value: value is not None and value < low,
            "<=": lambda value: value is not None and value < high,
            ">": lambda value: value is not None and value >= high,
            ">=": lambda value: value is not None and value >= low,
        }
        return tests[op]
    point = bound
    point_tests: dict[str, Callable[[Any], bool]] = {
        "<": lambda value: value is not None and value < point,
        "<=": lambda value: value is not None and value <= point,
        ">": lambda value: value is not None and value > point,
        ">=": lambda value: value is not None and value >= point,
    }
    return point_tests[op]


def _sort_key(
    get: Getter, normalize: Callable[[Any], Any], null_rank: int
) -> Callable[[Row], tuple[Any, ...]]:
    def key(row: Row) -> tuple[Any, ...]:
        value = normalize(get(row))
        return (null_rank,) if value is None else (1, value)

    return key
