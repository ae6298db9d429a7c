"""HubSpot webhooks against the sandbox: the v3 management API through the real client, and signed
delivery to a local receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.utils.signature import Signature
from hubspot.webhooks import (
    BatchInputSubscriptionBatchUpdateRequest,
    SettingsChangeRequest,
    SubscriptionBatchUpdateRequest,
    SubscriptionCreateRequest,
    SubscriptionPatchRequest,
    ThrottlingSettings,
)
from hubspot.webhooks.exceptions import ApiException

from infra.sandbox.hubspot.signing import sign_v1, verify_v3
from infra.sandbox.hubspot.webhooks import EVENT_TYPES

WAIT_SECONDS = 15.0


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.body)
        return events


@dataclass
class Receiver:
    """A webhook target on 127.0.0.1 that records every request and answers ``statuses`` in turn."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, delivery: Delivery) -> int:
        with self.lock:
            self.deliveries.append(delivery)
            return self.statuses.pop(0) if self.statuses else 204

    def _accepted(self) -> list[dict[str, Any]]:
        return [e for d in self.deliveries for e in d.events if d.headers.get("X-Accepted") == "yes"]

    def wait_for_events(self, count: int) -> list[dict[str, Any]]:
        """The events of accepted requests, once there are at least ``count`` of them."""

        def enough() -> bool:
            with self.lock:
                return len(self._accepted()) >= count

        wait_until(enough, f"{count} accepted events")
        with self.lock:
            return self._accepted()

    def wait_for_event(self, predicate: Callable[[dict[str, Any]], bool], what: str) -> list[dict[str, Any]]:
        """The events of accepted requests, once one of them satisfies ``predicate`` (delivery is in
        order, so everything published before that event has arrived too)."""

        def arrived() -> bool:
            with self.lock:
                return any(predicate(e) for e in self._accepted())

        wait_until(arrived, what)
        with self.lock:
            return self._accepted()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            delivery = Delivery(self.path, headers, body)
            status = target.record(delivery)
            delivery.headers["X-Accepted"] = "yes" if 200 <= status < 300 else "no"
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    target.url = f"http://127.0.0.1:{server.server_port}/hubspot/webhooks?source=sandbox"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def dev(fresh_sandbox) -> HubSpot:
    info = fresh_sandbox.info.hubspot
    return HubSpot(api_key=info["developer_api_key"], host=info["url"])


@pytest.fixture
def app_id(fresh_sandbox) -> int:
    return int(fresh_sandbox.info.hubspot["app_id"])


@pytest.fixture
def webhooks(fresh_sandbox):
    return fresh_sandbox.hubspot.webhooks


def configure(dev: HubSpot, app_id: int, url: str, *subscriptions: tuple[str, str | None, bool]) -> list[str]:
    dev.webhooks.settings_api.configure(
        app_id,
        SettingsChangeRequest(target_url=url, throttling=ThrottlingSettings(max_concurrent_requests=10)),
    )
    ids = []
    for event_type, prop, active in subscriptions:
        sub = dev.webhooks.subscriptions_api.create(
            app_id, SubscriptionCreateRequest(event_type=event_type, property_name=prop, active=active)
        )
        ids.append(sub.id)
    return ids


def sandbox_get(sandbox, path: str) -> dict[str, Any]:
    resp = requests.get(f"{sandbox.hubspot_url}/_sandbox/{path}", timeout=5)
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def sandbox_post(sandbox, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{sandbox.hubspot_url}/_sandbox/{path}", json=body, timeout=5)


# -- management API --------------------------------------------------------------------------------


def test_settings_roundtrip_through_the_real_client(dev, app_id):
    api = dev.webhooks.settings_api
    with pytest.raises(ApiException) as missing:
        api.get_all(app_id)
    assert missing.value.status == 404
    created = api.configure(
        app_id,
        SettingsChangeRequest(
            target_url="https://example.com/hooks", throttling=ThrottlingSettings(max_concurrent_requests=7)
        ),
    )
    assert created.target_url == "https://example.com/hooks"
    assert created.throttling.max_concurrent_requests == 7
    assert created.created_at is not None
    updated = api.configure(
        app_id,
        SettingsChangeRequest(
            target_url="https://example.com/other", throttling=ThrottlingSettings(max_concurrent_requests=3)
        ),
    )
    assert updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at
    read = api.get_all(app_id)
    assert (read.target_url, read.throttling.max_concurrent_requests) == ("https://example.com/other", 3)
    api.clear(app_id)
    with pytest.raises(ApiException) as gone:
        api.get_all(app_id)
    assert gone.value.status == 404


def test_subscriptions_lifecycle_through_the_real_client(dev, app_id):
    api = dev.webhooks.subscriptions_api
    assert api.get_all(app_id).results == []
    email = api.create(
        app_id,
        SubscriptionCreateRequest(event_type="contact.propertyChange", property_name="email", active=True),
    )
    deal = api.create(app_id, SubscriptionCreateRequest(event_type="deal.creation"))
    assert email.event_type == "contact.propertyChange"
    assert email.property_name == "email"
    assert email.active is True
    assert deal.active is False  # the API's default
    assert isinstance(email.id, str)
    assert [s.id for s in api.get_all(app_id).results] == [email.id, deal.id]

    assert api.get_by_id(subscription_id=int(deal.id), app_id=app_id).event_type == "deal.creation"
    patched = api.update(
        subscription_id=int(deal.id),
        app_id=app_id,
        subscription_patch_request=SubscriptionPatchRequest(active=True),
    )
    assert patched.active is True

    batch = api.update_batch(
        app_id,
        BatchInputSubscriptionBatchUpdateRequest(
            inputs=[
                SubscriptionBatchUpdateRequest(id=int(email.id), active=False),
                SubscriptionBatchUpdateRequest(id=int(deal.id), active=False),
            ]
        ),
    )
    assert batch.status == "COMPLETE"
    assert sorted((r.id, r.active) for r in batch.results) == sorted([(email.id, False), (deal.id, False)])

    api.archive(subscription_id=int(email.id), app_id=app_id)
    assert [s.id for s in api.get_all(app_id).results] == [deal.id]
    with pytest.raises(ApiException) as gone:
        api.get_by_id(subscription_id=int(email.id), app_id=app_id)
    assert gone.value.status == 404


def test_batch_update_with_an_unknown_id_answers_207_with_errors(fresh_sandbox, dev, app_id):
    sub = dev.webhooks.subscriptions_api.create(
        app_id, SubscriptionCreateRequest(event_type="contact.creation")
    )
    key = fresh_sandbox.info.hubspot["developer_api_key"]
    resp = requests.post(
        f"{fresh_sandbox.hubspot_url}/webhooks/v3/{app_id}/subscriptions/batch/update",
        params={"hapikey": key},
        json={"inputs": [{"id": int(sub.id), "active": True}, {"id": 99999, "active": True}]},
        timeout=5,
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [r["id"] for r in body["results"]] == [sub.id]
    assert body["numErrors"] == 1
    assert body["errors"][0]["category"] == "SUBSCRIPTION_ID_NOT_FOUND"
    assert body["errors"][0]["context"] == {"subscriptionIds": ["99999"]}


def test_unknown_app_and_invalid_bodies_answer_hubspot_errors(fresh_sandbox, dev, app_id):
    with pytest.raises(ApiException) as unknown_app:
        dev.webhooks.subscriptions_api.get_all(app_id + 1)
    assert unknown_app.value.status == 404
    assert json.loads(unknown_app.value.body)["category"] == "OBJECT_NOT_FOUND"

    key = fresh_sandbox.info.hubspot["developer_api_key"]
    base = f"{fresh_sandbox.hubspot_url}/webhooks/v3/{app_id}"
    bad_requests = [
        ("post", "/subscriptions", {"eventType": "contact.exploded"}),
        ("post", "/subscriptions", {"eventType": "contact.propertyChange"}),  # no propertyName
        ("post", "/subscriptions", {"eventType": "contact.creation", "active": "yes"}),
        ("put", "/settings", {"targetUrl": "not a url", "throttling": {"maxConcurrentRequests": 1}}),
        ("put", "/settings", {"targetUrl": "https://example.com/h"}),
        (
            "put",
            "/settings",
            {"targetUrl": "https://example.com/h", "throttling": {"maxConcurrentRequests": 0}},
        ),
        ("post", "/subscriptions/batch/update", {"inputs": [{"id": "x", "active": True}]}),
    ]
    for method, path, body in bad_requests:
        resp = requests.request(method, base + path, params={"hapikey": key}, json=body, timeout=5)
        assert resp.status_code == 400, (path, body, resp.text)
        error = resp.json()
        assert error["status"] == "error"
        assert error["category"] == "VALIDATION_ERROR"
        assert error["correlationId"]
    malformed = requests.post(
        base + "/subscriptions",
        params={"hapikey": key},
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert malformed.status_code == 400
    assert malformed.json()["category"] == "VALIDATION_ERROR"


def test_every_event_type_of_the_spec_is_accepted(api_specs):
    spec = json.loads((api_specs / "hubspot" / "webhooks-v3.json").read_text())
    schemas = spec["components"]["schemas"]
    assert set(schemas["SubscriptionCreateRequest"]["properties"]["eventType"]["enum"]) == EVENT_TYPES
    assert set(schemas["SubscriptionResponse"]["properties"]["eventType"]["enum"]) == EVENT_TYPES


def test_duplicate_subscription_is_refused(dev, app_id):
    api = dev.webhooks.subscriptions_api
    api.create(app_id, SubscriptionCreateRequest(event_type="contact.propertyChange", property_name="email"))
    api.create(app_id, SubscriptionCreateRequest(event_type="contact.propertyChange", property_name="phone"))
    with pytest.raises(ApiException) as dup:
        api.create(
            app_id, SubscriptionCreateRequest(event_type="contact.propertyChange", property_name="email")
        )
    assert dup.value.status == 409


def test_management_api_requires_the_developer_key(fresh_sandbox, app_id):
    url = fresh_sandbox.info.hubspot["url"]
    wrong = HubSpot(api_key="not-the-key", host=url)
    with pytest.raises(ApiException) as bad_key:
        wrong.webhooks.subscriptions_api.get_all(app_id)
    assert bad_key.value.status == 401
    body = json.loads(bad_key.value.body)
    assert body["status"] == "error"
    assert body["correlationId"]
    missing = requests.get(f"{url}/webhooks/v3/{app_id}/settings", timeout=5)
    assert missing.status_code == 401


# -- delivery --------------------------------------------------------------------------------------


def test_published_events_arrive_signed_in_batches(fresh_sandbox, dev, app_id, receiver, webhooks):
    (sub_id,) = configure(dev, app_id, receiver.url, ("contact.creation", None, True))
    secret = fresh_sandbox.info.hubspot["client_secret"]
    for object_id in range(1, 251):
        webhooks.publish("contact.creation", object_id, changeSource="CRM", changeFlag="NEW", sourceId=None)

    events = receiver.wait_for_events(250)
    assert sorted(e["objectId"] for e in events) == list(range(1, 251))
    assert len({e["eventId"] for e in events}) == 250
    assert len(receiver.deliveries) >= 3
    first = events[0]
    assert set(first) == {
        "eventId",
        "subscriptionId",
        "portalId",
        "appId",
        "occurredAt",
        "subscriptionType",
        "attemptNumber",
        "objectId",
        "changeSource",
        "changeFlag",
    }
    assert first["subscriptionId"] == int(sub_id)
    assert first["portalId"] == fresh_sandbox.info.hubspot["portal_id"]
    assert first["appId"] == app_id
    assert first["attemptNumber"] == 0
    assert first["subscriptionType"] == "contact.creation"
    assert isinstance(first["occurredAt"], int)

    now_ms = int(time.time() * 1000)
    for delivery in receiver.deliveries:
        assert delivery.path == "/hubspot/webhooks?source=sandbox"
        assert isinstance(delivery.events, list)
        assert 1 <= len(delivery.events) < 100
        headers = delivery.headers
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"].startswith("HubSpot Connect 2.0")
        assert int(headers["X-HubSpot-Timeout-Millis"]) > 0
        assert headers["X-HubSpot-Signature-Version"] == "v1"
        assert headers["X-HubSpot-Signature"] == sign_v1(secret, delivery.body)
        timestamp = headers["X-HubSpot-Request-Timestamp"]
        signature = headers["X-HubSpot-Signature-v3"]
        assert verify_v3(secret, "POST", receiver.url, delivery.body, timestamp, signature, now_ms=now_ms)
        assert Signature.is_valid(
            signature,
            secret,
            delivery.body.decode(),
            http_uri=receiver.url,
            signature_version="v3",
            timestamp=timestamp,
        )
    wait_until(lambda: fresh_sandbox.hubspot.pending_deliveries() == 0, "an empty delivery queue")


def test_failed_deliveries_are_retried_with_increasing_attempt_numbers(
    fresh_sandbox, dev, app_id, receiver, webhooks
):
    configure(dev, app_id, receiver.url, ("deal.deletion", None, True))
    receiver.statuses = [500, 503]
    webhooks.publish("deal.deletion", 42, changeSource="CRM_UI")

    (event,) = receiver.wait_for_events(1)
    assert event["objectId"] == 42
    assert event["attemptNumber"] == 2
    attempts = [e["attemptNumber"] for d in receiver.deliveries for e in d.events]
    assert attempts == [0, 1, 2]
    assert len({e["eventId"] for d in receiver.deliveries for e in d.events}) == 1
    wait_until(lambda: fresh_sandbox.hubspot.pending_deliveries() == 0, "the delivery to complete")
    log = sandbox_get(fresh_sandbox, "webhooks/deliveries")
    assert [a["status"] for a in log["attempts"]] == [500, 503, 204]
    assert log["attempts"][-1]["ok"] is True


def test_unreachable_target_is_retried_then_abandoned_after_max_attempts(
    fresh_sandbox, dev, app_id, webhooks
):
    assert sandbox_post(fresh_sandbox, "webhooks/settings", {"max_attempts": 3}).ok
    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    configure(dev, app_id, f"http://127.0.0.1:{port}/gone", ("company.creation", None, True))
    webhooks.publish("company.creation", 7, changeSource="API")

    wait_until(lambda: fresh_sandbox.hubspot.pending_deliveries() == 0, "the event to be abandoned")
    log = sandbox_get(fresh_sandbox, "webhooks/deliveries")
    assert [a["status"] for a in log["attempts"]] == [None, None, None]
    assert all(a["error"] for a in log["attempts"])
    assert [a["attemptNumbers"] for a in log["attempts"]] == [[0], [1], [2]]
    assert log["attempts"][-1]["abandonedEventIds"] == log["attempts"][0]["eventIds"]
    assert log["pending"] == 0


def test_only_active_matching_subscriptions_get_events(fresh_sandbox, dev, app_id, receiver, webhooks):
    configure(
        dev,
        app_id,
        receiver.url,
        ("contact.propertyChange", "email", True),
        ("contact.propertyChange", "phone", False),
        ("contact.deletion", None, False),
    )
    webhooks.publish("contact.propertyChange", 1, propertyName="phone", propertyValue="+1 555")
    webhooks.publish("contact.propertyChange", 1, propertyName="firstname", propertyValue="Ada")
    webhooks.publish("contact.deletion", 1, changeSource="CRM")
    webhooks.publish("company.creation", 2, changeSource="CRM")
    assert fresh_sandbox.hubspot.pending_deliveries() == 0  # nothing was queued

    webhooks.publish("contact.propertyChange", 1, propertyName="email", propertyValue="ada@example.com")
    (event,) = receiver.wait_for_events(1)
    assert (event["propertyName"], event["propertyValue"]) == ("email", "ada@example.com")
    assert len(receiver.deliveries) == 1


def test_event_ids_stay_unique_across_resets(fresh_sandbox, dev, app_id, receiver, webhooks):
    configure(dev, app_id, receiver.url, ("contact.creation", None, True))
    webhooks.publish("contact.creation", 1, changeSource="CRM")
    (before,) = receiver.wait_for_events(1)
    assert sandbox_post(fresh_sandbox, "reset", {}).ok
    configure(dev, app_id, receiver.url, ("contact.creation", None, True))
    webhooks.publish("contact.creation", 1, changeSource="CRM")
    after = receiver.wait_for_events(2)[-1]
    assert after["eventId"] > before["eventId"]


def test_no_target_means_nothing_is_queued(fresh_sandbox, dev, app_id, webhooks):
    dev.webhooks.subscriptions_api.create(
        app_id, SubscriptionCreateRequest(event_type="contact.creation", active=True)
    )
    webhooks.publish("contact.creation", 1, changeSource="CRM")
    assert fresh_sandbox.hubspot.pending_deliveries() == 0


def test_each_matching_subscription_gets_its_own_event(fresh_sandbox, dev, app_id, receiver, webhooks):
    ids = configure(
        dev, app_id, receiver.url, ("contact.propertyChange", "email", True), ("contact.creation", None, True)
    )
    webhooks.publish("contact.creation", 5, changeSource="CRM")
    webhooks.publish("contact.propertyChange", 5, propertyName="email", propertyValue="x@example.com")
    events = receiver.wait_for_events(2)
    assert [(e["subscriptionType"], e["subscriptionId"]) for e in events] == [
        ("contact.creation", int(ids[1])),
        ("contact.propertyChange", int(ids[0])),
    ]
    assert events[0]["eventId"] < events[1]["eventId"]


def test_delivery_tuning_rejects_nonsense(fresh_sandbox):
    assert sandbox_post(fresh_sandbox, "webhooks/settings", {"max_batch": 500}).status_code == 400
    assert sandbox_post(fresh_sandbox, "webhooks/settings", {"retry_delays": []}).status_code == 400
    assert sandbox_post(fresh_sandbox, "webhooks/settings", {"bogus": 1}).status_code == 400
    ok = sandbox_post(fresh_sandbox, "webhooks/settings", {"max_batch": 10, "retry_delays": [0.01]})
    assert ok.json()["max_batch"] == 10
    assert sandbox_get(fresh_sandbox, "webhooks/settings")["retry_delays"] == [0.01]


def test_reset_forgets_settings_subscriptions_and_tuning(fresh_sandbox, dev, app_id):
    configure(dev, app_id, "https://example.com/h", ("contact.creation", None, True))
    sandbox_post(fresh_sandbox, "webhooks/settings", {"max_batch": 5})
    assert sandbox_post(fresh_sandbox, "reset", {}).ok
    assert dev.webhooks.subscriptions_api.get_all(app_id).results == []
    with pytest.raises(ApiException):
        dev.webhooks.settings_api.get_all(app_id)
    assert sandbox_get(fresh_sandbox, "webhooks/settings")["max_batch"] == 99


# -- events from CRM writes made with the real client ----------------------------------------------


def _contacts_model():
    from hubspot.crm import contacts

    return contacts


def test_crm_writes_produce_the_subscribed_events(fresh_sandbox, hs, dev, app_id, receiver):
    m = _contacts_model()
    ids = configure(
        dev,
        app_id,
        receiver.url,
        ("contact.creation", None, True),
        ("contact.propertyChange", "firstname", True),
        ("contact.deletion", None, True),
        ("contact.merge", None, True),
    )
    sub = dict(zip(["creation", "firstname", "deletion", "merge"], (int(i) for i in ids), strict=True))
    api = hs.crm.contacts.basic_api
    ada = api.create(
        m.SimplePublicObjectInputForCreate(properties={"email": "ada@example.com", "firstname": "Ada"})
    )
    bob = api.create(m.SimplePublicObjectInputForCreate(properties={"email": "bob@example.com"}))
    api.update(ada.id, m.SimplePublicObjectInput(properties={"firstname": "Augusta", "lastname": "King"}))
    merged = api.merge(m.PublicMergeInput(primary_object_id=ada.id, object_id_to_merge=bob.id))
    gone = api.create(m.SimplePublicObjectInputForCreate(properties={"email": "gone@example.com"}))
    api.archive(gone.id)

    events = receiver.wait_for_event(lambda e: e["subscriptionType"] == "contact.deletion", "the deletion")
    summary = [(e["subscriptionType"], e["objectId"], e.get("propertyValue")) for e in events]
    assert summary[:4] == [
        ("contact.creation", int(ada.id), None),
        ("contact.propertyChange", int(ada.id), "Ada"),
        ("contact.creation", int(bob.id), None),
        ("contact.propertyChange", int(ada.id), "Augusta"),
    ]
    assert ("contact.merge", int(merged.id), None) in summary
    assert summary[-2:] == [
        ("contact.creation", int(gone.id), None),
        ("contact.deletion", int(gone.id), None),
    ]
    assert not any(e.get("propertyName") == "lastname" for e in events)  # not subscribed

    by_type = {e["subscriptionType"]: e for e in events}
    assert by_type["contact.creation"]["subscriptionId"] == sub["creation"]
    assert by_type["contact.creation"]["changeFlag"] == "NEW"
    assert by_type["contact.propertyChange"]["subscriptionId"] == sub["firstname"]
    assert by_type["contact.propertyChange"]["propertyName"] == "firstname"
    assert by_type["contact.deletion"]["subscriptionId"] == sub["deletion"]
    merge = by_type["contact.merge"]
    assert merge["subscriptionId"] == sub["merge"]
    assert merge["primaryObjectId"] == int(ada.id)
    assert merge["mergedObjectIds"] == [int(bob.id)]
    assert merge["newObjectId"] == int(merged.id)
    for event in events:
        assert event["changeSource"]
        assert event["portalId"] == fresh_sandbox.info.hubspot["portal_id"]
        assert event["occurredAt"] > 0
    assert len({e["eventId"] for e in events}) == len(events)


def test_association_changes_are_published_for_both_sides(fresh_sandbox, hs, dev, app_id, receiver):
    from hubspot.crm import companies

    m = _contacts_model()
    configure(
        dev,
        app_id,
        receiver.url,
        ("contact.associationChange", None, True),
        ("company.associationChange", None, True),
    )
    contact = hs.crm.contacts.basic_api.create(
        m.SimplePublicObjectInputForCreate(properties={"email": "c@example.com"})
    )
    company = hs.crm.companies.basic_api.create(
        companies.SimplePublicObjectInputForCreate(properties={"name": "Example"})
    )
    hs.crm.associations.v4.basic_api.create_default("contacts", contact.id, "companies", company.id)

    events = receiver.wait_for_events(2)
    sides = sorted((e["subscriptionType"], e["fromObjectId"], e["toObjectId"]) for e in events)
    assert sides == [
        ("company.associationChange", int(company.id), int(contact.id)),
        ("contact.associationChange", int(contact.id), int(company.id)),
    ]
    for event in events:
        assert event["associationRemoved"] is False
        assert event["associationType"] in ("CONTACT_TO_COMPANY", "COMPANY_TO_CONTACT")


def test_deal_deletion_and_restore_events(fresh_sandbox, hs, dev, app_id, receiver):
    from hubspot.crm import deals

    configure(dev, app_id, receiver.url, ("deal.deletion", None, True), ("deal.restore", None, True))
    deal = hs.crm.deals.basic_api.create(
        deals.SimplePublicObjectInputForCreate(properties={"dealname": "Big one"})
    )
    hs.crm.deals.basic_api.archive(deal.id)
    restored = sandbox_post(fresh_sandbox, "restore", {"objectType": "deals", "id": deal.id})
    assert restored.ok, restored.text

    events = receiver.wait_for_event(lambda e: e["subscriptionType"] == "deal.restore", "the restore")
    assert [(e["subscriptionType"], e["objectId"], e["changeFlag"]) for e in events] == [
        ("deal.deletion", int(deal.id), "DELETED"),
        ("deal.restore", int(deal.id), "RESTORED"),
    ]
