"""Pure parts of the Salesforce emulator: ids, values, validation rules, transactions, change payloads."""

from __future__ import annotations

from typing import Any

import pytest

from infra.sandbox.salesforce import ids
from infra.sandbox.salesforce.cdc import build_payload
from infra.sandbox.salesforce.errors import RecordFailure
from infra.sandbox.salesforce.schema import DEFAULT_CUSTOM_FIELDS, RecordTypes, Schema
from infra.sandbox.salesforce.settings import OrgSettings, ValidationRule
from infra.sandbox.salesforce.store import Actor, Change, Store
from infra.sandbox.salesforce.values import cdc_datetime, format_datetime, parse_datetime

pytestmark = pytest.mark.usefixtures("no_sockets")  # pure: no network, as unit tests

USER = ids.make_id("005", 1)


def _store(person_accounts=False):
    schema = Schema(
        person_accounts=person_accounts,
        custom_fields=DEFAULT_CUSTOM_FIELDS,
        record_types=RecordTypes(ids.make_id("012", 1), ids.make_id("012", 2)),
    )
    store = Store(schema, OrgSettings(), ids.IdGenerator())
    with store.transaction(Actor(USER), emit=False):
        store.create(
            "User",
            {
                "Id": USER,
                "Username": "u@x.example",
                "Email": "u@x.example",
                "LastName": "U",
                "Alias": "u",
                "IsActive": True,
            },
            system=True,
        )
        for rt in (schema.record_types.business_id, schema.record_types.person_id):
            store.create("RecordType", {"Id": rt, "Name": rt, "SobjectType": "Account"}, system=True)
    return store


@pytest.mark.parametrize(
    ("id15", "id18"), [("0015f00002J9YYE", "0015f00002J9YYEAA3"), ("003ak00000IiFIn", "003ak00000IiFInAAN")]
)
def test_case_safe_ids_match_real_ones(id15, id18):
    assert ids.to_18(id15) == id18
    assert ids.looks_like_id(id18)
    assert ids.looks_like_id(id15)
    assert not ids.looks_like_id(id18[:15] + "AAA")
    assert ids.normalize(id15) == id18


def test_generated_ids_are_unique_and_valid():
    gen = ids.IdGenerator()
    made = {gen.new("00Q") for _ in range(1000)}
    assert len(made) == 1000
    assert all(ids.looks_like_id(i) and i.startswith("00Q") for i in made)


def test_datetime_forms():
    parsed = parse_datetime("2026-11-28T21:18:04.5+01:00")
    assert parsed is not None
    assert format_datetime(parsed) == "2026-11-28T20:18:04.500+0000"
    assert cdc_datetime("2026-11-28T20:18:04.000+0000") == "2026-11-28T20:18:04.000Z"
    assert parse_datetime("2026-13-01T00:00:00Z") is None


def test_validation_rule_kinds():
    rule = ValidationRule.parse(
        {
            "object": "Lead",
            "field": "Phone",
            "message": "m",
            "required_when": {"field": "Status", "equals": "Hot"},
        }
    )
    assert rule.violated({"Status": "Hot", "Phone": None})
    assert not rule.violated({"Status": "Cold", "Phone": None})
    regex = ValidationRule.parse(
        {"object": "Lead", "field": "Email", "message": "m", "matches": ".*@x\\.example"}
    )
    assert regex.violated({"Email": "A@X.example"})
    assert not regex.violated({"Email": None})
    with pytest.raises(ValueError, match="exactly one"):
        ValidationRule.parse({"object": "Lead", "field": "Email", "message": "m"})


def test_failed_transaction_restores_records():
    store = _store()
    with store.transaction(Actor(USER), emit=False):
        lead = store.create("Lead", {"LastName": "Kept", "Company": "C"})

    def failing_transaction():
        with store.transaction(Actor(USER), emit=False):
            store.update("Lead", lead, {"Title": "changed"})
            store.create("Lead", {"LastName": "Broken"})  # no Company

    with pytest.raises(RecordFailure):
        failing_transaction()
    assert store.get("Lead", lead, include_deleted=False)["Title"] is None
    assert len(list(store.rows("Lead", include_deleted=True))) == 1


def test_commit_hands_changes_to_the_listener():
    store = _store()
    seen: list[Any] = []
    store.on_commit = seen.append
    with store.transaction(Actor(USER, "59.0", "app")):
        lead = store.create("Lead", {"LastName": "A", "Company": "C"})
        store.update("Lead", lead, {"Email": "a@c.example"})
    assert [c.change_type for c in seen[0].changes] == ["CREATE", "UPDATE"]
    assert seen[0].actor.origin == "com/salesforce/api/rest/59.0;client=app"


def test_update_payload_uses_compound_names():
    store = _store()
    obj = store.schema.objects["Contact"]
    old = {f: None for f in obj.fields} | {"LastName": "Old", "MailingCity": "Oslo", "LastModifiedDate": "a"}
    new = old | {
        "LastName": "New",
        "MailingCity": None,
        "Title": "CTO",
        "LastModifiedDate": "2026-11-28T20:18:04.000+0000",
    }
    payload, changed, nulled = build_payload(obj, Change("Contact", "UPDATE", "003", old, new))
    assert payload == {
        "LastModifiedDate": "2026-11-28T20:18:04.000Z",
        "Title": "CTO",
        "Name": {"LastName": "New"},
        "MailingAddress": {"City": None},
    }
    assert sorted(changed) == ["LastModifiedDate", "MailingAddress.City", "Name.LastName", "Title"]
    assert nulled == ["MailingAddress.City"]


def test_person_account_requires_last_name_and_gets_a_contact():
    store = _store(person_accounts=True)
    person = store.schema.record_types.person_id
    with pytest.raises(RecordFailure) as err, store.transaction(Actor(USER), emit=False):
        store.create("Account", {"RecordTypeId": person, "FirstName": "No"})
    assert err.value.errors[0].fields == ["LastName"]
    with store.transaction(Actor(USER), emit=False):
        account = store.create("Account", {"RecordTypeId": person, "LastName": "Solo"})
    record = store.get("Account", account, include_deleted=False)
    contact = store.get("Contact", record["PersonContactId"], include_deleted=False)
    assert contact["IsPersonAccount"] is True
    assert contact["LastName"] == "Solo"
