"""The sandbox's race controls: the "lost" fault (applied, then the answer lost), targeted one-shot
delays of API requests, and holding/releasing HubSpot webhooks and Salesforce change events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import urllib3

WAIT_SECONDS = 10.0
LOST = {"rate": 1.0, "kinds": ["lost"], "seed": 1, "timeout_seconds": 0.2}


def _url(sandbox: Any, system: str) -> str:
    return str(sandbox.salesforce_url if system == "salesforce" else sandbox.hubspot_url)


def control(sandbox: Any, system: str, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(
        method,
        f"{_url(sandbox, system)}/_sandbox/{path}",
        json=body,
        verify=str(sandbox.tls.ca_cert),
        timeout=5,
    )


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


class Receiver:
    """An HTTP target on 127.0.0.1 that records every POSTed JSON array."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with receiver.lock:
                    receiver.items.extend(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.items)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    yield target
    target.server.shutdown()
    target.server.server_close()


# -- the "lost" fault --------------------------------------------------------------------------------


def test_lost_fault_commits_a_salesforce_create_then_drops_the_answer(fresh_sandbox, sf):
    assert control(fresh_sandbox, "salesforce", "POST", "faults", LOST).ok
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Lead.create({"LastName": "Lost", "Company": "Answers", "Email": "lost@example.com"})
    assert time.monotonic() - started >= 0.2
    described = control(fresh_sandbox, "salesforce", "GET", "faults").json()
    assert described["injected"] == {"lost": 1}
    assert control(fresh_sandbox, "salesforce", "POST", "faults", {"rate": 0}).ok

    leads = fresh_sandbox.salesforce.store.rows("Lead", include_deleted=False)
    assert [lead["Email"] for lead in leads] == ["lost@example.com"]  # committed all the same
    assert sf.query("SELECT Id FROM Lead WHERE LastName = 'Lost'")["totalSize"] == 1
    events = control(fresh_sandbox, "salesforce", "GET", "change-events?entity=Lead").json()["events"]
    assert [e["detail"]["payload"]["ChangeEventHeader"]["changeType"] for e in events] == ["CREATE"]


def test_lost_fault_commits_a_hubspot_create_then_drops_the_answer(fresh_sandbox, hs):
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate

    assert control(fresh_sandbox, "hubspot", "POST", "faults", LOST).ok
    with pytest.raises(urllib3.exceptions.HTTPError):
        hs.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "lost@example.com", "firstname": "Lost"})
        )
    assert control(fresh_sandbox, "hubspot", "GET", "faults").json()["injected"] == {"lost": 1}
    assert control(fresh_sandbox, "hubspot", "POST", "faults", {"rate": 0}).ok

    contacts = list(fresh_sandbox.hubspot.store.records("contacts"))
    assert [c.properties.get("email") for c in contacts] == ["lost@example.com"]


@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
def test_lost_fault_on_a_read_is_a_timeout(fresh_sandbox, system):
    assert control(fresh_sandbox, system, "POST", "faults", LOST).ok
    base = _url(fresh_sandbox, system)
    api = f"{base}/services/data/v59.0/limits" if system == "salesforce" else f"{base}/crm/v3/owners"
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api, verify=str(fresh_sandbox.tls.ca_cert), timeout=5)
    assert control(fresh_sandbox, system, "GET", "faults").json()["injected"] == {"lost": 1}


def test_lost_fault_on_a_salesforce_token_request_is_a_timeout(fresh_sandbox, sf_session):
    info = fresh_sandbox.info.salesforce
    form = {"grant_type": "client_credentials", "client_id": info["client_id"]}
    form["client_secret"] = info["client_secret"]
    sessions_before = len(fresh_sandbox.salesforce.oauth._sessions)
    assert control(fresh_sandbox, "salesforce", "POST", "faults", LOST).ok
    with pytest.raises(requests.exceptions.ConnectionError):
        sf_session.post(info["token_url"], data=form, timeout=5)
    assert len(fresh_sandbox.salesforce.oauth._sessions) == sessions_before  # no session issued
    assert control(fresh_sandbox, "salesforce", "POST", "faults", {"rate": 0}).ok
    assert sf_session.post(info["token_url"], data=form, timeout=5).ok


@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
def test_no_kinds_means_every_kind_lost_included(fresh_sandbox, system):
    answer = control(fresh_sandbox, system, "POST", "faults", {"rate": 0.1}).json()
    assert "lost" in answer["kinds"]
    assert set(answer["kinds"]) == set(control(fresh_sandbox, system, "GET", "faults").json()["supported"])


# -- targeted delays -----------------------------------------------------------------------------


def delays(sandbox: Any, system: str) -> dict[str, Any]:
    body: dict[str, Any] = control(sandbox, system, "GET", "delays").json()
    return body


def test_delay_holds_a_write_before_and_after_it_commits(fresh_sandbox, hs):
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate

    rule = {"method": "POST", "path": r"/crm/v3/objects/contacts$", "before_seconds": 0.4}
    answer = control(fresh_sandbox, "hubspot", "POST", "delays", {**rule, "after_seconds": 0.6})
    assert answer.status_code == 201
    assert answer.json()["count"] == 1
    store = fresh_sandbox.hubspot.store
    done = threading.Event()

    def create() -> None:
        hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "a@b.co"}))
        done.set()

    started = time.monotonic()
    threading.Thread(target=create, daemon=True).start()
    wait_until(lambda: delays(fresh_sandbox, "hubspot")["waiting"] == 1, "the request held before")
    assert list(store.records("contacts")) == []
    assert delays(fresh_sandbox, "hubspot")["rules"] == []  # its one use is taken
    # other requests go on meanwhile (the hold takes no lock)
    owners = hs.crm.owners.owners_api.get_page()
    assert owners is not None
    wait_until(lambda: delays(fresh_sandbox, "hubspot")["committed"] == 1, "the answer held")
    assert len(list(store.records("contacts"))) == 1  # committed, the client still waits
    assert not done.is_set()
    assert done.wait(WAIT_SECONDS)
    assert time.monotonic() - started >= 1.0
    assert delays(fresh_sandbox, "hubspot") == {"rules": [], "waiting": 0, "committed": 0, "done": 1}


def test_delay_applies_to_count_matching_requests_only(fresh_sandbox, sf):
    rule = {"method": "GET", "path": r"/limits/?$", "before_seconds": 0.3, "count": 2}
    assert control(fresh_sandbox, "salesforce", "POST", "delays", rule).status_code == 201

    def timed(call: Callable[[], Any]) -> float:
        started = time.monotonic()
        call()
        return time.monotonic() - started

    assert timed(lambda: sf.query("SELECT Id FROM Lead")) < 0.3  # another path: not held
    assert timed(sf.limits) >= 0.3
    assert delays(fresh_sandbox, "salesforce")["rules"][0]["count"] == 1
    assert timed(sf.limits) >= 0.3
    assert timed(sf.limits) < 0.3
    assert delays(fresh_sandbox, "salesforce") == {"rules": [], "waiting": 0, "committed": 0, "done": 2}


@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
def test_delay_rules_are_cleared_by_delete_and_reset_and_validated(fresh_sandbox, system):
    rule = {"method": "patch", "path": "/x", "before_seconds": 1, "after_seconds": 2, "count": 3}
    created = control(fresh_sandbox, system, "POST", "delays", rule).json()
    assert {k: created[k] for k in rule} == {**rule, "method": "PATCH"}
    assert len(delays(fresh_sandbox, system)["rules"]) == 1
    assert control(fresh_sandbox, system, "DELETE", "delays").status_code == 204
    assert delays(fresh_sandbox, system)["rules"] == []
    control(fresh_sandbox, system, "POST", "delays", rule)
    control(fresh_sandbox, system, "POST", "reset", {})
    assert delays(fresh_sandbox, system) == {"rules": [], "waiting": 0, "committed": 0, "done": 0}
    for bad in ({"method": "FETCH", "path": "/x"}, {"method": "GET", "path": "("}, {"method": "GET"}):
        assert control(fresh_sandbox, system, "POST", "delays", bad).status_code == 400
    extras: list[dict[str, Any]] = [{"count": 0}, {"count": "1"}, {"before_seconds": -1}]
    for extra in extras:
        body = {"method": "GET", "path": "/x", **extra}
        assert control(fresh_sandbox, system, "POST", "delays", body).status_code == 400


# -- holding deliveries --------------------------------------------------------------------------


def pending(sandbox: Any, system: str) -> int:
    return int(control(sandbox, system, "GET", "pending").json()["pending"])


def test_held_change_events_queue_then_go_in_order_on_release(fresh_sandbox, sf, receiver):
    assert control(fresh_sandbox, "salesforce", "POST", "change-events/target", {"url": receiver.url}).ok
    held = control(fresh_sandbox, "salesforce", "POST", "change-events/hold").json()
    assert held == {"held": True, "pending": 0}
    lead_id = sf.Lead.create({"LastName": "Held", "Company": "Events"})["id"]
    for title in ("One", "Two"):
        sf.Lead.update(lead_id, {"Title": title})
    time.sleep(0.3)  # more than enough for an unheld delivery
    assert receiver.received() == []
    assert pending(fresh_sandbox, "salesforce") == 3  # held events are pending, not delivered

    released = control(fresh_sandbox, "salesforce", "POST", "change-events/release").json()
    assert released["held"] is False
    wait_until(lambda: len(receiver.received()) == 3, "the released events")
    payloads = [e["detail"]["payload"] for e in receiver.received()]
    assert [p["ChangeEventHeader"]["changeType"] for p in payloads] == ["CREATE", "UPDATE", "UPDATE"]
    assert [p.get("Title") for p in payloads[1:]] == ["One", "Two"]
    wait_until(lambda: pending(fresh_sandbox, "salesforce") == 0, "nothing pending")


def _subscribe(sandbox: Any, url: str, *event_types: str) -> None:
    info = sandbox.info.hubspot
    base = f"{info['url']}/webhooks/v3/{info['app_id']}"
    key = {"hapikey": info["developer_api_key"]}
    settings = {"targetUrl": url, "throttling": {"maxConcurrentRequests": 10}}
    requests.put(f"{base}/settings", params=key, json=settings, timeout=5).raise_for_status()
    for event_type in event_types:
        body = {"eventType": event_type, "active": True}
        if event_type.endswith(".propertyChange"):
            body["propertyName"] = "jobtitle"
        requests.post(f"{base}/subscriptions", params=key, json=body, timeout=5).raise_for_status()


def test_held_webhooks_queue_then_go_in_order_on_release(fresh_sandbox, hs, receiver):
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate

    _subscribe(fresh_sandbox, receiver.url, "contact.creation", "contact.propertyChange")
    assert control(fresh_sandbox, "hubspot", "POST", "webhooks/hold").json() == {"held": True, "pending": 0}
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "h@b.co"})
    )
    for title in ("One", "Two"):
        body = {"objectType": "contacts", "id": contact.id, "properties": {"jobtitle": title}}
        assert control(fresh_sandbox, "hubspot", "POST", "crm-ui-edit", body).ok
    time.sleep(0.3)  # more than enough for an unheld delivery
    assert receiver.received() == []
    assert pending(fresh_sandbox, "hubspot") == 3
    assert control(fresh_sandbox, "hubspot", "GET", "webhooks/deliveries").json()["held"] is True

    assert control(fresh_sandbox, "hubspot", "POST", "webhooks/release").json()["held"] is False
    wait_until(lambda: len(receiver.received()) == 3, "the released notifications")
    events = receiver.received()
    assert [e["subscriptionType"] for e in events] == ["contact.creation"] + ["contact.propertyChange"] * 2
    assert [e.get("propertyValue") for e in events[1:]] == ["One", "Two"]
    assert [e["eventId"] for e in events] == sorted(e["eventId"] for e in events)
    wait_until(lambda: pending(fresh_sandbox, "hubspot") == 0, "nothing pending")


@pytest.mark.parametrize(("system", "path"), [("salesforce", "change-events"), ("hubspot", "webhooks")])
def test_reset_releases_a_hold(fresh_sandbox, system, path):
    assert control(fresh_sandbox, system, "POST", f"{path}/hold").json()["held"] is True
    control(fresh_sandbox, system, "POST", "reset", {})
    emulator = fresh_sandbox.salesforce.cdc.deliverer if system == "salesforce" else None
    deliverer = emulator or fresh_sandbox.hubspot.webhooks._deliverer
    assert deliverer.held is False
