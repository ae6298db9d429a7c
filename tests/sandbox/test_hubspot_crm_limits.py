"""Authentication, rate limits, injected faults and concurrency of the HubSpot emulator."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException
from urllib3.util.retry import Retry

TOKEN = "sandbox-token"


def settings(sandbox, **values):
    response = requests.post(f"{sandbox.hubspot_url}/_sandbox/settings", json=values, timeout=5)
    response.raise_for_status()
    return response.json()


def no_retry_client(sandbox):
    """The real client without urllib3's default retries: those honour ``Retry-After`` on a 429 (as
    against the real HubSpot) and would hide the 429 from the test."""
    return HubSpot(access_token=TOKEN, host=sandbox.hubspot_url, retry=Retry(total=0))


def api(sandbox, path, token=TOKEN, method="GET", **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{sandbox.hubspot_url}{path}", headers=headers, timeout=5, **kwargs)


# -- authentication ------------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["wrong-token", None])
def test_bad_or_missing_token_is_401_with_hubspots_body(fresh_sandbox, token):
    response = api(fresh_sandbox, "/crm/v3/objects/contacts", token=token)
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found.")
    assert len(body["correlationId"]) == 36


def test_real_client_with_wrong_token_raises_401(fresh_sandbox):
    client = HubSpot(access_token="not-the-token", host=fresh_sandbox.hubspot_url)
    with pytest.raises(ApiException) as exc:
        client.crm.contacts.basic_api.get_page()
    assert exc.value.status == 401
    assert json.loads(exc.value.body)["category"] == "INVALID_AUTHENTICATION"


def test_webhooks_api_takes_the_developer_key_not_the_token(fresh_sandbox):
    app_id = fresh_sandbox.hs_creds.app_id
    with_token = api(fresh_sandbox, f"/webhooks/v3/{app_id}/subscriptions")
    assert with_token.status_code == 401
    assert "API Key" in with_token.json()["message"]
    with_key = api(
        fresh_sandbox,
        f"/webhooks/v3/{app_id}/subscriptions",
        token=None,
        params={"hapikey": "sandbox-dev-key"},
    )
    assert with_key.status_code != 401


# -- rate limits ---------------------------------------------------------------------------------
def test_normal_answers_carry_rate_limit_headers(fresh_sandbox):
    first = api(fresh_sandbox, "/crm/v3/objects/contacts")
    second = api(fresh_sandbox, "/crm/v3/objects/contacts")
    assert first.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Daily"] == "1000000"
    assert (
        int(second.headers["X-HubSpot-RateLimit-Remaining"])
        == int(first.headers["X-HubSpot-RateLimit-Remaining"]) - 1
    )
    assert int(second.headers["X-HubSpot-RateLimit-Daily-Remaining"]) == 1_000_000 - 2
    for name in ("X-HubSpot-RateLimit-Secondly", "X-HubSpot-RateLimit-Secondly-Remaining"):
        assert name in first.headers


def test_burst_limit_answers_429_with_retry_after(fresh_sandbox):
    hs = no_retry_client(fresh_sandbox)
    settings(fresh_sandbox, burst_limit=3, burst_window_seconds=60)
    for _ in range(3):
        hs.crm.contacts.basic_api.get_page()
    with pytest.raises(ApiException) as exc:
        hs.crm.contacts.basic_api.get_page()
    assert exc.value.status == 429
    body = json.loads(exc.value.body)
    assert body["status"] == "error"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["groupName"]
    assert body["correlationId"]
    headers = dict(exc.value.headers)
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_search_has_its_own_per_second_limit(fresh_sandbox):
    hs = no_retry_client(fresh_sandbox)
    settings(fresh_sandbox, search_per_second=2)
    for _ in range(2):
        hs.crm.contacts.search_api.do_search({"filterGroups": []})
    hs.crm.contacts.basic_api.get_page()  # other endpoints are not held back
    with pytest.raises(ApiException) as exc:
        hs.crm.contacts.search_api.do_search({"filterGroups": []})
    assert exc.value.status == 429
    assert json.loads(exc.value.body)["policyName"] == "SECONDLY"
    assert dict(exc.value.headers)["Retry-After"] == "1"


def test_the_default_client_waits_out_a_short_429_by_itself(hs, fresh_sandbox):
    settings(fresh_sandbox, burst_limit=1, burst_window_seconds=0.5)
    hs.crm.contacts.basic_api.get_page()
    assert hs.crm.contacts.basic_api.get_page().results == []  # 429, Retry-After: 1, retried
    stats = requests.get(f"{fresh_sandbox.hubspot_url}/_sandbox/stats", timeout=5).json()
    assert stats["statuses"] == {"200": 2, "429": 1}


def test_daily_limit(fresh_sandbox):
    settings(fresh_sandbox, daily_limit=2)
    assert [api(fresh_sandbox, "/crm/v3/objects/deals").status_code for _ in range(3)] == [200, 200, 429]
    body = api(fresh_sandbox, "/crm/v3/objects/deals").json()
    assert body["policyName"] == "DAILY"
    assert body["message"] == "You have reached your daily limit."


def test_limits_can_be_disabled_and_reset_restores_defaults(fresh_sandbox):
    assert settings(fresh_sandbox, burst_limit=1, rate_limits_enabled=False)["burst_limit"] == 1
    assert all(api(fresh_sandbox, "/crm/v3/objects/deals").status_code == 200 for _ in range(3))
    bad = requests.post(f"{fresh_sandbox.hubspot_url}/_sandbox/settings", json={"nope": 1}, timeout=5)
    assert bad.status_code == 400
    requests.post(f"{fresh_sandbox.hubspot_url}/_sandbox/reset", timeout=5)
    current = requests.get(f"{fresh_sandbox.hubspot_url}/_sandbox/settings", timeout=5).json()
    assert current == {
        "burst_limit": 190,
        "burst_window_seconds": 10.0,
        "daily_limit": 1_000_000,
        "search_per_second": 5,
        "rate_limits_enabled": True,
    }


# -- faults --------------------------------------------------------------------------------------
def test_injected_faults_use_hubspots_bodies(fresh_sandbox):
    requests.post(
        f"{fresh_sandbox.hubspot_url}/_sandbox/faults", json={"rate": 1.0, "kinds": ["429"]}, timeout=5
    )
    limited = api(fresh_sandbox, "/crm/v3/objects/contacts")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()["errorType"] == "RATE_LIMIT"
    requests.post(
        f"{fresh_sandbox.hubspot_url}/_sandbox/faults", json={"rate": 1.0, "kinds": ["5xx"]}, timeout=5
    )
    statuses = [api(fresh_sandbox, "/crm/v3/objects/contacts") for _ in range(3)]
    assert sorted(r.status_code for r in statuses) == [500, 502, 503]
    assert all(r.json()["status"] == "error" and r.json()["correlationId"] for r in statuses)


# -- concurrency ---------------------------------------------------------------------------------
def test_concurrent_creates_get_unique_ids(hs, fresh_sandbox):
    settings(fresh_sandbox, rate_limits_enabled=False)
    ids: list[str] = []
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                created = hs.crm.contacts.basic_api.create({"properties": {"email": f"t{n}-{i}@example.com"}})
                ids.append(created.id)
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(ids) == 120
    assert len(set(ids)) == 120
    assert len(fresh_sandbox.hubspot.store.records("contacts")) == 120


def test_concurrent_creates_of_one_email_make_one_contact(hs, fresh_sandbox):
    statuses: list[int] = []

    def worker() -> None:
        try:
            hs.crm.contacts.basic_api.create({"properties": {"email": "race@example.com"}})
            statuses.append(201)
        except ApiException as exc:
            statuses.append(exc.status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7
    assert len(fresh_sandbox.hubspot.store.records("contacts")) == 1
