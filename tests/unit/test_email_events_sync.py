"""One run of the email events sync with in-memory ports: tasks once per event, the cursor, waiting
recipients, and what the org's Task lacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from shared.config import EmailEventsSettings
from shared.email_events.retry import WaitingEvent
from shared.email_events.tasks import Campaign
from shared.errors import ApiFailure, ErrorCategory
from shared.pipeline.email_events import EmailEventSync
from shared.ports import Link, RecordWrite, SalesforceRecord, WriteOutcome
from shared.times import epoch_ms

NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
LEAD = "00Q000000000001AAA"
OWNER = "005000000000001AAA"


class Reader:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.windows: list[tuple[int, int]] = []
        self.campaign_reads = 0

    def add(self, kind: str, at: dt.datetime, recipient: str = "ann@example.com", **extra: Any) -> str:
        event_id = f"ev{len(self.events)}"
        self.events.append(
            {
                "id": event_id,
                "created": epoch_ms(at),
                "type": kind,
                "recipient": recipient,
                "emailCampaignId": 7,
                "sentBy": {"id": f"sent-{recipient}"},
                **extra,
            }
        )
        return event_id

    def email_events(self, start_ms: int, end_ms: int) -> Iterable[list[Mapping[str, Any]]]:
        self.windows.append((start_ms, end_ms))
        yield [e for e in self.events if start_ms <= e["created"] <= end_ms]

    def email_campaign(self, campaign_id: int) -> Campaign | None:
        self.campaign_reads += 1
        return Campaign(campaign_id, "Spring", "Meet us")


class Salesforce:
    def __init__(self, fields: Sequence[str] = ()) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.missing_fields = set(fields)
        self.fail: set[str] = set()
        self.inactive: set[str] = set()
        self.calls = 0

    def create(
        self, sobject: str, writes: Sequence[RecordWrite], *, assign: bool | None = None
    ) -> list[WriteOutcome]:
        assert sobject == "Task"
        assert len(writes) <= 200
        self.calls += 1
        out = []
        for write in writes:
            if write.key in self.fail:
                failure = ApiFailure(
                    "salesforce", "UNABLE_TO_LOCK_ROW", "locked", ErrorCategory.OTHER, retryable=True
                )
                out.append(WriteOutcome(write.key, None, failure))
                continue
            task_id = f"00T{len(self.tasks):015d}"
            self.tasks[task_id] = dict(write.fields)
            out.append(WriteOutcome(write.key, task_id))
        return out

    def upsert(self, sobject: str, external_field: str, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self.calls += 1
        out = []
        for write in writes:
            found = [
                i for i, t in self.tasks.items() if t.get(external_field) == write.fields[external_field]
            ]
            task_id = found[0] if found else f"00T{len(self.tasks):015d}"
            self.tasks[task_id] = dict(write.fields)
            out.append(WriteOutcome(write.key, task_id))
        return out

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, SalesforceRecord]:
        if sobject == "User":
            return {
                i: SalesforceRecord(sobject, i, {"IsActive": i not in self.inactive}, NOW, NOW) for i in ids
            }
        return {
            i: SalesforceRecord(sobject, i, {"OwnerId": OWNER}, NOW, NOW)
            for i in ids
            if i.startswith(("00Q", "003"))
        }

    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]:
        names = ["Subject", "WhoId", "ActivityDate", "Status", "Priority", "TaskSubtype", "Type"]
        names += ["Description", "OwnerId", "HS_Event__c"]
        return {
            n.lower(): {"name": n, "updateable": n != "TaskSubtype"}
            for n in names
            if n not in self.missing_fields
        }


class State:
    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.links: dict[str, Link] = {}
        self.done: dict[str, str] = {}
        self.waiting: dict[str, WaitingEvent] = {}
        self.counters: dict[str, int] = {}

    def get_cursor(self, portal: str, name: str) -> str | None:
        return self.cursors.get(name)

    def set_cursor(self, portal: str, name: str, value: str) -> None:
        self.cursors[name] = value

    def links_by_email(self, portal: str, emails: Sequence[str]) -> dict[str, Link]:
        return {e: self.links[e] for e in emails if e in self.links}

    def email_events_done(self, portal: str, event_ids: Sequence[str]) -> set[str]:
        return {i for i in event_ids if i in self.done}

    def record_email_events_done(self, portal: str, tasks: Mapping[str, str], keep: dt.timedelta) -> None:
        self.done.update(tasks)

    def waiting_email_events(self, portal: str) -> list[WaitingEvent]:
        return list(self.waiting.values())

    def keep_waiting_email_events(
        self, portal: str, events: Sequence[WaitingEvent], keep: dt.timedelta
    ) -> None:
        self.waiting.update({e.event_id: e for e in events})

    def drop_waiting_email_events(self, portal: str, event_ids: Sequence[str]) -> None:
        for i in event_ids:
            self.waiting.pop(i, None)

    def add_counters(self, portal: str, counters: Mapping[str, int]) -> None:
        for name, n in counters.items():
            self.counters[name] = self.counters.get(name, 0) + n


@pytest.fixture
def world() -> tuple[Reader, Salesforce, State]:
    state = State()
    state.links["ann@example.com"] = Link("1", "51", "Lead", LEAD, {"email": ("ann@example.com", None)})
    return Reader(), Salesforce(), state


def run(world: tuple[Reader, Salesforce, State], at: dt.datetime = NOW, **settings: Any) -> Any:
    reader, salesforce, state = world
    config = EmailEventsSettings(**{"start": "P1D", **settings})
    return EmailEventSync(
        portal="1", settings=config, reader=reader, salesforce=salesforce, state=state, now=at
    ).run()


def test_each_open_and_click_is_its_own_task_once(world):
    reader, salesforce, state = world
    for kind in ("OPEN", "OPEN", "CLICK", "DELIVERED"):
        reader.add(kind, NOW - dt.timedelta(hours=1))
    result = run(world)
    assert (result.read, result.tasks) == (4, 3)
    assert {t["WhoId"] for t in salesforce.tasks.values()} == {LEAD}
    assert {t["OwnerId"] for t in salesforce.tasks.values()} == {OWNER}
    again = run(world, NOW + dt.timedelta(minutes=5))
    assert (again.tasks, again.already_done) == (0, 3)
    assert len(salesforce.tasks) == 3
    assert reader.windows[1][0] == epoch_ms(NOW - dt.timedelta(hours=1))  # the overlap is read again
    assert state.counters["email_tasks_created"] == 3


def test_types_outside_the_setting_make_nothing(world):
    reader, salesforce, _state = world
    reader.add("BOUNCE", NOW - dt.timedelta(hours=1))
    assert run(world).tasks == 0
    assert salesforce.calls == 0


def test_an_unsynced_recipient_waits_and_gets_its_task_once_linked(world):
    reader, _salesforce, state = world
    reader.add("OPEN", NOW - dt.timedelta(hours=1), recipient="bob@example.com")
    first = run(world)
    assert first.skipped == {"recipient_not_synced": 1}
    assert first.waiting == 1
    state.links["bob@example.com"] = Link("1", "52", "Contact", "003000000000002AAA", {})
    later = run(world, NOW + dt.timedelta(hours=3))  # past the overlap: only the waiting event has it
    assert later.tasks == 1
    assert later.skipped == {}
    assert state.waiting == {}
    assert state.counters["email_events_skipped_recipient_not_synced"] == 1


def test_an_unsynced_recipient_is_given_up_after_the_retry_window(world):
    reader, _salesforce, state = world
    reader.add("OPEN", NOW - dt.timedelta(hours=1), recipient="bob@example.com")
    run(world, unsynced_retry_hours=2)
    late = run(world, NOW + dt.timedelta(hours=3), unsynced_retry_hours=2)
    assert late.dropped == 1
    assert state.waiting == {}


def test_a_failed_task_is_tried_again_on_the_next_run(world):
    reader, salesforce, _state = world
    event_id = reader.add("OPEN", NOW - dt.timedelta(hours=1))
    salesforce.fail.add(event_id)
    assert run(world).tasks == 0
    salesforce.fail.clear()
    assert run(world, NOW + dt.timedelta(hours=3)).tasks == 1


def test_fields_the_org_lacks_are_left_out_and_the_event_id_field_upserts(world):
    reader, salesforce, state = world
    salesforce.missing_fields = {"Type"}
    reader.add("OPEN", NOW - dt.timedelta(hours=1))
    run(world, event_id_field="HS_Event__c")
    state.done.clear()  # a lost state table
    run(world, NOW + dt.timedelta(minutes=1), event_id_field="HS_Event__c")
    assert len(salesforce.tasks) == 1
    task = next(iter(salesforce.tasks.values()))
    assert "Type" not in task  # the org lacks it
    assert "TaskSubtype" not in task  # an upsert may update: TaskSubtype cannot be
    assert task["HS_Event__c"] == "ev0"
    assert task["Status"] == "Completed"


def test_opens_after_a_forward_go_to_the_original_recipient_and_say_so(world):
    reader, salesforce, _state = world
    reader.add("FORWARD", NOW - dt.timedelta(hours=2))
    reader.add("OPEN", NOW - dt.timedelta(hours=1))
    run(world)
    assert len(salesforce.tasks) == 1
    assert "forwarded" in next(iter(salesforce.tasks.values()))["Description"]


def test_many_events_are_written_200_per_call_and_campaigns_read_once(world):
    reader, salesforce, _state = world
    for index in range(450):
        reader.add("OPEN", NOW - dt.timedelta(minutes=index % 50 + 1))
    assert run(world).tasks == 450
    assert salesforce.calls == 3
    assert reader.campaign_reads == 1


def test_a_task_of_a_record_owned_by_an_inactive_user_is_left_to_its_default_owner(world):
    reader, salesforce, _state = world
    salesforce.inactive.add(OWNER)
    reader.add("OPEN", NOW - dt.timedelta(hours=1))
    assert run(world).tasks == 1
    assert "OwnerId" not in next(iter(salesforce.tasks.values()))
