"""API usage metering, editions without API access, injected faults and concurrent writes."""

from __future__ import annotations

import threading

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)


def _body(excinfo):
    """The decoded error body simple-salesforce attached to its exception."""
    return excinfo.value.content


def _control(sandbox, path, body):
    resp = requests.post(
        f"{sandbox.salesforce_url}/_sandbox/{path}", json=body, verify=str(sandbox.tls.ca_cert), timeout=5
    )
    resp.raise_for_status()
    return resp.json()


def test_usage_header_limits_resource_and_limit_exceeded(sf, fresh_sandbox):
    lead = sf.Lead
    lead.describe()
    assert lead.api_usage["api-usage"].used == 1
    assert lead.api_usage["api-usage"].total == 15000
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 2}
    _control(fresh_sandbox, "settings", {"daily_api_limit": 100, "api_usage": 99})
    lead.describe()
    assert lead.api_usage["api-usage"].used == 100
    assert lead.api_usage["api-usage"].total == 100
    with pytest.raises(SalesforceRefusedRequest) as err:
        lead.describe()
    assert err.value.status == 403
    assert _body(err) == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_edition_without_api_access(sf, fresh_sandbox):
    view = _control(fresh_sandbox, "settings", {"edition": "Professional"})
    assert view["api_access"] is False
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT Id FROM Lead")
    assert _body(err) == [
        {"message": "The REST API is not enabled for this Organization.", "errorCode": "API_DISABLED_FOR_ORG"}
    ]
    _control(fresh_sandbox, "settings", {"api_enabled": True})
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 0


def test_injected_429_and_5xx(sf, fresh_sandbox):
    _control(fresh_sandbox, "faults", {"rate": 1.0, "kinds": ["429"], "seed": 1})
    resp = sf.session.get(f"{sf.base_url}limits/", headers=sf.headers, timeout=5)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "1"
    assert resp.json()[0]["errorCode"] == "TOO_MANY_REQUESTS"
    _control(fresh_sandbox, "faults", {"rate": 1.0, "kinds": ["5xx"], "seed": 1})
    with pytest.raises(SalesforceGeneralError) as err:
        sf.Lead.describe()
    assert err.value.status == 503
    assert _body(err)[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_injected_lock_errors(sf, fresh_sandbox):
    lead = sf.Lead.create({"LastName": "Locked", "Company": "C"})["id"]
    _control(fresh_sandbox, "faults", {"rate": 1.0, "kinds": ["lock"], "seed": 3})
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.update(lead, {"Title": "x"})
    assert _body(err) == [
        {
            "message": f"unable to obtain exclusive access to this record or 1 records: {lead}",
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "fields": [],
        }
    ]
    records = [{"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "C"} for i in range(10)]
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    codes = {r["errors"][0]["statusCode"] for r in results if not r["success"]}
    assert codes == {"UNABLE_TO_LOCK_ROW"}
    assert any(r["success"] for r in results)
    _control(fresh_sandbox, "faults", {"rate": 0})
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 1 + sum(r["success"] for r in results)


def test_concurrent_creates_get_unique_ids(sf):
    created: list[str] = []
    errors: list[Exception] = []

    def worker(n):
        try:
            for i in range(50):
                created.append(sf.Lead.create({"LastName": f"T{n}-{i}", "Company": "Threads"})["id"])
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(created)) == 400
    queried = sf.query_all("SELECT Id FROM Lead")
    assert {r["Id"] for r in queried["records"]} == set(created)
