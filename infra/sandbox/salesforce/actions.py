"""What a user does in the Salesforce UI and the REST API cannot: convert a lead, merge records.

Both run inside the caller's transaction, so their change events share one transaction key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from infra.sandbox.salesforce import ids
from infra.sandbox.salesforce.errors import RecordFailure
from infra.sandbox.salesforce.schema import CONVERTED_LEAD_STATUS, OPPORTUNITY_STAGES
from infra.sandbox.salesforce.store import Store

# Lead field -> (Account field, Contact field, person Account field)
LEAD_MAPPING: dict[str, tuple[str | None, str | None, str | None]] = {
    "Salutation": (None, "Salutation", "Salutation"),
    "FirstName": (None, "FirstName", "FirstName"),
    "LastName": (None, "LastName", "LastName"),
    "Title": (None, "Title", "PersonTitle"),
    "Email": (None, "Email", "PersonEmail"),
    "Phone": ("Phone", "Phone", "Phone"),
    "MobilePhone": (None, "MobilePhone", "PersonMobilePhone"),
    "Street": ("BillingStreet", "MailingStreet", "PersonMailingStreet"),
    "City": ("BillingCity", "MailingCity", "PersonMailingCity"),
    "State": ("BillingState", "MailingState", "PersonMailingState"),
    "PostalCode": ("BillingPostalCode", "MailingPostalCode", "PersonMailingPostalCode"),
    "Country": ("BillingCountry", "MailingCountry", "PersonMailingCountry"),
    "Website": ("Website", None, "Website"),
    "Industry": ("Industry", None, "Industry"),
    "NumberOfEmployees": ("NumberOfEmployees", None, None),
    "LeadSource": ("AccountSource", "LeadSource", "PersonLeadSource"),
    "HasOptedOutOfEmail": (None, "HasOptedOutOfEmail", "PersonHasOptedOutOfEmail"),
    "Description": (None, "Description", None),
}
MERGE_REPARENT: dict[str, tuple[tuple[str, str], ...]] = {
    "Lead": (("Task", "WhoId"),),
    "Contact": (("OpportunityContactRole", "ContactId"), ("Task", "WhoId")),
    "Account": (
        ("Contact", "AccountId"),
        ("Opportunity", "AccountId"),
        ("Task", "WhatId"),
        ("Account", "ParentId"),
    ),
}


def _owner(store: Store, lead: Mapping[str, Any], fallback: str) -> str:
    owner = str(lead["OwnerId"])
    return owner if owner.startswith("005") else fallback


def convert_lead(store: Store, body: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """Convert a lead: create (or reuse) its account and contact, optionally an opportunity."""
    lead_id = ids.normalize(body.get("leadId"))
    if lead_id is None or not lead_id.startswith("00Q"):
        raise RecordFailure.one("MALFORMED_ID", f"invalid lead id: {body.get('leadId')}")
    lead = store.live("Lead", lead_id)
    if lead["IsConverted"]:
        raise RecordFailure.one("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
    owner = str(body.get("ownerId") or _owner(store, lead, user_id))
    person = store.schema.person_accounts and not lead.get("Company")
    account_id = _given(store, body.get("accountId"), "Account")
    contact_id = _given(store, body.get("contactId"), "Contact")
    if account_id is None:
        account_id = store.create("Account", _account_values(store, lead, owner, person))
    account = store.live("Account", account_id)
    if contact_id is None:
        if account.get("IsPersonAccount"):
            contact_id = str(account["PersonContactId"])
        else:
            contact_id = store.create("Contact", _contact_values(store, lead, owner, account_id))
    opportunity_id = None
    if body.get("createOpportunity"):
        name = body.get("opportunityName") or f"{lead.get('Company') or lead['LastName']}-"
        close = dt.date.today() + dt.timedelta(days=30)
        opportunity_id = store.create(
            "Opportunity",
            {"Name": name, "AccountId": account_id, "StageName": OPPORTUNITY_STAGES[0][0],
             "CloseDate": close.isoformat(), "OwnerId": owner, "LeadSource": lead.get("LeadSource")},
        )  # fmt: skip
        store.create(
            "OpportunityContactRole",
            {"OpportunityId": opportunity_id, "ContactId": contact_id, "IsPrimary": True},
        )
    store.update(
        "Lead",
        lead_id,
        {
            "IsConverted": True,
            "ConvertedAccountId": account_id,
            "ConvertedContactId": contact_id,
            "ConvertedOpportunityId": opportunity_id,
            "ConvertedDate": dt.date.today().isoformat(),
            "Status": body.get("convertedStatus") or CONVERTED_LEAD_STATUS,
        },
        system=True,
    )
    return {
        "leadId": lead_id,
        "accountId": account_id,
        "contactId": contact_id,
        "opportunityId": opportunity_id,
    }


def _given(store: Store, value: Any, sobject: str) -> str | None:
    if value in (None, ""):
        return None
    full = ids.normalize(value)
    if full is None:
        raise RecordFailure.one("MALFORMED_ID", f"invalid {sobject} id: {value}")
    return str(store.live(sobject, full)["Id"])


def _custom_values(store: Store, lead: Mapping[str, Any], sobject: str) -> dict[str, Any]:
    target = store.obj(sobject)
    return {
        name: lead[name]
        for name, f in store.obj("Lead").fields.items()
        if f.custom and name in target.fields and lead.get(name) is not None
    }


def _account_values(store: Store, lead: Mapping[str, Any], owner: str, person: bool) -> dict[str, Any]:
    column = 2 if person else 0
    values: dict[str, Any] = {"OwnerId": owner}
    for source, targets in LEAD_MAPPING.items():
        target = targets[column]
        if target and lead.get(source) is not None:
            values[target] = lead[source]
    if person:
        values["RecordTypeId"] = store.schema.record_types.person_id
    else:
        if not lead.get("Company"):
            raise RecordFailure.one(
                "REQUIRED_FIELD_MISSING", "Required fields are missing: [Company]", ["Company"]
            )
        values["Name"] = lead["Company"]
    return values


def _contact_values(store: Store, lead: Mapping[str, Any], owner: str, account_id: str) -> dict[str, Any]:
    values: dict[str, Any] = {"AccountId": account_id, "OwnerId": owner}
    for source, targets in LEAD_MAPPING.items():
        if targets[1] and lead.get(source) is not None:
            values[targets[1]] = lead[source]
    values.update(_custom_values(store, lead, "Contact"))
    return values


def merge(store: Store, body: Mapping[str, Any]) -> dict[str, Any]:
    """Merge up to two records into a master: children move to it, the others are deleted."""
    sobject = str(body.get("sobject", ""))
    if sobject not in MERGE_REPARENT:
        raise RecordFailure.one("INVALID_TYPE", f"merge supports {sorted(MERGE_REPARENT)}, not {sobject!r}")
    master = store.live(sobject, str(body.get("masterId", "")))
    losers_raw = body.get("mergeIds") or []
    if not isinstance(losers_raw, list) or not 1 <= len(losers_raw) <= 2:
        raise RecordFailure.one(
            "INVALID_OPERATION", "A merge needs one or two records to merge into the master"
        )
    losers = [store.live(sobject, str(i)) for i in losers_raw]
    if any(loser["Id"] == master["Id"] for loser in losers):
        raise RecordFailure.one("INVALID_OPERATION", "Cannot merge a record with itself")
    fields = body.get("fields") or {}
    store.update(sobject, master["Id"], dict(fields))
    moved: list[str] = []
    for loser in losers:
        for child_object, lookup in MERGE_REPARENT[sobject]:
            for child in list(store.tables[child_object].values()):
                if child[lookup] == loser["Id"] and not child["IsDeleted"] and child["Id"] != master["Id"]:
                    store.update(child_object, child["Id"], {lookup: master["Id"]}, system=True)
                    moved.append(child["Id"])
        store.update(sobject, loser["Id"], {"MasterRecordId": master["Id"]}, system=True)
        store.delete(sobject, loser["Id"])
    return {
        "id": master["Id"],
        "mergedRecordIds": [loser["Id"] for loser in losers],
        "updatedRelatedIds": moved,
    }
