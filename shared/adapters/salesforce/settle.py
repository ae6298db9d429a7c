"""sObject Collections writes, pure: which writes may be sent, what is sent, and how one answer
settles each record.

A collection call (``allOrNone`` false) answers one result per record, in order: a success with its
id, or the record's errors. Records that failed only on a row lock (``UNABLE_TO_LOCK_ROW``) are sent
again. After an ambiguous failure of a create (timeout, dropped connection, 500), the records are
looked for by email among those the integration user created since the first attempt; those found
are successes, the others are sent again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shared.adapters.salesforce.errors import (
    invalid_field,
    invalid_write,
    malformed_id,
    no_result,
    to_failure,
)
from shared.adapters.salesforce.parse import parse_errors, text
from shared.adapters.salesforce.soql import is_name
from shared.errors import ApiFailure
from shared.ids import looks_like_salesforce_id, salesforce_id18
from shared.matching import normalize_email
from shared.ports import RecordWrite, WriteOutcome

Pending = tuple[int, RecordWrite]  # (position in the caller's list, the write)
MAX_WRITE = 200  # records per sObject Collections create/update


def write_problem(write: RecordWrite, *, create: bool, key_field: str | None = None) -> ApiFailure | None:
    """Why a write cannot be sent (a create with an id, an upsert without its key, a bad field
    name...); None when it can."""
    if create != (write.record_id is None):
        return invalid_write(create=create)
    if key_field is not None and not write.fields.get(key_field):
        return invalid_field(key_field)
    for name in write.fields:
        if not is_name(name) or name.lower() == "id":
            return invalid_field(name)
    if write.record_id is not None and not looks_like_salesforce_id(write.record_id):
        return malformed_id(write.record_id)
    return None


def payload(sobject: str, write: RecordWrite) -> dict[str, Any]:
    """One record of a collection call's body."""
    record: dict[str, Any] = {"attributes": {"type": sobject}, **write.fields}
    if write.record_id is not None:
        record["Id"] = write.record_id
    return record


def apply_results(pending: Sequence[Pending], results: Any, done: dict[int, WriteOutcome]) -> list[Pending]:
    """Record each result in ``done``; the records that hit a row lock are returned, to be sent again."""
    answers = list(results) if isinstance(results, list) else []
    locked = []
    for position, (index, write) in enumerate(pending):
        result = answers[position] if position < len(answers) else None
        if not isinstance(result, Mapping):
            done[index] = WriteOutcome(write.key, None, no_result())
        elif result.get("success"):
            done[index] = WriteOutcome(write.key, salesforce_id18(str(result.get("id") or write.record_id)))
        else:
            errors = parse_errors(result.get("errors"))
            if errors and all(e.code == "UNABLE_TO_LOCK_ROW" for e in errors):
                locked.append((index, write))
            else:
                done[index] = WriteOutcome(write.key, None, to_failure(errors))
    return locked


def by_email(pending: Sequence[Pending]) -> dict[str, list[Pending]]:
    """The pending creates by normalised email (those without one cannot be looked for)."""
    found: dict[str, list[Pending]] = {}
    for index, write in pending:
        email = normalize_email(text(write.fields.get("Email")))
        if email:
            found.setdefault(email, []).append((index, write))
    return found


def settle_by_content(
    rows: Iterable[Mapping[str, Any]], pending: Sequence[Pending], done: dict[int, WriteOutcome]
) -> set[int]:
    """Each row found settles the first pending create of the same ``WhoId``, ``Subject`` and
    ``Description`` as a success (a row settles one create only); returns the positions settled."""
    waiting: dict[tuple[str, str, str], list[Pending]] = {}
    for index, write in pending:
        who = salesforce_id18(str(write.fields.get("WhoId") or "")) if write.fields.get("WhoId") else ""
        content = (who, str(write.fields.get("Subject") or ""), str(write.fields.get("Description") or ""))
        waiting.setdefault(content, []).append((index, write))
    settled: set[int] = set()
    for row in rows:
        who = salesforce_id18(str(row.get("WhoId"))) if row.get("WhoId") else ""
        queue = waiting.get((who, str(row.get("Subject") or ""), str(row.get("Description") or "")), [])
        if queue:
            index, write = queue.pop(0)
            done[index] = WriteOutcome(write.key, salesforce_id18(str(row["Id"])))
            settled.add(index)
    return settled


def settle_created(
    rows: Iterable[Mapping[str, Any]], candidates: dict[str, list[Pending]], done: dict[int, WriteOutcome]
) -> set[int]:
    """Each row found (oldest first) settles the first pending create with its email as a success;
    returns the positions settled. ``candidates`` is consumed."""
    settled: set[int] = set()
    for row in rows:
        waiting = candidates.get(normalize_email(text(row.get("Email"))) or "", [])
        if waiting:
            index, write = waiting.pop(0)
            done[index] = WriteOutcome(write.key, salesforce_id18(str(row["Id"])))
            settled.add(index)
    return settled
