"""HubSpot associations v4, owners, lists, communication preferences and marketing email events,
driven with the real hubspot-api-client (``hs``) and, where the client has no operation, ``requests``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hubspot.communication_preferences import PublicUpdateSubscriptionStatusRequest
from hubspot.communication_preferences.exceptions import ApiException as CommPrefsApiException
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiArchive,
    PublicAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
from hubspot.crm.contacts import PublicMergeInput, SimplePublicObjectInputForCreate
from hubspot.crm.lists import ListCreateRequest, ListSearchRequest, MembershipChangeRequest
from hubspot.crm.lists.exceptions import ApiException as ListsApiException
from hubspot.crm.owners.exceptions import ApiException as OwnersApiException

MARKETING, NEWSLETTER = "6180531", "6180533"


@pytest.fixture
def url(fresh_sandbox) -> str:
    return str(fresh_sandbox.hubspot_url)


@pytest.fixture
def auth(fresh_sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {fresh_sandbox.info.hubspot['access_token']}"}


def new_contact(hs, email: str, **props) -> str:
    return str(
        hs.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": email, **props})
        ).id
    )


def new_company(hs, name: str) -> str:
    return str(
        hs.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(properties={"name": name})).id
    )


def new_deal(hs, name: str) -> str:
    return str(
        hs.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(properties={"dealname": name})).id
    )


def spec(type_id: int) -> AssociationSpec:
    return AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)


def pair(from_id: str, to_id: str, type_id: int) -> PublicAssociationMultiPost:
    return PublicAssociationMultiPost(
        _from=PublicObjectId(id=from_id), to=PublicObjectId(id=to_id), types=[spec(type_id)]
    )


# -- associations v4 ---------------------------------------------------------------------------------
def test_associations_are_symmetric_and_primary_sets_associatedcompanyid(hs):
    contact, company = new_contact(hs, "sym@example.com"), new_company(hs, "Sym Inc")
    api = hs.crm.associations.v4.basic_api
    default = api.create_default("contacts", contact, "companies", company)
    assert {(r._from.id, r.association_spec.association_type_id) for r in default.results} == {
        (contact, 279),
        (company, 280),
    }
    reverse = api.get_page("companies", company, "contacts")
    assert [(r.to_object_id, [t.type_id for t in r.association_types]) for r in reverse.results] == [
        (contact, [280])
    ]

    labelled = api.create("contact", contact, "company", company, [spec(1)])
    assert labelled.labels == ["Primary"]
    types = api.get_page("0-2", company, "0-1").results[0].association_types
    assert {(t.type_id, t.label) for t in types} == {(280, None), (2, "Primary")}
    read = hs.crm.contacts.basic_api.get_by_id(contact, properties=["associatedcompanyid"])
    assert read.properties["associatedcompanyid"] == company


def test_association_labels_of_a_pair(hs):
    labels = hs.crm.associations.v4.schema.definitions_api.get_all("deals", "companies")
    assert {(r.type_id, r.label) for r in labels.results} == {(341, None), (5, "Primary")}


def test_batch_create_read_and_archive(hs):
    contacts = [new_contact(hs, f"batch{i}@example.com") for i in range(3)]
    deal, lonely = new_deal(hs, "Batch deal"), new_deal(hs, "Lonely deal")
    batch = hs.crm.associations.v4.batch_api
    created = batch.create(
        "deals", "contacts", BatchInputPublicAssociationMultiPost(inputs=[pair(deal, c, 3) for c in contacts])
    )
    assert sorted(r.to_object_id for r in created.results) == contacts

    read = batch.get_page(
        "contacts",
        "deals",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=c) for c in contacts]
            + [PublicFetchAssociationsBatchRequest(id=lonely)]
        ),
    )
    assert sorted(r._from.id for r in read.results) == contacts
    assert all([t.to_object_id for t in r.to] == [deal] for r in read.results)
    assert read.num_errors == 1
    assert read.errors[0].message == f"No deal is associated with contact {lonely}."

    batch.archive(
        "deals",
        "contacts",
        BatchInputPublicAssociationMultiArchive(
            inputs=[
                PublicAssociationMultiArchive(
                    _from=PublicObjectId(id=deal), to=[PublicObjectId(id=c) for c in contacts[:2]]
                )
            ]
        ),
    )
    left = hs.crm.associations.v4.basic_api.get_page("deals", deal, "contacts")
    assert [r.to_object_id for r in left.results] == [contacts[2]]


def test_batch_read_takes_at_most_1000_inputs(hs):
    inputs = [PublicFetchAssociationsBatchRequest(id=str(i)) for i in range(1001)]
    with pytest.raises(AssociationsApiException) as err:
        hs.crm.associations.v4.batch_api.get_page(
            "contacts", "companies", BatchInputPublicFetchAssociationsBatchRequest(inputs=inputs)
        )
    assert err.value.status == 400
    inputs = inputs[:1000]
    answer = hs.crm.associations.v4.batch_api.get_page(
        "contacts", "companies", BatchInputPublicFetchAssociationsBatchRequest(inputs=inputs)
    )
    assert answer.num_errors == 1000


def test_association_with_a_missing_record_is_refused(hs):
    company = new_company(hs, "Real Co")
    with pytest.raises(AssociationsApiException) as err:
        hs.crm.associations.v4.basic_api.create_default("contacts", "987654321", "companies", company)
    assert err.value.status == 400
    assert "987654321" in err.value.body


def test_deleting_a_pair_and_archiving_a_label(hs):
    contact, company = new_contact(hs, "del@example.com"), new_company(hs, "Del Co")
    api, batch = hs.crm.associations.v4.basic_api, hs.crm.associations.v4.batch_api
    api.create("contacts", contact, "companies", company, [spec(1)])
    batch.archive_labels(
        "contacts", "companies", BatchInputPublicAssociationMultiPost(inputs=[pair(contact, company, 1)])
    )
    types = api.get_page("contacts", contact, "companies").results[0].association_types
    assert [t.type_id for t in types] == [279]
    api.archive("contacts", contact, "companies", company)
    assert api.get_page("companies", company, "contacts").results == []


def test_archiving_a_record_drops_its_associations(hs):
    contact, company = new_contact(hs, "arch@example.com"), new_company(hs, "Arch Co")
    hs.crm.associations.v4.basic_api.create("contacts", contact, "companies", company, [spec(1)])
    hs.crm.companies.basic_api.archive(company)
    assert hs.crm.associations.v4.basic_api.get_page("contacts", contact, "companies").results == []
    read = hs.crm.contacts.basic_api.get_by_id(contact, properties=["associatedcompanyid"])
    assert not read.properties.get("associatedcompanyid")


def test_merging_contacts_moves_their_associations(hs):
    keep, gone = new_contact(hs, "keep@example.com"), new_contact(hs, "gone@example.com")
    mine, theirs, deal = new_company(hs, "Mine"), new_company(hs, "Theirs"), new_deal(hs, "Merge deal")
    api = hs.crm.associations.v4.basic_api
    api.create("contacts", keep, "companies", mine, [spec(1)])
    api.create("contacts", gone, "companies", theirs, [spec(1)])
    api.create_default("deals", deal, "contacts", gone)
    merged = hs.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=keep, object_id_to_merge=gone)
    )
    companies = {
        r.to_object_id: {t.type_id for t in r.association_types}
        for r in api.get_page("contacts", merged.id, "companies").results
    }
    assert companies == {mine: {279, 1}, theirs: {279}}
    assert [r.to_object_id for r in api.get_page("deals", deal, "contacts").results] == [merged.id]


# -- owners ------------------------------------------------------------------------------------------
@pytest.fixture
def owners(url):
    people = [
        {"email": "ann.lee@sandbox.example", "firstName": "Ann", "lastName": "Lee"},
        {"email": "bo.chen@sandbox.example", "firstName": "Bo", "lastName": "Chen"},
        {"email": "cy.diaz@sandbox.example", "firstName": "Cy", "lastName": "Diaz"},
        {"email": "dee.old@sandbox.example", "firstName": "Dee", "lastName": "Old", "archived": True},
    ]
    answer = requests.post(f"{url}/_sandbox/owners", json={"owners": people}, timeout=5)
    answer.raise_for_status()
    return answer.json()["owners"]


def test_owners_page_filter_and_archived(hs, owners):
    api = hs.crm.owners.owners_api
    first = api.get_page(limit=2)
    rest = api.get_page(limit=2, after=first.paging.next.after)
    assert [o.email for o in first.results + rest.results] == [
        "ann.lee@sandbox.example",
        "bo.chen@sandbox.example",
        "cy.diaz@sandbox.example",
    ]
    assert rest.paging is None
    assert [o.first_name for o in api.get_page(email="bo.chen@sandbox.example").results] == ["Bo"]
    archived = api.get_page(archived=True).results
    assert [(o.email, o.archived, o.user_id) for o in archived] == [("dee.old@sandbox.example", True, None)]


def test_owner_by_id_or_user_id(hs, owners):
    api = hs.crm.owners.owners_api
    bo = owners[1]
    assert api.get_by_id(int(bo["id"])).email == "bo.chen@sandbox.example"
    assert api.get_by_id(bo["userId"], id_property="userId").id == bo["id"]
    with pytest.raises(OwnersApiException) as err:
        api.get_by_id(int(owners[3]["id"]))
    assert err.value.status == 404
    assert api.get_by_id(int(owners[3]["id"]), archived=True).archived is True


# -- lists -------------------------------------------------------------------------------------------
def test_manual_list_memberships(hs):
    ids = [new_contact(hs, f"member{i}@example.com") for i in range(5)]
    lists, members = hs.crm.lists.lists_api, hs.crm.lists.memberships_api
    created = lists.create(
        ListCreateRequest(name="Salesforce sync", object_type_id="0-1", processing_type="MANUAL")
    )
    list_id = created.list.list_id
    added = members.add(list_id, [*ids, "999999"])
    assert added.records_ids_added == ids
    assert added.record_ids_missing == ["999999"]

    page = members.get_page(list_id, limit=2)
    rest = members.get_page(list_id, after=page.paging.next.after, limit=10)
    assert [m.record_id for m in page.results + rest.results] == ids

    changed = members.add_and_remove(
        list_id, MembershipChangeRequest(record_ids_to_add=[], record_ids_to_remove=[ids[0]])
    )
    assert changed.record_ids_removed == [ids[0]]
    assert [m.list_id for m in members.get_lists("0-1", ids[1]).results] == [list_id]
    assert members.get_lists("0-1", ids[0]).results == []
    assert lists.get_by_id(list_id).list.size == 4
    assert lists.get_by_name("Salesforce sync", "0-1").list.list_id == list_id


def test_dynamic_lists_refuse_manual_membership_and_follow_filters(hs, url, auth):
    lead = new_contact(hs, "lead@example.com", lifecyclestage="lead")
    new_contact(hs, "sub@example.com", lifecyclestage="subscriber")
    branch = {
        "filterBranchType": "OR",
        "filters": [],
        "filterBranches": [
            {
                "filterBranchType": "AND",
                "filterBranches": [],
                "filters": [
                    {
                        "filterType": "PROPERTY",
                        "property": "lifecyclestage",
                        "operation": {
                            "operationType": "ENUMERATION",
                            "operator": "IS_NONE_OF",
                            "values": ["subscriber"],
                        },
                    }
                ],
            }
        ],
    }
    answer = requests.post(
        f"{url}/crm/v3/lists",
        json={
            "name": "Not subscribers",
            "objectTypeId": "0-1",
            "processingType": "DYNAMIC",
            "filterBranch": branch,
        },
        headers=auth,
        timeout=5,
    )
    list_id = answer.json()["list"]["listId"]
    assert [m.record_id for m in hs.crm.lists.memberships_api.get_page(list_id).results] == [lead]
    with pytest.raises(ListsApiException) as err:
        hs.crm.lists.memberships_api.add(list_id, [lead])
    assert err.value.status == 400


def test_list_search_delete_and_restore(hs):
    lists = hs.crm.lists.lists_api
    ids = [
        lists.create(
            ListCreateRequest(name=f"Campaign {i}", object_type_id="0-1", processing_type="MANUAL")
        ).list.list_id
        for i in range(3)
    ]
    found = lists.do_search(ListSearchRequest(query="campaign", count=2, offset=0, additional_properties=[]))
    assert (found.total, found.has_more, found.offset) == (3, True, 2)
    lists.remove(ids[0])
    with pytest.raises(ListsApiException) as err:
        lists.get_by_id(ids[0])
    assert err.value.status == 404
    lists.restore(ids[0])
    assert [lst.list_id for lst in lists.get_all(list_ids=ids).lists] == ids


# -- communication preferences -----------------------------------------------------------------------
def test_subscribe_and_unsubscribe_one_subscription(hs):
    status_api = hs.communication_preferences.status_api
    names = {d.name for d in hs.communication_preferences.definition_api.get_page().subscription_definitions}
    assert {"Marketing Information", "One to One", "Newsletter"} <= names
    contact = new_contact(hs, "news@example.com")
    subscribed = status_api.subscribe(
        PublicUpdateSubscriptionStatusRequest(
            email_address="news@example.com", subscription_id=NEWSLETTER, legal_basis="CONSENT_WITH_NOTICE"
        )
    )
    assert (subscribed.status, subscribed.source_of_status) == ("SUBSCRIBED", "SUBSCRIPTION_STATUS")
    status_api.unsubscribe(
        PublicUpdateSubscriptionStatusRequest(email_address="news@example.com", subscription_id=NEWSLETTER)
    )
    statuses = {s.id: s.status for s in status_api.get_email_status("news@example.com").subscription_statuses}
    assert statuses[NEWSLETTER] == "NOT_SUBSCRIBED"
    read = hs.crm.contacts.basic_api.get_by_id(contact, properties=["hs_email_optout"])
    assert read.properties.get("hs_email_optout") in (None, "", "false")


def test_unsubscribe_from_all_sets_hs_email_optout_and_cannot_be_undone_by_the_api(hs, url, auth):
    contact = new_contact(hs, "optout@example.com")
    status_api = hs.communication_preferences.status_api
    status_api.subscribe(
        PublicUpdateSubscriptionStatusRequest(email_address="optout@example.com", subscription_id=MARKETING)
    )
    answer = requests.post(
        f"{url}/communication-preferences/v4/statuses/optout@example.com/unsubscribe-all",
        params={"channel": "EMAIL", "verbose": "true"},
        headers=auth,
        timeout=5,
    )
    assert answer.status_code == 200
    assert {r["status"] for r in answer.json()["results"]} == {"UNSUBSCRIBED"}

    read = hs.crm.contacts.basic_api.get_by_id(
        contact, properties=["hs_email_optout"], properties_with_history=["hs_email_optout"]
    )
    assert read.properties["hs_email_optout"] == "true"
    assert read.properties_with_history["hs_email_optout"][0].value == "true"
    statuses = status_api.get_email_status("optout@example.com").subscription_statuses
    assert {(s.status, s.source_of_status) for s in statuses} == {("NOT_SUBSCRIBED", "PORTAL_WIDE_STATUS")}

    with pytest.raises(CommPrefsApiException) as err:
        status_api.subscribe(
            PublicUpdateSubscriptionStatusRequest(
                email_address="optout@example.com", subscription_id=MARKETING
            )
        )
    assert err.value.status == 400
    wide = requests.get(
        f"{url}/communication-preferences/v4/statuses/optout@example.com/unsubscribe-all",
        params={"channel": "EMAIL"},
        headers=auth,
        timeout=5,
    ).json()
    assert [r["wideStatusType"] for r in wide["results"]] == ["PORTAL_WIDE"]

    requests.post(f"{url}/_sandbox/comm-prefs/resubscribe", json={"email": "optout@example.com"}, timeout=5)
    assert (
        hs.crm.contacts.basic_api.get_by_id(contact, properties=["hs_email_optout"]).properties[
            "hs_email_optout"
        ]
        == "false"
    )


# -- marketing email events --------------------------------------------------------------------------
def add_events(url: str, recipient: str, events: list[dict[str, Any]], campaign_id: int | None = None) -> Any:
    body: dict[str, Any] = {"recipient": recipient, "events": events}
    if campaign_id is not None:
        body["campaignId"] = campaign_id
    answer = requests.post(f"{url}/_sandbox/email-events", json=body, timeout=5)
    answer.raise_for_status()
    return answer.json()["events"]


def get_events(url: str, auth: dict[str, str], **params: Any) -> Any:
    answer = requests.get(f"{url}/email/public/v1/events", params=params, headers=auth, timeout=5)
    answer.raise_for_status()
    return answer.json()


def test_email_events_filters_and_lookup(url, auth):
    base = 1_760_000_000_000
    added = add_events(
        url,
        "Ann@Example.com",
        [{"type": "OPEN", "created": base}, {"type": "CLICK", "created": base + 1000}],
        501,
    )
    add_events(url, "bob@example.com", [{"type": "OPEN", "created": base + 5000}], 502)
    assert [e["type"] for e in added] == ["SENT", "DELIVERED", "OPEN", "CLICK"]

    ann = get_events(url, auth, recipient="ann@example.com", limit=100)["events"]
    assert [e["type"] for e in ann] == ["CLICK", "OPEN", "DELIVERED", "SENT"]  # newest first
    assert {e["recipient"] for e in ann} == {"ann@example.com"}
    opens = get_events(url, auth, eventType="OPEN", limit=100)["events"]
    assert [e["recipient"] for e in opens] == ["bob@example.com", "ann@example.com"]
    window = get_events(url, auth, startTimestamp=base, endTimestamp=base + 1000, limit=100)["events"]
    assert [e["type"] for e in window] == ["CLICK", "OPEN"]
    assert {e["emailCampaignId"] for e in get_events(url, auth, campaignId=502, limit=100)["events"]} == {502}

    click = ann[0]
    assert click["url"].startswith("https://")
    assert click["sentBy"]["id"] == ann[-1]["id"]
    one = requests.get(
        f"{url}/email/public/v1/events/{click['created']}/{click['id']}", headers=auth, timeout=5
    )
    assert one.json() == click


def test_email_events_offset_paging_and_limit(url, auth):
    add_events(
        url, "pager@example.com", [{"type": "OPEN", "created": 1_760_000_000_000 + i} for i in range(8)]
    )
    seen, offset = [], None
    while True:
        params = {"limit": 4, **({"offset": offset} if offset else {})}
        page = get_events(url, auth, **params)
        seen += [e["id"] for e in page["events"]]
        if not page["hasMore"]:
            break
        offset = page["offset"]
    assert len(seen) == len(set(seen)) == 10  # 8 opens + generated SENT and DELIVERED
    too_many = requests.get(f"{url}/email/public/v1/events", params={"limit": 1001}, headers=auth, timeout=5)
    assert too_many.status_code == 400


def test_opens_and_clicks_after_a_forward_are_attributed_to_the_original_recipient(url, auth):
    add_events(url, "boss@example.com", [{"type": "OPEN"}], campaign_id=700)
    add_events(
        url,
        "boss@example.com",
        [
            {"type": "FORWARD"},
            {"type": "OPEN", "forwardedTo": "assistant@example.com"},
            {"type": "CLICK", "forwardedTo": "assistant@example.com"},
        ],
        campaign_id=700,
    )
    events = get_events(url, auth, limit=100)["events"]
    assert {e["recipient"] for e in events} == {"boss@example.com"}
    assert sum(1 for e in events if e["type"] == "OPEN") == 2
    assert [e["type"] for e in events if e["type"] == "FORWARD"] == ["FORWARD"]


def test_email_events_need_credentials(url):
    assert requests.get(f"{url}/email/public/v1/events", timeout=5).status_code == 401


def test_a_campaign_has_its_name_subject_and_counters(url, auth):
    body = {
        "recipient": "c@example.com",
        "campaignId": 801,
        "subject": "Spring news",
        "events": [{"type": "OPEN"}],
    }
    requests.post(f"{url}/_sandbox/email-events", json=body, timeout=5).raise_for_status()
    answer = requests.get(f"{url}/email/public/v1/campaigns/801", headers=auth, timeout=5)
    assert answer.status_code == 200
    campaign = answer.json()
    assert (campaign["id"], campaign["subject"], campaign["name"]) == (801, "Spring news", "Spring news")
    assert campaign["counters"] == {"sent": 1, "delivered": 1, "open": 1}
    assert requests.get(f"{url}/email/public/v1/campaigns/802", headers=auth, timeout=5).status_code == 404
    assert requests.get(f"{url}/email/public/v1/campaigns/801", timeout=5).status_code == 401
