"""HubSpotAdapter with the real hubspot-api-client against the sandbox: round trips, property history,
batching (counted by the sandbox), conflicts and validation errors isolated, retries under faults,
lost answers, search pacing, the daily limit."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests
from urllib3.exceptions import ReadTimeoutError

from shared.adapters.hubspot import HubSpotAdapter
from shared.adapters.retry import Retrier, RetryPolicy
from shared.errors import AuthenticationError, ErrorCategory, SuspendedError
from shared.ports import RecordWrite

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
POLICY = RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05, max_total_wait=60)
CREATE = "POST /crm/v3/objects/{object_type}/batch/create"
READ = "POST /crm/v3/objects/{object_type}/batch/read"
SEARCH = "POST /crm/v3/objects/{object_type}/search"


class Box:
    def __init__(self, sandbox: Any) -> None:
        self.info = sandbox.info.hubspot
        self.url = sandbox.hubspot_url

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json() if response.content else None

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.control("GET", "stats")
        return stats

    def reset_stats(self) -> None:
        requests.delete(f"{self.url}/_sandbox/stats", timeout=5)


@pytest.fixture
def box(fresh_sandbox) -> Box:
    return Box(fresh_sandbox)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def make(box, slept):
    def build(sleep: Any = None, **kwargs: Any) -> HubSpotAdapter:
        retrier = Retrier(POLICY, sleep=sleep or slept.append)
        return HubSpotAdapter(
            box.info["access_token"], host=box.info["url"], retrier=retrier, timeout=5, **kwargs
        )

    return build


def contacts(count: int, prefix: str = "person") -> list[RecordWrite]:
    return [
        RecordWrite(
            f"k{i}", None, {"email": f"{prefix}{i}@Example.com", "firstname": f"First{i}", "lastname": "Doe"}
        )
        for i in range(count)
    ]


def test_round_trip(make):
    adapter = make()
    created = adapter.create_contacts(contacts(3))
    assert all(o.ok for o in created)
    ids = [o.record_id for o in created if o.record_id]
    assert len(set(ids)) == 3

    got = adapter.read_contacts([*ids, "999999999"], ["email", "firstname"])
    assert set(got) == set(ids)
    assert got[ids[1]].properties["firstname"] == "First1"
    assert got[ids[1]].properties["email"] == "person1@example.com"

    by_email = adapter.contacts_by_email([" PERSON2@example.com", "nobody@example.com"], ["firstname"])
    assert list(by_email) == ["person2@example.com"]
    assert by_email["person2@example.com"].id == ids[2]

    updated = adapter.update_contacts([RecordWrite("u", ids[0], {"firstname": "Changed", "lastname": None})])
    assert updated[0].ok
    assert updated[0].record_id == ids[0]
    after = adapter.read_contacts([ids[0]], ["firstname", "lastname"])[ids[0]]
    assert after.properties["firstname"] == "Changed"
    assert not after.properties.get("lastname")  # None cleared it

    modified = adapter.contacts_modified_since(EPOCH, ["email"], 10)
    assert {c.id for c in modified} == set(ids)
    assert modified[-1].id == ids[0]  # updated last
    stamps = [c.properties["hs_lastmodifieddate"] for c in modified]
    assert stamps == sorted(stamps)


def test_property_changed_at_comes_from_history(make):
    adapter = make()
    contact_id = adapter.create_contacts(contacts(1))[0].record_id
    assert contact_id is not None
    time.sleep(0.01)  # a later millisecond for the edit (ordering, not timing, is asserted)
    adapter.update_contacts([RecordWrite("u", contact_id, {"firstname": "Later"})])
    contact = adapter.read_contacts([contact_id], ["firstname", "lastname"])[contact_id]
    assert contact.property_changed_at["firstname"] > contact.property_changed_at["lastname"]
    assert contact.property_changed_at["firstname"] <= contact.updated_at


def test_batch_sizes(make, box):
    adapter = make()
    box.reset_stats()
    created = adapter.create_contacts(contacts(250))
    assert all(o.ok for o in created)
    assert [o.key for o in created] == [f"k{i}" for i in range(250)]
    assert box.stats()["calls"][CREATE] == 3
    ids = [o.record_id for o in created if o.record_id]
    box.reset_stats()
    assert len(adapter.read_contacts(ids, ["email"])) == 250  # with history: 50 per call
    assert box.stats()["calls"][READ] == 5
    box.reset_stats()
    assert len(adapter.contacts_by_email([f"person{i}@example.com" for i in range(250)], [])) == 250
    assert box.stats()["calls"][READ] == 3
    box.reset_stats()
    assert all(
        o.ok
        for o in adapter.update_contacts(
            [RecordWrite(str(i), c, {"jobtitle": "T"}) for i, c in enumerate(ids)]
        )
    )
    assert box.stats()["api_calls_total"] == 3


def test_existing_email_is_a_conflict_with_existing_id(make, box):
    adapter = make()
    first = adapter.create_contacts(contacts(2))
    box.reset_stats()
    again = adapter.create_contacts([*contacts(2), RecordWrite("new", None, {"email": "fresh@example.com"})])
    assert [o.failure.existing_id if o.failure else None for o in again[:2]] == [o.record_id for o in first]
    assert all(o.failure.category is ErrorCategory.DUPLICATES for o in again[:2] if o.failure)
    assert all(o.failure.http_status == 409 for o in again[:2] if o.failure)
    assert again[2].ok
    assert box.stats()["calls"] == {CREATE: 2, READ: 1}  # refused batch, one lookup, the rest


def test_invalid_inputs_are_isolated(make):
    adapter = make()
    writes = contacts(6)
    writes[1] = RecordWrite("bad-email", None, {"email": "not-an-email"})
    writes[4] = RecordWrite("bad-option", None, {"email": "opt@example.com", "lifecyclestage": "bogus"})
    outcomes = adapter.create_contacts(writes)
    failures = {o.key: o.failure for o in outcomes if o.failure}
    assert set(failures) == {"bad-email", "bad-option"}
    assert failures["bad-email"].code == "INVALID_EMAIL"
    assert failures["bad-option"].code == "INVALID_OPTION"
    assert failures["bad-option"].fields == ("lifecyclestage",)
    assert all(f.category is ErrorCategory.PROPERTY_VALUES for f in failures.values())
    assert len(adapter.contacts_by_email([f"person{i}@example.com" for i in range(6)], [])) == 4


def test_faults_are_retried_to_the_same_result(make, box, slept):
    adapter = make()
    box.control(
        "POST",
        "faults",
        {"rate": 0.3, "seed": 5, "kinds": ["429", "5xx", "timeout"], "timeout_seconds": 0.05},
    )
    created = adapter.create_contacts(contacts(300))
    ids = [o.record_id for o in created if o.record_id]
    updated = adapter.update_contacts(
        [RecordWrite(str(i), c, {"jobtitle": "Retried"}) for i, c in enumerate(ids)]
    )
    read = adapter.read_contacts(ids, ["jobtitle"])
    injected = box.control("GET", "faults")["injected"]
    box.control("POST", "faults", {"rate": 0})
    assert all(o.ok for o in created)
    assert all(o.ok for o in updated)
    assert {c.properties["jobtitle"] for c in read.values()} == {"Retried"}
    assert len(adapter.contacts_modified_since(EPOCH, [], 1000)) == 300  # nothing created twice
    assert set(injected) == {"429", "5xx", "timeout"}
    assert 1.0 in slept  # Retry-After honoured


def test_a_create_whose_answer_was_lost_resolves_to_the_created_contact(make, box):
    adapter = make()
    adapter.read_contacts(["1"], [])  # builds the client
    pool = adapter._batch_api.api_client.rest_client.pool_manager
    real_request = pool.request
    lost: list[str] = []

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = real_request(method, url, *args, **kwargs)
        if url.endswith("/batch/create") and not lost:
            lost.append(url)
            raise ReadTimeoutError(None, url, "Read timed out.")  # type: ignore[arg-type]
        return response

    pool.request = request
    created = adapter.create_contacts(contacts(3))
    assert lost
    assert all(o.ok for o in created)
    everyone = adapter.contacts_by_email([f"person{i}@example.com" for i in range(3)], [])
    assert sorted(c.id for c in everyone.values()) == sorted(o.record_id for o in created if o.record_id)
    assert len(adapter.contacts_modified_since(EPOCH, [], 100)) == 3


def test_search_is_paced_under_the_per_second_limit(make, box):
    adapter = make(sleep=time.sleep)
    assert all(o.ok for o in adapter.create_contacts(contacts(1100)))
    box.reset_stats()
    assert len(adapter.contacts_modified_since(EPOCH, ["email"], 5000)) == 1100
    stats = box.stats()
    assert stats["calls"][SEARCH] == 6
    assert "429" not in stats["statuses"]  # 5 search calls a second would have been refused


def test_the_daily_limit_suspends(make, box):
    box.control("POST", "settings", {"daily_limit": 1})
    adapter = make()
    adapter.read_contacts(["1"], [])
    with pytest.raises(SuspendedError) as info:
        adapter.create_contacts(contacts(1))
    assert info.value.system == "hubspot"
    assert "daily" in info.value.reason


def test_the_daily_usage_comes_with_every_answer_and_the_probe_reports_it(make, box):
    box.control("POST", "settings", {"daily_limit": 500})
    adapter = make()
    assert adapter.api_usage() is None
    adapter.read_contacts(["1"], [])
    assert adapter.api_usage() == (1, 500)
    assert adapter.probe() == (2, 500)


def test_a_revoked_token_is_refused_with_the_code_that_says_so(make, box):
    adapter = make()
    box.control("POST", "token", {"revoked": True})
    with pytest.raises(AuthenticationError) as info:
        adapter.probe()
    assert (info.value.system, info.value.code) == ("hubspot", "INVALID_AUTHENTICATION")
    box.control("POST", "token", {"revoked": False})
    assert adapter.probe() is not None
