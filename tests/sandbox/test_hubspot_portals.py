"""Several HubSpot portals behind one host (``--hubspot-portals 2``): each token reaches its own
portal's records and limits; the app's webhook settings apply to every portal, and each portal's
notifications carry its ``portalId``, signed with the app's secret."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.sandbox.config import HubSpotCredentials
from infra.sandbox.hubspot.portals import portal_credentials
from infra.sandbox.hubspot.signing import verify_v3
from infra.sandbox.runner import Sandbox


@pytest.fixture(scope="module")
def two_portals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(
        salesforce_port=0, hubspot_port=0, state_dir=tmp_path_factory.mktemp("portals"), hubspot_portals=2
    )
    box.start()
    try:
        yield box
    finally:
        box.stop()


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _tokens(box: Sandbox) -> list[str]:
    return [p["access_token"] for p in box.info.hubspot["portals"]]


def test_the_portals_are_the_next_ids_with_tokens_of_their_own() -> None:
    first = HubSpotCredentials()
    second = portal_credentials(first, 2)[1]
    assert second.portal_id == first.portal_id + 1
    assert second.access_token == f"{first.access_token}-2"
    assert (second.app_id, second.client_secret) == (first.app_id, first.client_secret)
    with pytest.raises(ValueError, match="at least one"):
        portal_credentials(first, 0)


def test_each_token_reaches_its_own_portals_records(two_portals: Sandbox) -> None:
    url = two_portals.hubspot_url
    requests.post(f"{url}/_sandbox/reset", timeout=5).raise_for_status()
    first, second = _tokens(two_portals)
    created = requests.post(
        f"{url}/crm/v3/objects/contacts",
        json={"properties": {"email": "only@first.example"}},
        headers=_headers(first),
        timeout=5,
    )
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert requests.get(f"{url}/crm/v3/objects/contacts/{contact_id}", headers=_headers(first), timeout=5).ok
    other = requests.get(f"{url}/crm/v3/objects/contacts/{contact_id}", headers=_headers(second), timeout=5)
    assert other.status_code == 404
    assert len(two_portals.hubspot_portals[0].store.records("contacts")) == 1
    assert len(two_portals.hubspot_portals[1].store.records("contacts")) == 0
    unknown = requests.get(f"{url}/crm/v3/objects/contacts", headers=_headers("no-such-token"), timeout=5)
    assert unknown.status_code == 401


def test_limits_and_control_endpoints_are_per_portal(two_portals: Sandbox) -> None:
    url = two_portals.hubspot_url
    requests.post(f"{url}/_sandbox/reset", timeout=5).raise_for_status()
    first, second = _tokens(two_portals)
    second_id = two_portals.hubspot_portals[1].credentials.portal_id
    requests.post(f"{url}/_sandbox/settings?portal={second_id}", json={"daily_limit": 1}, timeout=5)
    for _ in range(2):
        assert requests.get(f"{url}/crm/v3/objects/contacts", headers=_headers(first), timeout=5).ok
    assert requests.get(f"{url}/crm/v3/objects/contacts", headers=_headers(second), timeout=5).ok
    spent = requests.get(f"{url}/crm/v3/objects/contacts", headers=_headers(second), timeout=5)
    assert spent.status_code == 429
    stats = requests.get(f"{url}/_sandbox/stats?portal={second_id}", timeout=5).json()
    assert stats != requests.get(f"{url}/_sandbox/stats", timeout=5).json()
    requests.post(f"{url}/_sandbox/reset", timeout=5).raise_for_status()
    assert requests.get(f"{url}/crm/v3/objects/contacts", headers=_headers(second), timeout=5).ok


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.path, dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def test_each_portal_delivers_its_own_signed_notifications(two_portals: Sandbox) -> None:
    url, hs = two_portals.hubspot_url, two_portals.info.hubspot
    requests.post(f"{url}/_sandbox/reset", timeout=5).raise_for_status()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = f"http://127.0.0.1:{server.server_address[1]}/hook"
        webhooks = f"{url}/webhooks/v3/{hs['app_id']}"
        key = {"hapikey": hs["developer_api_key"]}
        settings = {"targetUrl": target, "throttling": {"maxConcurrentRequests": 5}}
        requests.put(f"{webhooks}/settings", params=key, json=settings, timeout=5).raise_for_status()
        subscription = {"eventType": "contact.creation", "active": True}
        answer = requests.post(f"{webhooks}/subscriptions", params=key, json=subscription, timeout=5)
        answer.raise_for_status()
        for token in _tokens(two_portals):
            requests.post(
                f"{url}/crm/v3/objects/contacts",
                json={"properties": {"email": f"{token}@example.com"}},
                headers=_headers(token),
                timeout=5,
            ).raise_for_status()
        events = _wait_for_events(2)
    finally:
        server.shutdown()
    portals = {p["portal_id"] for p in hs["portals"]}
    assert {event["portalId"] for _, _, body in _Receiver.received for event in json.loads(body)} == portals
    for path, headers, body in _Receiver.received:
        signed = verify_v3(
            hs["client_secret"],
            "POST",
            f"http://127.0.0.1:{server.server_address[1]}{path}",
            body,
            headers["X-HubSpot-Request-Timestamp"],
            headers["X-HubSpot-Signature-v3"],
            now_ms=int(time.time() * 1000),
        )
        assert signed
    assert len(events) == 2


def _wait_for_events(count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [e for _, _, body in _Receiver.received for e in json.loads(body)]
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} notifications within {timeout}s")


def test_one_portal_is_served_as_before(tmp_path: Path) -> None:
    box = Sandbox(salesforce_port=0, hubspot_port=0, state_dir=tmp_path)
    assert box.hubspot_portals == (box.hubspot,)
    assert [p["portal_id"] for p in box.info.hubspot["portals"]] == [box.hs_creds.portal_id]
