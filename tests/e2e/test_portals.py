"""Issue 15 (S3): several HubSpot portals, one Salesforce org, one stack.

The sandbox serves two portals (``hubspot_portals=2``), the HubSpot secret holds a token per portal
and the configuration lists both (creation from Salesforce off, as recommended with several
portals). Each portal's webhooks reach its own contacts; a Salesforce change is read once and
updates the linked contact of each portal; a notification of a portal that is not configured is
refused (the changes dead-letter queue, with its reason) and nothing of it is synced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from infra.local_stack import LocalStack
from infra.sandbox.hubspot.app import HubSpotEmulator
from infra.sandbox.hubspot.signing import canonical_uri, sign_v3
from infra.sandbox.runner import Sandbox
from shared.crm_state import CrmStatus
from shared.models import System
from shared.state.crm import DynamoCrmStateStore
from tests.e2e.conftest import RETRY_ENV, World, integration_user_is_a_hubspot_owner, running_stack

# work that waits for a portal is looked at again soon (as in test_guardrails)
WAITS = {"HSSYNC_PAUSE_SHORTEST_SECONDS": "1", "HSSYNC_PAUSE_LONGEST_SECONDS": "3"}
# the Salesforce API calls that read records (REST retrieve, SOQL, composite batches of them)
SALESFORCE_READS = ("GET /services/data/", "POST /services/data/{version}/composite")


def two_portals_config(sandbox: Sandbox) -> str:
    portals = ", ".join(str(p["portal_id"]) for p in sandbox.info.hubspot["portals"])
    return f"version: 1\nportals: [{portals}]\ncreation: {{salesforce_to_hubspot: do_nothing}}\n"


@pytest.fixture(scope="module")
def portals_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(
        tmp_path_factory.mktemp("portals"),
        {**RETRY_ENV, **WAITS},
        hubspot_portals=2,
        config=two_portals_config,
    ) as stack:
        yield stack


@pytest.fixture
def world(portals_stack: LocalStack) -> Iterator[World]:
    portals_stack.reset()
    integration_user_is_a_hubspot_owner(portals_stack)
    world = World(portals_stack)
    yield world
    world.faults_off()
    portals_stack.wait_idle(60.0)


def _second(world: World) -> HubSpotEmulator:
    return world.sandbox.hubspot_portals[1]


def _portal_id(emulator: HubSpotEmulator) -> str:
    return str(emulator.credentials.portal_id)


def _create_in(world: World, emulator: HubSpotEmulator, **properties: str) -> str:
    """A HubSpot user of that portal creates a contact (its own users' app token)."""
    answer = requests.post(
        f"{world.sandbox.hubspot_url}/crm/v3/objects/contacts",
        json={"properties": properties},
        headers={"Authorization": f"Bearer {emulator.credentials.other_access_token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def _properties(emulator: HubSpotEmulator, contact_id: str) -> dict[str, Any]:
    record = emulator.store.get("contacts", contact_id)
    assert record is not None, f"no contact {contact_id} in portal {_portal_id(emulator)}"
    return dict(record.properties)


def _salesforce_reads(world: World) -> dict[str, int]:
    calls: dict[str, int] = world.sandbox.salesforce.stats.snapshot()["calls"]
    return {key: n for key, n in calls.items() if key.startswith(SALESFORCE_READS)}


def test_each_portals_webhooks_sync_its_own_contacts(world: World) -> None:
    first, second = world.sandbox.hubspot, _second(world)
    ada = _create_in(
        world, first, email="ada@example.com", firstname="Ada", lastname="Lovelace", company="AE"
    )
    bob = _create_in(
        world, second, email="bob@example.com", firstname="Bob", lastname="Babbage", company="DE"
    )
    world.settle()

    leads = {row["Email"]: row for row in world.salesforce_rows("Lead")}
    assert set(leads) == {"ada@example.com", "bob@example.com"}
    ada_link = world.stack.state.links_by_hubspot(_portal_id(first), [ada]).get(ada)
    bob_link = world.stack.state.links_by_hubspot(_portal_id(second), [bob]).get(bob)
    assert ada_link is not None
    assert bob_link is not None
    assert ada_link.sf_id == leads["ada@example.com"]["Id"]
    assert bob_link.sf_id == leads["bob@example.com"]["Id"]
    # state is namespaced by portal: each portal numbers its own contacts (the same id in both here),
    # and each portal's id is linked to its own Lead
    assert ada_link.portal != bob_link.portal
    assert ada_link.sf_id != bob_link.sf_id
    # nothing was created in the other portal (creation from Salesforce is off)
    assert [r.properties.get("email") for r in first.store.records("contacts")] == ["ada@example.com"]
    assert [r.properties.get("email") for r in second.store.records("contacts")] == ["bob@example.com"]


def test_a_salesforce_change_is_read_once_and_updates_each_portals_contact(world: World) -> None:
    first, second = world.sandbox.hubspot, _second(world)
    ada = _create_in(
        world, first, email="ada@example.com", firstname="Ada", lastname="Lovelace", company="AE"
    )
    world.settle()
    ada_too = _create_in(world, second, email="ada@example.com", firstname="Ada", lastname="Lovelace")
    world.settle()
    (lead,) = world.salesforce_rows("Lead")  # the second portal's contact matched it by email
    for emulator, contact_id in ((first, ada), (second, ada_too)):
        link = world.stack.state.links_by_hubspot(_portal_id(emulator), [contact_id]).get(contact_id)
        assert link is not None
        assert link.sf_id == lead["Id"]

    world.salesforce  # noqa: B018  (the user's session, signed in before the count starts)
    world.sandbox.salesforce.stats.reset()
    world.salesforce_update("Lead", lead["Id"], LastName="King", Title="Countess")
    world.settle()

    for emulator, contact_id in ((first, ada), (second, ada_too)):
        properties = _properties(emulator, contact_id)
        assert (properties["lastname"], properties["jobtitle"]) == ("King", "Countess")
    reads = _salesforce_reads(world)
    assert sum(reads.values()) == 1, reads  # ONE read of the Lead, for both portals


def _note(world: World, portal: int, object_id: str) -> dict[str, Any]:
    return {
        "eventId": 1,
        "subscriptionId": 1,
        "portalId": portal,
        "appId": int(world.sandbox.info.hubspot["app_id"]),
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": int(object_id),
        "propertyName": "lastname",
        "propertyValue": "Intruder",
        "changeSource": "CRM_UI",
        "sourceId": "userId:7",
    }


def _dead_letters(world: World) -> list[dict[str, Any]]:
    sqs = world.stack._boto("sqs")
    url = world.stack.info.queues["ChangesDeadLetterQueue"]
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
    )
    return list(got.get("Messages") or [])


def test_a_notification_of_a_portal_not_configured_is_refused(world: World) -> None:
    first = world.sandbox.hubspot
    ada = _create_in(
        world, first, email="ada@example.com", firstname="Ada", lastname="Lovelace", company="AE"
    )
    world.settle()
    unknown = int(_portal_id(_second(world))) + 1  # a portal that installed the app, not configured
    body = json.dumps([_note(world, unknown, ada)])
    url = world.stack.info.webhook_url
    now = int(time.time() * 1000)
    secret = str(world.sandbox.info.hubspot["client_secret"])
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": str(now),
        "X-HubSpot-Signature-Version": "v3",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", canonical_uri(url), body, now),
    }
    answer = requests.post(url, data=body.encode(), headers=headers, timeout=60)
    assert answer.status_code == 200  # HubSpot would retry an error in vain
    world.settle()

    (dead,) = _dead_letters(world)
    assert (
        dead["MessageAttributes"]["reason"]["StringValue"] == f"portal {unknown} is not synced by this stack"
    )
    assert json.loads(dead["Body"])["portalId"] == unknown
    (lead,) = world.salesforce_rows("Lead")
    assert lead["LastName"] == "Lovelace"  # nothing of it synced


def _edit_in(world: World, emulator: HubSpotEmulator, contact_id: str, **properties: str) -> None:
    """An edit in that portal's HubSpot UI."""
    answer = requests.post(
        f"{world.sandbox.hubspot_url}/_sandbox/crm-ui-edit?portal={_portal_id(emulator)}",
        json={"objectType": "contacts", "id": contact_id, "properties": properties},
        timeout=10,
    )
    answer.raise_for_status()


def test_the_scheduled_poll_finds_a_change_whose_webhook_was_lost_in_the_second_portal(world: World) -> None:
    first, second = world.sandbox.hubspot, _second(world)
    ada = _create_in(world, first, email="ada@example.com", firstname="Ada", lastname="Lovelace")
    bob = _create_in(world, second, email="bob@example.com", firstname="Bob", lastname="Babbage")
    world.settle()
    started = world.stack.runtime.invoke_schedule("PollFunction")  # every portal's cursors start
    assert started.ok, started.payload
    world.settle()

    with world.events_paused():  # the app's webhooks are off in every portal
        _edit_in(world, second, bob, jobtitle="Heard by the poll only")
    world.sandbox.salesforce.stats.reset()
    answer = world.stack.runtime.invoke_schedule("PollFunction")
    assert answer.ok, answer.payload
    queued = answer.payload["queued"]
    assert queued[f"portal:{_portal_id(second)}:poll:hubspot:contacts"] == 1, queued
    assert queued[f"portal:{_portal_id(first)}:poll:hubspot:contacts"] == 0, queued
    polls = {k: n for k, n in world.sandbox.salesforce.stats.snapshot()["calls"].items() if "query" in k}
    assert sum(polls.values()) <= 2, polls  # one query per Salesforce object, not one per portal
    world.settle()

    (bob_lead,) = world.salesforce_with_email("Lead", "bob@example.com")
    assert bob_lead["Title"] == "Heard by the poll only"
    (ada_lead,) = world.salesforce_with_email("Lead", "ada@example.com")
    assert ada_lead["Title"] in (None, "")
    assert ada  # the first portal's contact: untouched


def _leads(world: World, *emails: str) -> dict[str, list[dict[str, Any]]]:
    return {email: world.salesforce_with_email("Lead", email) for email in emails}


def _until(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _hubspot_status(world: World, emulator: HubSpotEmulator) -> CrmStatus:
    store = DynamoCrmStateStore(world.stack.info.state_table, client=world.stack._boto("dynamodb"))
    state = store.crm_state(System.HUBSPOT, _portal_id(emulator))
    return state.status if state is not None else CrmStatus.RUNNING


def _dead_lettered(world: World) -> int:
    sqs = world.stack._boto("sqs")
    total = 0
    for name in ("ChangesDeadLetterQueue", "OwnersDeadLetterQueue", "WritesDeadLetterQueue"):
        url = world.stack.runtime.queue_url(name)
        got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        total += int(got["Attributes"]["ApproximateNumberOfMessages"])
    return total


def test_a_revoked_token_in_the_second_portal_suspends_that_portal_only(world: World) -> None:
    first, second = world.sandbox.hubspot, _second(world)
    second_id = _portal_id(second)
    world.sandbox_post("hubspot", f"token?portal={second_id}", {"revoked": True})
    try:
        _create_in(world, second, email="bob@example.com", firstname="Bob", lastname="Babbage")
        _until(lambda: _hubspot_status(world, second) is CrmStatus.SUSPENDED, "the second portal suspended")
        _create_in(world, first, email="ada@example.com", firstname="Ada", lastname="Lovelace")
        # the first portal keeps syncing while the second waits
        _until(
            lambda: len(_leads(world, "ada@example.com")["ada@example.com"]) == 1, "the first portal synced"
        )
        assert _hubspot_status(world, first) is CrmStatus.RUNNING
        assert _leads(world, "bob@example.com")["bob@example.com"] == []
        probed = world.stack.runtime.invoke_schedule("PollFunction")
        assert probed.ok, probed.payload
        assert probed.payload["probed"] == {f"hubspot:{second_id}": "suspended"}
        assert probed.payload["waiting_portals"] == [second_id]  # the first portal and the org polled
    finally:
        world.sandbox_post("hubspot", f"token?portal={second_id}", {"revoked": False})

    resumed = world.stack.runtime.invoke_schedule("PollFunction")
    assert resumed.ok, resumed.payload
    assert resumed.payload["probed"] == {f"hubspot:{second_id}": "running"}
    _until(lambda: len(_leads(world, "bob@example.com")["bob@example.com"]) == 1, "the second portal synced")
    world.settle()
    assert _dead_lettered(world) == 0
    # what each portal synced is counted under it (hssync status --portal)
    assert world.stack.state.counters(second_id), "nothing counted under the second portal"


def _email_events(world: World, emulator: HubSpotEmulator, recipient: str, *kinds: str) -> None:
    body = {
        "recipient": recipient,
        "campaignId": 1,
        "subject": "Meet the new product",
        "events": [{"type": kind} for kind in kinds],
    }
    world.sandbox_post("hubspot", f"email-events?portal={_portal_id(emulator)}", body)


def test_each_portals_email_events_become_tasks(world: World) -> None:
    first, second = world.sandbox.hubspot, _second(world)
    config = two_portals_config(world.sandbox)
    world.stack.set_config(config + "email_events: {start: PT1H, overlap_minutes: 60}\n")
    try:
        _create_in(world, first, email="ada@example.com", firstname="Ada", lastname="Lovelace")
        _create_in(world, second, email="bob@example.com", firstname="Bob", lastname="Babbage")
        world.settle()
        _email_events(world, first, "ada@example.com", "OPEN")
        _email_events(world, second, "bob@example.com", "OPEN", "CLICK")
        answer = world.stack.run_email_events()
        assert answer["portals"][_portal_id(first)]["tasks"] == 1, answer
        assert answer["portals"][_portal_id(second)]["tasks"] == 2, answer
        leads = {r["Email"]: r["Id"] for r in world.salesforce_rows("Lead")}
        whos = sorted(t["WhoId"] for t in world.salesforce_rows("Task"))
        assert whos == sorted([leads["ada@example.com"], leads["bob@example.com"], leads["bob@example.com"]])
        again = world.stack.run_email_events()  # each portal's own cursor: nothing twice
        assert [again["portals"][p]["tasks"] for p in (_portal_id(first), _portal_id(second))] == [0, 0]
    finally:
        world.stack.set_config(config)


def test_the_second_portals_spent_daily_limit_holds_that_portal_only(world: World) -> None:
    first, second = world.sandbox.hubspot, _second(world)
    second_id = _portal_id(second)
    world.sandbox_post("hubspot", f"settings?portal={second_id}", {"daily_limit": 4})  # allocation: 2
    try:
        _create_in(world, second, email="bob@example.com", firstname="Bob", lastname="Babbage")
        waiting = (CrmStatus.PAUSED, CrmStatus.SUSPENDED)
        _until(lambda: _hubspot_status(world, second) in waiting, "the second portal waits")
        _create_in(world, first, email="ada@example.com", firstname="Ada", lastname="Lovelace")
        _until(
            lambda: len(_leads(world, "ada@example.com")["ada@example.com"]) == 1, "the first portal synced"
        )
        assert _hubspot_status(world, first) is CrmStatus.RUNNING
    finally:
        world.sandbox_post("hubspot", f"settings?portal={second_id}", {"daily_limit": 1_000_000})

    resumed = world.stack.runtime.invoke_schedule("PollFunction")
    assert resumed.ok, resumed.payload
    assert resumed.payload["probed"] == {f"hubspot:{second_id}": "running"}
    _until(lambda: len(_leads(world, "bob@example.com")["bob@example.com"]) == 1, "the second portal synced")
    world.settle()
    assert _dead_lettered(world) == 0
