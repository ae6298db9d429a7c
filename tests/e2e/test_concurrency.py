"""Acceptance 4: concurrent events for one new email create exactly one record."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from infra.runtime.sqs_poller import lambda_record
from shared.models import ChangeEvent, ChangeType, System
from tests.e2e.conftest import World


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in parallel threads released at the same moment; their results in order."""
    gate = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        gate.wait()
        try:
            results[index] = call()
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]
    return results


def _change_event(world: World, contact_id: str) -> ChangeEvent:
    return ChangeEvent(
        system=System.HUBSPOT,
        account=world.portal,
        object_type="contacts",
        record_id=contact_id,
        change_type=ChangeType.UPDATE,
        occurred_at=dt.datetime.now(dt.UTC),
        origin="CRM_UI",
        source_event_id=str(uuid.uuid4()),
    )


def _sqs_event(world: World, event: ChangeEvent) -> dict[str, Any]:
    """The event Lambda's SQS event source hands the dedupe function for one message."""
    runtime = world.stack.runtime
    now = str(int(time.time() * 1000))
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": uuid.uuid4().hex,
        "Body": event.model_dump_json(),
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": now,
        },
    }
    return {"Records": [lambda_record(message, runtime.queues["ChangesQueue"].arn, runtime.template.region)]}


def test_a_new_contact_edited_at_once_becomes_one_lead(world: World) -> None:
    # creation and property-change webhooks in flight together, several times over
    ids = []
    for n in range(3):
        contact_id = world.hubspot_create(email=f"eager{n}@example.com", lastname=f"Eager {n}")
        world.hubspot_edit(contact_id, jobtitle="Keen", firstname="Very")
        world.hubspot_edit(contact_id, phone=f"+1 555 010{n}")
        ids.append(contact_id)
    world.settle()

    for n, contact_id in enumerate(ids):
        leads = world.salesforce_with_email("Lead", f"eager{n}@example.com")
        assert len(leads) == 1, f"eager{n}: {len(leads)} leads"
        assert (leads[0]["Title"], leads[0]["FirstName"], leads[0]["Phone"]) == (
            "Keen",
            "Very",
            f"+1 555 010{n}",
        )
        link = world.link_of(contact_id)
        assert link is not None
        assert link.sf_id == leads[0]["Id"]
    assert len(world.salesforce_rows("Lead")) == 3


def test_parallel_dedupe_invocations_for_one_new_email_create_one_lead(world: World) -> None:
    with world.events_paused():
        contact_id = world.hubspot_create(email="race@example.com", firstname="Photo", lastname="Finish")
    runtime = world.stack.runtime
    invocations = [_sqs_event(world, _change_event(world, contact_id)) for _ in range(2)]
    # two Lambda instances receive a change of the same new contact at the same moment, while more
    # changes of it wait on the queue and a user edits it (another webhook)
    sqs = world.stack._boto("sqs")
    for _ in range(3):
        sqs.send_message(
            QueueUrl=world.stack.info.queues["ChangesQueue"],
            MessageBody=_change_event(world, contact_id).model_dump_json(),
        )
    # both instances warm first, so that neither invocation waits for a cold start
    _together(*(partial(runtime.invoke, "DedupeFunction", {"Records": []}) for _ in invocations))
    results = _together(*(partial(runtime.invoke, "DedupeFunction", e) for e in invocations))
    world.hubspot_edit(contact_id, jobtitle="Sprinter")
    assert all(r.ok for r in results), [r.payload for r in results]
    world.settle()

    leads = world.salesforce_with_email("Lead", "race@example.com")
    assert len(leads) == 1
    assert (leads[0]["FirstName"], leads[0]["LastName"], leads[0]["Title"]) == ("Photo", "Finish", "Sprinter")
    link = world.link_of(contact_id)
    assert link is not None
    assert link.sf_id == leads[0]["Id"]
    assert world.counters().get("hubspot_to_salesforce.created") == 1


def test_a_contact_and_a_lead_created_at_the_same_moment_become_one_linked_pair(world: World) -> None:
    pairs = []
    for n in range(4):
        email = f"twins{n}@example.com"
        contact_id, lead_id = _together(
            partial(world.hubspot_create, email=email, lastname=f"Gemini {n}"),
            partial(world.salesforce_create, "Lead", LastName=f"Gemini {n}", Company="Zodiac", Email=email),
        )
        pairs.append((email, contact_id, lead_id))
    world.settle()

    for email, contact_id, lead_id in pairs:
        assert [c.id for c in world.hubspot_with_email(email)] == [contact_id], email
        assert [r["Id"] for r in world.salesforce_with_email("Lead", email)] == [lead_id], email
        link = world.link_of(contact_id)
        assert link is not None, email
        assert (link.sf_object, link.sf_id) == ("Lead", lead_id), email
    assert world.salesforce_rows("Contact") == []
