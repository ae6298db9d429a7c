"""sObject Collections, Composite and getUpdated/getDeleted through simple-salesforce's restful()."""

from __future__ import annotations

import datetime as dt

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _body(excinfo):
    """The decoded error body simple-salesforce attached to its exception."""
    return excinfo.value.content


def _lead(name, **extra):
    return {"attributes": {"type": "Lead"}, "LastName": name, "Company": "Coll", **extra}


def test_create_with_partial_failure(sf):
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                _lead("Good"),
                {"attributes": {"type": "Lead"}, "Company": "NoName"},
                {"attributes": {"type": "Account"}, "Name": "Mixed types"},
            ],
        },
    )
    assert results[0]["success"] is True
    assert results[0]["id"].startswith("00Q")
    assert results[1] == {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            }
        ],
    }
    assert results[2]["success"] is True
    assert results[2]["id"].startswith("001")
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 1


def test_all_or_none_rolls_back_everything(sf):
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": True,
            "records": [_lead("Fine"), _lead("Bad", Email="not-an-email")],
        },
    )
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_more_than_200_records_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful(
            "composite/sobjects", method="POST", json={"records": [_lead(f"L{i}") for i in range(201)]}
        )
    assert _body(err) == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]


def test_update_retrieve_and_delete(sf):
    ids = [
        r["id"]
        for r in sf.restful("composite/sobjects", method="POST", json={"records": [_lead("A"), _lead("B")]})
    ]
    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Lead"}, "id": ids[0], "Title": "CEO"},
                {"attributes": {"type": "Lead"}, "id": ids[1], "Lifecycle_Stage__c": "bogus"},
            ],
        },
    )
    assert updated[0] == {"id": ids[0], "success": True, "errors": []}
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"

    got = sf.restful(
        "composite/sobjects/Lead", params={"ids": f"{ids[0]},{ids[1][:15]}", "fields": "Id,Title"}
    )
    assert [g["Title"] for g in got] == ["CEO", None]
    posted = sf.restful("composite/sobjects/Lead", method="POST", json={"ids": ids, "fields": ["LastName"]})
    assert [p["LastName"] for p in posted] == ["A", "B"]

    deleted = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": f"{ids[0]},{ids[0]}", "allOrNone": "false"}
    )
    assert deleted[0] == {"id": ids[0], "success": True, "errors": []}
    assert deleted[1]["success"] is False
    assert deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    after = sf.restful("composite/sobjects/Lead", params={"ids": ids[0], "fields": "Id"})
    assert after == [None]


def test_upsert_collection(sf):
    existing = sf.Contact.create({"LastName": "Old", "HubSpot_Id__c": "101"})["id"]
    results = sf.restful(
        "composite/sobjects/Contact/HubSpot_Id__c",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "101", "Title": "Updated"},
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "102", "LastName": "New"},
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "103"},
            ],
        },
    )
    assert results[0] == {"id": existing, "success": True, "errors": [], "created": False}
    assert results[1]["created"] is True
    assert results[1]["success"] is True
    assert results[2]["success"] is False
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.Contact.get(existing)["Title"] == "Updated"


def test_composite_with_references_and_all_or_none(sf):
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Composite Co"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "contact",
                "body": {"LastName": "Ref", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{contact.id}?fields=AccountId",
                "referenceId": "read",
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account",
                "referenceId": "q",
            },
            {
                "method": "PATCH",
                "url": "/services/data/v59.0/sobjects/Account/@{q.records[0].Id}",
                "referenceId": "upd",
                "body": {"Industry": "Media"},
            },
        ],
    }
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [201, 201, 200, 200, 204]
    account_id = out[0]["body"]["id"]
    assert out[0]["httpHeaders"] == {"Location": f"/services/data/v59.0/sobjects/Account/{account_id}"}
    assert out[2]["body"]["AccountId"] == account_id
    assert sf.Account.get(account_id)["Industry"] == "Media"

    failing = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "Rolled Back"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "c",
                "body": {"AccountId": "@{a.id}"},
            },
        ],
    }
    out = sf.restful("composite", method="POST", json=failing)["compositeResponse"]
    assert out[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert out[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    names = [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]]
    assert names == ["Composite Co"]


def test_composite_rejects_more_than_25_subrequests(sf):
    subrequests = [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"} for i in range(26)
    ]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful("composite", method="POST", json={"compositeRequest": subrequests})
    assert _body(err)[0]["errorCode"] == "LIMIT_EXCEEDED"


def test_get_updated_and_get_deleted(sf):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    kept = sf.Lead.create({"LastName": "Kept", "Company": "C"})["id"]
    gone = sf.Lead.create({"LastName": "Gone", "Company": "C"})["id"]
    sf.Lead.delete(gone)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    updated = sf.Lead.updated(start, end)
    assert updated["ids"] == [kept]
    assert updated["latestDateCovered"].endswith("+0000")
    deleted = sf.Lead.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert deleted["deletedRecords"][0]["deletedDate"].endswith("+0000")
    earlier = sf.Lead.updated(start - dt.timedelta(days=2), start - dt.timedelta(days=1))
    assert earlier["ids"] == []
