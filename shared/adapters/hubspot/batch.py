"""Batch writes, pure: how inputs are grouped, how an answer settles each input, and how the inputs a
refused batch blames are set aside.

HubSpot refuses a whole batch for one bad input (400 ``VALIDATION_ERROR``, or 409 for an existing
email). The culprits are set aside and the rest is sent again: a 409 is explained by one batch read by
email (every input whose email already exists fails with ``existing_id``); a validation error names
the property and usually the value, which points at the input (several candidates, or none, and the
batch is halved until each bad input fails alone). A create whose answer was lost may have been
applied: when the next attempt answers 409 for that email, the existing id *is* the created contact
and the outcome is a success.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from shared.adapters.hubspot.errors import conflict, error_failure, issue_failure, no_result
from shared.adapters.hubspot.parse import PropertyIssue, mentions, parse_property_issues
from shared.adapters.retry import RequestRejected
from shared.errors import ApiFailure
from shared.matching import normalize_email
from shared.ports import RecordWrite, WriteOutcome

Item = tuple[int, RecordWrite]  # (position in the caller's list, the write)
Done = dict[int, WriteOutcome]
# emails -> the ids of the contacts that have them (a batch read by email)
Lookup = Callable[[list[str]], Mapping[str, str]]

# Property validation codes whose failure does not depend on the value.
_VALUE_INDEPENDENT = frozenset({"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"})


def hubspot_value(value: Any) -> str:
    """A property value as HubSpot takes it: strings; ``None`` clears (empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def email_of(write: RecordWrite) -> str | None:
    value = write.fields.get("email")
    return normalize_email(value) if isinstance(value, str) else None


def batches(items: Sequence[Item], size: int, key: Callable[[RecordWrite], str | None]) -> list[list[Item]]:
    """Batches of at most ``size`` in which no two writes share a (non-empty) key."""
    grouped: list[tuple[list[Item], set[str]]] = []
    for item in items:
        value = key(item[1])
        for batch, keys in grouped:
            if len(batch) < size and (value is None or value not in keys):
                batch.append(item)
                if value is not None:
                    keys.add(value)
                break
        else:
            grouped.append(([item], {value} if value is not None else set()))
    return [batch for batch, _ in grouped]


def culprits(items: Sequence[Item], issues: Sequence[PropertyIssue]) -> list[Item]:
    """The inputs a validation error points at: those setting an invalid property to the value the
    message quotes (or, for value-independent problems, setting that property at all)."""
    found: dict[int, Item] = {}
    for issue in issues:
        for index, write in items:
            if issue.name not in write.fields:
                continue
            value = hubspot_value(write.fields[issue.name])
            if issue.code in _VALUE_INDEPENDENT or mentions(issue.message, value):
                found[index] = (index, write)
    return list(found.values())


# -- an answer -----------------------------------------------------------------------------------
def settle(
    group: list[Item], answer: Any, done: Done, ambiguous: set[int], *, create: bool
) -> list[list[Item]]:
    """Map a batch answer to the inputs; returns what must be sent again."""
    results = list(answer.results or ())
    unmatched, used = _match(group, results, done, create=create)
    leftovers = [r for r in results if str(r.id) not in used]
    if unmatched and len(leftovers) == len(unmatched):
        for (index, write), result in zip(unmatched, leftovers, strict=True):
            done[index] = WriteOutcome(write.key, str(result.id))
        return []
    again: list[Item] = []
    for index, write in unmatched:
        failure = batch_error_for(write, getattr(answer, "errors", None) or ())
        if failure is not None:
            done[index] = WriteOutcome(write.key, None, failure)
        elif create and email_of(write):
            ambiguous.add(index)  # no word on it: send again; a 409 then means it was created
            again.append((index, write))
        else:
            done[index] = WriteOutcome(write.key, None, no_result(create=create))
    return [again] if again else []


def _match(group: list[Item], results: list[Any], done: Done, *, create: bool) -> tuple[list[Item], set[str]]:
    """Settle the inputs a result names (by trace id, else by email or id); returns the others and
    the ids of the results used."""
    by_trace = {str(r.object_write_trace_id): r for r in results if getattr(r, "object_write_trace_id", None)}
    if create:
        by_key = {normalize_email((r.properties or {}).get("email")): r for r in results}
    else:
        by_key = {str(r.id): r for r in results}
    used: set[str] = set()
    unmatched: list[Item] = []
    for index, write in group:
        result = by_trace.get(str(index)) or by_key.get(email_of(write) if create else str(write.record_id))
        if result is not None and str(result.id) not in used:
            used.add(str(result.id))
            done[index] = WriteOutcome(write.key, str(result.id))
        else:
            unmatched.append((index, write))
    return unmatched, used


def batch_error_for(write: RecordWrite, errors: Iterable[Any]) -> ApiFailure | None:
    """The error of a 207 answer that names this input (by id, email or trace id)."""
    keys = {k for k in (str(write.record_id) if write.record_id else None, email_of(write)) if k}
    for error in errors:
        context = getattr(error, "context", None) or {}
        named = {str(v).lower() for values in context.values() for v in (values or ())}
        message = str(getattr(error, "message", "") or "")
        if keys & named or any(mentions(message, k) for k in keys if write.record_id):
            return error_failure(getattr(error, "category", None), message)
    return None


# -- a refused batch -----------------------------------------------------------------------------
def isolate(
    group: list[Item], rejected: RequestRejected, done: Done, ambiguous: set[int], lookup: Lookup
) -> list[list[Item]]:
    """Settle the inputs a refused batch blames; returns the groups to send again."""
    failure = rejected.failure
    body = rejected.body if isinstance(rejected.body, Mapping) else {}
    if failure.http_status == 409:
        return isolate_conflict(group, failure, done, ambiguous, lookup)
    if failure.http_status == 400 and failure.code == "VALIDATION_ERROR":
        return _isolate_invalid(group, failure, parse_property_issues(body), done)
    done.update({i: WriteOutcome(w.key, None, failure) for i, w in group})
    return []


def _isolate_invalid(
    group: list[Item], failure: ApiFailure, issues: Sequence[PropertyIssue], done: Done
) -> list[list[Item]]:
    if len(group) == 1:
        index, write = group[0]
        done[index] = WriteOutcome(write.key, None, issue_failure(failure, issues))
        return []
    blamed = culprits(group, issues)
    if len(blamed) == 1:
        index, write = blamed[0]
        done[index] = WriteOutcome(write.key, None, issue_failure(failure, issues))
        return [[item for item in group if item[0] != index]]
    if 1 < len(blamed) < len(group):
        blamed_ids = {i for i, _ in blamed}
        return [[item for item in group if item[0] not in blamed_ids], blamed]
    middle = len(group) // 2
    return [group[:middle], group[middle:]]


def isolate_conflict(
    group: list[Item], failure: ApiFailure, done: Done, ambiguous: set[int], lookup: Lookup
) -> list[list[Item]]:
    """A 409: inputs whose email another contact has fail (or succeed, when an earlier unanswered
    attempt of theirs created it); the rest goes again. ``lookup`` runs only for several inputs."""
    if len(group) == 1:
        existing = {(email_of(group[0][1]) or ""): failure.existing_id} if failure.existing_id else {}
    else:
        existing = dict(lookup([e for e in (email_of(w) for _, w in group) if e]))
    rest: list[Item] = []
    for index, write in group:
        owner = existing.get(email_of(write) or "")
        if owner is None or owner == write.record_id:
            rest.append((index, write))
        elif index in ambiguous:
            done[index] = WriteOutcome(write.key, owner)  # our own earlier, unanswered attempt
        else:
            done[index] = WriteOutcome(write.key, None, conflict(owner))
    if len(rest) == len(group):  # nothing explained the conflict
        if len(group) == 1:
            index, write = group[0]
            done[index] = WriteOutcome(write.key, None, failure)
            return []
        middle = len(group) // 2
        return [group[:middle], group[middle:]]
    return [rest] if rest else []
