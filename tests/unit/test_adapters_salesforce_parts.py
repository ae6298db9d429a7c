"""The Salesforce adapter's pure modules on their own: the queries it builds (soql), how a collection
answer settles each record (settle), and how transport failures map to the domain's (errors)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote_plus

import pytest
import requests

from shared.adapters.retry import Transient
from shared.adapters.salesforce import errors, parse, settle, soql
from shared.errors import AuthenticationError, ErrorCategory
from shared.ports import RecordWrite, WriteOutcome

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
LEAD_ID = "00Q000000000001EAA"


# -- soql --------------------------------------------------------------------------------------
def test_by_email_queries_exclude_converted_leads_only():
    lead = soql.by_email_queries("Lead", ["Id", "Email"], ["a@x.example"])
    contact = soql.by_email_queries("Contact", ["Id", "Email"], ["a@x.example"])
    assert lead == ["SELECT Id, Email FROM Lead WHERE Email IN ('a@x.example') AND IsConverted = false"]
    assert contact == ["SELECT Id, Email FROM Contact WHERE Email IN ('a@x.example')"]


def test_by_email_queries_stay_under_the_url_budget_and_keep_every_email():
    emails = [f"person{i:04d}@long-domain-name.example" for i in range(1000)]
    queries = soql.by_email_queries("Contact", ["Id"], emails)
    assert len(queries) > 1
    assert all(len(quote_plus(q)) <= soql.MAX_QUERY_URL_CHARS for q in queries)
    assert sum(q.count("@") for q in queries) == len(emails)


def test_query_builders_refuse_bad_object_names():
    with pytest.raises(ValueError, match="sObject or field name"):
        soql.by_email_queries("Lead; DELETE", ["Id"], ["a@x.example"])
    with pytest.raises(ValueError, match="sObject or field name"):
        soql.merged_away_queries("Lead'", [LEAD_ID])


def test_created_since_queries_name_the_creator_when_known():
    with_user = soql.created_since_queries("Lead", ["a@x.example"], T0, "005000000000001AAA")
    without = soql.created_since_queries("Lead", ["a@x.example"], T0, None)
    assert with_user == [
        "SELECT Id, Email, CreatedDate FROM Lead WHERE Email IN ('a@x.example') AND CreatedDate >= "
        "2026-05-01T12:00:00Z AND CreatedById = '005000000000001AAA' ORDER BY CreatedDate, Id"
    ]
    assert "CreatedById" not in without[0]


def test_merged_away_and_modified_queries():
    assert soql.merged_away_queries("Contact", [LEAD_ID]) == [
        f"SELECT Id, MasterRecordId FROM Contact WHERE IsDeleted = true AND Id IN ('{LEAD_ID}')"  # noqa: S608
    ]
    assert soql.modified_after_query("Lead", ["Id", "SystemModstamp"], T0, 50) == (
        "SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp > 2026-05-01T12:00:00Z "
        "ORDER BY SystemModstamp, Id LIMIT 50"
    )
    assert soql.modified_at_query("Lead", ["Id"], T0, LEAD_ID) == (
        f"SELECT Id FROM Lead WHERE SystemModstamp = 2026-05-01T12:00:00Z AND Id > '{LEAD_ID}' ORDER BY Id"  # noqa: S608
    )


def test_the_records_of_an_owner_unconverted_leads_only():
    owner = "00G5g0000004C92EAE"
    assert soql.owned_by_query("Lead", owner) == (
        f"SELECT Id FROM Lead WHERE OwnerId = '{owner}' AND IsConverted = false ORDER BY Id"  # noqa: S608
    )
    assert soql.owned_by_query("Contact", "005' OR Name != '") == (
        "SELECT Id FROM Contact WHERE OwnerId = '005\\' OR Name != \\'' ORDER BY Id"  # quoted, not injected
    )


def test_select_list_puts_required_first_once_each():
    assert soql.select_list(["email", "Phone", "Id"], ("Id", "Email")) == ["Id", "Email", "Phone"]
    with pytest.raises(ValueError, match="field name"):
        soql.select_list(["Bad Name"], ())


def test_owner_queries_read_users_and_queues():
    users, queues = soql.owner_queries()
    assert users.startswith("SELECT Id, Name, FirstName, LastName, Email, UserType, IsActive FROM User")
    assert queues == "SELECT Id, Name, Email FROM Group WHERE Type = 'Queue'"


# -- settle ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("write", "create", "code"),
    [
        (RecordWrite("k", None, {"LastName": "A"}), True, None),
        (RecordWrite("k", LEAD_ID, {"LastName": "A"}), False, None),
        (RecordWrite("k", LEAD_ID, {"LastName": "A"}), True, "INVALID_WRITE"),
        (RecordWrite("k", None, {"LastName": "A"}), False, "INVALID_WRITE"),
        (RecordWrite("k", None, {"Last Name": "A"}), True, "INVALID_FIELD"),
        (RecordWrite("k", None, {"id": "x"}), True, "INVALID_FIELD"),
        (RecordWrite("k", "00Q'", {"LastName": "A"}), False, "MALFORMED_ID"),
    ],
)
def test_write_problem(write, create, code):
    problem = settle.write_problem(write, create=create)
    assert (problem.code if problem else None) == code


def test_payload_carries_the_type_and_the_id():
    assert settle.payload("Lead", RecordWrite("k", LEAD_ID, {"LastName": "A"})) == {
        "attributes": {"type": "Lead"},
        "LastName": "A",
        "Id": LEAD_ID,
    }


def test_apply_results_settles_each_record_and_returns_the_locked_ones():
    pending = [(i, RecordWrite(f"k{i}", None, {"LastName": str(i)})) for i in range(4)]
    results = [
        {"success": True, "id": "00Q000000000001"},
        {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]},
        {"success": False, "errors": [{"statusCode": "STRING_TOO_LONG", "message": "long", "fields": ["X"]}]},
    ]  # nothing for the fourth
    done: dict[int, WriteOutcome] = {}
    locked = settle.apply_results(pending, results, done)
    assert locked == [pending[1]]
    assert done[0].record_id == LEAD_ID  # in 18 characters
    too_long, missing = done[2].failure, done[3].failure
    assert too_long is not None
    assert too_long.code == "STRING_TOO_LONG"
    assert missing is not None
    assert (missing.code, missing.retryable) == ("NO_RESULT", True)


def test_a_found_create_settles_the_oldest_pending_write_with_its_email():
    pending = [
        (0, RecordWrite("a", None, {"Email": "Ann@X.example"})),
        (1, RecordWrite("b", None, {"Email": "ann@x.example"})),
        (2, RecordWrite("c", None, {"LastName": "no email"})),
    ]
    candidates = settle.by_email(pending)
    assert list(candidates) == ["ann@x.example"]
    done: dict[int, WriteOutcome] = {}
    settled = settle.settle_created([{"Id": "00Q000000000001", "Email": "ANN@x.example"}], candidates, done)
    assert settled == {0}
    assert done == {0: WriteOutcome("a", LEAD_ID)}


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "reason", "ambiguous"),
    [
        (requests.ConnectTimeout(), "connect timeout", False),
        (requests.ReadTimeout(), "timeout", True),
        (requests.ConnectionError(), "connection error (ConnectionError)", True),
    ],
)
def test_connection_failures_are_retryable(exc, reason, ambiguous):
    retryable = errors.connection_failure(exc)
    assert retryable is not None
    assert (retryable.transient.reason, retryable.transient.ambiguous) == (reason, ambiguous)


def test_a_certificate_problem_is_not_retried():
    assert errors.connection_failure(requests.exceptions.SSLError()) is None


def test_an_expired_session_is_refreshed_once_then_refused():
    expired = parse.parse_errors([{"errorCode": "INVALID_SESSION_ID", "message": "expired"}])
    assert errors.refreshable(401, expired)
    assert errors.refreshable(401, [])
    assert not errors.refreshable(403, expired)
    refused = errors.session_refused(expired)
    assert isinstance(refused, AuthenticationError)
    assert "INVALID_SESSION_ID" in str(refused)


def test_gave_up_is_retryable_and_says_why():
    ambiguous = errors.gave_up(Transient("timeout", ambiguous=True), True)
    assert (ambiguous.code, ambiguous.retryable) == ("AMBIGUOUS_CREATE", True)
    limited = errors.gave_up(Transient("429 REQUEST_LIMIT"), False)
    assert (limited.code, limited.retryable) == ("REQUEST_LIMIT", True)
    assert limited.category is ErrorCategory.API_LIMIT
