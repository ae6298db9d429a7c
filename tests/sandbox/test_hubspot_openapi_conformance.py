"""The HubSpot emulator checked against HubSpot's own OpenAPI specs (tests/specs/api-specs/hubspot/).

A walk drives every operation the emulator serves under the spec'd APIs — CRM v3 objects
(contacts, companies, deals: basic, batch, search, merge), associations v4, owners v3, pipelines
v3 (deals, read-only), lists v3 and webhooks v3 — with the real ``hubspot-api-client`` where it
has the operation and ``requests`` otherwise, through a recording WSGI middleware
(``tests/openapi_recorder.py``). Every recorded request and response is validated with
openapi-core against its operation; error answers are validated too (against the operation's
``default`` Error response). The set of operations that
must be exercised is derived from the emulator's registered routes, so a new route cannot escape.

Out of scope (no spec in tests/specs/api-specs/hubspot/):
- the CRM properties API (``/crm/v3/properties/...``),
- communication preferences (``/communication-preferences/v3/...`` and ``/v4/...``),
- the v1 marketing email events API (``/email/public/v1/events``),
- association labels (``GET /crm/v4/associations/{fromObjectType}/{toObjectType}/labels``, part of
  the associations schema v4 API),
- the sandbox's control endpoints (``/_sandbox/...``).

Three quirks of the specs are corrected before validating (see ``_normalised`` in the recorder):
``*/*`` error bodies are JSON, ``content: {}`` on 204 means no body, and the values of a CRM
object's ``properties`` may be ``null``. The walk's own requests satisfy the specs, including
members the real API treats as optional but the specs mark required (``associations: []`` on
create, ``after`` on search, ``propertiesWithHistory`` on batch read, ``additionalProperties`` on
list search).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.webhooks import (
    BatchInputSubscriptionBatchUpdateRequest,
    SettingsChangeRequest,
    SubscriptionBatchUpdateRequest,
    SubscriptionCreateRequest,
    SubscriptionPatchRequest,
    ThrottlingSettings,
)
from werkzeug.datastructures import Headers

from tests.openapi_recorder import (
    ConformanceError,
    Exchange,
    Operation,
    Recorder,
    Route,
    SpecCatalog,
    registered_routes,
    route_of,
    served_operations,
)

# routes under the spec'd prefixes whose API has no spec among tests/specs/api-specs/hubspot/
OUT_OF_SCOPE_ROUTES = {
    # association labels belong to the associations schema v4 API (crm-associations-schema-v4.json)
    "GET /crm/v4/associations/{fromObjectType}/{toObjectType}/labels",
}


@dataclass
class Walk:
    """Clients pointed at the recorder, and the recorder."""

    recorder: Recorder
    url: str
    crm: HubSpot
    dev: HubSpot
    info: dict[str, Any]

    def raw(self, method: str, path: str, *, dev: bool = False, **kwargs: Any) -> requests.Response:
        """A request the client has no operation for (or must not validate on its side)."""
        params = dict(kwargs.pop("params", {}) or {})
        headers = dict(kwargs.pop("headers", {}) or {})
        if dev:
            params["hapikey"] = self.info["developer_api_key"]
        else:
            headers["Authorization"] = f"Bearer {self.info['access_token']}"
        return requests.request(method, self.url + path, params=params, headers=headers, timeout=10, **kwargs)

    def expect_error(self, call: Callable[[], Any]) -> None:
        """Run a client call that is meant to fail (the client raises on 4xx)."""
        try:
            call()
        except Exception as exc:  # the clients' ApiException types differ per API module
            if getattr(exc, "status", None) is None:
                raise
        else:
            pytest.fail("the call was expected to fail")


def walk_webhooks(w: Walk) -> None:
    app_id = int(w.info["app_id"])
    settings, subs = w.dev.webhooks.settings_api, w.dev.webhooks.subscriptions_api
    w.expect_error(lambda: settings.get_all(app_id))  # none yet: 404
    settings.configure(
        app_id,
        SettingsChangeRequest(
            target_url="https://example.com/hubspot",
            throttling=ThrottlingSettings(max_concurrent_requests=10),
        ),
    )
    w.raw(
        "PUT",
        f"/webhooks/v3/{app_id}/settings",
        dev=True,
        json={
            "targetUrl": "https://example.com/h",
            "throttling": {"maxConcurrentRequests": 5, "period": "SECONDLY"},
        },
    )
    settings.get_all(app_id)
    created = subs.create(
        app_id,
        SubscriptionCreateRequest(event_type="contact.propertyChange", property_name="email", active=True),
    )
    other = subs.create(app_id, SubscriptionCreateRequest(event_type="deal.creation"))
    subs.get_all(app_id)
    subs.get_by_id(subscription_id=int(created.id), app_id=app_id)
    subs.update(
        subscription_id=int(other.id),
        app_id=app_id,
        subscription_patch_request=SubscriptionPatchRequest(active=True),
    )
    subs.update_batch(
        app_id,
        BatchInputSubscriptionBatchUpdateRequest(
            inputs=[SubscriptionBatchUpdateRequest(id=int(created.id), active=False)]
        ),
    )
    w.raw(  # one unknown id: 207 with errors
        "POST",
        f"/webhooks/v3/{app_id}/subscriptions/batch/update",
        dev=True,
        json={"inputs": [{"id": int(created.id), "active": True}, {"id": 999999, "active": True}]},
    )
    w.expect_error(lambda: subs.get_all(app_id + 1))  # unknown app: 404
    w.expect_error(lambda: subs.get_by_id(subscription_id=999999, app_id=app_id))
    w.expect_error(  # duplicate: 409
        lambda: subs.create(
            app_id, SubscriptionCreateRequest(event_type="contact.propertyChange", property_name="email")
        )
    )
    with w.recorder.invalid_requests():
        w.raw(
            "POST", f"/webhooks/v3/{app_id}/subscriptions", dev=True, json={"eventType": "contact.exploded"}
        )
        w.raw("PUT", f"/webhooks/v3/{app_id}/settings", dev=True, json={"targetUrl": "https://example.com/h"})
    subs.archive(subscription_id=int(other.id), app_id=app_id)
    settings.clear(app_id)


# -- CRM objects -----------------------------------------------------------------------------------

SAMPLE_PROPERTIES: dict[str, Callable[[int], dict[str, str]]] = {
    "contacts": lambda i: {
        "email": f"conformance{i}@example.com",
        "firstname": "Con",
        "lastname": f"Formance{i}",
    },
    "companies": lambda i: {"name": f"Conformance {i}", "domain": f"conformance{i}.example.com"},
    "deals": lambda i: {
        "dealname": f"Conformance {i}",
        "pipeline": "default",
        "dealstage": "appointmentscheduled",
    },
}
UPDATES = {
    "contacts": {"firstname": "Changed"},
    "companies": {"name": "Changed"},
    "deals": {"dealname": "Changed"},
}
# contacts are upserted by email; companies and deals have no unique property until one is created
UNIQUE_KEY = "conformance_key"


def walk_objects(w: Walk, kind: str) -> list[str]:
    """Basic, batch, search, merge and archive calls for one object type; the ids left alive."""
    api = getattr(w.crm.crm, kind)
    m = importlib.import_module(f"hubspot.crm.{kind}")
    make = SAMPLE_PROPERTIES[kind]
    names = sorted(make(0))
    first = api.basic_api.create(m.SimplePublicObjectInputForCreate(properties=make(1), associations=[]))
    second = api.basic_api.create(m.SimplePublicObjectInputForCreate(properties=make(2), associations=[]))
    api.basic_api.get_by_id(first.id, properties=names, properties_with_history=names[:1])
    page = api.basic_api.get_page(limit=1, properties=names)
    api.basic_api.get_page(limit=1, after=page.paging.next.after, archived=False)
    api.basic_api.update(first.id, m.SimplePublicObjectInput(properties=UPDATES[kind]))

    created = api.batch_api.create(
        m.BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                m.SimplePublicObjectBatchInputForCreate(properties=make(i), associations=[])
                for i in (3, 4, 5)
            ]
        )
    )
    ids = sorted(r.id for r in created.results)
    api.batch_api.read(
        m.BatchReadInputSimplePublicObjectId(
            inputs=[m.SimplePublicObjectId(id=i) for i in [*ids, "999999999"]],
            properties=names,
            properties_with_history=names[:1],
        ),
        archived=False,
    )
    api.batch_api.update(
        m.BatchInputSimplePublicObjectBatchInput(
            inputs=[m.SimplePublicObjectBatchInput(id=i, properties=UPDATES[kind]) for i in ids]
        )
    )
    if kind == "contacts":
        upserts = [("email", make(i)["email"]) for i in (5, 6)]
    else:
        _create_unique_property(w, kind)
        upserts = [(UNIQUE_KEY, f"key-{i}") for i in (5, 6)]
    for _ in ("create", "update"):
        api.batch_api.upsert(
            m.BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    m.SimplePublicObjectBatchInputUpsert(id_property=name, id=value, properties=UPDATES[kind])
                    for name, value in upserts
                ]
            )
        )
    api.search_api.do_search(
        m.PublicObjectSearchRequest(
            filter_groups=[
                m.FilterGroup(filters=[m.Filter(property_name=names[0], operator="HAS_PROPERTY")])
            ],
            sorts=["createdate"],
            properties=names,
            limit=2,
            after="0",
        )
    )
    merged = api.basic_api.merge(m.PublicMergeInput(primary_object_id=first.id, object_id_to_merge=second.id))
    api.basic_api.archive(ids[0])
    api.batch_api.archive(m.BatchInputSimplePublicObjectId(inputs=[m.SimplePublicObjectId(id=ids[1])]))

    w.expect_error(lambda: api.basic_api.get_by_id("999999999"))
    w.expect_error(
        lambda: api.basic_api.create(
            m.SimplePublicObjectInputForCreate(properties={"no_such_prop": "x"}, associations=[])
        )
    )
    w.expect_error(
        lambda: api.basic_api.update("999999999", m.SimplePublicObjectInput(properties=UPDATES[kind]))
    )
    return [merged.id, ids[2]]


def _create_unique_property(w: Walk, kind: str) -> None:
    """A custom unique property to upsert by (the properties API is out of scope: not recorded)."""
    resp = requests.post(
        f"{w.info['url']}/crm/v3/properties/{kind}",
        headers={"Authorization": f"Bearer {w.info['access_token']}"},
        json={
            "name": UNIQUE_KEY,
            "label": "Conformance key",
            "type": "string",
            "fieldType": "text",
            "groupName": f"{kind[:-1]}information",
            "hasUniqueValue": True,
        },
        timeout=10,
    )
    resp.raise_for_status()


def walk_contacts(w: Walk) -> None:
    alive = walk_objects(w, "contacts")
    m = importlib.import_module("hubspot.crm.contacts")
    api = w.crm.crm.contacts
    duplicate = SAMPLE_PROPERTIES["contacts"](5)
    w.expect_error(
        lambda: api.basic_api.create(
            m.SimplePublicObjectInputForCreate(properties=duplicate, associations=[])
        )
    )
    api.basic_api.get_by_id(duplicate["email"], id_property="email")
    api.batch_api.read(
        m.BatchReadInputSimplePublicObjectId(
            id_property="email",
            inputs=[m.SimplePublicObjectId(id=duplicate["email"])],
            properties=["email"],
            properties_with_history=[],
        )
    )
    api.basic_api.purge(m.PublicGdprDeleteInput(object_id=alive[1]))


def walk_companies(w: Walk) -> None:
    walk_objects(w, "companies")


def walk_deals(w: Walk) -> None:
    walk_objects(w, "deals")


def _create(w: Walk, kind: str, i: int) -> str:
    m = importlib.import_module(f"hubspot.crm.{kind}")
    api = getattr(w.crm.crm, kind)
    created = api.basic_api.create(
        m.SimplePublicObjectInputForCreate(properties=SAMPLE_PROPERTIES[kind](i), associations=[])
    )
    return str(created.id)


# -- associations v4, owners, lists ----------------------------------------------------------------


def walk_associations(w: Walk) -> None:
    from hubspot.crm.associations.v4 import (
        AssociationSpec,
        BatchInputPublicAssociationMultiArchive,
        BatchInputPublicAssociationMultiPost,
        BatchInputPublicDefaultAssociationMultiPost,
        BatchInputPublicFetchAssociationsBatchRequest,
        PublicAssociationMultiArchive,
        PublicAssociationMultiPost,
        PublicDefaultAssociationMultiPost,
        PublicFetchAssociationsBatchRequest,
        PublicObjectId,
    )

    contact, company, deal = (
        _create(w, "contacts", 100),
        _create(w, "companies", 100),
        _create(w, "deals", 100),
    )
    other_deal = _create(w, "deals", 101)
    api = w.crm.crm.associations.v4
    api.basic_api.create_default("contacts", contact, "companies", company)
    api.basic_api.create(
        "contacts",
        contact,
        "deals",
        deal,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=4)],
    )
    api.basic_api.get_page("contacts", contact, "companies", limit=10)
    company_to_deal = PublicAssociationMultiPost(
        _from=PublicObjectId(id=company),
        to=PublicObjectId(id=deal),
        types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=342)],
    )
    api.batch_api.create("companies", "deals", BatchInputPublicAssociationMultiPost(inputs=[company_to_deal]))
    api.batch_api.create_default(
        "deals",
        "contacts",
        BatchInputPublicDefaultAssociationMultiPost(
            inputs=[
                PublicDefaultAssociationMultiPost(
                    _from=PublicObjectId(id=other_deal), to=PublicObjectId(id=contact)
                )
            ]
        ),
    )
    api.batch_api.get_page(
        "contacts",
        "deals",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[
                PublicFetchAssociationsBatchRequest(id=contact),
                PublicFetchAssociationsBatchRequest(id="999999999"),
            ]
        ),
    )
    api.batch_api.archive_labels(
        "companies", "deals", BatchInputPublicAssociationMultiPost(inputs=[company_to_deal])
    )
    api.batch_api.archive(
        "deals",
        "contacts",
        BatchInputPublicAssociationMultiArchive(
            inputs=[
                PublicAssociationMultiArchive(
                    _from=PublicObjectId(id=other_deal), to=[PublicObjectId(id=contact)]
                )
            ]
        ),
    )
    api.basic_api.archive("contacts", contact, "companies", company)
    w.expect_error(lambda: api.basic_api.create_default("contacts", "999999999", "companies", company))


def walk_owners(w: Walk) -> None:
    seeded = requests.post(
        f"{w.info['url']}/_sandbox/owners",
        json={"owners": [{"email": "owner@example.com", "firstName": "Olive", "lastName": "Owner"}]},
        timeout=5,
    )
    seeded.raise_for_status()
    api = w.crm.crm.owners.owners_api
    page = api.get_page(limit=1)
    api.get_page(email="owner@example.com", archived=False)
    api.get_by_id(int(page.results[0].id), id_property="id")
    w.expect_error(lambda: api.get_by_id(999999999))


def walk_pipelines(w: Walk) -> None:
    pipelines, stages = w.crm.crm.pipelines.pipelines_api, w.crm.crm.pipelines.pipeline_stages_api
    listed = pipelines.get_all("deals")
    assert [p.id for p in listed.results] == ["default"]
    pipelines.get_by_id("deals", "default")
    stages.get_all("deals", "default")
    stage = stages.get_by_id("deals", "default", "closedwon")
    assert stage.metadata == {"probability": "1.0", "isClosed": "true"}
    w.expect_error(lambda: pipelines.get_by_id("deals", "no-such-pipeline"))
    w.expect_error(lambda: stages.get_by_id("deals", "default", "no-such-stage"))


def walk_lists(w: Walk) -> None:
    from hubspot.crm.lists import ListCreateRequest, ListSearchRequest, MembershipChangeRequest

    records = [_create(w, "contacts", i) for i in (200, 201, 202)]
    api, members = w.crm.crm.lists.lists_api, w.crm.crm.lists.memberships_api
    created = api.create(
        ListCreateRequest(object_type_id="0-1", processing_type="MANUAL", name="Conformance")
    )
    source = api.create(ListCreateRequest(object_type_id="0-1", processing_type="MANUAL", name="Source"))
    list_id, source_id = created.list.list_id, source.list.list_id
    api.get_by_id(list_id, include_filters=True)
    api.get_all(list_ids=[list_id, source_id])
    api.get_by_name(list_name="Conformance", object_type_id="0-1")
    api.do_search(ListSearchRequest(query="Conf", count=10, offset=0, additional_properties=[]))
    api.update_name(list_id, list_name="Conformance 2")
    members.add(source_id, [records[2]])
    members.add(list_id, records[:2])
    members.add_and_remove(
        list_id, MembershipChangeRequest(record_ids_to_add=[records[2]], record_ids_to_remove=[records[0]])
    )
    members.get_page(list_id, limit=10)
    members.get_page_ordered_by_added_to_list_date(list_id, limit=10)
    members.get_lists("0-1", records[1])
    w.raw(
        "POST",
        "/crm/v3/lists/records/memberships/batch/read",
        json={"inputs": [{"objectTypeId": "0-1", "recordId": r} for r in records]},
    )
    members.add_all_from_list(list_id, source_id)
    members.remove(list_id, [records[1]])
    members.remove_all(list_id)

    def by_last_name(name: str) -> dict[str, Any]:
        condition = {
            "filterType": "PROPERTY",
            "property": "lastname",
            "operation": {
                "operationType": "MULTISTRING",
                "operator": "IS_EQUAL_TO",
                "values": [name],
                "includeObjectsWithNoValueSet": False,
            },
        }
        return {
            "filterBranchType": "OR",
            "filterBranchOperator": "OR",
            "filters": [],
            "filterBranches": [
                {
                    "filterBranchType": "AND",
                    "filterBranchOperator": "AND",
                    "filters": [condition],
                    "filterBranches": [],
                }
            ],
        }

    dynamic = w.raw(
        "POST",
        "/crm/v3/lists",
        json={
            "name": "Dynamic",
            "objectTypeId": "0-1",
            "processingType": "DYNAMIC",
            "filterBranch": by_last_name("Formance200"),
        },
    )
    w.raw(
        "PUT",
        f"/crm/v3/lists/{dynamic.json()['list']['listId']}/update-list-filters",
        json={"filterBranch": by_last_name("Formance201")},
    )
    api.remove(source_id)
    api.restore(source_id)
    w.expect_error(lambda: api.get_by_id("999999999"))


WALKS: list[Callable[[Walk], None]] = [
    walk_contacts,
    walk_companies,
    walk_deals,
    walk_associations,
    walk_owners,
    walk_pipelines,
    walk_lists,
    walk_webhooks,
]


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(api_specs) -> SpecCatalog:
    return SpecCatalog(api_specs / "hubspot")


@pytest.fixture(scope="module")
def walked(sandbox) -> Iterator[Recorder]:
    """Every walk, recorded once for the module, on an emptied sandbox."""
    requests.post(f"{sandbox.hubspot_url}/_sandbox/reset", timeout=5).raise_for_status()
    recorder = Recorder(sandbox.hubspot)
    info = sandbox.info.hubspot
    with recorder.serve() as url:
        walk = Walk(
            recorder=recorder,
            url=url,
            crm=HubSpot(access_token=info["access_token"], host=url),
            dev=HubSpot(api_key=info["developer_api_key"], host=url),
            info=info,
        )
        for step in WALKS:
            step(walk)
    yield recorder
    requests.post(f"{sandbox.hubspot_url}/_sandbox/reset", timeout=5).raise_for_status()


@pytest.fixture(scope="module")
def routes(sandbox, catalog) -> list[Route]:
    """The emulator's routes under the spec'd prefixes, less the known out-of-scope ones."""
    found = registered_routes(sandbox.hubspot.url_map, catalog.prefixes())
    return [r for r in found if f"{r.method} {r.template}" not in OUT_OF_SCOPE_ROUTES]


# -- the conformance checks ------------------------------------------------------------------------


def test_every_recorded_exchange_conforms_to_the_specs(walked, catalog):
    assert walked.exchanges, "the walk recorded nothing"
    failures = []
    for exchange in walked.exchanges:
        try:
            catalog.validate(exchange)
        except ConformanceError as exc:
            failures.append(str(exc))
    assert not failures, f"{len(failures)} of {len(walked.exchanges)} exchanges deviate:\n" + "\n\n".join(
        failures
    )


def test_every_served_operation_was_exercised_successfully(sandbox, walked, catalog, routes):
    served = served_operations(catalog, sandbox.hubspot.url_map, routes)
    assert served, "the emulator serves no spec'd operation"
    succeeded = set()
    for exchange in walked.exchanges:
        op = catalog.find(exchange.method, exchange.path)
        if op is not None and 200 <= exchange.status < 300:
            succeeded.add(op)
    missing = sorted(op.key for op in served if op not in succeeded)
    assert not missing, "served but never exercised with a 2xx answer:\n" + "\n".join(missing)


def test_every_route_under_a_specified_prefix_is_specified_and_exercised(sandbox, walked, catalog, routes):
    assert routes, "no route under the spec'd prefixes"
    served = served_operations(catalog, sandbox.hubspot.url_map, routes)
    specified = {(r.endpoint, r.method) for r in served.values()}
    unspecified = sorted(
        f"{r.method} {r.template}" for r in routes if (r.endpoint, r.method) not in specified
    )
    hit = {(route_of(sandbox.hubspot.url_map, e.method, e.path), e.method) for e in walked.exchanges}
    unexercised = sorted(f"{r.method} {r.template}" for r in routes if (r.endpoint, r.method) not in hit)
    assert not unspecified, "routes that match no spec'd operation:\n" + "\n".join(unspecified)
    assert not unexercised, "routes the walk never reached:\n" + "\n".join(unexercised)


# -- the validator's own checks --------------------------------------------------------------------


def _recorded(walked: Recorder, method: str, suffix: str, status: int) -> Exchange:
    for exchange in walked.exchanges:
        if exchange.method == method and exchange.path.endswith(suffix) and exchange.status == status:
            return exchange
    raise AssertionError(f"no recorded {method} ...{suffix} answered {status}")


def test_validator_rejects_a_response_that_deviates(walked, catalog):
    good = _recorded(walked, "GET", "/settings", 200)
    assert catalog.validate(good).key == "GET /webhooks/v3/{appId}/settings"
    body = json.loads(good.response_body)
    body["throttling"] = "fast"
    with pytest.raises(ConformanceError, match="response"):
        catalog.validate(replace(good, response_body=json.dumps(body).encode()))
    del body["throttling"]
    with pytest.raises(ConformanceError, match="response"):
        catalog.validate(replace(good, response_body=json.dumps(body).encode()))
    subscription = _recorded(walked, "POST", "/subscriptions", 201)
    wrong_id = json.loads(subscription.response_body)
    wrong_id["eventType"] = "contact.exploded"
    with pytest.raises(ConformanceError, match="response"):
        catalog.validate(replace(subscription, response_body=json.dumps(wrong_id).encode()))


def test_validator_rejects_an_invalid_request_and_an_unspecified_path(walked, catalog):
    created = _recorded(walked, "POST", "/subscriptions", 201)
    body = json.loads(created.request_body)
    body["eventType"] = "contact.exploded"
    with pytest.raises(ConformanceError, match="request"):
        catalog.validate(replace(created, request_body=json.dumps(body).encode()))
    stray = replace(created, path="/crm/v3/nothing/here", request_headers=Headers(created.request_headers))
    with pytest.raises(ConformanceError, match="no operation"):
        catalog.validate(stray)


def test_deals_are_validated_against_the_0_3_paths(catalog):
    op = catalog.find("PATCH", "/crm/v3/objects/deals/123")
    assert op == Operation("crm-deals-v3.json", "PATCH", "/crm/v3/objects/0-3/{dealId}")
    search = catalog.find("POST", "/crm/v3/objects/deals/search")
    assert search is not None
    assert search.template == "/crm/v3/objects/0-3/search"
