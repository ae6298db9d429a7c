"""sObject rows through the real simple-salesforce client: create, read, update, delete, upsert."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from infra.sandbox.salesforce import ids


def _body(excinfo):
    """The decoded error body simple-salesforce attached to its exception."""
    return excinfo.value.content


def test_create_get_update_delete_a_lead(sf):
    created = sf.Lead.create(
        {"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines", "Email": "ada@x.example"}
    )
    assert created["success"] is True
    assert created["errors"] == []
    lead_id = created["id"]
    assert len(lead_id) == 18
    assert lead_id.startswith("00Q")
    assert ids.looks_like_id(lead_id)

    lead = sf.Lead.get(lead_id)
    assert lead["attributes"] == {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{lead_id}"}
    assert lead["Name"] == "Ada Lovelace"
    assert lead["Status"] == "Open - Not Contacted"
    assert lead["IsConverted"] is False
    assert lead["IsDeleted"] is False
    assert lead["CreatedById"] == lead["LastModifiedById"] == lead["OwnerId"]
    assert lead["CreatedDate"].endswith(".000+0000")

    assert sf.Lead.update(lead_id, {"Title": "Countess", "FirstName": None}) == 204
    again = sf.Lead.get(lead_id[:15])  # a 15-character id is accepted anywhere
    assert again["Title"] == "Countess"
    assert again["FirstName"] is None
    assert again["Name"] == "Lovelace"

    assert sf.Lead.delete(lead_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Lead.get(lead_id)
    assert _body(err) == [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Lead.update(lead_id, {"Title": "x"})
    assert _body(err)[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_get_with_fields_and_unknown_field(sf):
    lead_id = sf.Lead.create({"LastName": "Fields", "Company": "Acme"})["id"]
    got = sf.Lead.get(lead_id, params={"fields": "Id,LastName"})
    assert set(got) == {"attributes", "Id", "LastName"}
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.get(lead_id, params={"fields": "Nope"})
    assert _body(err)[0]["errorCode"] == "INVALID_FIELD"


def test_malformed_and_wrong_type_ids(sf):
    contact_id = sf.Contact.create({"LastName": "Typed"})["id"]
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Lead.get("not-an-id")
    assert _body(err)[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(contact_id)
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.Lead.update(contact_id, {"LastName": "x"})
    assert _body(malformed)[0]["errorCode"] == "MALFORMED_ID"
    assert _body(malformed)[0]["fields"] == ["Id"]


def test_upsert_by_external_id_creates_then_updates_then_refuses_ambiguity(sf, sf_session, fresh_sandbox):
    first = sf.Contact.upsert("HubSpot_Id__c/hs-1", {"LastName": "Upserted"}, raw_response=True)
    assert first.status_code == 201
    body = first.json()
    assert body["created"] is True
    assert body["success"] is True
    second = sf.Contact.upsert("HubSpot_Id__c/HS-1", {"Title": "Now updated"}, raw_response=True)
    assert second.status_code == 200
    assert second.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    assert sf.Contact.get_by_custom_id("HubSpot_Id__c", "hs-1")["Title"] == "Now updated"

    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.upsert("Email/x@y.example", {"LastName": "x"})
    assert "Provided external ID field does not exist" in _body(err)[0]["message"]


def test_upsert_with_several_matches_answers_300(sf):
    # A unique external id cannot hold duplicates; Id-less duplicates come from case-insensitive matching
    # of a non-unique external id field, configured here.
    import requests

    base = sf.base_url.split("/services/")[0]
    requests.post(
        f"{base}/_sandbox/settings",
        json={
            "custom_fields": [
                {"object": "Lead", "name": "Legacy_Id__c", "type": "string", "external_id": True}
            ]
        },
        verify=sf.session.verify,
        timeout=5,
    ).raise_for_status()
    a = sf.Lead.create({"LastName": "A", "Company": "C", "Legacy_Id__c": "dup"})["id"]
    b = sf.Lead.create({"LastName": "B", "Company": "C", "Legacy_Id__c": "DUP"})["id"]
    with pytest.raises(SalesforceMoreThanOneRecord) as err:
        sf.Lead.upsert("Legacy_Id__c/dup", {"Title": "x"})
    assert sorted(_body(err)) == sorted(
        [f"/services/data/v59.0/sobjects/Lead/{a}", f"/services/data/v59.0/sobjects/Lead/{b}"]
    )


def test_unique_external_id_refuses_duplicates(sf):
    sf.Lead.create({"LastName": "One", "Company": "C", "HubSpot_Id__c": "77"})
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.create({"LastName": "Two", "Company": "C", "HubSpot_Id__c": "77"})
    assert _body(err)[0]["errorCode"] == "DUPLICATE_VALUE"


def test_describe_and_metadata(sf):
    describe = sf.Lead.describe()
    assert describe["keyPrefix"] == "00Q"
    assert describe["name"] == "Lead"
    fields = {f["name"]: f for f in describe["fields"]}
    assert fields["LastName"]["nillable"] is False
    assert fields["LastName"]["length"] == 80
    assert fields["Company"]["nillable"] is False
    stage = fields["Lifecycle_Stage__c"]
    assert stage["restrictedPicklist"] is True
    assert stage["custom"] is True
    assert [p["value"] for p in stage["picklistValues"]][:2] == ["subscriber", "lead"]
    status = fields["Status"]
    assert status["defaultedOnCreate"] is True
    assert any(p["defaultValue"] for p in status["picklistValues"])
    assert fields["HubSpot_Id__c"]["externalId"] is True
    assert fields["HubSpot_Id__c"]["unique"] is True
    assert fields["IsConverted"]["createable"] is False
    assert fields["IsConverted"]["updateable"] is False
    owner = fields["OwnerId"]
    assert owner["referenceTo"] == ["Group", "User"]
    assert owner["relationshipName"] == "Owner"

    account = sf.Account.describe()
    rels = {r["relationshipName"]: r for r in account["childRelationships"]}
    assert rels["Contacts"]["childSObject"] == "Contact"
    assert rels["Contacts"]["field"] == "AccountId"
    assert "Opportunities" in rels

    glob = sf.describe()
    names = {o["name"]: o for o in glob["sobjects"]}
    assert {
        "Lead",
        "Contact",
        "Account",
        "Opportunity",
        "OpportunityContactRole",
        "Task",
        "User",
        "Group",
    } <= set(names)
    assert names["User"]["createable"] is False
    meta = sf.Lead.metadata()
    assert meta["objectDescribe"]["name"] == "Lead"


def test_versions_and_resources(sf, sf_session, fresh_sandbox):
    versions = sf_session.get(f"{fresh_sandbox.salesforce_url}/services/data/", timeout=5).json()
    numbers = [v["version"] for v in versions]
    assert numbers[0] == "52.0"
    assert "59.0" in numbers
    assert versions[0]["url"] == "/services/data/v52.0"
    resources = sf.restful("")
    assert resources["sobjects"] == "/services/data/v59.0/sobjects"
    old = sf_session.get(
        f"{fresh_sandbox.salesforce_url}/services/data/v51.0/sobjects",
        headers={"Authorization": f"Bearer {sf.session_id}"},
        timeout=5,
    )
    assert old.status_code == 404
    assert old.json() == [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
