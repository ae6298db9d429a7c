"""Marketing email events become Salesforce Tasks (DESIGN S11), through the local stack with the real
clients: one task per event on the recipient's linked Lead or Contact, never two for one event
(replays, overlapping reads, faults), forwards attributed to the original recipient, unsynced
recipients skipped and retried, and only the configured types."""

from __future__ import annotations

from typing import Any

from infra.sandbox.salesforce.schema import DEFAULT_CUSTOM_FIELDS
from shared.state import keys
from tests.e2e.conftest import World, recycle_workers

CAMPAIGN = 2150000101
FAULTS = {"rate": 0.1, "seed": 20261207, "timeout_seconds": 0.5}
ROUNDS = 8
# read from an hour back: the events of a test are made just before its first run
SETTINGS = "email_events: {start: PT1H, overlap_minutes: 60}\n"
EVENT_FIELD = "HubSpot_Email_Event_Id__c"


def _events(world: World, recipient: str, *kinds: str, **spec: Any) -> list[dict[str, Any]]:
    body = {
        "recipient": recipient,
        "campaignId": CAMPAIGN,
        "subject": "Meet the new product",
        "events": [{"type": kind, **spec} for kind in kinds],
    }
    answer: dict[str, Any] = world.sandbox_post("hubspot", "email-events", body)
    return list(answer["events"])


def _tasks(world: World) -> list[dict[str, Any]]:
    return world.salesforce_rows("Task")


def _synced_lead(world: World, email: str) -> str:
    contact = world.hubspot_create(email=email, firstname="Ann", lastname="Reader", company="Acme")
    world.settle()
    link = world.link_of(contact)
    assert link is not None
    assert link.sf_object == "Lead"
    return link.sf_id


def _run(world: World) -> dict[str, Any]:
    return world.stack.run_email_events()


def test_opens_and_a_click_become_three_tasks_on_the_lead(world: World) -> None:
    world.use_config(SETTINGS)
    lead = _synced_lead(world, "ann@example.com")
    _events(world, "ann@example.com", "OPEN", "OPEN", "CLICK")
    result = _run(world)
    assert result["tasks"] == 3
    tasks = _tasks(world)
    assert {t["WhoId"] for t in tasks} == {lead}
    subjects = sorted(t["Subject"] for t in tasks)
    assert subjects[0].startswith("Clicked https://www.sandbox.example/campaigns/")
    assert subjects[1:] == ["Marketing email opened: Meet the new product"] * 2
    assert {(t["Status"], t["Priority"], t["Type"], t["TaskSubtype"]) for t in tasks} == {
        ("Completed", "Normal", "Email", "Email")
    }
    owner = world.salesforce_row("Lead", lead)["OwnerId"]
    assert {t["OwnerId"] for t in tasks} == {owner}


def test_a_contact_linked_to_a_salesforce_contact_gets_its_tasks_there(world: World) -> None:
    world.use_config(SETTINGS)
    contact = world.salesforce_create(
        "Contact", Email="carl@example.com", FirstName="Carl", LastName="Contact"
    )
    world.settle()
    _events(world, "carl@example.com", "OPEN", "CLICK")
    assert _run(world)["tasks"] == 2
    assert {t["WhoId"] for t in _tasks(world)} == {contact}


def test_replays_and_overlapping_reads_never_make_a_second_task(world: World) -> None:
    world.use_config(SETTINGS)
    _synced_lead(world, "ann@example.com")
    _events(world, "ann@example.com", "OPEN", "OPEN", "CLICK")
    _run(world)
    again = _run(world)  # the same window, read again (the overlap)
    assert (again["tasks"], again["already_done"]) == (0, 3)
    # the cursor lost: everything is read again from the configured start
    world.stack.state.set_cursor(world.portal, "email-events", "0")
    replay = _run(world)
    assert replay["tasks"] == 0
    assert len(_tasks(world)) == 3


def test_opens_by_a_forwardee_go_on_the_original_recipient(world: World) -> None:
    world.use_config(SETTINGS)
    lead = _synced_lead(world, "ann@example.com")
    _events(world, "ann@example.com", "FORWARD")
    _events(world, "ann@example.com", "OPEN", "CLICK", forwardedTo="colleague@example.net")
    assert _run(world)["tasks"] == 2
    tasks = _tasks(world)
    assert {t["WhoId"] for t in tasks} == {lead}
    assert all("forwarded" in t["Description"] for t in tasks)


def test_an_unsynced_recipient_gets_its_task_once_linked(world: World) -> None:
    world.use_config(SETTINGS)
    _events(world, "late@example.com", "OPEN")
    first = _run(world)
    assert first["tasks"] == 0
    assert first["skipped"] == {"recipient_not_synced": 1}
    assert world.counters()["email_events_skipped_recipient_not_synced"] == 1
    assert _tasks(world) == []
    lead = _synced_lead(world, "late@example.com")
    assert _run(world)["tasks"] == 1
    assert [t["WhoId"] for t in _tasks(world)] == [lead]


def test_with_faults_on_both_sides_each_event_is_exactly_one_task(world: World) -> None:
    world.use_config(SETTINGS)
    readers = [f"reader{index}@example.com" for index in range(4)]
    for email in readers:
        _synced_lead(world, email)
    wanted: list[str] = []
    world.faults(FAULTS)
    for _round in range(ROUNDS):  # events arrive between runs, as they do
        for email in readers:
            made = _events(world, email, "OPEN", "CLICK", "OPEN")
            wanted += [e["id"] for e in made if e["type"] in ("OPEN", "CLICK")]
        _run(world)
    injected = world.injected_faults()  # (turning faults off clears the count)
    world.faults_off()
    _run(world)
    tasks = _tasks(world)
    ids = [t["Description"].rsplit("Event id: ", 1)[1].strip() for t in tasks]
    assert sorted(ids) == sorted(wanted)  # every event once, none twice
    assert sum(injected["salesforce"].values()) > 0
    assert sum(injected["hubspot"].values()) > 0


def test_types_outside_the_setting_make_nothing(world: World) -> None:
    world.use_config(SETTINGS)
    _synced_lead(world, "ann@example.com")
    _events(world, "ann@example.com", "BOUNCE")
    _events(world, "ann@example.com", "SPAMREPORT")
    assert _run(world)["tasks"] == 0
    assert _tasks(world) == []


def test_with_an_event_id_field_even_a_lost_state_table_makes_no_second_task(world: World) -> None:
    field = {"object": "Task", "name": EVENT_FIELD, "type": "string", "length": 64, "external_id": True}
    world.sandbox_post(
        "salesforce", "settings", {"custom_fields": [*DEFAULT_CUSTOM_FIELDS, {**field, "unique": True}]}
    )
    recycle_workers(world, "EmailEventsFunction")  # the org's Task is described afresh
    world.use_config("email_events: {start: PT1H, event_id_field: HubSpot_Email_Event_Id__c}\n")
    _synced_lead(world, "ann@example.com")
    made = [e["id"] for e in _events(world, "ann@example.com", "OPEN", "CLICK") if e["type"] != "SENT"]
    assert _run(world)["tasks"] == 2
    # the state table loses what it knew: the events done and the cursor
    client = world.stack.state.client
    for event_id in made:
        key = keys.email_event_done(world.portal, event_id)
        client.delete_item(
            TableName=world.stack.state.table_name, Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}}
        )
    world.stack.state.set_cursor(world.portal, "email-events", "0")
    again = _run(world)
    assert again["tasks"] == 2, (again, _tasks(world))  # written again: upserted onto the same tasks
    tasks = _tasks(world)
    assert len(tasks) == 2
    assert {t[EVENT_FIELD] for t in tasks} <= set(made)
