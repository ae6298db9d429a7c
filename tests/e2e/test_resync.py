"""`hssync resync` against the running stack: records changed while hssync heard nothing are brought
in line, a HubSpot list's members are synced, what the poller can never serve ends in its dead-letter
queue with the reason, and the inclusion list's joins are read through the real adapter."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main
from shared.adapters.hubspot import HubSpotAdapter
from shared.models import ChangeEvent
from shared.pipeline.poll import ListCursor, Poller, list_cursor_name
from tests.e2e.conftest import World
from tests.memory_state import MemoryState


@pytest.fixture
def state_dir(world: World, tmp_path: Path) -> Path:
    """What ``hssync sandbox up`` leaves for the CLI: sandbox.json with the running stack."""
    info = world.sandbox.info
    info.runtime = world.stack.info.to_dict()
    (tmp_path / "sandbox.json").write_text(info.to_json())
    return tmp_path


def _create_list(world: World, name: str, members: list[str]) -> str:
    from hubspot.crm.lists import ListCreateRequest

    created = world.hubspot.crm.lists.lists_api.create(
        ListCreateRequest(name=name, object_type_id="0-1", processing_type="MANUAL")
    )
    list_id = str(created.list.list_id)
    if members:
        world.hubspot.crm.lists.memberships_api.add(list_id, members)
    return list_id


def _dead_letters(world: World, wanted: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < wanted and time.monotonic() < deadline:
        found += world.queue_messages("PollRequestsDeadLetterQueue", wait=1)
    return found


def test_resync_of_a_salesforce_id_brings_in_a_change_made_while_events_were_paused(
    world: World, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lead_id = world.salesforce_create(
        "Lead", LastName="Quiet", Company="Before Co", Email="quiet@example.com"
    )
    world.settle()
    [contact] = world.hubspot_with_email("quiet@example.com")
    assert contact.properties.get("company") == "Before Co"

    with world.events_paused():
        world.salesforce_update("Lead", lead_id, Company="After Co", Title="Head of Quiet")
    world.settle()
    assert world.hubspot_contact(contact.id).get("company") == "Before Co"  # hssync heard nothing

    # the 15-character form, as a Salesforce URL shows it
    assert main(["resync", "--salesforce", lead_id[:15], "--state-dir", str(state_dir)]) == 0
    assert "1 Salesforce Lead" in capsys.readouterr().out
    world.settle()

    props = world.hubspot_contact(contact.id)
    assert (props.get("company"), props.get("jobtitle")) == ("After Co", "Head of Quiet")
    assert len(world.hubspot_contacts()) == 1
    lead = world.salesforce_row("Lead", lead_id)
    assert (lead["Company"], lead["Title"]) == ("After Co", "Head of Quiet")  # untouched
    assert world.health() == []


def test_resync_of_a_list_syncs_its_members_only(
    world: World, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with world.events_paused():
        ada = world.hubspot_create(
            email="ada@example.com", firstname="Ada", lastname="Byron", company="Engines"
        )
        alan = world.hubspot_create(email="alan@example.com", lastname="Turing", company="Bletchley")
        outsider = world.hubspot_create(email="outsider@example.com", lastname="Else")
    list_id = _create_list(world, "Resync me", [ada, alan])
    world.settle()
    assert world.salesforce_rows("Lead") == []  # nothing synced yet

    assert main(["resync", "--list", list_id, "--state-dir", str(state_dir)]) == 0
    assert f"every member of HubSpot list {list_id}" in capsys.readouterr().out
    world.settle()

    [ada_lead] = world.salesforce_with_email("Lead", "ada@example.com")
    [alan_lead] = world.salesforce_with_email("Lead", "alan@example.com")
    assert (ada_lead["FirstName"], ada_lead["LastName"], ada_lead["Company"]) == ("Ada", "Byron", "Engines")
    assert (alan_lead["LastName"], alan_lead["Company"]) == ("Turing", "Bletchley")
    assert world.salesforce_with_email("Lead", "outsider@example.com") == []
    link = world.link_of(ada)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", ada_lead["Id"])
    assert world.link_of(outsider) is None


def test_resync_through_a_queue_url_as_for_a_deployed_stack(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with world.events_paused():
        contact_id = world.hubspot_create(email="deployed@example.com", lastname="Cloud", company="AWS")
    # default boto3 credentials and region, here pointed at the stack's moto
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.stack.info.aws_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    url = world.stack.info.queues["PollRequestsQueue"]
    assert main(["resync", f"hubspot:contacts:{contact_id}", "--queue-url", url]) == 0
    assert f"resync requested from {url}" in capsys.readouterr().out
    world.settle()
    [lead] = world.salesforce_with_email("Lead", "deployed@example.com")
    assert (lead["LastName"], lead["Company"]) == ("Cloud", "AWS")


def test_the_cli_says_so_when_the_local_stack_is_not_running(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["resync", "--hubspot", "1", "--state-dir", str(tmp_path / "none")]) == 1
    assert "no local stack is running" in capsys.readouterr().err
    # a sandbox.json left behind by a stack that has stopped
    info = world.sandbox.info
    info.runtime = {**world.stack.info.to_dict(), "url": "http://127.0.0.1:9"}
    (tmp_path / "sandbox.json").write_text(info.to_json())
    assert main(["resync", "--hubspot", "1", "--state-dir", str(tmp_path)]) == 1
    assert "is not running" in capsys.readouterr().err
    assert main(["backfill", "--state-dir", str(tmp_path)]) == 1
    assert main(["resync", "--salesforce", "0015g00000AbCdE", "--state-dir", str(tmp_path)]) == 2


def test_poll_requests_that_can_never_be_served_end_in_the_dead_letter_queue_with_the_reason(
    world: World,
) -> None:
    sqs = world.stack._boto("sqs")
    url = world.stack.info.queues["PollRequestsQueue"]
    bodies = [
        json.dumps({"system": "salesforce", "object_type": "Lead", "ids": ["0035g00000XyZaB"]}),
        json.dumps({"list_id": "987654", "reason": "resync"}),
        "{not json",
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    world.settle()

    dead = _dead_letters(world, len(bodies))
    reasons = {m["Body"]: m["MessageAttributes"]["reason"]["StringValue"] for m in dead}
    unknown_list = '{"list_id":"987654","reason":"resync"}'  # as the poller read it
    assert set(reasons) == {bodies[0], unknown_list, bodies[2]}
    assert "is not a Lead id" in reasons[bodies[0]]
    assert reasons[unknown_list] == "OBJECT_NOT_FOUND: List 987654 does not exist."
    assert reasons[bodies[2]].startswith("invalid message")
    assert {m["MessageAttributes"]["source"]["StringValue"] for m in dead} == {"poll"}


def test_list_joins_are_read_in_join_order_through_the_real_adapter(world: World) -> None:
    from hubspot.crm.contacts import (
        BatchInputSimplePublicObjectBatchInputForCreate,
        SimplePublicObjectBatchInputForCreate,
    )

    with world.events_paused():
        ids: list[str] = []
        for start in range(0, 260, 100):
            inputs = [
                SimplePublicObjectBatchInputForCreate(
                    properties={"email": f"member{i}@example.com", "lastname": f"M{i}"}
                )
                for i in range(start, min(start + 100, 260))
            ]
            answer = world.hubspot.crm.contacts.batch_api.create(
                BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
            )
            ids += [str(r.id) for r in answer.results]
        late = world.hubspot_create(email="late@example.com", lastname="Late")
    list_id = _create_list(world, "Inclusion", ids)
    info = world.sandbox.info.hubspot
    adapter = HubSpotAdapter(info["access_token"], host=info["url"])
    state = MemoryState()
    queued: list[ChangeEvent] = []
    poller = Poller(
        portal=world.portal,
        org_id=world.sandbox.sf_creds.org_id,
        salesforce=None,  # type: ignore[arg-type]  # the list poll reads HubSpot only
        hubspot=adapter,
        state=state,
        enqueue=queued.extend,
    )

    poller.poll_list_joins(list_id)
    assert sorted(e.record_id for e in queued) == sorted(ids)  # 260 members: two pages of 250
    assert adapter.calls.by_operation == {"list_joins": 2}
    cursor = ListCursor.decode(state.get_cursor(world.portal, list_cursor_name(list_id)))
    assert cursor is not None
    assert cursor.ids == set(ids)  # one add: one join timestamp

    queued.clear()
    poller.poll_list_joins(list_id)
    assert queued == []
    time.sleep(0.005)  # a later millisecond
    world.hubspot.crm.lists.memberships_api.add(list_id, [late])
    poller.poll_list_joins(list_id)
    assert [e.record_id for e in queued] == [late]
