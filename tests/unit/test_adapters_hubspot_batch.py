"""The HubSpot adapter's pure batch rules on their own (shared/adapters/hubspot/batch.py): grouping,
settling an answer input by input, and setting aside what a refused batch blames; and the mapping of
the client's connection failures (errors.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ProtocolError, ReadTimeoutError

from shared.adapters.hubspot import batch, errors
from shared.adapters.retry import RequestRejected
from shared.errors import ApiFailure, ErrorCategory
from shared.ports import RecordWrite, WriteOutcome

NO_POOL: Any = None  # the urllib3 errors name their connection or pool; these tests have none


def creates(*emails: str) -> list[batch.Item]:
    return [(i, RecordWrite(f"k{i}", None, {"email": e})) for i, e in enumerate(emails)]


def result(contact_id: str, email: str | None = None, trace: str | None = None) -> Any:
    return SimpleNamespace(
        id=contact_id, properties={"email": email} if email else {}, object_write_trace_id=trace
    )


def answer(*results: Any, errors: Any = None) -> Any:
    return SimpleNamespace(results=list(results), errors=errors)


def no_lookup(_emails: list[str]) -> dict[str, str]:
    raise AssertionError("no lookup expected")


def test_batches_never_put_two_writes_with_one_key_together():
    items = creates("a@x.example", "A@x.example", "b@x.example")
    grouped = batch.batches(items, 100, batch.email_of)
    assert [[i for i, _ in g] for g in grouped] == [[0, 2], [1]]
    assert [
        len(g) for g in batch.batches(creates(*[f"{n}@x.example" for n in range(5)]), 2, batch.email_of)
    ] == [
        2,
        2,
        1,
    ]


def test_settle_matches_by_trace_id_then_by_email():
    group = creates("a@x.example", "b@x.example")
    done: dict[int, WriteOutcome] = {}
    again = batch.settle(
        group, answer(result("2", "b@x.example"), result("1", trace="0")), done, set(), create=True
    )
    assert again == []
    assert {i: o.record_id for i, o in done.items()} == {0: "1", 1: "2"}


def test_settle_pairs_leftover_results_with_unmatched_inputs_when_counts_agree():
    group = creates("a@x.example")
    done: dict[int, WriteOutcome] = {}
    assert batch.settle(group, answer(result("9", "renamed@x.example")), done, set(), create=True) == []
    assert done[0].record_id == "9"


def test_an_unanswered_create_goes_again_as_ambiguous_and_an_update_fails():
    done: dict[int, WriteOutcome] = {}
    ambiguous: set[int] = set()
    group = creates("a@x.example", "b@x.example")
    again = batch.settle(group, answer(result("1", "a@x.example")), done, ambiguous, create=True)
    assert again == [[group[1]]]
    assert ambiguous == {1}
    update = [(0, RecordWrite("k", "5", {"firstname": "A"}))]
    batch.settle(update, answer(), done := {}, set(), create=False)
    failure = done[0].failure
    assert failure is not None
    assert (failure.code, failure.retryable) == ("NO_RESULT", True)


def test_a_207_error_naming_the_input_fails_it():
    update = [(0, RecordWrite("k", "5", {"firstname": "A"}))]
    error = SimpleNamespace(context={"ids": ["5"]}, message="Object 5 not found", category="OBJECT_NOT_FOUND")
    done: dict[int, WriteOutcome] = {}
    batch.settle(update, answer(errors=[error]), done, set(), create=False)
    failure = done[0].failure
    assert failure is not None
    assert (failure.code, failure.message) == ("OBJECT_NOT_FOUND", "Object 5 not found")


def rejected(
    status: int, code: str, body: dict[str, Any] | None = None, existing: str | None = None
) -> RequestRejected:
    failure = ApiFailure(
        "hubspot", code, "refused", ErrorCategory.OTHER, http_status=status, existing_id=existing
    )
    return RequestRejected(failure, body or {})


def test_a_validation_error_sets_its_one_culprit_aside():
    group = [
        (0, RecordWrite("k0", None, {"email": "a@x.example", "lifecyclestage": "lead"})),
        (1, RecordWrite("k1", None, {"email": "b@x.example", "lifecyclestage": "bogus"})),
    ]
    body = {
        "errors": [
            {"message": "bogus was not one of the allowed options", "code": "INVALID_OPTION",
             "context": {"propertyName": ["lifecyclestage"]}}
        ]
    }  # fmt: skip
    done: dict[int, WriteOutcome] = {}
    again = batch.isolate(group, rejected(400, "VALIDATION_ERROR", body), done, set(), no_lookup)
    assert again == [[group[0]]]
    failure = done[1].failure
    assert failure is not None
    assert (failure.code, failure.fields) == ("INVALID_OPTION", ("lifecyclestage",))


def test_an_unexplained_validation_error_halves_the_batch():
    group = creates("a@x.example", "b@x.example", "c@x.example", "d@x.example")
    again = batch.isolate(group, rejected(400, "VALIDATION_ERROR"), {}, set(), no_lookup)
    assert again == [group[:2], group[2:]]


def test_a_conflict_is_explained_by_one_lookup():
    group = creates("a@x.example", "b@x.example", "c@x.example")
    done: dict[int, WriteOutcome] = {}
    ambiguous = {2}
    looked_up: list[list[str]] = []

    def lookup(emails: list[str]) -> dict[str, str]:
        looked_up.append(emails)
        return {"b@x.example": "20", "c@x.example": "30"}

    again = batch.isolate(group, rejected(409, "CONFLICT"), done, ambiguous, lookup)
    assert looked_up == [["a@x.example", "b@x.example", "c@x.example"]]
    assert again == [[group[0]]]
    conflict = done[1].failure
    assert conflict is not None
    assert (conflict.code, conflict.existing_id) == ("CONFLICT", "20")
    assert done[2] == WriteOutcome("k2", "30")  # an earlier, unanswered attempt created it


def test_a_lone_conflict_uses_the_existing_id_of_the_answer():
    group = creates("a@x.example")
    done: dict[int, WriteOutcome] = {}
    assert (
        batch.isolate_conflict(
            group, rejected(409, "CONFLICT", existing="11").failure, done, set(), no_lookup
        )
        == []
    )
    failure = done[0].failure
    assert failure is not None
    assert failure.existing_id == "11"


def test_any_other_refusal_fails_the_whole_group():
    group = creates("a@x.example", "b@x.example")
    done: dict[int, WriteOutcome] = {}
    assert batch.isolate(group, rejected(403, "MISSING_SCOPES"), done, set(), no_lookup) == []
    assert {o.failure.code for o in done.values() if o.failure} == {"MISSING_SCOPES"}


@pytest.mark.parametrize(
    ("exc", "reason", "ambiguous"),
    [
        (ConnectTimeoutError(), "connect timeout", False),
        (NewConnectionError(NO_POOL, "refused"), "connect timeout", False),  # a ConnectTimeoutError too
        (ReadTimeoutError(NO_POOL, "/", "read timed out"), "ReadTimeoutError", True),
        (ProtocolError("dropped"), "ProtocolError", True),
    ],
)
def test_connection_failures_are_retryable(exc, reason, ambiguous):
    transient = errors.connection_failure(exc).transient
    assert (transient.reason, transient.ambiguous) == (reason, ambiguous)
