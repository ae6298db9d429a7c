"""Pure parts of the Salesforce adapter: SOQL literals and chunking, dates, ids, headers, errors."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote_plus

import pytest

from shared.adapters.retry import RequestRejected, Retryable
from shared.adapters.salesforce import (
    MAX_QUERY_URL_CHARS,
    SfError,
    call_failure,
    in_lists,
    parse_datetime,
    parse_errors,
    parse_limit_info,
    soql_datetime,
    soql_literal,
    to_18,
    to_failure,
    to_record,
)
from shared.errors import ErrorCategory, SuspendedError


def load(api_specs, name):
    return json.loads((api_specs / "salesforce" / "responses" / name).read_text())


# -- SOQL --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain@example.com", "'plain@example.com'"),
        ("o'brien@example.com", "'o\\'brien@example.com'"),
        ("back\\slash@example.com", "'back\\\\slash@example.com'"),
        ("\\'", "'\\\\\\''"),  # a backslash then a quote: both escaped, neither swallowed
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("line\nbreak\ttab", "'line\\nbreak\\ttab'"),
        ("100%_sure", "'100%_sure'"),  # LIKE wildcards mean nothing in = / IN
    ],
)
def test_soql_literal_escapes(value, literal):
    assert soql_literal(value) == literal


def test_in_lists_stay_under_the_url_budget_and_keep_every_value():
    literals = [soql_literal(f"person{i:05d}.{'x' * (i % 40)}@example.com") for i in range(2000)]
    fixed = len(quote_plus("SELECT Id, Email FROM Contact WHERE Email IN ()"))
    lists = in_lists(literals, fixed_chars=fixed)
    assert len(lists) > 1
    assert [x for chunk in lists for x in chunk] == literals  # nothing lost, order kept
    for chunk in lists:
        assert fixed + len(quote_plus(", ".join(chunk))) <= MAX_QUERY_URL_CHARS


def test_in_lists_puts_an_oversized_literal_alone():
    huge = soql_literal("y" * 500 + "@example.com")
    lists = in_lists(["'a@b.c'", huge, "'d@e.f'"], fixed_chars=50, budget=300)
    assert lists == [["'a@b.c'"], [huge], ["'d@e.f'"]]


def test_soql_datetime_is_utc_and_shows_milliseconds_only_when_present():
    paris = dt.timezone(dt.timedelta(hours=1))
    assert soql_datetime(dt.datetime(2026, 3, 1, 10, 0, 5, tzinfo=paris)) == "2026-03-01T09:00:05Z"
    assert (
        soql_datetime(dt.datetime(2026, 3, 1, 9, 0, 5, 123456, tzinfo=dt.UTC)) == "2026-03-01T09:00:05.123Z"
    )
    with pytest.raises(ValueError, match="aware"):
        soql_datetime(dt.datetime(2026, 3, 1))


@pytest.mark.parametrize(
    "text",
    ["2026-11-28T20:18:04.000+0000", "2026-11-28T20:18:04Z", "2026-11-28T21:18:04.000+01:00"],
)
def test_parse_datetime_forms(text):
    assert parse_datetime(text) == dt.datetime(2026, 11, 28, 20, 18, 4, tzinfo=dt.UTC)
    assert parse_datetime(text).tzinfo is not None


def test_to_record_strips_attributes_and_parses_dates(api_specs):
    row = {
        **load(api_specs, "query_success_response.json")["records"][0],
        "Id": "001A0000006Vm9r",
        "CreatedDate": "2026-01-02T03:04:05.000+0000",
        "LastModifiedDate": "2026-02-02T03:04:05.000+0000",
    }
    record = to_record("Whizbang", row)
    assert record.id == "001A0000006Vm9rIAC"
    assert "attributes" not in record.fields
    assert "attributes" not in record.fields["ParentWhizbang__r"]
    assert record.fields["Text_Label"] == "Hi there!"
    assert record.created == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert record.last_modified > record.created


# -- ids and headers ---------------------------------------------------------------------------
def test_to_18_matches_the_case_safe_checksum():
    assert to_18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert to_18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    assert to_18("00Q5g00000AbCdE") != to_18("00Q5g00000abcde")
    with pytest.raises(ValueError, match="not a Salesforce id"):
        to_18("001'; DROP")


@pytest.mark.parametrize(
    ("header", "usage"),
    [
        ("api-usage=18/5000", (18, 5000)),
        ("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", (25, 5000)),
        ("per-app-api-usage=17/250(appName=x); api-usage=30/15000", (30, 15000)),
        ("per-app-api-usage=17/250(appName=x)", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_limit_info(header, usage):
    assert parse_limit_info(header) == usage


# -- errors ------------------------------------------------------------------------------------
def test_recorded_error_bodies_parse(api_specs):
    write = parse_errors(load(api_specs, "write_error_response.json"))
    assert write == [SfError("INVALID_FIELD", "No such column 'foo' on sobject of type Bar")]
    single = parse_errors(load(api_specs, "composite_sobjects_error_response.json"))
    assert [e.code for e in single] == ["INVALID_FIELD"]
    assert parse_errors({"error": "invalid_grant", "error_description": "expired"}) == [
        SfError("invalid_grant", "expired")
    ]


def test_a_refused_request_is_a_classified_rejection(api_specs):
    body = load(api_specs, "query_error_response.json")
    error = call_failure(400, parse_errors(body), body)
    assert isinstance(error, RequestRejected)
    assert error.failure.code == "INVALID_FIELD"
    assert error.failure.category is ErrorCategory.PROPERTY_VALUES
    assert error.failure.http_status == 400
    assert error.body == body


def test_collection_record_errors_map_to_failures():
    result = {
        "id": None,
        "success": False,
        "errors": [
            {"statusCode": "STRING_TOO_LONG", "message": "Title: data value too large", "fields": ["Title"]},
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            },
        ],
    }
    failure = to_failure(parse_errors(result["errors"]))
    assert failure.code == "STRING_TOO_LONG"
    assert failure.category is ErrorCategory.PROPERTY_VALUES
    assert failure.fields == ("Title", "LastName")
    assert "Required fields are missing" in failure.message
    assert not failure.retryable


def test_duplicates_detected_names_the_existing_record():
    error = {
        "statusCode": "DUPLICATES_DETECTED",
        "message": "Use one of these records?",
        "fields": [],
        "duplicateResult": {
            "allowSave": False,
            "matchResults": [
                {"matchRecords": [{"record": {"attributes": {"type": "Lead"}, "Id": "00Q5g0000001AAAEA2"}}]}
            ],
        },
    }
    failure = to_failure(parse_errors([error]))
    assert failure.category is ErrorCategory.DUPLICATES
    assert failure.existing_id == "00Q5g0000001AAAEA2"


@pytest.mark.parametrize(
    ("code", "status", "hint"),
    [
        ("API_DISABLED_FOR_ORG", 403, "enable API access or upgrade"),
        ("REQUEST_LIMIT_EXCEEDED", 403, "daily API requests (15000/15000)"),
        ("API_CURRENTLY_DISABLED", 403, "API Enabled"),
    ],
)
def test_suspending_codes(code, status, hint):
    error = call_failure(status, [SfError(code, "refused")], usage=(15000, 15000))
    assert isinstance(error, SuspendedError)
    assert error.code == code
    assert error.system == "salesforce"
    assert hint in error.reason


def test_the_concurrent_request_limit_is_transient_not_a_suspension():
    error = call_failure(403, [SfError("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")])
    assert isinstance(error, Retryable)


def test_transient_call_failures():
    throttled = call_failure(429, [SfError("TOO_MANY_REQUESTS", "slow down")], retry_after=2.0)
    assert isinstance(throttled, Retryable)
    assert throttled.transient.retry_after == 2.0
    assert not throttled.transient.ambiguous
    crashed = call_failure(500, [SfError("UNKNOWN_EXCEPTION", "oops")])
    assert isinstance(crashed, Retryable)
    assert crashed.transient.ambiguous  # a 500 on a write may have been applied
    unavailable = call_failure(503, [SfError("SERVER_UNAVAILABLE", "later")])
    assert isinstance(unavailable, Retryable)
    assert not unavailable.transient.ambiguous
    locked = call_failure(400, [SfError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")])
    assert isinstance(locked, Retryable)
