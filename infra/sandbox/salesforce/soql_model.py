"""What the SOQL engine needs from its callers, and the error it raises.

The engine is pure logic: it reads the schema through :class:`SoqlSchema` and the records through
:class:`SoqlData`, so the record store and the describe metadata stay with the rest of the
Salesforce emulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class SoqlError(Exception):
    """A query the real API would refuse: ``error_code`` and ``message`` as Salesforce answers them."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class FieldMeta:
    """One field of an sObject as the describe call reports it."""

    name: str
    type: str
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    filterable: bool = True
    sortable: bool = True


class SoqlSchema(Protocol):
    def sobject(self, name: str) -> str | None: ...

    def field(self, sobject: str, name: str) -> FieldMeta | None: ...

    def parent_relationship(self, sobject: str, name: str) -> FieldMeta | None: ...

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str] | None: ...


class SoqlData(Protocol):
    def rows(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]: ...

    def get(self, sobject: str, record_id: str, *, include_deleted: bool) -> Mapping[str, Any] | None: ...


# How far either side of the error the quoted excerpt of the query reaches, in characters.
_EXCERPT_REACH = 40


def located_error(soql: str, pos: int, error_code: str, text: str) -> SoqlError:
    """An error pointing at ``pos`` in ``soql``, framed the way Salesforce frames SOQL errors.

    Salesforce quotes the part of the offending line around the error, puts a caret under the
    position and names it by row and column (1-based, column within the row)::

        \\nSELECT Foo FROM Lead\\n       ^\\nERROR at Row:1:Column:8\\nNo such column 'Foo' ...
    """
    pos = max(0, min(pos, len(soql)))
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    if line_end < 0:
        line_end = len(soql)
    line = soql[line_start:line_end]
    at = pos - line_start
    start = max(0, at - _EXCERPT_REACH)
    if start > 0:
        # Begin the excerpt on a word boundary, as Salesforce does.
        while start < at and not line[start - 1].isspace():
            start += 1
        while start < at and line[start].isspace():
            start += 1
    end = min(len(line), at + _EXCERPT_REACH)
    while end < len(line) and not line[end].isspace():
        end += 1
    row = soql.count("\n", 0, pos) + 1
    excerpt = line[start:end]
    caret = " " * (at - start) + "^"
    return SoqlError(error_code, f"\n{excerpt}\n{caret}\nERROR at Row:{row}:Column:{at + 1}\n{text}")
