"""The Salesforce emulator's SOQL engine: ``parse`` a query once, ``execute`` it against the records.

Supported: SELECT lists of fields, parent paths (``Account.Owner.Email``), child subqueries and a
lone ``COUNT()``; FROM one sObject; WHERE with ``= != <> < > <= >= IN NOT IN LIKE INCLUDES
EXCLUDES``, ``AND OR NOT`` and parentheses, string/number/boolean/null/date/datetime literals and
the relative dates TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n, N_DAYS_AGO:n;
ORDER BY (ASC/DESC, NULLS FIRST/LAST, parent paths); LIMIT; OFFSET. Everything else is refused
with ``MALFORMED_QUERY``, never answered wrongly. Errors carry Salesforce's codes and messages.

The semantics follow Salesforce: text compares case-insensitively, 15- and 18-character ids are
equal, datetimes compare as instants, ``!=`` and ``NOT IN`` match nulls, an empty string is null,
and ORDER BY puts nulls first ascending and last descending unless told otherwise.
"""

from __future__ import annotations

from infra.sandbox.salesforce.soql_ast import Query
from infra.sandbox.salesforce.soql_exec import QueryResult, execute
from infra.sandbox.salesforce.soql_model import FieldMeta, SoqlData, SoqlError, SoqlSchema
from infra.sandbox.salesforce.soql_parser import parse

__all__ = [
    "FieldMeta",
    "Query",
    "QueryResult",
    "SoqlData",
    "SoqlError",
    "SoqlSchema",
    "execute",
    "parse",
]
