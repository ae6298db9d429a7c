"""The validation errors a real org answers, with their bodies; settings that add rules."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound


def _body(excinfo):
    """The decoded error body simple-salesforce attached to its exception."""
    return excinfo.value.content


def _settings(sandbox, **body):
    resp = requests.post(
        f"{sandbox.salesforce_url}/_sandbox/settings", json=body, verify=str(sandbox.tls.ca_cert), timeout=5
    )
    resp.raise_for_status()
    return resp.json()


def _refused(create):
    with pytest.raises(SalesforceMalformedRequest) as err:
        create()
    return _body(err)


def test_required_fields(sf):
    assert _refused(lambda: sf.Lead.create({"FirstName": "x"})) == [
        {
            "message": "Required fields are missing: [LastName, Company]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName", "Company"],
        }
    ]
    opp = _refused(lambda: sf.Opportunity.create({"Name": "Deal"}))
    assert opp[0]["fields"] == ["StageName", "CloseDate"]


def test_string_too_long(sf):
    body = _refused(lambda: sf.Lead.create({"LastName": "x" * 81, "Company": "C"}))
    assert body == [
        {
            "message": f"Last Name: data value too large: {'x' * 81} (max length=80)",
            "errorCode": "STRING_TOO_LONG",
            "fields": ["LastName"],
        }
    ]


def test_restricted_picklist_and_email(sf):
    body = _refused(lambda: sf.Lead.create({"LastName": "x", "Company": "C", "Lifecycle_Stage__c": "vip"}))
    assert body[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert body[0]["message"] == "Lifecycle Stage: bad value for restricted picklist field: vip"
    body = _refused(lambda: sf.Contact.create({"LastName": "x", "Email": "nope@"}))
    assert body == [
        {
            "message": "Email: invalid email address: nope@",
            "errorCode": "INVALID_EMAIL_ADDRESS",
            "fields": ["Email"],
        }
    ]


def test_unknown_and_read_only_fields(sf):
    assert _refused(lambda: sf.Lead.create({"LastName": "x", "Company": "C", "Foo__c": 1})) == [
        {"message": "No such column 'Foo__c' on sobject of type Lead", "errorCode": "INVALID_FIELD"}
    ]
    body = _refused(lambda: sf.Lead.create({"LastName": "x", "Company": "C", "IsConverted": True}))
    assert body[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert body[0]["fields"] == ["IsConverted"]
    body = _refused(lambda: sf.User.create({"LastName": "x"}))
    assert body[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_bad_references_and_types(sf):
    contact = sf.Contact.create({"LastName": "Ref"})["id"]
    body = _refused(lambda: sf.Contact.create({"LastName": "x", "AccountId": "garbage"}))
    assert body[0]["errorCode"] == "MALFORMED_ID"
    assert body[0]["fields"] == ["AccountId"]
    body = _refused(lambda: sf.Contact.create({"LastName": "x", "AccountId": contact}))
    assert body[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    body = _refused(lambda: sf.Lead.create({"LastName": "x", "Company": "C", "HasOptedOutOfEmail": "maybe"}))
    assert body[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_writes_to_deleted_records(sf):
    account = sf.Account.create({"Name": "Deleted Co"})["id"]
    sf.Account.delete(account)
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Account.update(account, {"Name": "x"})
    assert _body(err) == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]
    body = _refused(lambda: sf.Contact.create({"LastName": "x", "AccountId": account}))
    assert body[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_duplicate_rule_blocks_same_email(sf, fresh_sandbox):
    sf.Lead.create({"LastName": "First", "Company": "C", "Email": "dup@x.example"})
    assert sf.Lead.create({"LastName": "Second", "Company": "C", "Email": "DUP@x.example"})["success"]
    _settings(fresh_sandbox, duplicate_rule=True)
    body = _refused(lambda: sf.Lead.create({"LastName": "Third", "Company": "C", "Email": "Dup@X.example"}))
    assert body[0]["errorCode"] == "DUPLICATES_DETECTED"
    assert body[0]["message"] == "Use one of these records?"
    result = body[0]["duplicateResult"]
    assert result["allowSave"] is False
    assert result["duplicateRuleEntityType"] == "Lead"
    assert result["matchResults"][0]["size"] == 2
    assert sf.Contact.create({"LastName": "Other object", "Email": "dup@x.example"})["success"]


def test_custom_validation_rules(sf, fresh_sandbox):
    view = _settings(
        fresh_sandbox,
        validation_rules=[
            {"object": "Lead", "field": "Title", "equals": "TEST", "message": "No test leads"},
            {
                "object": "Lead",
                "field": "Email",
                "matches": ".*@blocked\\.example",
                "message": "Blocked domain",
                "at_field": True,
            },
            {
                "object": "Lead",
                "field": "Phone",
                "required_when": {"field": "Status", "equals": "Working - Contacted"},
                "message": "Phone needed",
            },
        ],
    )
    assert len(view["validation_rules"]) == 3
    base = {"LastName": "x", "Company": "C"}
    assert _refused(lambda: sf.Lead.create(base | {"Title": "TEST"})) == [
        {"message": "No test leads", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": []}
    ]
    assert _refused(lambda: sf.Lead.create(base | {"Email": "a@BLOCKED.example"}))[0]["fields"] == ["Email"]
    assert (
        _refused(lambda: sf.Lead.create(base | {"Status": "Working - Contacted"}))[0]["message"]
        == "Phone needed"
    )
    assert sf.Lead.create(base | {"Status": "Working - Contacted", "Phone": "1"})["success"]


def test_invalid_settings_are_refused(fresh_sandbox):
    resp = requests.post(
        f"{fresh_sandbox.salesforce_url}/_sandbox/settings",
        json={"edition": "Galactic"},
        verify=str(fresh_sandbox.tls.ca_cert),
        timeout=5,
    )
    assert resp.status_code == 400
