"""SalesforceAdapter with the real simple-salesforce client against the sandbox: tokens, round trips,
batching (counted by the sandbox), per-record failures, retries under faults, ambiguous creates,
suspension and session refresh."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.adapters.auth import SalesforceToken, SalesforceTokenProvider
from shared.adapters.retry import Retrier, RetryPolicy, WriteSuspended
from shared.adapters.salesforce import CLIENT_NAME, SalesforceAdapter
from shared.adapters.secrets import SalesforceSecret
from shared.errors import AuthenticationError, ErrorCategory, SuspendedError
from shared.ports import ModifiedRead, RecordWrite
from tests.memory_state import MemoryCache

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
POLICY = RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05, max_total_wait=60)


class Box:
    """The sandbox's Salesforce side: control endpoints and call statistics."""

    def __init__(self, sandbox: Any) -> None:
        self.info = sandbox.info.salesforce
        self.url = sandbox.salesforce_url
        self.ca = str(sandbox.tls.ca_cert)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method, f"{self.url}/_sandbox/{path}", json=body, verify=self.ca, timeout=5
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def calls(self) -> dict[str, int]:
        calls: dict[str, int] = self.control("GET", "stats")["calls"]
        return calls

    def reset_stats(self) -> None:
        requests.delete(f"{self.url}/_sandbox/stats", verify=self.ca, timeout=5)

    def secret(self, **changes: Any) -> SalesforceSecret:
        base = {
            "login_url": self.info["login_url"],
            "client_id": self.info["client_id"],
            "client_secret": self.info["client_secret"],
        }
        return SalesforceSecret.model_validate({**base, **changes})


@pytest.fixture
def box(fresh_sandbox) -> Box:
    return Box(fresh_sandbox)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def make(box, sf_session, slept):
    def build(session: requests.Session | None = None, **kwargs: Any) -> SalesforceAdapter:
        retrier = Retrier(POLICY, sleep=slept.append)
        tokens = SalesforceTokenProvider(
            kwargs.pop("secret", None) or box.secret(),
            session=session or sf_session,
            retrier=retrier,
            timeout=5,
            token=kwargs.pop("token", None),
            cache=kwargs.get("cache"),
        )
        return SalesforceAdapter(tokens, timeout=5, **kwargs)

    return build


def leads(count: int, prefix: str = "lead", **extra: Any) -> list[RecordWrite]:
    return [
        RecordWrite(
            f"k{i}",
            None,
            {"LastName": f"Last{i}", "Company": "Acme", "Email": f"{prefix}{i}@Example.com", **extra},
        )
        for i in range(count)
    ]


COLLECTION_CREATE = "POST /services/data/{version}/composite/sobjects"


# -- tokens ------------------------------------------------------------------------------------
def test_client_credentials_token_and_lead_round_trip(make, box):
    adapter = make()
    created = adapter.create("Lead", leads(3))
    assert all(o.ok for o in created)
    ids = [o.record_id for o in created]
    assert all(i is not None and len(i) == 18 and i.startswith("00Q") for i in ids)

    got = adapter.retrieve("Lead", [ids[0][:15], ids[1], "00Q000000000000AAA"], ["Email", "LastName"])
    assert set(got) == {ids[0], ids[1]}  # 15-char ids come back under the 18-char id; unknown ids are absent
    assert got[ids[1]].fields["LastName"] == "Last1"
    assert got[ids[1]].created.tzinfo is not None

    found = adapter.find_by_email("Lead", ["  LEAD2@example.COM ", "nobody@example.com"], ["LastName"])
    assert [r.id for r in found] == [ids[2]]

    updated = adapter.update("Lead", [RecordWrite("u", ids[2], {"Title": "CFO", "Phone": None})])
    assert updated[0].ok
    assert updated[0].record_id == ids[2]
    assert adapter.retrieve("Lead", [ids[2]], ["Title"])[ids[2]].fields["Title"] == "CFO"

    modified = adapter.modified_since("Lead", EPOCH, ["Email"], 10)
    assert {r.id for r in modified} == set(ids)
    stamps = [r.fields["SystemModstamp"] for r in modified]
    assert stamps == sorted(stamps)
    assert modified[-1].id == ids[2]  # updated last
    assert adapter.modified_since("Lead", modified[-1].last_modified + dt.timedelta(seconds=1), [], 10) == []

    used, limit = adapter.api_usage() or (0, 0)
    assert 0 < used <= limit
    assert adapter.calls.by_operation["token"] == 1


def test_contact_round_trip(make):
    adapter = make()
    created = adapter.create(
        "Contact", [RecordWrite("c", None, {"LastName": "Lovelace", "Email": "ada@example.com"})]
    )
    contact_id = created[0].record_id
    assert contact_id is not None
    assert contact_id.startswith("003")
    assert [r.id for r in adapter.find_by_email("Contact", ["ADA@example.com"], ["LastName"])] == [contact_id]
    assert adapter.update("Contact", [RecordWrite("c", contact_id, {"Title": "Countess"})])[0].ok
    assert adapter.retrieve("Contact", [contact_id], ["Title"])[contact_id].fields["Title"] == "Countess"


def test_jwt_bearer_token(make, box):
    key = Path(box.info["jwt_private_key_file"]).read_text()
    secret = box.secret(client_secret=None, jwt_private_key=key, username=box.info["username"])
    adapter = make(secret=secret)
    assert adapter.create("Lead", leads(1))[0].ok
    assert adapter.tokens.token().user_id is not None

    wrong_audience = make(secret=secret.model_copy(update={"audience": "https://elsewhere.example"}))
    with pytest.raises(AuthenticationError, match="audience"):
        wrong_audience.retrieve("Lead", ["00Q000000000000AAA"], [])


def test_refused_client_credentials_are_an_authentication_error(make, box):
    adapter = make(secret=box.secret(client_secret="wrong"))
    with pytest.raises(AuthenticationError, match="invalid_client"):
        adapter.find_by_email("Lead", ["a@example.com"], [])


def test_an_expired_session_is_refreshed_once(make, box):
    stale = SalesforceToken("00Dstale!token", box.url)
    adapter = make(token=stale)
    assert adapter.create("Lead", leads(2))[0].ok
    assert adapter.calls.by_operation["token"] == 1
    assert adapter.tokens.token() != stale


def test_a_session_refused_after_refresh_is_an_authentication_error(make, box, sf_session):
    class RefusedProvider(SalesforceTokenProvider):
        def refresh(self) -> SalesforceToken:
            self.calls.record("token")
            self._token = SalesforceToken("00Dstill!bad", box.url)
            return self._token

    adapter = SalesforceAdapter(RefusedProvider(box.secret(), session=sf_session, retrier=Retrier(POLICY)))
    with pytest.raises(AuthenticationError):
        adapter.retrieve("Lead", ["00Q000000000000AAA"], [])
    assert adapter.calls.by_operation["token"] == 2  # the first token and one refresh, no more


# -- queries -----------------------------------------------------------------------------------
def test_find_by_email_escapes_literals_and_skips_converted_leads(make, box):
    adapter = make()
    emails = ["o'neil@example.com", "plain@example.com", "converted@example.com"]
    writes = [
        RecordWrite(str(i), None, {"LastName": "X", "Company": "C", "Email": e}) for i, e in enumerate(emails)
    ]
    ids = [o.record_id for o in adapter.create("Lead", writes)]
    assert all(ids)
    box.control("POST", "convert-lead", {"leadId": ids[2]})
    # a backslash cannot be in a Salesforce email, but the query holding it must still parse
    found = adapter.find_by_email("Lead", [*emails, "back\\slash'@example.com"], ["IsConverted"])
    assert sorted(r.id for r in found) == sorted(ids[:2])
    assert {r.fields["Email"] for r in found} == set(emails[:2])


def test_many_emails_travel_in_one_composite_call(make, box):
    adapter = make()
    emails = [f"someone.with.a.rather.long.address.{i:04d}@subdomain.example.com" for i in range(600)]
    writes = [
        RecordWrite(str(i), None, {"LastName": "X", "Company": "C", "Email": e}) for i, e in enumerate(emails)
    ]
    assert all(o.ok for o in adapter.create("Lead", writes))
    adapter.describe_fields("Lead")
    box.reset_stats()
    found = adapter.find_by_email("Lead", emails, [])
    assert len(found) == 600  # several IN lists (~44,000 URL characters), one call
    calls = box.calls()
    assert calls.get("POST /services/data/{version}/composite") == 1
    assert "GET /services/data/{version}/query" not in calls


def test_leads_and_contacts_are_looked_up_by_email_in_one_call(make, box):
    adapter = make()
    assert all(o.ok for o in adapter.create("Lead", leads(3)))
    contact = RecordWrite("c", None, {"LastName": "C", "Email": "LEAD1@example.com"})
    (made,) = adapter.create("Contact", [contact])
    adapter.describe_fields("Lead")  # (described once per process)
    box.reset_stats()
    found = adapter.find_people_by_email(
        ["lead0@example.com", "lead1@example.com", "nobody@example.com"],
        {"Lead": ["LastName"], "Contact": ["LastName"]},
    )
    assert sorted((r.sobject, r.fields["Email"].lower()) for r in found) == [
        ("Contact", "lead1@example.com"),
        ("Lead", "lead0@example.com"),
        ("Lead", "lead1@example.com"),
    ]
    assert next(r for r in found if r.sobject == "Contact").id == made.record_id
    assert box.calls() == {"POST /services/data/{version}/composite": 1}


def test_lead_and_contact_are_described_together_once(make, box):
    adapter = make()
    adapter.find_by_email("Lead", ["a@example.com"], [])  # fetches the token
    fresh = make()
    box.reset_stats()
    assert "lastname" in fresh.describe_fields("Lead")
    assert fresh.existing_fields("Contact", ["LastName", "NoSuchField__c"]) == ["LastName"]
    assert fresh.describe_fields("Contact")["email"]["type"] == "email"
    calls = box.calls()
    assert calls.get("POST /services/data/{version}/composite") == 1
    assert "GET /services/data/{version}/sobjects/{sobject}/describe" not in calls


def test_containers_sharing_the_cache_ask_for_one_token_and_one_describe(make, box):
    cache = MemoryCache()
    box.reset_stats()
    first = make(cache=cache)
    assert first.find_by_email("Lead", ["a@example.com"], ["LastName"]) == []
    for _ in range(3):  # other containers, cold
        assert make(cache=cache).find_by_email("Lead", ["b@example.com"], ["Title"]) == []
    calls = box.calls()
    assert calls["POST /services/oauth2/token"] == 1
    # one describe (Lead and Contact in one Composite call), then one query per container
    assert calls["POST /services/data/{version}/composite"] == 1
    assert calls["GET /services/data/{version}/query"] == 4
    fresh = make()  # no shared cache: its own token and describe
    fresh.find_by_email("Lead", ["c@example.com"], [])
    assert box.calls()["POST /services/oauth2/token"] == 2


def test_a_shared_token_salesforce_refuses_is_replaced_for_everyone(make, box):
    cache = MemoryCache()
    first = make(cache=cache)
    stale = SalesforceToken("00Dstale!token", box.url)  # e.g. the org's session timeout passed
    cache.put(first.tokens.cache_key, dataclasses.asdict(stale), 600)
    second = make(cache=cache)
    second.find_by_email("Lead", ["a@example.com"], [])  # refused once, refreshed, stored
    assert second.tokens.token().access_token != stale.access_token
    assert make(cache=cache).tokens.token().access_token == second.tokens.token().access_token


def test_modified_since_completes_the_last_timestamp(make):
    adapter = make()
    assert all(o.ok for o in adapter.create("Lead", leads(30)))  # one transaction: one SystemModstamp
    batch = adapter.modified_since("Lead", EPOCH, [], 10)
    assert len(batch) == 30
    assert len({r.fields["SystemModstamp"] for r in batch}) == 1


def test_a_poll_of_several_objects_reads_their_first_pages_in_one_composite_call(make, box):
    adapter = make()
    assert all(o.ok for o in adapter.create("Lead", leads(12)))  # one transaction: one SystemModstamp
    made = adapter.create(
        "Contact", [RecordWrite("c", None, {"LastName": "Roe", "Email": "roe@example.com"})]
    )
    adapter.describe_fields("Lead")  # described already, as a poll function's warm container has
    box.reset_stats()
    reads = [ModifiedRead(sobject, EPOCH, ["Email"]) for sobject in ("Lead", "Contact")]
    reads.append(ModifiedRead("Account", EPOCH, ["Id", "SystemModstamp"]))  # no describe needed
    lead_page, contact_page, account_page = adapter.modified_since_each(reads, 5)
    assert len(lead_page) == 12  # a full page, completed with the rest of its last timestamp
    assert [r.id for r in contact_page] == [made[0].record_id]
    assert contact_page[0].fields["Email"] == "roe@example.com"
    assert account_page == []
    # the three first queries in one call (Account, read by system fields only, is not described);
    # the Leads' tie in one more query
    assert box.calls() == {
        "POST /services/data/{version}/composite": 1,
        "GET /services/data/{version}/query": 1,
    }


# -- batching ----------------------------------------------------------------------------------
def test_450_records_take_three_collection_calls(make, box):
    adapter = make()
    box.reset_stats()
    created = adapter.create("Lead", leads(450))
    assert all(o.ok for o in created)
    assert [o.key for o in created] == [f"k{i}" for i in range(450)]
    assert box.calls()[COLLECTION_CREATE] == 3
    box.reset_stats()
    ids = [o.record_id for o in created if o.record_id]
    assert len(adapter.retrieve("Lead", ids, ["Email"])) == 450
    assert len(adapter.find_by_email("Lead", [f"lead{i}@example.com" for i in range(450)], [])) == 450
    updated = adapter.update("Lead", [RecordWrite(str(i), rid, {"Title": "T"}) for i, rid in enumerate(ids)])
    assert all(o.ok for o in updated)
    assert box.calls() == {
        "POST /services/data/{version}/composite": 1,  # Lead and Contact described, once per process
        "POST /services/data/{version}/composite/sobjects/{sobject}": 1,
        "GET /services/data/{version}/query": 1,
        "PATCH /services/data/{version}/composite/sobjects": 3,
    }
    adapter.retrieve("Lead", ids[:5], ["Email", "Not_In_This_Org__c"])  # unknown fields are left out
    assert box.calls()["POST /services/data/{version}/composite"] == 1


def test_every_call_names_the_client_and_writes_carry_auto_assign(make, box, sf_session):
    sent: list[dict[str, str]] = []
    sf_session.hooks["response"].append(lambda r, *a, **k: sent.append(dict(r.request.headers)))
    adapter = make(auto_assign=False)
    lead_id = adapter.create("Lead", leads(1))[0].record_id
    adapter.find_by_email("Lead", ["lead0@example.com"], [])
    api = [h for h in sent if "Authorization" in h]
    assert api
    assert all(h["Sforce-Call-Options"] == f"client={CLIENT_NAME}" for h in api)
    assert [h.get("Sforce-Auto-Assign") for h in api] == ["FALSE", None, None]  # create, describe, query
    origins = [
        e["detail"]["payload"]["ChangeEventHeader"]["changeOrigin"]
        for e in box.control("GET", "change-events?entity=Lead")["events"]
        if lead_id in e["detail"]["payload"]["ChangeEventHeader"]["recordIds"]
    ]
    assert origins
    assert all(o.endswith(f"client={CLIENT_NAME}") for o in origins)


# -- per-record failures -----------------------------------------------------------------------
def test_per_record_failures_are_classified(make, box):
    adapter = make()
    existing = adapter.create(
        "Lead", [RecordWrite("x", None, {"LastName": "A", "Company": "C", "Email": "dup@example.com"})]
    )
    box.control("POST", "settings", {"duplicate_rule": True})
    outcomes = adapter.create(
        "Lead",
        [
            RecordWrite("long", None, {"LastName": "B", "Company": "C", "Title": "x" * 300}),
            RecordWrite("pick", None, {"LastName": "C", "Company": "C", "Lifecycle_Stage__c": "bogus"}),
            RecordWrite("dup", None, {"LastName": "D", "Company": "C", "Email": "DUP@example.com"}),
            RecordWrite("fine", None, {"LastName": "E", "Company": "C"}),
        ],
    )
    failures = {o.key: o.failure for o in outcomes if o.failure}
    assert set(failures) == {"long", "pick", "dup"}
    assert failures["long"].code == "STRING_TOO_LONG"
    assert failures["long"].fields == ("Title",)
    assert failures["pick"].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert failures["long"].category is failures["pick"].category is ErrorCategory.PROPERTY_VALUES
    assert failures["dup"].code == "DUPLICATES_DETECTED"
    assert failures["dup"].category is ErrorCategory.DUPLICATES
    assert failures["dup"].existing_id == existing[0].record_id
    assert not any(f.retryable for f in failures.values())
    assert outcomes[3].ok


# -- transient failures ------------------------------------------------------------------------
def test_faults_are_retried_to_the_same_result(make, box, slept):
    adapter = make()
    box.control(
        "POST",
        "faults",
        {"rate": 0.3, "seed": 15, "kinds": ["429", "5xx", "timeout", "lock"], "timeout_seconds": 0.05},
    )
    created = adapter.create("Lead", leads(450))
    ids = [o.record_id for o in created]
    updated = adapter.update(
        "Lead", [RecordWrite(str(i), rid, {"Title": "Retried"}) for i, rid in enumerate(ids)]
    )
    got = adapter.retrieve("Lead", [i for i in ids if i], ["Title", "Email"])
    injected = box.control("GET", "faults")["injected"]
    box.control("POST", "faults", {"rate": 0})
    assert all(o.ok for o in created)
    assert all(o.ok for o in updated)
    assert len(got) == 450
    assert {r.fields["Title"] for r in got.values()} == {"Retried"}
    every = adapter.find_by_email("Lead", [f"lead{i}@example.com" for i in range(450)], [])
    assert len(every) == 450  # nothing created twice
    assert set(injected) == {"429", "5xx", "timeout", "lock"}  # seed 15 hits every kind
    assert 1.0 in slept  # the 429's Retry-After: 1 was honoured


class LosingSession(requests.Session):
    """Sends the first collection create, then pretends the answer never came (a read timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if method == "POST" and str(url).endswith("/composite/sobjects") and not self.lost:
            self.lost += 1
            raise requests.ReadTimeout("read timed out")
        return response


def test_a_create_whose_answer_was_lost_is_not_created_twice(make, box):
    session = LosingSession()
    session.verify, session.trust_env = box.ca, False
    adapter = make(session=session)
    created = adapter.create("Lead", leads(5))
    assert session.lost == 1
    assert all(o.ok for o in created)
    found = adapter.find_by_email("Lead", [f"lead{i}@example.com" for i in range(5)], [])
    assert sorted(r.id for r in found) == sorted(o.record_id for o in created if o.record_id)
    assert adapter.calls.by_operation["create"] == 1  # found by email, not sent again
    assert adapter.calls.by_operation["find_created"] == 1


# -- suspension --------------------------------------------------------------------------------
def test_an_org_without_api_access_suspends(make, box):
    box.control("POST", "settings", {"edition": "Professional"})
    with pytest.raises(SuspendedError) as info:
        make().find_by_email("Lead", ["a@example.com"], [])
    assert info.value.code == "API_DISABLED_FOR_ORG"
    assert "enable API access or upgrade" in info.value.reason


def test_the_daily_limit_suspends_and_keeps_what_was_written(make, box):
    adapter = make()
    box.control("POST", "settings", {"daily_api_limit": 1})
    with pytest.raises(WriteSuspended) as info:
        adapter.create("Lead", leads(250))
    assert info.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert "daily API requests (1/1)" in info.value.reason
    assert len(info.value.outcomes) == 200
    assert all(o.ok for o in info.value.outcomes)
    with pytest.raises(SuspendedError):
        adapter.retrieve("Lead", [o.record_id for o in info.value.outcomes if o.record_id], [])


def test_the_probe_is_one_limits_call_that_reports_the_usage(make, box):
    box.control("POST", "settings", {"daily_api_limit": 2000, "api_usage": 700})
    adapter = make()
    assert adapter.probe() == (701, 2000)
    assert adapter.calls.by_operation["limits"] == 1


def test_revoked_credentials_are_refused_with_the_code_that_says_so(make, box):
    adapter = make()
    adapter.probe()
    box.control("POST", "credentials", {"revoked": True})
    with pytest.raises(AuthenticationError) as info:
        adapter.probe()  # the session is refused, and so is a fresh token
    assert (info.value.system, info.value.code) == ("salesforce", "invalid_grant")
    box.control("POST", "credentials", {"revoked": False})
    assert adapter.probe() is not None
