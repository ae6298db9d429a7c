"""The HubSpot feature modules (associations, owners, lists, communication preferences, email events)
on a minimal emulator host with the real CRM store, called through werkzeug's test client (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from infra.sandbox.config import HubSpotCredentials
from infra.sandbox.hubspot.app import HubSpotEmulator
from infra.sandbox.hubspot.lists import compile_filter_branch

pytestmark = pytest.mark.usefixtures("no_sockets")  # pure: no network, as unit tests

AUTH = {"Authorization": f"Bearer {HubSpotCredentials().access_token}"}


class RecordingWebhooks:
    """Stands in for the webhooks feature's ``publish``: keeps what was published."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, dict[str, Any]]] = []

    def publish(self, subscription_type: str, object_id: int, **fields: Any) -> None:
        self.events.append((subscription_type, object_id, fields))

    def of(self, suffix: str) -> list[tuple[str, int, dict[str, Any]]]:
        return [e for e in self.events if e[0].endswith(suffix)]


class Api:
    """werkzeug's test client with the private-app token on every request."""

    def __init__(self, app: HubSpotEmulator) -> None:
        self._client = Client(app)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self._client.get(path, headers=AUTH, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self._client.post(path, headers=AUTH, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self._client.put(path, headers=AUTH, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self._client.delete(path, headers=AUTH, **kwargs)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch, host: HubSpotEmulator) -> RecordingWebhooks:
    recorder = RecordingWebhooks()
    monkeypatch.setattr(host.webhooks, "publish", recorder.publish)
    return recorder


@pytest.fixture
def host() -> HubSpotEmulator:
    return HubSpotEmulator(HubSpotCredentials())


@pytest.fixture
def client(host: HubSpotEmulator) -> Api:
    return Api(host)


def contact(host: HubSpotEmulator, email: str, **props) -> str:
    return host.store.create("contacts", {"email": email, **props}, publish=False).id


def company(host: HubSpotEmulator, name: str) -> str:
    return host.store.create("companies", {"name": name}, publish=False).id


def deal(host: HubSpotEmulator, name: str) -> str:
    return host.store.create("deals", {"dealname": name}, publish=False).id


# -- associations ------------------------------------------------------------------------------------
def test_default_association_is_readable_from_both_sides(host, client):
    c, co = contact(host, "a@x.example"), company(host, "Acme")
    resp = client.put(f"/crm/v4/objects/contact/{c}/associations/default/company/{co}")
    assert resp.status_code == 200
    specs = {(r["from"]["id"], r["associationSpec"]["associationTypeId"]) for r in resp.json["results"]}
    assert specs == {(c, 279), (co, 280)}
    back = client.get(f"/crm/v4/objects/companies/{co}/associations/contacts").json
    assert back["results"] == [
        {"toObjectId": c, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 280}]}
    ]


def test_primary_label_moves_and_sets_associatedcompanyid(host):
    c, first, second = contact(host, "p@x.example"), company(host, "One"), company(host, "Two")
    host.associations.associate("contacts", c, "companies", first, 1)
    assert host.store.get("contacts", c).properties["associatedcompanyid"] == first
    host.associations.associate("contacts", c, "companies", second, 1)
    assert host.associations.types_between("contacts", c, "companies", first) == {279}
    assert host.associations.types_between("contacts", c, "companies", second) == {279, 1}
    assert host.associations.types_between("companies", second, "contacts", c) == {280, 2}
    assert host.store.get("contacts", c).properties["associatedcompanyid"] == second


def test_association_webhooks_are_published_for_both_directions(host, client, published):
    c, d = contact(host, "w@x.example"), deal(host, "Big deal")
    client.put(f"/crm/v4/objects/deals/{d}/associations/default/contacts/{c}")
    client.delete(f"/crm/v4/objects/deals/{d}/associations/contacts/{c}")
    events = [
        (t, f["associationType"], f["associationRemoved"]) for t, _, f in published.of("associationChange")
    ]
    assert events == [
        ("deal.associationChange", "DEAL_TO_CONTACT", False),
        ("contact.associationChange", "CONTACT_TO_DEAL", False),
        ("deal.associationChange", "DEAL_TO_CONTACT", True),
        ("contact.associationChange", "CONTACT_TO_DEAL", True),
    ]


def test_seeding_publishes_nothing(host, published):
    c, co = contact(host, "s@x.example"), company(host, "Seed")
    host.associations.associate("contacts", c, "companies", co, 1, publish=False)
    assert published.of("associationChange") == []
    assert published.of("propertyChange") == []


def test_archive_hides_associations_and_restore_brings_them_back(host):
    c, co = contact(host, "r@x.example"), company(host, "Keep")
    host.associations.associate("contacts", c, "companies", co, 1)
    host.store.archive("companies", co)
    assert host.associations.associated_ids("contacts", c, "companies") == []
    assert host.store.get("contacts", c).properties.get("associatedcompanyid") in (None, "")
    host.store.restore("companies", co)
    host.associations.on_restore("companies", co)
    assert host.associations.associated_ids("contacts", c, "companies") == [co]


def test_merge_moves_associations_and_keeps_the_primary_records_primary_company(host):
    keep, gone = contact(host, "keep@x.example"), contact(host, "gone@x.example")
    mine, theirs, extra = company(host, "Mine"), company(host, "Theirs"), company(host, "Extra")
    d = deal(host, "Deal")
    host.associations.associate("contacts", keep, "companies", mine, 1)
    host.associations.associate("contacts", gone, "companies", theirs, 1)
    host.associations.associate("contacts", gone, "companies", extra)
    host.associations.associate("deals", d, "contacts", gone)
    merged = host.store.merge("contacts", keep, gone)
    assert host.associations.associated_ids("contacts", merged.id, "companies") == sorted(
        [mine, theirs, extra], key=int
    )
    assert host.associations.types_between("contacts", merged.id, "companies", mine) == {279, 1}
    assert host.associations.types_between("contacts", merged.id, "companies", theirs) == {279}
    assert host.associations.associated_ids("deals", d, "contacts") == [merged.id]
    assert host.associations.associated_ids("contacts", gone, "companies") == []


def test_batch_read_reports_ids_without_associations_as_207_errors(host, client):
    c, co = contact(host, "b@x.example"), company(host, "B")
    lonely = contact(host, "lonely@x.example")
    host.associations.associate("contacts", c, "companies", co)
    resp = client.post(
        "/crm/v4/associations/contacts/companies/batch/read", json={"inputs": [{"id": c}, {"id": lonely}]}
    )
    assert resp.status_code == 207
    assert [r["from"]["id"] for r in resp.json["results"]] == [c]
    error = resp.json["errors"][0]
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["context"]["fromObjectId"] == [lonely]


def test_batch_read_rejects_more_than_1000_inputs(client):
    resp = client.post(
        "/crm/v4/associations/contacts/companies/batch/read",
        json={"inputs": [{"id": str(i)} for i in range(1001)]},
    )
    assert resp.status_code == 400
    assert resp.json["category"] == "VALIDATION_ERROR"


def test_labelled_put_rejects_wrong_direction_types_and_missing_objects(host, client):
    c, co = contact(host, "l@x.example"), company(host, "L")
    wrong = client.put(
        f"/crm/v4/objects/contacts/{c}/associations/companies/{co}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}],
    )
    assert wrong.status_code == 400
    missing = client.put(
        f"/crm/v4/objects/contacts/{c}/associations/companies/999999",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    assert missing.status_code == 400
    assert "999999" in missing.json["message"]


def test_labels_archive_keeps_the_unlabeled_association(host, client):
    c, co = contact(host, "la@x.example"), company(host, "LA")
    host.associations.associate("contacts", c, "companies", co, 1)
    resp = client.post(
        "/crm/v4/associations/contacts/companies/batch/labels/archive",
        json={
            "inputs": [
                {
                    "from": {"id": c},
                    "to": {"id": co},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
                }
            ]
        },
    )
    assert resp.status_code == 204
    assert host.associations.types_between("companies", co, "contacts", c) == {280}


def test_paging_of_associations(host, client):
    co = company(host, "Many")
    ids = [contact(host, f"m{i}@x.example") for i in range(5)]
    for c in ids:
        host.associations.associate("companies", co, "contacts", c)
    first = client.get(f"/crm/v4/objects/companies/{co}/associations/contacts?limit=3").json
    second = client.get(
        f"/crm/v4/objects/companies/{co}/associations/contacts?limit=3&after={first['paging']['next']['after']}"
    ).json
    assert [r["toObjectId"] for r in first["results"] + second["results"]] == ids
    assert "paging" not in second


# -- owners ------------------------------------------------------------------------------------------
def test_owners_filter_by_email_and_hide_archived(host, client):
    host.owners.seed_demo()
    active = client.get("/crm/v3/owners?limit=100").json["results"]
    assert "olaf.berg@sandbox.example" not in {o["email"] for o in active}
    archived = client.get("/crm/v3/owners?archived=true").json["results"]
    assert [o["email"] for o in archived] == ["olaf.berg@sandbox.example"]
    assert "userId" not in archived[0]
    ravi = client.get("/crm/v3/owners?email=RAVI.SHAH@sandbox.example").json["results"]
    assert [(o["firstName"], o["lastName"]) for o in ravi] == [("Ravi", "S.")]


def test_owner_by_user_id_and_paging(host, client):
    host.owners.seed_demo()
    page = client.get("/crm/v3/owners?limit=2").json
    rest = client.get(f"/crm/v3/owners?limit=100&after={page['paging']['next']['after']}").json
    assert len(page["results"]) + len(rest["results"]) == 6
    owner = page["results"][0]
    by_user = client.get(f"/crm/v3/owners/{owner['userId']}?idProperty=userId").json
    assert by_user["id"] == owner["id"]
    assert client.get("/crm/v3/owners/1").status_code == 404


# -- lists -------------------------------------------------------------------------------------------
def test_dynamic_list_follows_property_values(host, client):
    sub = contact(host, "sub@x.example", lifecyclestage="subscriber")
    lead = contact(host, "lead@x.example", lifecyclestage="lead")
    none = contact(host, "none@x.example")
    host.lists.seed_demo([sub])
    lists = client.post(
        "/crm/v3/lists/search", json={"query": "subscribers", "offset": 0, "additionalProperties": []}
    )
    list_id = lists.json["lists"][0]["listId"]
    members = client.get(f"/crm/v3/lists/{list_id}/memberships").json["results"]
    assert [m["recordId"] for m in members] == [lead, none]
    host.store.update(
        "contacts", host.store.get("contacts", lead), {"lifecyclestage": "subscriber"}, publish=False
    )
    members = client.get(f"/crm/v3/lists/{list_id}/memberships").json["results"]
    assert [m["recordId"] for m in members] == [none]


def test_compile_filter_branch_rejects_unsupported_filters():
    with pytest.raises(ValueError, match="only PROPERTY filters"):
        compile_filter_branch({"filterBranchType": "OR", "filters": [{"filterType": "IN_LIST"}]})


def test_manual_list_membership_changes_report_added_removed_missing(host, client):
    a, b = contact(host, "a1@x.example"), contact(host, "b1@x.example")
    created = client.post(
        "/crm/v3/lists", json={"name": "Sync", "objectTypeId": "0-1", "processingType": "MANUAL"}
    )
    list_id = created.json["list"]["listId"]
    resp = client.put(f"/crm/v3/lists/{list_id}/memberships/add", json=[a, b, "424242"]).json
    assert resp == {"recordsIdsAdded": [a, b], "recordIdsRemoved": [], "recordIdsMissing": ["424242"]}
    resp = client.put(
        f"/crm/v3/lists/{list_id}/memberships/add-and-remove",
        json={"recordIdsToAdd": [a], "recordIdsToRemove": [b]},
    ).json
    assert resp["recordsIdsAdded"] == []
    assert resp["recordIdsRemoved"] == [b]
    assert client.get(f"/crm/v3/lists/{list_id}").json["list"]["size"] == 1


# -- communication preferences -----------------------------------------------------------------------
def test_unsubscribe_all_sets_hs_email_optout_and_blocks_api_resubscribe(host, client, published):
    c = contact(host, "opt@x.example")
    resp = client.post(
        "/communication-preferences/v4/statuses/OPT@x.example/unsubscribe-all?channel=EMAIL&verbose=true"
    )
    assert resp.status_code == 200
    assert {r["setStatusSuccessReason"] for r in resp.json["results"]} == {"UNSUBSCRIBE_FROM_ALL_OCCURRED"}
    record = host.store.get("contacts", c)
    assert record.properties["hs_email_optout"] == "true"
    assert [(t, f["propertyName"]) for t, _, f in published.of("propertyChange")][:1] == [
        ("contact.propertyChange", "hs_email_optout")
    ]
    refused = client.post(
        "/communication-preferences/v3/subscribe",
        json={"emailAddress": "opt@x.example", "subscriptionId": "6180533"},
    )
    assert refused.status_code == 400
    assert record.properties["hs_email_optout"] == "true"


def test_unsubscribe_all_requires_the_email_channel(client):
    resp = client.post("/communication-preferences/v4/statuses/a@x.example/unsubscribe-all")
    assert resp.status_code == 400


# -- email events ------------------------------------------------------------------------------------
def test_email_events_generate_sent_and_delivered_and_attribute_forwards(host, client):
    resp = client.post(
        "/_sandbox/email-events",
        json={
            "recipient": "Reader@x.example",
            "events": [{"type": "OPEN"}, {"type": "CLICK", "forwardedTo": "f@y.example"}],
        },
    )
    types = [e["type"] for e in resp.json["events"]]
    assert types == ["SENT", "DELIVERED", "OPEN", "FORWARD", "CLICK"]
    assert {e["recipient"] for e in resp.json["events"]} == {"reader@x.example"}
    sent = resp.json["events"][0]
    assert all(e["sentBy"] == {"id": sent["id"], "created": sent["created"]} for e in resp.json["events"][1:])


def test_email_events_paging_is_stable_when_newer_events_arrive(host, client):
    client.post(
        "/_sandbox/email-events",
        json={
            "recipient": "p@x.example",
            "events": [{"type": "OPEN", "created": 1_700_000_000_000 + i} for i in range(5)],
        },
    )
    first = client.get("/email/public/v1/events?limit=3").json
    client.post("/_sandbox/email-events", json={"recipient": "p@x.example", "events": [{"type": "CLICK"}]})
    second = client.get(f"/email/public/v1/events?limit=10&offset={first['offset']}").json
    seen = [e["id"] for e in first["events"]] + [e["id"] for e in second["events"]]
    assert first["hasMore"] is True
    assert second["hasMore"] is False
    assert len(seen) == len(set(seen)) == 7
