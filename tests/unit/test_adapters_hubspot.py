"""The HubSpot adapter's logic without a network: error parsing, culprit isolation, ambiguous creates,
search paging past the 10,000-result cap, pacing. The client's BatchApi/SearchApi are replaced by
in-memory fakes that answer the way HubSpot does (whole-batch 400/409, lost answers)."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from hubspot.crm.contacts.exceptions import ApiException
from urllib3.exceptions import ReadTimeoutError

from shared.adapters.hubspot import (
    HubSpotAdapter,
    Pacer,
    PropertyIssue,
    call_failure,
    culprits,
    hubspot_value,
    parse_existing_id,
    parse_property_issues,
    to_contact,
)
from shared.adapters.retry import RequestRejected, Retrier, Retryable, RetryPolicy
from shared.errors import AuthenticationError, ErrorCategory, SuspendedError
from shared.ports import RecordWrite

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def api_error(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> ApiException:
    error = ApiException(status=status, reason="error")
    error.body = json.dumps(body)
    error.headers = headers or {}
    return error


def invalid_email(email: str) -> ApiException:
    issue = {
        "isValid": False,
        "message": f"Email address {email} is invalid",
        "error": "INVALID_EMAIL",
        "name": "email",
    }
    return api_error(
        400,
        {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Property values were not valid: " + json.dumps([issue]),
        },
    )


class FakeContacts:
    """HubSpot's contacts batch endpoints, in memory: one bad input fails the whole batch."""

    def __init__(self) -> None:
        self.by_email: dict[str, str] = {}
        self.calls: list[tuple[str, int]] = []
        self.lose_next_answer = False
        self.uninformative_errors = False

    def create(self, body: Any, **_: Any) -> Any:
        self.calls.append(("create", len(body.inputs)))
        for item in body.inputs:
            email = item.properties.get("email", "").strip().lower()  # HubSpot normalises emails
            if "@" not in email:
                if self.uninformative_errors:
                    raise api_error(
                        400, {"status": "error", "category": "VALIDATION_ERROR", "message": "invalid"}
                    )
                raise invalid_email(email)
            if email in self.by_email:
                existing = self.by_email[email]
                raise api_error(
                    409,
                    {"category": "CONFLICT", "message": f"Contact already exists. Existing ID: {existing}"},
                )
        results = []
        for item in reversed(body.inputs):  # HubSpot does not promise input order
            new_id = str(100 + len(self.by_email))
            self.by_email[item.properties["email"].strip().lower()] = new_id
            results.append(
                SimpleNamespace(id=new_id, properties=dict(item.properties), object_write_trace_id=None)
            )
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise ReadTimeoutError(None, "/crm/v3/objects/contacts/batch/create", "Read timed out.")  # type: ignore[arg-type]
        return SimpleNamespace(results=results, errors=None)

    def read(self, body: Any, archived: bool = False, **_: Any) -> Any:
        self.calls.append(("read", len(body.inputs)))
        assert body.id_property == "email"
        results = [
            SimpleNamespace(
                id=self.by_email[i.id],
                properties={"email": i.id},
                properties_with_history=None,
                updated_at=T0,
                archived=False,
            )
            for i in body.inputs
            if i.id in self.by_email
        ]
        return SimpleNamespace(results=results, errors=None)


def adapter(fake: FakeContacts | None = None, **kwargs: Any) -> HubSpotAdapter:
    hs = HubSpotAdapter(
        "token", retrier=Retrier(RetryPolicy(base_delay=0.0), sleep=lambda _s: None), **kwargs
    )
    hs._batch_api = fake or FakeContacts()
    hs._search_api = object()
    return hs


def creates(*emails: str) -> list[RecordWrite]:
    return [RecordWrite(f"k{i}", None, {"email": e, "firstname": f"F{i}"}) for i, e in enumerate(emails)]


# -- parsing -----------------------------------------------------------------------------------
def test_parse_existing_id_from_message_or_context():
    assert parse_existing_id("Contact already exists. Existing ID: 1234") == "1234"
    assert parse_existing_id("conflict", {"existingId": ["77"]}) == "77"
    assert parse_existing_id("A company with domain=x already exists. existing id: 9") == "9"
    assert parse_existing_id("Property values were not valid") is None


def test_parse_property_issues_both_shapes():
    structured = {
        "errors": [
            {
                "message": "bogus was not one of the allowed options",
                "code": "INVALID_OPTION",
                "context": {"propertyName": ["lifecyclestage"]},
            }
        ]
    }
    assert parse_property_issues(structured) == [
        PropertyIssue("lifecyclestage", "INVALID_OPTION", "bogus was not one of the allowed options")
    ]
    legacy = json.loads(invalid_email("nope").body)
    assert parse_property_issues(legacy) == [
        PropertyIssue("email", "INVALID_EMAIL", "Email address nope is invalid")
    ]
    assert parse_property_issues({"message": "Property values were not valid: not json"}) == []


def test_culprits_match_the_quoted_value_as_a_whole_token():
    items = list(enumerate(creates("a@x.com", "bad", "bad@x.com", "ok@x.com")))
    issue = PropertyIssue("email", "INVALID_EMAIL", "Email address bad is invalid")
    assert [i for i, _ in culprits(items, [issue])] == [1]  # not bad@x.com, which merely contains it
    missing = PropertyIssue(
        "favourite_colour", "PROPERTY_DOESNT_EXIST", 'Property "favourite_colour" does not exist'
    )
    with_property = [*items, (9, RecordWrite("k9", None, {"email": "c@x.com", "favourite_colour": "red"}))]
    assert [i for i, _ in culprits(with_property, [missing])] == [9]


@pytest.mark.parametrize(
    ("value", "text"), [(None, ""), (True, "true"), (False, "false"), (42, "42"), ("x", "x")]
)
def test_hubspot_values_are_strings_and_none_clears(value, text):
    assert hubspot_value(value) == text


def test_to_contact_takes_each_property_newest_history_entry():
    entry = lambda value, minutes: SimpleNamespace(value=value, timestamp=T0 + dt.timedelta(minutes=minutes))  # noqa: E731
    obj = SimpleNamespace(
        id="7",
        properties={"email": "a@x.com", "phone": "1"},
        updated_at=T0 + dt.timedelta(hours=1),
        archived=False,
        properties_with_history={"email": [entry("a@x.com", 30), entry("old@x.com", 5)], "phone": []},
    )
    contact = to_contact(obj, ["email", "phone", "company"])
    assert contact.property_changed_at["email"] == T0 + dt.timedelta(minutes=30)
    assert contact.property_changed_at["phone"] == contact.updated_at  # no history: updatedAt stands in
    assert contact.property_changed_at["company"] == contact.updated_at
    assert contact.updated_at.tzinfo is dt.UTC


# -- call failures -----------------------------------------------------------------------------
def test_call_failure_mapping():
    conflict = call_failure(
        409, {"category": "CONFLICT", "message": "Contact already exists. Existing ID: 5"}, {}
    )
    assert isinstance(conflict, RequestRejected)
    assert conflict.failure.existing_id == "5"
    assert conflict.failure.category is ErrorCategory.DUPLICATES
    throttled = call_failure(429, {"policyName": "TEN_SECONDLY_ROLLING"}, {"Retry-After": "3"})
    assert isinstance(throttled, Retryable)
    assert throttled.transient.retry_after == 3.0
    daily = call_failure(429, {"policyName": "DAILY", "errorType": "RATE_LIMIT"}, {"Retry-After": "40000"})
    assert isinstance(daily, SuspendedError)
    assert daily.system == "hubspot"
    server = call_failure(502, {}, {})
    assert isinstance(server, Retryable)
    assert server.transient.ambiguous
    assert isinstance(call_failure(401, {"message": "expired"}, {}), AuthenticationError)
    scopes = call_failure(
        403, {"category": "MISSING_SCOPES", "message": "missing crm.objects.contacts.write"}, {}
    )
    assert isinstance(scopes, RequestRejected)
    assert scopes.failure.category is ErrorCategory.PERMISSIONS


# -- writes ------------------------------------------------------------------------------------
def test_create_maps_results_by_email_whatever_their_order():
    fake = FakeContacts()
    outcomes = adapter(fake).create_contacts(creates("a@x.com", "b@x.com", "c@x.com"))
    assert [o.key for o in outcomes] == ["k0", "k1", "k2"]
    assert [o.record_id for o in outcomes] == [fake.by_email[e] for e in ("a@x.com", "b@x.com", "c@x.com")]


def test_one_invalid_input_is_set_aside_and_the_rest_created():
    fake = FakeContacts()
    outcomes = adapter(fake).create_contacts(creates("a@x.com", "broken", "c@x.com"))
    assert outcomes[1].failure is not None
    assert outcomes[1].failure.code == "INVALID_EMAIL"
    assert outcomes[1].failure.fields == ("email",)
    assert outcomes[0].ok
    assert outcomes[2].ok
    assert fake.calls == [("create", 3), ("create", 2)]


def test_unexplained_validation_errors_are_isolated_by_halving():
    fake = FakeContacts()
    fake.uninformative_errors = True
    emails = [f"p{i}@x.com" for i in range(16)]
    emails[3], emails[12] = "bad-3", "bad-12"
    outcomes = adapter(fake).create_contacts(creates(*emails))
    assert [o.key for o in outcomes if not o.ok] == ["k3", "k12"]
    assert all(o.failure.code == "VALIDATION_ERROR" for o in outcomes if o.failure)
    assert len(fake.by_email) == 14
    # halving costs about 2*log2(16) calls per bad input, plus the first: not one call per input
    assert len(fake.calls) <= 1 + 2 * 2 * 4


def test_existing_emails_fail_with_existing_id_after_one_lookup():
    fake = FakeContacts()
    fake.by_email.update({"b@x.com": "7", "d@x.com": "8"})
    outcomes = adapter(fake).create_contacts(creates("a@x.com", "b@x.com", "c@x.com", "d@x.com"))
    failed = {o.key: o.failure for o in outcomes if o.failure}
    assert {k: f.existing_id for k, f in failed.items()} == {"k1": "7", "k3": "8"}
    assert all(f.category is ErrorCategory.DUPLICATES and f.code == "CONFLICT" for f in failed.values())
    assert fake.calls == [("create", 4), ("read", 4), ("create", 2)]


def test_a_create_whose_answer_was_lost_resolves_to_the_created_contacts():
    fake = FakeContacts()
    fake.lose_next_answer = True  # HubSpot applied the batch, the client never heard back
    outcomes = adapter(fake).create_contacts(creates("a@x.com", "b@x.com"))
    assert all(o.ok for o in outcomes)
    assert [o.record_id for o in outcomes] == [fake.by_email["a@x.com"], fake.by_email["b@x.com"]]
    assert len(fake.by_email) == 2  # nothing created twice
    assert fake.calls == [("create", 2), ("create", 2), ("read", 2)]


def test_inputs_sharing_an_email_never_travel_in_one_batch():
    fake = FakeContacts()
    outcomes = adapter(fake).create_contacts(creates("a@x.com", " A@x.com", "b@x.com"))
    # HubSpot would refuse the whole batch for the duplicate; the second one goes later and conflicts
    assert outcomes[0].ok
    assert outcomes[2].ok
    assert outcomes[1].failure is not None
    assert outcomes[1].failure.existing_id == outcomes[0].record_id


def test_writes_with_the_wrong_shape_fail_without_a_call():
    fake = FakeContacts()
    outcomes = adapter(fake).update_contacts([RecordWrite("k", None, {"firstname": "x"})])
    assert outcomes[0].failure is not None
    assert outcomes[0].failure.code == "INVALID_WRITE"
    assert fake.calls == []


# -- search ------------------------------------------------------------------------------------
class FakeSearch:
    """Search over N contacts modified one per millisecond, with HubSpot's 10,000-result cap."""

    def __init__(self, count: int, same_stamp_from: int | None = None) -> None:
        base = int(T0.timestamp() * 1000)
        self.stamps = [
            base + (i if same_stamp_from is None else min(i, same_stamp_from)) for i in range(count)
        ]
        self.requests: list[tuple[str, int, int]] = []

    def page(self, props: list[str], operator: str, floor: int, after: int) -> Any:
        self.requests.append((operator, floor, after))
        assert after < 10_000
        hits = [i for i, s in enumerate(self.stamps) if (s > floor if operator == "GT" else s >= floor)]
        window = hits[after : min(after + 200, 10_000)]
        stamp = lambda i: dt.datetime.fromtimestamp(self.stamps[i] / 1000, dt.UTC).isoformat()  # noqa: E731
        results = [
            SimpleNamespace(
                id=str(i),
                properties={"hs_lastmodifieddate": stamp(i)},
                properties_with_history=None,
                updated_at=stamp(i),
                archived=False,
            )
            for i in window
        ]
        end = after + len(window)
        paging = (
            SimpleNamespace(next=SimpleNamespace(after=str(end))) if end < min(len(hits), 10_000) else None
        )
        return SimpleNamespace(total=len(hits), results=results, paging=paging)


def test_modified_since_continues_past_the_10000_result_cap():
    fake = FakeSearch(10_450)
    hs = adapter()
    hs._search = fake.page  # type: ignore[method-assign]
    found = hs.contacts_modified_since(T0 - dt.timedelta(seconds=1), ["email"], 20_000)
    assert [int(c.id) for c in found] == list(range(10_450))  # all, once, in order
    restarts = [r for r in fake.requests if r[0] == "GTE"]
    assert restarts
    assert restarts[0][2] == 0


def test_modified_since_stops_at_limit_but_completes_the_last_timestamp():
    fake = FakeSearch(600, same_stamp_from=250)  # contacts 250.. share one timestamp
    hs = adapter()
    hs._search = fake.page  # type: ignore[method-assign]
    assert len(hs.contacts_modified_since(T0 - dt.timedelta(seconds=1), [], 100)) == 100
    tied = hs.contacts_modified_since(T0 - dt.timedelta(seconds=1), [], 260)
    assert len(tied) == 600  # never split a timestamp between two reads


def test_pacer_spaces_calls():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    now[0] += 10
    pacer.wait()
    assert len(slept) == 4  # idle long enough: no wait
