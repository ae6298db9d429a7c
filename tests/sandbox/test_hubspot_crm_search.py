"""CRM search of the HubSpot emulator through the real hubspot-api-client."""

from __future__ import annotations

import json

import pytest
import requests
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest
from hubspot.crm.deals import PublicObjectSearchRequest as DealSearch


@pytest.fixture
def people(hs, fresh_sandbox):
    """Five contacts and three deals; the search rate limit lifted so tests may search freely."""
    requests.post(
        f"{fresh_sandbox.hubspot_url}/_sandbox/settings", json={"search_per_second": 1000}, timeout=5
    )
    rows = [
        ("ada@example.com", "Ada", "Lovelace", "lead", "Tokyo"),
        ("grace@navy.example", "Grace", "Hopper", "customer", "Berlin"),
        ("alan@example.com", "Alan", "Turing", "lead", None),
        ("KATHERINE@nasa.example", "Katherine", "Johnson", "subscriber", "Tokyo"),
        ("edsger@example.com", "Edsger", "Dijkstra", None, "Austin"),
    ]
    ids = {}
    for email, first, last, stage, city in rows:
        props = {"email": email, "firstname": first, "lastname": last}
        if stage:
            props["lifecyclestage"] = stage
        if city:
            props["city"] = city
        ids[first] = hs.crm.contacts.basic_api.create({"properties": props}).id
    for name, amount, close in (
        ("Small", "900", "1714521600000"),
        ("Mid", "5000", "1717200000000"),
        ("Big", "25000", None),
    ):
        props = {"dealname": name, "amount": amount, "dealstage": "qualifiedtobuy"}
        if close:
            props["closedate"] = close
        hs.crm.deals.basic_api.create({"properties": props})
    return ids


def search(hs, *filters, groups=None, **kwargs):
    filter_groups = groups if groups is not None else ([{"filters": list(filters)}] if filters else [])
    return hs.crm.contacts.search_api.do_search(
        PublicObjectSearchRequest(filter_groups=filter_groups, **kwargs)
    )


def firstnames(result):
    return sorted(r.properties["firstname"] for r in result.results)


def test_eq_on_email_ignores_case_and_returns_default_properties(hs, people):
    result = search(hs, {"propertyName": "email", "operator": "EQ", "value": "Katherine@NASA.example"})
    assert result.total == 1
    contact = result.results[0]
    assert contact.id == people["Katherine"]
    assert contact.properties["email"] == "katherine@nasa.example"
    assert set(contact.properties) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }


def test_in_neq_and_property_presence(hs, people):
    lead_or_customer = {"propertyName": "lifecyclestage", "operator": "IN", "values": ["LEAD", "customer"]}
    assert firstnames(search(hs, lead_or_customer)) == ["Ada", "Alan", "Grace"]
    assert firstnames(search(hs, {"propertyName": "lifecyclestage", "operator": "NEQ", "value": "lead"})) == [
        "Edsger", "Grace", "Katherine",
    ]  # fmt: skip
    assert firstnames(search(hs, {"propertyName": "city", "operator": "NOT_HAS_PROPERTY"})) == ["Alan"]
    assert search(hs, {"propertyName": "city", "operator": "HAS_PROPERTY"}).total == 4
    not_in = {"propertyName": "city", "operator": "NOT_IN", "values": ["tokyo", "berlin"]}
    assert firstnames(search(hs, not_in)) == ["Alan", "Edsger"]


def test_filter_groups_or_and_filters_and(hs, people):
    groups = [
        {"filters": [
            {"propertyName": "city", "operator": "EQ", "value": "Tokyo"},
            {"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"},
        ]},
        {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "hopper"}]},
    ]  # fmt: skip
    assert firstnames(search(hs, groups=groups)) == ["Ada", "Grace"]


def test_contains_token_and_free_text_query(hs, people):
    domain = {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}
    assert firstnames(search(hs, domain)) == ["Ada", "Alan", "Edsger"]
    assert firstnames(
        search(hs, {"propertyName": "lastname", "operator": "CONTAINS_TOKEN", "value": "dijkstra"})
    ) == ["Edsger"]
    assert firstnames(search(hs, query="hop")) == ["Grace"]
    assert firstnames(search(hs, query="nasa.example")) == ["Katherine"]


def test_numbers_and_datetimes_compare_by_value(hs, people):
    def deals(*filters):
        result = hs.crm.deals.search_api.do_search(DealSearch(filter_groups=[{"filters": list(filters)}]))
        return sorted(r.properties["dealname"] for r in result.results)

    assert deals({"propertyName": "amount", "operator": "GT", "value": "1000"}) == ["Big", "Mid"]
    assert deals({"propertyName": "amount", "operator": "BETWEEN", "value": "900", "highValue": "5000"}) == [
        "Mid",
        "Small",
    ]
    assert deals({"propertyName": "closedate", "operator": "LT", "value": "2024-05-15T00:00:00Z"}) == [
        "Small"
    ]
    assert deals({"propertyName": "closedate", "operator": "GTE", "value": "1717200000000"}) == ["Mid"]


def test_sorts_properties_and_paging_with_after(hs, people):
    seen, after = [], None
    while True:
        page = search(
            hs,
            limit=2,
            after=after,
            sorts=[{"propertyName": "firstname", "direction": "DESCENDING"}],
            properties=["firstname", "city"],
        )
        assert page.total == 5
        seen += [r.properties["firstname"] for r in page.results]
        assert set(page.results[0].properties) == {
            "firstname",
            "city",
            "createdate",
            "hs_object_id",
            "lastmodifieddate",
        }
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == ["Katherine", "Grace", "Edsger", "Alan", "Ada"]


def test_search_sees_updates_and_not_archived_records(hs, people):
    hs.crm.contacts.basic_api.update(people["Alan"], {"properties": {"city": "Manchester"}})
    hs.crm.contacts.basic_api.archive(people["Ada"])
    assert firstnames(search(hs, {"propertyName": "city", "operator": "EQ", "value": "manchester"})) == [
        "Alan"
    ]
    assert firstnames(search(hs, {"propertyName": "city", "operator": "EQ", "value": "tokyo"})) == [
        "Katherine"
    ]


def test_invalid_searches_are_400(hs, people):
    too_many = [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}] * 6
    for kwargs in (
        {"groups": too_many},
        {"groups": [{"filters": [{"propertyName": "no_such", "operator": "EQ", "value": "x"}]}]},
        {"groups": [], "limit": 201},
    ):
        with pytest.raises(ApiException) as exc:
            search(hs, **kwargs)
        assert exc.value.status == 400
        assert json.loads(exc.value.body)["category"] == "VALIDATION_ERROR"


def test_no_query_pages_beyond_10000_results(hs, fresh_sandbox):
    requests.post(
        f"{fresh_sandbox.hubspot_url}/_sandbox/settings", json={"search_per_second": 1000}, timeout=5
    )
    store = fresh_sandbox.hubspot.store
    for i in range(10_050):
        store.create("companies", {"name": f"Company {i:05d}"}, publish=False)
    near_end = hs.crm.companies.search_api.do_search({"limit": 200, "after": "9900", "filterGroups": []})
    assert near_end.total == 10_050
    assert len(near_end.results) == 100
    assert near_end.results[-1].properties["name"] == "Company 09999"
    assert near_end.paging is None
    with pytest.raises(CompaniesApiException) as exc:
        hs.crm.companies.search_api.do_search({"limit": 10, "after": "10000", "filterGroups": []})
    assert exc.value.status == 400
