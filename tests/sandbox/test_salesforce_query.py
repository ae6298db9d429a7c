"""SOQL over REST: query, queryAll, pagination with nextRecordsUrl, and errors."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _body(excinfo):
    """The decoded error body simple-salesforce attached to its exception."""
    return excinfo.value.content


def _create_leads(sf, count, prefix="Bulk"):
    out = []
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Lead"}, "LastName": f"{prefix}{i:05d}", "Company": "Paging"}
            for i in range(start, min(count, start + 200))
        ]
        results = sf.restful(
            "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )
        assert all(r["success"] for r in results)
        out += [r["id"] for r in results]
    return out


def test_query_with_parent_fields_and_filters(sf):
    account = sf.Account.create({"Name": "Parent Co", "Industry": "Energy"})["id"]
    sf.Contact.create({"LastName": "Kid", "AccountId": account, "Email": "kid@p.example"})
    sf.Contact.create({"LastName": "Orphan"})
    result = sf.query(
        "SELECT Id, LastName, Account.Name FROM Contact WHERE Account.Industry = 'Energy' ORDER BY LastName"
    )
    assert result["totalSize"] == 1
    assert result["done"] is True
    record = result["records"][0]
    assert record["LastName"] == "Kid"
    assert record["Account"]["Name"] == "Parent Co"
    assert record["Account"]["attributes"]["type"] == "Account"
    count = sf.query("SELECT COUNT() FROM Contact")
    assert count == {"totalSize": 2, "done": True, "records": []}


def test_query_all_includes_deleted_records(sf):
    keep = sf.Lead.create({"LastName": "Keep", "Company": "C"})["id"]
    gone = sf.Lead.create({"LastName": "Gone", "Company": "C"})["id"]
    sf.Lead.delete(gone)
    live = sf.query("SELECT Id FROM Lead")
    assert [r["Id"] for r in live["records"]] == [keep]
    everything = sf.query("SELECT Id, IsDeleted FROM Lead ORDER BY LastName", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in everything["records"]] == [(gone, True), (keep, False)]


def test_pagination_over_2000_rows(sf):
    created = _create_leads(sf, 2100)
    first = sf.query("SELECT Id, LastName FROM Lead ORDER BY LastName")
    assert first["totalSize"] == 2100
    assert first["done"] is False
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    everything = sf.query_all("SELECT Id, LastName FROM Lead ORDER BY LastName")
    assert everything["totalSize"] == 2100
    assert [r["Id"] for r in everything["records"]] == created


def test_batch_size_header(sf):
    _create_leads(sf, 450)
    page = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(page["records"]) == 200
    assert page["nextRecordsUrl"].endswith("-200")
    second = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200
    assert second["done"] is False
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert len(third["records"]) == 50
    assert third["done"] is True
    assert "nextRecordsUrl" not in third


def test_malformed_query_and_unknown_column(sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELEC Id FROM Lead")
    assert _body(err)[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Nope FROM Lead")
    assert _body(err)[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query_more("/services/data/v59.0/query/01g5g0000000000-2000", identifier_is_url=True)
    assert _body(err)[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
