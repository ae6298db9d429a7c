"""A parsed SOQL query, its names already resolved against the schema and its literals checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infra.sandbox.salesforce.soql_model import FieldMeta


@dataclass(frozen=True)
class FieldRef:
    """A field of the queried object, or of a parent reached through lookups (``Account.Owner.Email``)."""

    hops: tuple[FieldMeta, ...]  # the lookup fields followed, in order (empty for a direct field)
    field: FieldMeta  # the field read on the last record reached
    kind: str  # comparison kind (soql_values), "" when the field cannot be filtered or sorted

    @property
    def key(self) -> tuple[str, ...]:
        """Where the value sits in a result record: relationship names, then the field name."""
        return (*(hop.relationship_name or hop.name for hop in self.hops), self.field.name)


@dataclass(frozen=True)
class Operand:
    """A literal on the right of a comparison, in the normal form of the field's kind.

    ``value`` is None for ``null``. A relative date literal (``TODAY``, ``LAST_N_DAYS:7``) keeps its
    ``word`` and ``n``; it is resolved to a range of days when the query runs.
    """

    value: Any = None
    word: str = ""
    n: int = 0


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: str  # = != < > <= >= IN NOT_IN LIKE INCLUDES EXCLUDES
    operands: tuple[Operand, ...]
    pattern: re.Pattern[str] | None = None  # LIKE only


@dataclass(frozen=True)
class Junction:
    op: str  # AND / OR
    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    term: Condition


Condition = Comparison | Junction | Negation


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_first: bool


@dataclass
class Projection:
    """The shape of one result record: fields, parent records and child subqueries in SELECT order."""

    items: list[ProjectedField | ProjectedParent | ProjectedChildren] = field(default_factory=list)


@dataclass
class ProjectedField:
    name: str


@dataclass
class ProjectedParent:
    lookup: FieldMeta  # the reference field followed; its relationship_name is the key
    projection: Projection


@dataclass
class ProjectedChildren:
    name: str  # the child relationship as written in the query
    query: Query


@dataclass
class Query:
    """A parsed query: ``parse`` builds it once; ``execute`` runs it as often as needed."""

    soql: str
    sobject: str
    projection: Projection
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int = 0
    count_only: bool = False
    # For a child subquery: the field of the child object that points at the parent record.
    parent_field: str | None = None
