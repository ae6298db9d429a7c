"""HubSpotAdapter's rule-support calls with the real hubspot-api-client against the sandbox: list
membership (inclusion lists, S4/S5), unsubscribe from all email (S14), contact property definitions
(S12) and batch archive, with the calls counted by the sandbox where batching is the point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import requests
from hubspot.crm.lists import ListCreateRequest
from hubspot.crm.properties import OptionInput, PropertyCreate

from shared.adapters.hubspot import HubSpotAdapter
from shared.adapters.retry import Retrier, RetryPolicy
from shared.errors import ErrorCategory
from shared.ports import RecordWrite
from tests.memory_state import MemoryCache

POLICY = RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05, max_total_wait=60)
MEMBERSHIPS_READ = "POST /crm/v3/lists/records/memberships/batch/read"
MEMBERSHIPS_PAGE = "GET /crm/v3/lists/{listId}/memberships"
UNSUBSCRIBE_ALL = "POST /communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all"
UNSUBSCRIBE_STATUS = "GET /communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all"
READ = "POST /crm/v3/objects/{object_type}/batch/read"
ARCHIVE = "POST /crm/v3/objects/{object_type}/batch/archive"
PROPERTIES = "GET /crm/v3/properties/{object_type}"


class Box:
    def __init__(self, sandbox: Any) -> None:
        self.info = sandbox.info.hubspot
        self.url = sandbox.hubspot_url
        self.auth = {"Authorization": f"Bearer {self.info['access_token']}"}

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json() if response.content else None

    def calls(self) -> dict[str, int]:
        calls: dict[str, int] = self.control("GET", "stats")["calls"]
        return calls

    def reset_stats(self) -> None:
        requests.delete(f"{self.url}/_sandbox/stats", timeout=5).raise_for_status()


@pytest.fixture
def box(fresh_sandbox) -> Box:
    return Box(fresh_sandbox)


@pytest.fixture
def make(box):
    def build(policy: RetryPolicy = POLICY, cache: MemoryCache | None = None) -> HubSpotAdapter:
        retrier = Retrier(policy, sleep=lambda _s: None)
        return HubSpotAdapter(
            box.info["access_token"], host=box.info["url"], retrier=retrier, timeout=5, cache=cache
        )

    return build


def create(adapter: HubSpotAdapter, count: int, prefix: str = "p", **props: str) -> list[str]:
    writes = [
        RecordWrite(f"k{i}", None, {"email": f"{prefix}{i}@example.com", **props}) for i in range(count)
    ]
    outcomes = adapter.create_contacts(writes)
    assert all(o.ok for o in outcomes)
    return [str(o.record_id) for o in outcomes]


def manual_list(hs, name: str, members: list[str]) -> str:
    created = hs.crm.lists.lists_api.create(
        ListCreateRequest(name=name, object_type_id="0-1", processing_type="MANUAL")
    )
    list_id = str(created.list.list_id)
    if members:
        hs.crm.lists.memberships_api.add(list_id, members)
    return list_id


# -- lists -------------------------------------------------------------------------------------------
def test_list_members_answers_members_and_non_members_in_one_call_per_100(make, box, hs):
    adapter = make()
    ids = create(adapter, 230)
    members = ids[10:130] + ids[200:]
    list_id = manual_list(hs, "Salesforce sync", members)
    other = manual_list(hs, "Other list", ids[:10])  # membership of another list is not membership

    box.reset_stats()
    asked = [*ids, "999999999", ids[5]]  # 231 distinct ids: an unknown one, a repeat
    assert adapter.list_members(list_id, asked) == set(members)
    assert box.calls() == {MEMBERSHIPS_READ: 3}

    assert adapter.list_members(other, ids[:20]) == set(ids[:10])
    assert adapter.list_members(list_id, []) == set()


def test_list_members_follows_a_dynamic_list(make, box):
    adapter = make()
    lead = create(adapter, 1, "lead", lifecyclestage="lead")[0]
    subscriber = create(adapter, 1, "sub", lifecyclestage="subscriber")[0]
    blank = create(adapter, 1, "blank")[0]
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
                            "includeObjectsWithNoValueSet": True,
                        },
                    }
                ],
            }
        ],
    }
    answer = requests.post(
        f"{box.url}/crm/v3/lists",
        json={
            "name": "Not subscribers",
            "objectTypeId": "0-1",
            "processingType": "DYNAMIC",
            "filterBranch": branch,
        },
        headers=box.auth,
        timeout=5,
    )
    answer.raise_for_status()
    list_id = str(answer.json()["list"]["listId"])
    assert adapter.list_members(list_id, [lead, subscriber, blank]) == {lead, blank}

    adapter.update_contacts([RecordWrite("u", lead, {"lifecyclestage": "subscriber"})])
    assert adapter.list_members(list_id, [lead, subscriber, blank]) == {blank}


def test_list_member_ids_pages_through_the_whole_list(make, box, hs):
    adapter = make()
    ids = create(adapter, 260)
    list_id = manual_list(hs, "Resync me", ids[:255])
    box.reset_stats()
    assert adapter.list_member_ids(list_id) == ids[:255]
    assert box.calls() == {MEMBERSHIPS_PAGE: 2}  # 250 per page
    assert adapter.list_member_ids(manual_list(hs, "Empty", [])) == []


# -- communication preferences -----------------------------------------------------------------------
def test_unsubscribe_from_all_sets_hs_email_optout_and_is_idempotent(make, box, hs):
    adapter = make()
    a, b, _c = create(adapter, 3, "sub")
    box.reset_stats()
    outcomes = adapter.unsubscribe_from_all(
        [" SUB0@example.com", "sub1@example.com", "nocontact@example.com", "not-an-email", "sub0@example.com"]
    )
    assert [o.key for o in outcomes] == [
        " SUB0@example.com",
        "sub1@example.com",
        "nocontact@example.com",
        "not-an-email",
        "sub0@example.com",
    ]
    assert [o.record_id for o in outcomes] == [
        "sub0@example.com",
        "sub1@example.com",
        "nocontact@example.com",
        None,
        "sub0@example.com",
    ]
    invalid = outcomes[3].failure
    assert invalid is not None
    assert (invalid.code, invalid.category) == ("INVALID_EMAIL", ErrorCategory.PROPERTY_VALUES)
    assert box.calls() == {UNSUBSCRIBE_ALL: 3}  # one per distinct valid address, none for the invalid

    read = adapter.read_contacts([a, b, _c], ["hs_email_optout"])
    assert [read[i].properties.get("hs_email_optout") for i in (a, b)] == ["true", "true"]
    assert read[_c].properties.get("hs_email_optout") in (None, "", "false")

    box.reset_stats()
    again = adapter.unsubscribe_from_all(["sub0@example.com", "nocontact@example.com"])
    assert all(o.ok for o in again)
    assert box.calls() == {UNSUBSCRIBE_ALL: 2}
    history = hs.crm.contacts.basic_api.get_by_id(
        a, properties=["hs_email_optout"], properties_with_history=["hs_email_optout"]
    ).properties_with_history["hs_email_optout"]
    assert [h.value for h in history].count("true") == 1  # the second call changed nothing


def test_unsubscribed_from_all_reads_the_property_and_asks_only_for_addresses_without_contact(make, box):
    adapter = make()
    create(adapter, 150, "opt")
    assert all(o.ok for o in adapter.unsubscribe_from_all(["opt3@example.com", "gone@example.com"]))
    box.reset_stats()
    asked = [f"OPT{i}@example.com" for i in range(150)] + ["gone@example.com", "never@example.com"]
    status = adapter.unsubscribed_from_all(asked)
    assert set(status) == {f"opt{i}@example.com" for i in range(150)} | {
        "gone@example.com",
        "never@example.com",
    }
    assert {e for e, out in status.items() if out} == {"opt3@example.com", "gone@example.com"}
    assert box.calls() == {READ: 2, UNSUBSCRIBE_STATUS: 2}  # 100 emails per batch read


def test_unsubscribe_failures_are_per_email_and_retryable(make, box):
    adapter = make(RetryPolicy(max_attempts=1, base_delay=0, max_delay=0, max_total_wait=0))
    emails = [f"fail{i}@example.com" for i in range(12)]
    create(adapter, 12, "fail")
    box.control("POST", "faults", {"rate": 0.5, "seed": 7, "kinds": ["5xx"], "writes_only": True})
    outcomes = adapter.unsubscribe_from_all(emails)
    box.control("POST", "faults", {"rate": 0})
    failed = [o.key for o in outcomes if not o.ok]
    assert 0 < len(failed) < len(emails)
    for outcome in outcomes:
        if outcome.failure is not None:
            assert outcome.failure.retryable
            assert outcome.failure.code == "TRANSIENT"
    status = adapter.unsubscribed_from_all(emails)
    assert {e for e, out in status.items() if not out} == set(failed)

    assert all(o.ok for o in adapter.unsubscribe_from_all(failed))
    assert all(adapter.unsubscribed_from_all(emails).values())


# -- property definitions ----------------------------------------------------------------------------
def test_contact_property_types_include_a_dropdowns_options_and_are_read_once(make, box, hs):
    hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="sf_lead_source",
            label="Lead source (Salesforce)",
            type="enumeration",
            field_type="select",
            group_name="contactinformation",
            options=[
                OptionInput(label="Web", value="web", display_order=0, hidden=False),
                OptionInput(label="Partner", value="partner", display_order=1, hidden=False),
            ],
        ),
    )
    adapter = make()
    box.reset_stats()
    types = adapter.contact_property_types(["sf_lead_source", "lifecyclestage", "hs_email_optout", "nope"])
    assert set(types) == {"sf_lead_source", "lifecyclestage", "hs_email_optout"}
    source = types["sf_lead_source"]
    assert (source["type"], source["fieldType"]) == ("enumeration", "select")
    assert [o["value"] for o in source["options"]] == ["web", "partner"]
    assert [o["label"] for o in source["options"]] == ["Web", "Partner"]
    stage = types["lifecyclestage"]
    assert stage["type"] == "enumeration"
    assert {"subscriber", "lead", "customer"} <= {o["value"] for o in stage["options"]}
    optout = types["hs_email_optout"]
    assert (optout["type"], optout["fieldType"]) == ("bool", "booleancheckbox")
    assert optout["modificationMetadata"]["readOnlyValue"] is True

    types["sf_lead_source"]["options"].clear()  # the caller's copy, not the cache
    again = adapter.contact_property_types(["sf_lead_source", "email"])
    assert len(again["sf_lead_source"]["options"]) == 2
    assert again["email"]["type"] == "string"
    assert box.calls() == {PROPERTIES: 1}


# -- archive -----------------------------------------------------------------------------------------
def test_archive_contacts_in_batches_of_100_and_reads_miss_them(make, box):
    adapter = make()
    ids = create(adapter, 150, "arch")
    box.reset_stats()
    outcomes = adapter.archive_contacts([*ids[:120], "999999999", ids[0], " "])
    assert [o.key for o in outcomes] == [*ids[:120], "999999999", ids[0], " "]
    assert all(o.ok for o in outcomes[:-1])
    assert [o.record_id for o in outcomes[:-1]] == [*ids[:120], "999999999", ids[0]]
    blank = outcomes[-1].failure
    assert blank is not None
    assert blank.code == "INVALID_WRITE"
    assert box.calls() == {ARCHIVE: 2}  # 121 distinct ids

    assert set(adapter.read_contacts(ids, ["email"])) == set(ids[120:])
    by_email = adapter.contacts_by_email([f"arch{i}@example.com" for i in (0, 119, 120)], [])
    assert list(by_email) == ["arch120@example.com"]

    box.reset_stats()
    again = adapter.archive_contacts(ids[:3])  # already gone: archived, not failures
    assert all(o.ok for o in again)
    assert box.calls() == {ARCHIVE: 1}


def test_containers_sharing_the_cache_read_the_property_definitions_once(make, box):
    cache = MemoryCache()
    box.reset_stats()
    wanted = ["lifecyclestage", "hs_email_optout", "email"]
    first = make(cache=cache).contact_property_types(wanted)
    for _ in range(3):  # other containers, cold
        assert make(cache=cache).contact_property_types(list(reversed(wanted))) == first
    assert box.calls().get("GET /crm/v3/properties/{object_type}") == 1
    make().contact_property_types(wanted)  # no shared cache: its own read
    assert box.calls().get("GET /crm/v3/properties/{object_type}") == 2


def test_a_warm_adapter_answers_property_definitions_without_the_shared_cache(make, box):
    class Counting(MemoryCache):
        def __init__(self) -> None:
            super().__init__()
            self.gets = self.puts = 0

        def get(self, name: str) -> dict[str, Any] | None:
            self.gets += 1
            return super().get(name)

        def put(self, name: str, value: Mapping[str, Any], ttl_seconds: int) -> None:
            self.puts += 1
            super().put(name, value, ttl_seconds)

    wanted = ["lifecyclestage", "email"]
    cache = Counting()
    fetched, shared = make(cache=cache), make(cache=cache)
    first = fetched.contact_property_types(wanted)
    assert shared.contact_property_types(wanted) == first  # a cold container: from the cache
    before = (cache.gets, cache.puts)
    for adapter in (fetched, shared):  # warm containers, one dedupe batch after another
        for _ in range(3):
            assert adapter.contact_property_types(wanted) == first
    assert (cache.gets, cache.puts) == before
