"""SOQL building, pure: literals, names, select lists, and the queries the adapter sends.

Every name that goes into a query is checked against a strict pattern and every value is an escaped
literal, so no value can change a query's shape. ``Email IN (...)`` and ``Id IN (...)`` lists are
cut so that each query's URL-encoded ``q=`` parameter stays under :data:`MAX_QUERY_URL_CHARS`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote_plus

from shared.models import LEAD
from shared.owners.directory import OWNER_USER_TYPES

MAX_QUERY_URL_CHARS = 14_000  # the encoded q= parameter; REST URIs are limited to 16,384 characters
BASE_FIELDS = ("Id", "CreatedDate", "LastModifiedDate")
# system fields every sObject has: selecting only these needs no describe
SYSTEM_FIELDS = frozenset(name.lower() for name in (*BASE_FIELDS, "SystemModstamp"))

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*$")
_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def soql_literal(value: str) -> str:
    """A SOQL string literal: quotes, backslashes and control characters escaped."""
    return "'" + "".join(_SOQL_ESCAPES.get(char, char) for char in value) + "'"


def soql_datetime(value: dt.datetime) -> str:
    """A SOQL datetime literal in UTC (``2026-11-28T20:18:04Z``; milliseconds only when non-zero)."""
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    utc = value.astimezone(dt.UTC)
    millis = utc.microsecond // 1000
    base = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def in_lists(
    literals: Sequence[str], *, fixed_chars: int, budget: int = MAX_QUERY_URL_CHARS
) -> list[list[str]]:
    """Split literals into ``IN (...)`` lists whose URL-encoded query stays within ``budget``.

    ``fixed_chars`` is the encoded length of the rest of the query. A literal too long to share a
    list gets one of its own.
    """
    separator = len(quote_plus(", "))
    lists: list[list[str]] = []
    current: list[str] = []
    size = 0
    for literal in literals:
        cost = len(quote_plus(literal))
        if current and fixed_chars + size + separator + cost > budget:
            lists.append(current)
            current, size = [], 0
        size += cost + (separator if current else 0)
        current.append(literal)
    if current:
        lists.append(current)
    return lists


def is_name(name: str) -> bool:
    """Whether ``name`` is an sObject or field name (or a dotted relationship path)."""
    return _NAME.match(name) is not None


def check_name(name: str) -> str:
    if not is_name(name):
        raise ValueError(f"not an sObject or field name: {name!r}")
    return name


def select_list(fields: Iterable[str], required: Iterable[str]) -> list[str]:
    """``required`` then ``fields``, each name once (case-insensitively), every name checked."""
    out: list[str] = []
    seen: set[str] = set()
    for name in (*required, *fields):
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(check_name(name))
    return out


def _in_queries(head: str, literals: Sequence[str], tail: str) -> list[str]:
    """``head`` + an ``IN`` list + ``tail`` for as many queries as the literals need."""
    fixed = len(quote_plus(head + tail))
    return [f"{head}{', '.join(chunk)}{tail}" for chunk in in_lists(literals, fixed_chars=fixed)]


def by_email_queries(sobject: str, select: Sequence[str], emails: Sequence[str]) -> list[str]:
    """The records of ``sobject`` whose Email is one of ``emails`` (unconverted Leads only)."""
    suffix = " AND IsConverted = false" if sobject.lower() == LEAD.lower() else ""
    head = f"SELECT {', '.join(select)} FROM {check_name(sobject)} WHERE Email IN ("  # noqa: S608 (names checked)
    return _in_queries(head, [soql_literal(e) for e in emails], f"){suffix}")


def created_since_queries(
    sobject: str, emails: Sequence[str], since: dt.datetime, user_id: str | None
) -> list[str]:
    """Records of ``sobject`` with one of ``emails`` created at or after ``since`` (by ``user_id``,
    when given), oldest first: where a create whose answer was lost is looked for."""
    conditions = f" AND CreatedDate >= {soql_datetime(since)}"
    if user_id:
        conditions += f" AND CreatedById = {soql_literal(user_id)}"
    head = f"SELECT Id, Email, CreatedDate FROM {check_name(sobject)} WHERE Email IN ("  # noqa: S608 (name checked)
    return _in_queries(head, [soql_literal(e) for e in emails], f"){conditions} ORDER BY CreatedDate, Id")


def named_created_since_queries(
    sobject: str, fields: Sequence[str], names: Sequence[str], since: dt.datetime, user_id: str | None
) -> list[str]:
    """Records of ``sobject`` whose ``Name`` is one of ``names`` created at or after ``since`` (by
    ``user_id``, when given), with ``fields``, oldest first: where a create without an email (an
    Account, an Opportunity) whose answer was lost is looked for."""
    conditions = f" AND CreatedDate >= {soql_datetime(since)}"
    if user_id:
        conditions += f" AND CreatedById = {soql_literal(user_id)}"
    selected = ", ".join(dict.fromkeys(["Id", *(check_name(f) for f in fields), "CreatedDate"]))
    head = f"SELECT {selected} FROM {check_name(sobject)} WHERE Name IN ("  # noqa: S608
    return _in_queries(head, [soql_literal(n) for n in names], f"){conditions} ORDER BY CreatedDate, Id")


def tasks_created_since_queries(who_ids: Sequence[str], since: dt.datetime, user_id: str | None) -> list[str]:
    """Tasks of the records ``who_ids`` created at or after ``since`` (by ``user_id``, when given),
    oldest first: where a task create whose answer was lost is looked for."""
    conditions = f" AND CreatedDate >= {soql_datetime(since)}"
    if user_id:
        conditions += f" AND CreatedById = {soql_literal(user_id)}"
    head = "SELECT Id, WhoId, Subject, Description, CreatedDate FROM Task WHERE WhoId IN ("
    return _in_queries(head, [soql_literal(i) for i in who_ids], f"){conditions} ORDER BY CreatedDate, Id")


def by_account_queries(select: Sequence[str], account_ids: Sequence[str]) -> list[str]:
    """The Contacts whose AccountId is one of ``account_ids`` (their Accounts' people)."""
    head = f"SELECT {', '.join(select)} FROM Contact WHERE AccountId IN ("  # noqa: S608 (names checked)
    return _in_queries(head, [soql_literal(i) for i in account_ids], ")")


def merged_away_queries(sobject: str, ids: Sequence[str]) -> list[str]:
    """The deleted records among ``ids`` with the record they were merged into (for queryAll)."""
    head = f"SELECT Id, MasterRecordId FROM {check_name(sobject)} WHERE IsDeleted = true AND Id IN ("  # noqa: S608
    return _in_queries(head, [soql_literal(i) for i in ids], ")")


def merged_into_queries(sobject: str, master_ids: Sequence[str]) -> list[str]:
    """The deleted records merged into one of ``master_ids`` (for queryAll)."""
    head = (
        f"SELECT Id, MasterRecordId FROM {check_name(sobject)} WHERE IsDeleted = true AND MasterRecordId IN ("  # noqa: S608
    )
    return _in_queries(head, [soql_literal(i) for i in master_ids], ")")


def modified_after_query(sobject: str, select: Sequence[str], since: dt.datetime, limit: int) -> str:
    """Up to ``limit`` records with ``SystemModstamp > since``, oldest first."""
    base = f"SELECT {', '.join(select)} FROM {check_name(sobject)} WHERE "  # noqa: S608 (names checked)
    return f"{base}SystemModstamp > {soql_datetime(since)} ORDER BY SystemModstamp, Id LIMIT {limit}"


def modified_at_query(sobject: str, select: Sequence[str], stamp: dt.datetime, after_id: str) -> str:
    """The records sharing ``SystemModstamp = stamp`` after ``after_id`` (the rest of a tie)."""
    base = f"SELECT {', '.join(select)} FROM {check_name(sobject)} WHERE "  # noqa: S608 (names checked)
    return f"{base}SystemModstamp = {soql_datetime(stamp)} AND Id > {soql_literal(after_id)} ORDER BY Id"


def owned_by_query(sobject: str, owner_id: str) -> str:
    """The ids of the records of ``sobject`` a user or queue owns (unconverted Leads only)."""
    suffix = " AND IsConverted = false" if sobject.lower() == LEAD.lower() else ""
    head = f"SELECT Id FROM {check_name(sobject)} WHERE OwnerId = "  # noqa: S608 (name checked)
    return f"{head}{soql_literal(owner_id)}{suffix} ORDER BY Id"


def owner_queries() -> list[str]:
    """The users that can own synced records (Standard, PowerPartner, Guest), then the queues."""
    types = ", ".join(soql_literal(t) for t in OWNER_USER_TYPES)
    return [
        "SELECT Id, Name, FirstName, LastName, Email, UserType, IsActive FROM User "  # noqa: S608
        f"WHERE UserType IN ({types})",
        "SELECT Id, Name, Email FROM Group WHERE Type = 'Queue'",
    ]
