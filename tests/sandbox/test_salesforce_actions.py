"""Person accounts, and the UI-only actions: lead conversion, merge, undelete, users; the demo seed."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql


def _body(excinfo):
    """The decoded error body simple-salesforce attached to its exception."""
    return excinfo.value.content


def _control(sandbox, path, body, expect=200):
    resp = requests.post(
        f"{sandbox.salesforce_url}/_sandbox/{path}", json=body, verify=str(sandbox.tls.ca_cert), timeout=5
    )
    assert resp.status_code == expect, resp.text
    return resp.json()


def _person_type(sf):
    return sf.query("SELECT Id FROM RecordType WHERE DeveloperName = 'PersonAccount'")["records"][0]["Id"]


def test_person_accounts(sf, fresh_sandbox):
    assert "PersonEmail" not in {f["name"] for f in sf.Account.describe()["fields"]}
    with pytest.raises(SalesforceMalformedRequest):
        sf.Lead.create({"LastName": "No company"})
    _control(fresh_sandbox, "settings", {"person_accounts": True})
    fields = {f["name"] for f in sf.Account.describe()["fields"]}
    assert {"IsPersonAccount", "PersonEmail", "PersonContactId", "FirstName", "LastName"} <= fields
    assert sf.Lead.create({"LastName": "No company"})["success"]  # Company is optional now

    account_id = sf.Account.create(
        {
            "RecordTypeId": _person_type(sf),
            "FirstName": "Pia",
            "LastName": "Person",
            "PersonEmail": "pia@home.example",
        }
    )["id"]
    account = sf.Account.get(account_id)
    assert account["IsPersonAccount"] is True
    assert account["Name"] == "Pia Person"
    contact = sf.Contact.get(account["PersonContactId"])
    assert contact["IsPersonAccount"] is True
    assert contact["AccountId"] == account_id
    assert contact["Email"] == "pia@home.example"
    sf.Account.update(account_id, {"PersonEmail": "pia@new.example"})
    assert sf.Contact.get(account["PersonContactId"])["Email"] == "pia@new.example"

    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Account.create({"Name": "Business", "PersonEmail": "x@y.example"})
    assert _body(err)[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    business = sf.Account.get(sf.Account.create({"Name": "Business"})["id"])
    assert business["IsPersonAccount"] is False


def test_convert_lead(sf, fresh_sandbox):
    lead_id = sf.Lead.create(
        {
            "FirstName": "Cleo",
            "LastName": "Convert",
            "Company": "Conv Inc",
            "Email": "cleo@conv.example",
            "Lifecycle_Stage__c": "salesqualifiedlead",
        }
    )["id"]
    result = _control(fresh_sandbox, "convert-lead", {"leadId": lead_id, "createOpportunity": True})
    lead = sf.Lead.get(lead_id)
    assert lead["IsConverted"] is True
    assert lead["Status"] == "Closed - Converted"
    assert lead["ConvertedAccountId"] == result["accountId"]
    assert lead["ConvertedContactId"] == result["contactId"]
    contact = sf.Contact.get(result["contactId"])
    assert contact["Email"] == "cleo@conv.example"
    assert contact["AccountId"] == result["accountId"]
    assert contact["Lifecycle_Stage__c"] == "salesqualifiedlead"
    assert sf.Account.get(result["accountId"])["Name"] == "Conv Inc"
    roles = sf.query(
        format_soql(
            "SELECT ContactId, IsPrimary FROM OpportunityContactRole WHERE OpportunityId = {}",
            result["opportunityId"],
        )
    )["records"]
    assert [(r["ContactId"], r["IsPrimary"]) for r in roles] == [(result["contactId"], True)]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.update(lead_id, {"Title": "x"})
    assert _body(err)[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    again = _control(fresh_sandbox, "convert-lead", {"leadId": lead_id}, expect=400)
    assert again["errors"][0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_convert_lead_without_company_makes_a_person_account(sf, fresh_sandbox):
    _control(fresh_sandbox, "settings", {"person_accounts": True})
    lead_id = sf.Lead.create({"FirstName": "Solo", "LastName": "Buyer", "Email": "solo@home.example"})["id"]
    result = _control(fresh_sandbox, "convert-lead", {"leadId": lead_id})
    account = sf.Account.get(result["accountId"])
    assert account["IsPersonAccount"] is True
    assert account["PersonEmail"] == "solo@home.example"
    assert account["PersonContactId"] == result["contactId"]


def test_merge_and_undelete(sf, fresh_sandbox):
    master = sf.Contact.create({"LastName": "Master", "Email": "m@x.example"})["id"]
    loser = sf.Contact.create({"LastName": "Loser", "Email": "m@x.example"})["id"]
    task = sf.Task.create({"WhoId": loser, "Subject": "Call"})["id"]
    result = _control(fresh_sandbox, "merge", {"sobject": "Contact", "masterId": master, "mergeIds": [loser]})
    assert result["mergedRecordIds"] == [loser]
    assert sf.Task.get(task)["WhoId"] == master
    gone = sf.query_all(
        format_soql("SELECT IsDeleted, MasterRecordId FROM Contact WHERE Id = {}", loser),
        include_deleted=True,
    )["records"][0]
    assert gone == {**gone, "IsDeleted": True, "MasterRecordId": master}

    account = sf.Account.create({"Name": "Undeletable"})["id"]
    child = sf.Contact.create({"LastName": "Child", "AccountId": account})["id"]
    sf.Account.delete(account)
    assert (
        sf.query(format_soql("SELECT COUNT() FROM Contact WHERE Id = {}", child))["totalSize"] == 0
    )  # cascaded
    _control(fresh_sandbox, "undelete", {"ids": [account]})
    assert sf.Account.get(account)["IsDeleted"] is False
    assert sf.Contact.get(child)["AccountId"] == account
    log = requests.get(
        f"{fresh_sandbox.salesforce_url}/_sandbox/change-events",
        params={"entity": "Account"},
        verify=str(fresh_sandbox.tls.ca_cert),
        timeout=5,
    ).json()["events"]
    header = log[-1]["detail"]["payload"]["ChangeEventHeader"]
    assert header["changeType"] == "UNDELETE"
    assert header["changeOrigin"] == ""


def test_users_and_queues(sf, fresh_sandbox):
    created = _control(
        fresh_sandbox,
        "users",
        {
            "users": [
                {
                    "FirstName": "New",
                    "LastName": "Rep",
                    "Email": "new.rep@sandbox.example",
                    "IsActive": False,
                },
                {"Type": "Queue", "Name": "Overflow Queue"},
            ]
        },
    )["ids"]
    assert created[0].startswith("005")
    assert created[1].startswith("00G")
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "x", "OwnerId": created[0]})
    assert _body(err)[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"
    lead = sf.Lead.create({"LastName": "Queued", "Company": "C", "OwnerId": created[1]})["id"]
    assert (
        sf.query(format_soql("SELECT Owner.Name FROM Lead WHERE Id = {}", lead))["records"][0]["Owner"][
            "Name"
        ]
        == "Overflow Queue"
    )
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.create({"LastName": "x", "OwnerId": created[1]})  # contacts cannot be owned by a queue


def test_demo_seed(fresh_sandbox, sf):
    counts = fresh_sandbox.salesforce.seed_demo()
    assert counts["Lead"] > 100
    assert counts["Contact"] > 80
    assert counts["Opportunity"] == 30
    users = sf.query("SELECT Email, IsActive, UserType FROM User ORDER BY Email")["records"]
    by_email = {u["Email"]: u for u in users}
    assert by_email["sara.lind@sandbox.example"]["IsActive"] is False
    assert by_email["paul.otto@sandbox.example"]["UserType"] == "PowerPartner"
    assert by_email["guest@sandbox.example"]["UserType"] == "Guest"
    people = sf.query("SELECT COUNT() FROM Account WHERE IsPersonAccount = true")["totalSize"]
    assert people == 20
    won = sf.query("SELECT Id FROM Opportunity WHERE IsWon = true")["totalSize"]
    assert won >= 5
    queue_leads = sf.query("SELECT COUNT() FROM Lead WHERE Owner.Name = 'Inbound Leads Queue'")["totalSize"]
    assert queue_leads > 0
    log = requests.get(
        f"{fresh_sandbox.salesforce_url}/_sandbox/change-events",
        verify=str(fresh_sandbox.tls.ca_cert),
        timeout=5,
    ).json()
    assert log["events"] == []  # seeding emits no change events
