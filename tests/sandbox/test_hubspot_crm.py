"""CRM v3 objects and properties of the HubSpot emulator, through the real hubspot-api-client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate


def create_contact(hs, **props):
    return hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=props))


def error_of(exc_info):
    return json.loads(exc_info.value.body)


@pytest.fixture
def published(fresh_sandbox, monkeypatch):
    """The webhook events the store publishes, as (subscriptionType, objectId, fields)."""
    events = []
    monkeypatch.setattr(
        fresh_sandbox.hubspot.webhooks,
        "publish",
        lambda kind, oid, **fields: events.append((kind, oid, fields)),
    )
    return events


# -- basic CRUD ----------------------------------------------------------------------------------
def test_create_stores_trimmed_lower_case_email_and_system_properties(hs):
    created = create_contact(hs, email="  Ada.Lovelace@Example.COM ", firstname="Ada")
    assert created.id.isdigit()
    props = created.properties
    assert props["email"] == "ada.lovelace@example.com"
    assert props["hs_object_id"] == created.id
    assert props["createdate"] == props["lastmodifieddate"] == props["hs_lastmodifieddate"]
    assert props["createdate"].endswith("Z")
    assert "T" in props["createdate"]
    second = create_contact(hs, email="b@example.com")
    assert int(second.id) > int(created.id)


def test_get_returns_defaults_null_for_unset_and_leaves_out_unknown_names(hs):
    created = create_contact(hs, email="grace@example.com", firstname="Grace")
    default = hs.crm.contacts.basic_api.get_by_id(created.id)
    assert set(default.properties) == {
        "createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname",
    }  # fmt: skip
    assert default.properties["lastname"] is None
    chosen = hs.crm.contacts.basic_api.get_by_id(created.id, properties=["firstname", "no_such_prop", "city"])
    assert chosen.properties == {
        "firstname": "Grace",
        "city": None,
        "createdate": created.properties["createdate"],
        "hs_object_id": created.id,
        "lastmodifieddate": created.properties["lastmodifieddate"],
    }


def test_get_and_patch_by_email_id_property(hs):
    created = create_contact(hs, email="linus@example.com")
    found = hs.crm.contacts.basic_api.get_by_id("LINUS@example.com", id_property="email")
    assert found.id == created.id
    updated = hs.crm.contacts.basic_api.update(
        "linus@example.com", SimplePublicObjectInput(properties={"jobtitle": "CTO"}), id_property="email"
    )
    assert updated.id == created.id
    assert updated.properties["jobtitle"] == "CTO"
    with pytest.raises(ContactsApiException) as exc:
        hs.crm.contacts.basic_api.get_by_id("nobody@example.com", id_property="email")
    assert exc.value.status == 404


def test_update_keeps_history_newest_first_and_empty_string_clears(hs):
    created = create_contact(hs, email="h@example.com", city="Tokyo")
    hs.crm.contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={"city": "Osaka"}))
    cleared = hs.crm.contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={"city": ""}))
    assert cleared.properties["lastmodifieddate"] >= created.properties["lastmodifieddate"]
    got = hs.crm.contacts.basic_api.get_by_id(
        created.id, properties=["city"], properties_with_history=["city"]
    )
    assert got.properties["city"] == ""
    history = got.properties_with_history["city"]
    assert [v.value for v in history] == ["", "Osaka", "Tokyo"]
    assert {v.source_type for v in history} == {"INTEGRATION"}
    assert history[0].timestamp >= history[1].timestamp >= history[2].timestamp


def test_patch_without_properties_is_refused(hs):
    created = create_contact(hs, email="n@example.com")
    with pytest.raises(ContactsApiException) as exc:
        hs.crm.contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={}))
    assert exc.value.status == 400
    assert error_of(exc)["message"] == "No properties found to update, please provide at least one."


def test_archive_hides_the_record_until_asked_for_archived(hs):
    created = create_contact(hs, email="gone@example.com")
    hs.crm.contacts.basic_api.archive(created.id)
    with pytest.raises(ContactsApiException) as exc:
        hs.crm.contacts.basic_api.get_by_id(created.id)
    assert exc.value.status == 404
    assert error_of(exc)["category"] == "OBJECT_NOT_FOUND"
    archived = hs.crm.contacts.basic_api.get_by_id(created.id, archived=True)
    assert archived.archived is True
    assert archived.archived_at is not None
    # The email is free again once its contact is archived.
    assert create_contact(hs, email="gone@example.com").id != created.id


def test_values_are_normalized_as_hubspot_stores_them(hs):
    deal = hs.crm.deals.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={
                "dealname": "Big",
                "amount": "1500.50",
                "closedate": "1714521600000",
                "dealstage": "closedwon",
            }
        )
    )
    assert deal.properties["amount"] == "1500.5"
    assert deal.properties["closedate"] == "2024-05-01T00:00:00.000Z"
    assert deal.properties["pipeline"] == "default"


# -- errors --------------------------------------------------------------------------------------
def test_duplicate_email_is_a_409_naming_the_existing_contact(hs):
    first = create_contact(hs, email="dup@example.com")
    with pytest.raises(ContactsApiException) as exc:
        create_contact(hs, email="  DUP@example.com")
    assert exc.value.status == 409
    body = error_of(exc)
    assert body["status"] == "error"
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first.id}"
    assert len(body["correlationId"]) == 36


def test_invalid_properties_answer_hubspots_validation_body(hs):
    with pytest.raises(ContactsApiException) as exc:
        create_contact(hs, email="v@example.com", foo="x", hs_object_id="5", lifecyclestage="bogus")
    assert exc.value.status == 400
    body = error_of(exc)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: [")
    results = json.loads(body["message"][len("Property values were not valid: ") :])
    by_name = {r["name"]: r for r in results}
    assert by_name["foo"]["error"] == "PROPERTY_DOESNT_EXIST"
    assert by_name["foo"]["message"] == 'Property "foo" does not exist'
    assert by_name["hs_object_id"]["error"] == "READ_ONLY_VALUE"
    assert by_name["lifecyclestage"]["error"] == "INVALID_OPTION"
    assert {e["code"] for e in body["errors"]} == {
        "PROPERTY_DOESNT_EXIST",
        "READ_ONLY_VALUE",
        "INVALID_OPTION",
    }
    assert hs.crm.contacts.basic_api.get_page().results == []  # nothing was created


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"hs_email_optout": "true"}, "READ_ONLY_VALUE"),
        ({"createdate": "1714521600000"}, "READ_ONLY_VALUE"),
        ({"associatedcompanyid": "twelve"}, "INVALID_FLOAT"),
        ({"email": "not-an-email"}, "INVALID_EMAIL"),
    ],
)
def test_each_invalid_value_kind(hs, props, code):
    with pytest.raises(ContactsApiException) as exc:
        create_contact(hs, **props)
    assert exc.value.status == 400
    assert error_of(exc)["errors"][0]["code"] == code


def test_date_properties_must_be_midnight_utc(hs):
    hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="renewal_date",
            label="Renewal",
            type="date",
            field_type="date",
            group_name="contactinformation",
        ),
    )
    ok = create_contact(hs, email="d@example.com", renewal_date="1714521600000")
    assert ok.properties["renewal_date"] == "2024-05-01"
    with pytest.raises(ContactsApiException) as exc:
        create_contact(hs, email="e@example.com", renewal_date="1714524300000")
    assert "not midnight" in error_of(exc)["errors"][0]["message"]


def test_unknown_object_type_is_a_validation_error(hs):
    with pytest.raises(ObjectsApiException) as exc:
        hs.crm.objects.basic_api.get_page("widgets")
    assert exc.value.status == 400
    assert error_of(exc)["message"] == "Unable to infer object type from: widgets"


# -- listing and object type ids -----------------------------------------------------------------
def test_list_pages_with_after_cursor(hs):
    ids = [create_contact(hs, email=f"p{i}@example.com").id for i in range(7)]
    seen, after = [], None
    while True:
        page = hs.crm.contacts.basic_api.get_page(limit=3, after=after)
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == ids


def test_objects_api_accepts_type_ids(hs):
    created = hs.crm.objects.basic_api.create("0-3", {"properties": {"dealname": "Via id", "amount": "10"}})
    same = hs.crm.objects.basic_api.get_by_id("deals", created.id, properties=["dealname"])
    assert same.properties["dealname"] == "Via id"
    company = hs.crm.objects.basic_api.create("0-2", {"properties": {"name": "Acme"}})
    assert hs.crm.companies.basic_api.get_by_id(company.id).properties["name"] == "Acme"


def test_create_with_associations(hs, fresh_sandbox):
    company = hs.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(properties={"name": "Acme"}))
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "assoc@example.com"},
            associations=[
                {
                    "to": {"id": company.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        )
    )
    associations = fresh_sandbox.hubspot.associations
    assert associations.associated_ids("contacts", contact.id, "companies") == [company.id]


# -- batch ---------------------------------------------------------------------------------------
def test_batch_create_read_update_upsert_archive(hs):
    api = hs.crm.contacts.batch_api
    created = api.create({"inputs": [{"properties": {"email": f"b{i}@example.com"}} for i in range(3)]})
    assert created.status == "COMPLETE"
    assert len(created.results) == 3
    ids = [r.id for r in created.results]

    read = api.read(
        {
            "inputs": [{"id": "B1@example.com"}],
            "idProperty": "email",
            "properties": ["email"],
            "propertiesWithHistory": [],
        }
    )
    assert [r.id for r in read.results] == [ids[1]]

    updated = api.update({"inputs": [{"id": i, "properties": {"city": "Lyon"}} for i in ids]})
    assert {r.properties["city"] for r in updated.results} == {"Lyon"}

    upserted = api.upsert(
        {
            "inputs": [
                {"id": "b0@example.com", "idProperty": "email", "properties": {"firstname": "Zero"}},
                {"id": "new@example.com", "idProperty": "email", "properties": {"firstname": "New"}},
            ]
        }
    )
    by_email = {r.properties["email"]: r for r in upserted.results}
    assert by_email["b0@example.com"].new is False
    assert by_email["b0@example.com"].id == ids[0]
    assert by_email["new@example.com"].new is True

    api.archive({"inputs": [{"id": ids[0]}, {"id": "999999999"}]})
    remaining = {r.id for r in hs.crm.contacts.basic_api.get_page(limit=100).results}
    assert ids[0] not in remaining
    assert ids[1] in remaining


def test_batch_partial_results_are_207_with_errors(hs, fresh_sandbox):
    created = create_contact(hs, email="one@example.com")
    read = hs.crm.contacts.batch_api.read(
        {"inputs": [{"id": created.id}, {"id": "424242"}], "properties": [], "propertiesWithHistory": []}
    )
    assert [r.id for r in read.results] == [created.id]
    assert read.num_errors == 1
    assert read.errors[0].category == "OBJECT_NOT_FOUND"
    assert read.errors[0].context == {"ids": ["424242"]}
    updated = hs.crm.contacts.batch_api.update(
        {
            "inputs": [
                {"id": created.id, "properties": {"city": "Lyon"}},
                {"id": "424242", "properties": {"city": "X"}},
            ]
        }
    )
    assert updated.num_errors == 1
    assert updated.results[0].properties["city"] == "Lyon"


@pytest.mark.parametrize("operation", ["create", "read", "update", "upsert", "archive"])
def test_batches_over_100_inputs_are_rejected(hs, operation):
    inputs = [{"id": str(i), "idProperty": "email", "properties": {}} for i in range(101)]
    body = {"inputs": inputs, "properties": [], "propertiesWithHistory": []}
    with pytest.raises(ContactsApiException) as exc:
        getattr(hs.crm.contacts.batch_api, operation)(body)
    assert exc.value.status == 400
    error = error_of(exc)
    assert error["category"] == "VALIDATION_ERROR"
    assert "100" in error["message"]


def test_batch_create_with_one_invalid_input_creates_nothing(hs):
    with pytest.raises(ContactsApiException) as exc:
        hs.crm.contacts.batch_api.create(
            {"inputs": [{"properties": {"email": "ok@example.com"}}, {"properties": {"nope": "1"}}]}
        )
    assert exc.value.status == 400
    assert hs.crm.contacts.basic_api.get_page().results == []


# -- merge, GDPR, system writes ------------------------------------------------------------------
def test_merge_creates_a_new_record_and_old_ids_resolve_to_it(hs, published):
    primary = create_contact(hs, email="p@example.com", firstname="Primary")
    other = create_contact(hs, email="o@example.com", firstname="Other", city="Berlin")
    merged = hs.crm.contacts.basic_api.merge({"primaryObjectId": primary.id, "objectIdToMerge": other.id})
    assert merged.id not in (primary.id, other.id)
    props = merged.properties
    assert props["email"] == "p@example.com"
    assert props["firstname"] == "Primary"
    assert props["city"] == "Berlin"
    assert props["hs_merged_object_ids"] == f"{primary.id};{other.id}"
    assert props["hs_additional_emails"] == "o@example.com"
    for old in (primary.id, other.id):
        assert hs.crm.contacts.basic_api.get_by_id(old).id == merged.id
    assert hs.crm.contacts.basic_api.get_by_id("o@example.com", id_property="email").id == merged.id
    assert [r.id for r in hs.crm.contacts.basic_api.get_page().results] == [merged.id]
    merge_events = [e for e in published if e[0] == "contact.merge"]
    assert len(merge_events) == 1
    _, object_id, fields = merge_events[0]
    assert object_id == int(merged.id)
    assert fields["newObjectId"] == int(merged.id)
    assert fields["primaryObjectId"] == int(primary.id)
    assert fields["mergedObjectIds"] == [int(other.id)]
    assert fields["numberOfPropertiesMoved"] == 1  # city came from the merged record


def test_merge_of_a_missing_record_is_refused(hs):
    primary = create_contact(hs, email="p@example.com")
    with pytest.raises(ContactsApiException) as exc:
        hs.crm.contacts.basic_api.merge({"primaryObjectId": primary.id, "objectIdToMerge": "777"})
    assert exc.value.status == 400


def test_gdpr_delete_removes_the_contact_for_good(hs):
    created = create_contact(hs, email="forget@example.com")
    hs.crm.contacts.basic_api.purge({"objectId": "forget@example.com", "idProperty": "email"})
    with pytest.raises(ContactsApiException):
        hs.crm.contacts.basic_api.get_by_id(created.id, archived=True)


def test_webhook_events_for_api_writes(hs, published):
    created = create_contact(hs, email="w@example.com", firstname="W")
    hs.crm.contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"firstname": "W2", "lastname": "X"})
    )
    hs.crm.contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"firstname": "W2"})
    )  # no change
    hs.crm.contacts.basic_api.archive(created.id)
    kinds = [(kind, fields.get("propertyName")) for kind, _, fields in published]
    assert kinds == [
        ("contact.creation", None),
        ("contact.propertyChange", "email"),
        ("contact.propertyChange", "firstname"),
        ("contact.propertyChange", "firstname"),
        ("contact.propertyChange", "lastname"),
        ("contact.deletion", None),
    ]
    assert published[0][2]["changeFlag"] == "NEW"
    assert published[-1][2]["changeFlag"] == "DELETED"
    assert all(
        fields["changeSource"] == "INTEGRATION" and fields["occurredAt"] > 0 for _, _, fields in published
    )
    assert published[3][2]["propertyValue"] == "W2"


def test_system_property_writes_bypass_read_only_and_keep_history(hs, fresh_sandbox, published):
    created = create_contact(hs, email="sys@example.com")
    store = fresh_sandbox.hubspot.store
    store.set_system_properties(
        "contacts", created.id, {"hs_email_optout": "true"}, source="COMMUNICATION_PREFERENCES"
    )
    got = hs.crm.contacts.basic_api.get_by_id(
        created.id, properties=["hs_email_optout"], properties_with_history=["hs_email_optout"]
    )
    assert got.properties["hs_email_optout"] == "true"
    assert got.properties_with_history["hs_email_optout"][0].source_type == "COMMUNICATION_PREFERENCES"
    assert published[-1][0] == "contact.propertyChange"
    assert published[-1][2]["propertyName"] == "hs_email_optout"
    assert store.contact_by_email("SYS@example.com").id == created.id


# -- properties API ------------------------------------------------------------------------------
def test_properties_api_lists_definitions_with_lifecycle_options_in_order(hs):
    all_props = {p.name: p for p in hs.crm.properties.core_api.get_all("contacts").results}
    for name in (
        "email",
        "firstname",
        "lifecyclestage",
        "hs_email_optout",
        "hs_object_id",
        "hubspot_owner_id",
    ):
        assert name in all_props
    stage = hs.crm.properties.core_api.get_by_name("contacts", "lifecyclestage")
    assert stage.type == "enumeration"
    assert [o.value for o in stage.options][:6] == [
        "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    ]  # fmt: skip
    optout = all_props["hs_email_optout"]
    assert optout.type == "bool"
    assert optout.modification_metadata.read_only_value is True
    deal_props = {p.name for p in hs.crm.properties.core_api.get_all("deals").results}
    assert {"dealname", "amount", "dealstage", "pipeline", "closedate"} <= deal_props


def test_custom_property_can_be_created_used_and_is_unique_by_name(hs):
    created = hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="sf_tier",
            label="Tier",
            type="enumeration",
            field_type="select",
            group_name="contactinformation",
            options=[
                {"label": "Gold", "value": "gold", "hidden": False},
                {"label": "Silver", "value": "silver", "hidden": False},
            ],
        ),
    )
    assert created.name == "sf_tier"
    assert created.hubspot_defined is False
    contact = create_contact(hs, email="t@example.com", sf_tier="gold")
    assert contact.properties["sf_tier"] == "gold"
    with pytest.raises(ContactsApiException):
        create_contact(hs, email="t2@example.com", sf_tier="bronze")
    with pytest.raises(PropertiesApiException) as exc:
        hs.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(name="sf_tier", label="Again", type="string", field_type="text", group_name="x"),
        )
    assert exc.value.status == 409
    with pytest.raises(PropertiesApiException) as missing:
        hs.crm.properties.core_api.get_by_name("contacts", "nope")
    assert missing.value.status == 404


def test_upsert_by_a_custom_unique_property(hs):
    hs.crm.properties.core_api.create(
        "deals",
        PropertyCreate(
            name="sf_opportunity_id",
            label="Salesforce opportunity",
            type="string",
            field_type="text",
            group_name="dealinformation",
            has_unique_value=True,
        ),
    )
    first = hs.crm.deals.batch_api.upsert(
        {"inputs": [{"id": "006A", "idProperty": "sf_opportunity_id", "properties": {"dealname": "A"}}]}
    )
    assert first.results[0].new is True
    again = hs.crm.deals.batch_api.upsert(
        {"inputs": [{"id": "006A", "idProperty": "sf_opportunity_id", "properties": {"dealname": "A2"}}]}
    )
    assert again.results[0].new is False
    assert again.results[0].id == first.results[0].id
    assert again.results[0].properties["dealname"] == "A2"
    with pytest.raises(ObjectsApiException) as exc:
        hs.crm.objects.basic_api.create(
            "deals", {"properties": {"dealname": "B", "sf_opportunity_id": "006A"}}
        )
    assert exc.value.status == 409
    with pytest.raises(ObjectsApiException) as not_unique:
        hs.crm.objects.batch_api.upsert(
            "deals", {"inputs": [{"id": "x", "idProperty": "dealname", "properties": {}}]}
        )
    assert not_unique.value.status == 400


# -- control endpoints ---------------------------------------------------------------------------
def test_restore_and_crm_ui_edit_controls(hs, fresh_sandbox, published):
    base = f"{fresh_sandbox.hubspot_url}/_sandbox"
    created = create_contact(hs, email="r@example.com")
    hs.crm.contacts.basic_api.archive(created.id)
    restored = requests.post(f"{base}/restore", json={"objectType": "contacts", "id": created.id}, timeout=5)
    assert restored.status_code == 200
    assert hs.crm.contacts.basic_api.get_by_id(created.id).archived is False
    edit = {"objectType": "contact", "id": created.id, "properties": {"city": "Kyoto"}, "userId": 42}
    assert requests.post(f"{base}/crm-ui-edit", json=edit, timeout=5).status_code == 200
    got = hs.crm.contacts.basic_api.get_by_id(
        created.id, properties=["city"], properties_with_history=["city"]
    )
    assert got.properties_with_history["city"][0].source_type == "CRM_UI"
    assert got.properties_with_history["city"][0].updated_by_user_id == 42
    kinds = [(kind, fields.get("changeSource"), fields.get("sourceId")) for kind, _, fields in published]
    assert ("contact.restore", "CRM_UI", None) in kinds
    assert kinds[-1] == ("contact.propertyChange", "CRM_UI", "userId:42")
    missing = requests.post(f"{base}/restore", json={"objectType": "contacts", "id": "1"}, timeout=5)
    assert missing.status_code == 404


# -- demo seed -----------------------------------------------------------------------------------
def test_demo_seed_is_backdated_silent_and_overlaps_the_shared_people(monkeypatch):
    from infra.sandbox.config import HubSpotCredentials
    from infra.sandbox.hubspot.app import HubSpotEmulator
    from infra.sandbox.seed_data import demo_people

    emulator = HubSpotEmulator(HubSpotCredentials())
    events = []
    monkeypatch.setattr(emulator.webhooks, "publish", lambda *args, **fields: events.append(args))
    counts = emulator.seed_demo()
    day_ago = datetime.now(UTC) - timedelta(days=1)
    hs_people = [p for p in demo_people() if p.hs]
    assert counts["contacts"] == len(hs_people)
    assert counts["companies"] == 20
    assert counts["deals"] == 25
    assert counts["owners"] > 0
    assert counts["lists"] >= 1
    assert counts["email_events"] > 0
    store = emulator.store
    for person in hs_people:
        contact = store.contact_by_email(person.sf_email)  # Salesforce's casing finds HubSpot's contact
        assert contact is not None
        assert contact.properties["email"] == person.email.lower()
        assert contact.created_at < day_ago
        assert (contact.properties["createdate"] or "") < day_ago.isoformat()
    opted_out = [c for c in store.records("contacts") if c.properties.get("hs_email_optout") == "true"]
    assert opted_out
    some_contact = store.records("contacts")[0]
    assert emulator.associations.associated_ids("contacts", some_contact.id, "companies")
    assert all(c.created_at < day_ago for c in store.records("companies") + store.records("deals"))
    assert events == []
