"""The guardrails (issue 15, DESIGN C3 and S2) through the local stack with the real clients: the API
allocation stops hssync near it and nothing is lost; an org that refuses (no API in its edition,
revoked credentials) suspends hssync, which probes on its schedule, loses nothing and resumes by
itself; a limit spent in the middle of a bulk create strands no record.

This module runs its own stack: the waits of work held for a CRM are shortened (1-3 s instead of
30 s-15 min) so that the tests see them pass, and the probe period is a call of the poll function's
schedule (``probe``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from infra.local_stack import LocalStack
from shared.crm_state import CrmState, CrmStatus
from shared.models import System
from shared.state.crm import DynamoCrmStateStore
from tests.e2e.conftest import (
    RETRY_ENV,
    SETTLE_TIMEOUT,
    World,
    config_text,
    integration_user_is_a_hubspot_owner,
    running_stack,
)

WAITS = {"HSSYNC_PAUSE_SHORTEST_SECONDS": "1", "HSSYNC_PAUSE_LONGEST_SECONDS": "3"}
DEAD_LETTER_QUEUES = (
    "ChangesDeadLetterQueue",
    "OwnersDeadLetterQueue",
    "WritesDeadLetterQueue",
    "PollRequestsDeadLetterQueue",
)
UNPACED = "batching:\n  max_wait_seconds: 0\n"
NO_API = "Group and Professional editions without the API add-on cannot sync"


@pytest.fixture(scope="module")
def guarded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # the allocation tests need hssync to spend calls until it reaches the allocation: adaptive
    # batching (shared.pacing, tested in test_pacing.py) would hold a trickle of changes back to a
    # quarter of these small limits, so it is off here (no window waits)
    with running_stack(
        tmp_path_factory.mktemp("guardrails"),
        {**RETRY_ENV, **WAITS},
        config=lambda sandbox: config_text(sandbox.hs_creds.portal_id) + UNPACED,
    ) as stack:
        yield stack


@pytest.fixture
def stack(guarded_stack: LocalStack) -> Iterator[LocalStack]:
    guarded_stack.reset()
    integration_user_is_a_hubspot_owner(guarded_stack)
    yield guarded_stack
    world = World(guarded_stack)
    world.faults_off()
    org(world, api_enabled=True, daily_api_limit=15000, api_usage=0)
    world.sandbox_post("salesforce", "credentials", {"revoked": False})
    world.sandbox_post("hubspot", "token", {"revoked": False})
    probe(world)
    guarded_stack.wait_idle(SETTLE_TIMEOUT)


# -- what an operator sees, and does --------------------------------------------------------------
def org(world: World, **settings: Any) -> dict[str, Any]:
    """The org's settings (edition, API access, daily limit and usage), changed as Salesforce would."""
    if settings:
        world.sandbox_post("salesforce", "settings", settings)
    answer = requests.get(
        f"{world.sandbox.salesforce_url}/_sandbox/settings", verify=str(world.sandbox.tls.ca_cert), timeout=10
    )
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def salesforce_calls(world: World) -> int:
    answer = requests.get(
        f"{world.sandbox.salesforce_url}/_sandbox/stats", verify=str(world.sandbox.tls.ca_cert), timeout=10
    )
    answer.raise_for_status()
    return int(answer.json()["api_calls_total"])


def crm_state(world: World, system: System = System.SALESFORCE) -> CrmState | None:
    store = DynamoCrmStateStore(world.stack.info.state_table, client=world.stack._boto("dynamodb"))
    account = world.sandbox.sf_creds.org_id if system is System.SALESFORCE else world.portal
    return store.crm_state(system, account)


def status(world: World, system: System = System.SALESFORCE) -> CrmStatus:
    state = crm_state(world, system)
    return state.status if state is not None else CrmStatus.RUNNING


def probe(world: World) -> dict[str, Any]:
    """One probe period: the poll function's schedule (probes the CRMs that wait, then polls)."""
    result = world.stack.runtime.invoke_schedule("PollFunction")
    assert result.ok, result.payload
    payload: dict[str, Any] = result.payload
    return payload


def dead_lettered(world: World) -> int:
    sqs = world.stack._boto("sqs")
    total = 0
    for name in DEAD_LETTER_QUEUES:
        url = world.stack.runtime.queue_url(name)
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        total += int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return total


def alarm_inbox(world: World) -> Callable[[], list[str]]:
    """An operator's subscription to the alarm topic: the subjects published to it from now on."""
    sns, sqs = world.stack._boto("sns"), world.stack._boto("sqs")
    url = sqs.create_queue(QueueName="operator-inbox")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = world.stack.runtime.template.physical["AlarmTopic"].ref
    if not any(
        s["Endpoint"] == arn for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    ):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    subjects: list[str] = []

    def read() -> list[str]:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            subjects.append(json.loads(message["Body"]).get("Subject", ""))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return subjects

    return read


def until(condition: Callable[[], bool], timeout: float = SETTLE_TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.2)


def leads_of(world: World, emails: list[str]) -> dict[str, int]:
    return {email: len(world.salesforce_with_email("Lead", email)) for email in emails}


def all_synced(world: World, emails: list[str]) -> bool:
    return all(count == 1 for count in leads_of(world, emails).values())


# -- the API allocation (C3) ----------------------------------------------------------------------
def test_the_allocation_stops_hssync_near_it_and_every_change_syncs_after_the_usage_is_reset(world):
    org(world, daily_api_limit=2000, api_usage=960)  # an allocation of 50 %: 1,000 calls
    emails: list[str] = []

    def arrive(n: int) -> None:
        for _ in range(n):
            email = f"allocation{len(emails)}@example.com"
            emails.append(email)
            world.hubspot_create(email=email, lastname="Allocation")
            time.sleep(0.3)

    while status(world) is CrmStatus.RUNNING and len(emails) < 120:
        arrive(1)
    assert status(world) is CrmStatus.PAUSED, "the allocation was never reached"
    arrive(10)  # changes keep arriving while paused
    time.sleep(8)  # several waits pass: the waiting work looks again and waits again
    used = org(world)["api_usage"]
    assert 1000 <= used <= 1020, used  # stopped near 1,000 calls (within 2 %)
    state = crm_state(world)
    assert state is not None
    assert (state.reason, state.allocation_percent, state.api_max) == ("API_ALLOCATION", 50, 2000)
    assert not all_synced(world, emails)  # work waits ...
    assert dead_lettered(world) == 0  # ... and none of it is dead-lettered

    org(world, api_usage=0)  # the rolling 24 hours moved on
    assert probe(world)["probed"] == {"salesforce": "running"}
    until(lambda: all_synced(world, emails), what="every change synced")
    world.settle()
    assert all_synced(world, emails)
    assert dead_lettered(world) == 0


# -- suspension (S2) ------------------------------------------------------------------------------
def test_an_org_without_api_suspends_hssync_which_probes_and_resumes_with_every_change(world):
    inbox = alarm_inbox(world)
    org(world, api_enabled=False)
    emails = [f"noapi{i}@example.com" for i in range(5)]
    for email in emails:
        world.hubspot_create(email=email, lastname="NoApi")
    until(lambda: status(world) is CrmStatus.SUSPENDED, what="suspended")
    state = crm_state(world)
    assert state is not None
    assert state.reason == "API_DISABLED_FOR_ORG"
    assert NO_API in (state.message or "")
    time.sleep(3)  # the calls that met the refusal are over
    before = salesforce_calls(world)
    for _ in range(2):  # two probe periods: one probe each, and no retry storm meanwhile
        assert probe(world)["probed"] == {"salesforce": "suspended"}
        time.sleep(4)
    assert salesforce_calls(world) - before <= 4
    assert dead_lettered(world) == 0
    assert not any(leads_of(world, emails).values())

    org(world, api_enabled=True)  # API access given back: no manual step, no resync
    assert probe(world)["probed"] == {"salesforce": "running"}
    until(lambda: all_synced(world, emails), timeout=2 * 10, what="the queues drained")
    assert status(world) is CrmStatus.RUNNING
    assert dead_lettered(world) == 0
    until(lambda: len(inbox()) >= 2, timeout=10, what="the notifications")
    assert inbox() == ["hssync: Salesforce suspended (API_DISABLED_FOR_ORG)", "hssync: Salesforce resumed"]


def test_revoked_credentials_suspend_hssync_until_they_work_again(world):
    world.sandbox_post("salesforce", "credentials", {"revoked": True})
    emails = [f"revoked{i}@example.com" for i in range(3)]
    for email in emails:
        world.hubspot_create(email=email, lastname="Revoked")
    until(lambda: status(world) is CrmStatus.SUSPENDED, what="suspended")
    state = crm_state(world)
    assert state is not None
    assert state.reason in ("invalid_grant", "INVALID_SESSION_ID")
    assert "connected app" in (state.message or "")
    assert probe(world)["probed"] == {"salesforce": "suspended"}

    world.sandbox_post("salesforce", "credentials", {"revoked": False})
    assert probe(world)["probed"] == {"salesforce": "running"}
    until(lambda: all_synced(world, emails), what="every change synced")
    assert dead_lettered(world) == 0


def test_a_revoked_hubspot_token_suspends_hubspot_until_it_works_again(world):
    world.sandbox_post("hubspot", "token", {"revoked": True})
    emails = [f"token{i}@example.com" for i in range(3)]
    for email in emails:
        world.hubspot_create(email=email, lastname="Token")  # the users' own app still works
    until(lambda: status(world, System.HUBSPOT) is CrmStatus.SUSPENDED, what="suspended")
    state = crm_state(world, System.HUBSPOT)
    assert state is not None
    assert state.reason == "INVALID_AUTHENTICATION"
    assert "private-app token" in (state.message or "")
    assert status(world) is CrmStatus.RUNNING  # the org is not concerned
    assert probe(world)["probed"] == {"hubspot": "suspended"}

    world.sandbox_post("hubspot", "token", {"revoked": False})
    assert probe(world)["probed"] == {"hubspot": "running"}
    until(lambda: all_synced(world, emails), what="every change synced")
    assert dead_lettered(world) == 0


def test_a_limit_spent_in_the_middle_of_a_bulk_create_strands_no_record(world):
    with world.events_paused():  # contacts that predate the connector: a backfill creates their leads
        emails = [f"bulk{i}@example.com" for i in range(40)]
        for email in emails:
            world.hubspot_create(email=email, lastname="Bulk")
    # the allocation (1,000 of 2,000) is spent a few calls into the backfill: between its reads and
    # its creates, whose plans hold creation claims
    org(world, daily_api_limit=2000, api_usage=995)
    world.stack.backfill()
    until(lambda: status(world) is CrmStatus.PAUSED, what="paused")
    time.sleep(4)  # the plans under way meet the pause and wait
    assert dead_lettered(world) == 0

    org(world, api_usage=0)
    # an operator resyncs one of them meanwhile: it syncs, whatever claim it meets
    (contact,) = world.hubspot_with_email(emails[0])
    request = {"system": "hubspot", "object_type": "contacts", "ids": [str(contact.id)], "reason": "resync"}
    world.stack._boto("sqs").send_message(
        QueueUrl=world.stack.info.queues["PollRequestsQueue"], MessageBody=json.dumps(request)
    )
    assert probe(world)["probed"] == {"salesforce": "running"}
    until(lambda: all_synced(world, emails), what="every record created once")
    world.settle()
    assert leads_of(world, emails) == dict.fromkeys(emails, 1)
    assert dead_lettered(world) == 0
