"""The operator's view as plain code: health grouping, filters and export; following a request;
dead letters; status and what needs attention."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest

from shared.crm_state import CrmState, CrmStatus, UsageSample
from shared.errors import ErrorCategory
from shared.models import System
from shared.operations.dead_letters import SQS_REDRIVE_REASON, assemble, reasons
from shared.operations.export import CSV_COLUMNS, health_csv, health_json
from shared.operations.health import HealthCategory, HealthFilter, category_counts, health_rows
from shared.operations.progress import Snapshot, dead_lettered, outcomes, phase, verdict
from shared.operations.queues import QUEUES, by_name, logical_ids, output_key
from shared.operations.status import QueueDepth, gather
from shared.pipeline.activity import latest_by_source, seen_cursor
from shared.ports import HealthEntry
from shared.queues import dead_letter_messages
from tests.memory_state import MemoryCrmStateStore, MemoryState

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
PORTAL = "100"
QUEUE_OWNER = "salesforce:Group:00G000000000001AAA"


def entry(
    record: str, category: ErrorCategory, code: str, at: dt.datetime, message: str = "m"
) -> HealthEntry:
    return HealthEntry(
        PORTAL, record.split(":")[0], record, category, code, message, at, f"hssync resync {record}"
    )


@pytest.fixture
def state() -> MemoryState:
    store = MemoryState(clock=lambda: T0)
    store.record_health(
        [
            entry("hubspot:contacts:1", ErrorCategory.PROPERTY_VALUES, "INVALID_OPTION", T0),
            entry(
                "hubspot:contacts:1", ErrorCategory.PROPERTY_VALUES, "INVALID_OPTION", T0 + dt.timedelta(1)
            ),
            entry("salesforce:Lead:00Q000000000001AAA", ErrorCategory.DUPLICATES, "DUPLICATE_EMAIL", T0),
            entry(QUEUE_OWNER, ErrorCategory.OWNERS, "OWNER_NOT_IN_HUBSPOT", T0 + dt.timedelta(hours=1)),
        ]
    )
    store.set_statuses(PORTAL, {"hubspot:contacts:9": "not in the inclusion list"})
    return store


def test_entries_fall_into_the_native_categories_with_counts_of_errors_and_records(state):
    rows = health_rows(state, PORTAL)
    counts = {c.category: (c.errors, c.records) for c in category_counts(rows)}
    assert list(counts) == list(HealthCategory)  # every card, in the native connector's order
    assert counts[HealthCategory.PROPERTY_VALUES] == (2, 1)
    assert counts[HealthCategory.DUPLICATES] == (1, 1)
    assert counts[HealthCategory.OWNERS] == (1, 1)
    assert counts[HealthCategory.SKIPPED] == (1, 1)
    assert counts[HealthCategory.PERMISSIONS] == (0, 0)
    assert rows[0].record == "hubspot:contacts:1"  # newest first
    [values] = [r for r in rows if r.category is HealthCategory.PROPERTY_VALUES]
    assert (values.first_seen, values.last_seen, values.count) == (T0, T0 + dt.timedelta(1), 2)
    [skipped] = [r for r in rows if r.category is HealthCategory.SKIPPED]
    assert skipped.resync == "hssync resync hubspot:contacts:9"
    assert skipped.message == "not in the inclusion list"
    [owner] = [r for r in rows if r.category is HealthCategory.OWNERS]
    assert owner.resync == f"hssync resync {QUEUE_OWNER}"
    assert owner.object_type == "Group"


@pytest.mark.parametrize(
    ("where", "records"),
    [
        (HealthFilter(category=HealthCategory.DUPLICATES), ["salesforce:Lead:00Q000000000001AAA"]),
        (HealthFilter(object_type="lead"), ["salesforce:Lead:00Q000000000001AAA"]),
        (HealthFilter(object_type="contacts", category=HealthCategory.SKIPPED), ["hubspot:contacts:9"]),
        (HealthFilter(since=T0 + dt.timedelta(hours=2)), ["hubspot:contacts:1"]),
    ],
)
def test_filters(state, where, records):
    assert [r.record for r in health_rows(state, PORTAL, where)] == records


def test_json_and_csv_exports(state):
    rows = health_rows(state, PORTAL)
    document = json.loads(health_json(category_counts(rows), rows))
    assert {c["category"] for c in document["categories"]} == {c.value for c in HealthCategory}
    assert document["entries"][0]["resync"] == "hssync resync hubspot:contacts:1"
    table = list(csv.DictReader(io.StringIO(health_csv(rows))))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) == len(rows) == 4
    assert {r["category"] for r in table} == {"property_values", "duplicates", "owners", "skipped"}


def test_a_clean_sync_clears_the_records_entries(state):
    state.clear_health(PORTAL, {"hubspot:contacts:1": []})
    assert "hubspot:contacts:1" not in {r.record for r in health_rows(state, PORTAL)}


# -- following a request -----------------------------------------------------------------------------
def test_progress_by_phase_and_outcomes():
    start = Snapshot(counters={"hubspot_to_salesforce.created": 3, "errors": 1})
    now = Snapshot(
        depths={"PollRequestsQueue": 0, "ChangesQueue": 0, "WritesQueue": 2},
        counters={
            "hubspot_to_salesforce.created": 5,
            "salesforce_to_hubspot.updated": 1,
            "salesforce_to_hubspot.linked_by_email": 1,
            "skipped.no email": 2,
            "errors": 1,
            "unchanged": 9,
        },
    )
    assert phase(now) == "writing"
    assert phase(Snapshot(depths={"PollRequestsQueue": 1, "WritesQueue": 1})) == "reading"
    assert phase(Snapshot()) == "done"
    assert outcomes(start, now) == {"created": 2, "updated": 1, "linked": 1, "skipped": 2, "failed": 0}


def test_a_request_fails_when_it_or_anything_dead_letters_or_a_write_fails():
    start = Snapshot(dead_letters={"ChangesDeadLetterQueue": 1}, counters={"errors": 0})
    fine = Snapshot(dead_letters={"ChangesDeadLetterQueue": 1}, counters={"errors": 0})
    assert verdict(start, fine).ok
    grown = Snapshot(dead_letters={"ChangesDeadLetterQueue": 2}, counters={"errors": 1})
    assert dead_lettered(start, grown) == {"ChangesDeadLetterQueue": 1}
    result = verdict(start, grown, own_dead_letters=1)
    assert not result.ok
    assert len(result.reasons) == 3


# -- queues and dead letters ---------------------------------------------------------------------------
def test_every_stage_queue_has_its_dead_letter_queue_and_an_output_name():
    assert by_name("changes").dead_letter == "ChangesDeadLetterQueue"
    assert by_name("WritesDeadLetterQueue").queue == "WritesQueue"
    assert output_key("ChangesQueue") == "ChangesQueueUrl"
    assert len(logical_ids()) == len({q for p in QUEUES for q in (p.queue, p.dead_letter) if q})
    with pytest.raises(KeyError, match="the queues: poll-requests"):
        by_name("nope")


def _received(messages: list[Any], start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "MessageId": f"m{i}",
            "ReceiptHandle": f"r{i}",
            "Body": m.body,
            "MessageAttributes": dict(m.attributes),
            "Attributes": {"SentTimestamp": str(1_700_000_000_000 + i)},
        }
        for i, m in enumerate(messages, start=start)
    ]


def test_dead_letters_are_listed_with_their_reason_and_parts_joined():
    big = "x" * 300_000
    parts = dead_letter_messages(big, "too big to process", source="dedupe")
    small = dead_letter_messages('{"a": 1}', "invalid message: a", source="poll")
    messages = _received(small) + list(reversed(_received(parts, start=1)))
    messages.append({"MessageId": "m9", "ReceiptHandle": "r9", "Body": "{}", "Attributes": {}})
    letters = assemble(messages)
    by_source = {letter.source: letter for letter in letters}
    assert by_source["dedupe"].body == big
    assert by_source["dedupe"].parts == len(parts) > 1
    assert not by_source["dedupe"].redrivable  # too big to be one message again
    assert by_source["poll"].reason == "invalid message: a"
    assert by_source["poll"].redrivable
    assert by_source["sqs"].reason == SQS_REDRIVE_REASON
    assert reasons(letters)["too big to process"] == 1


# -- status ------------------------------------------------------------------------------------------
class NoMetrics:
    def sums(self, metrics: Any, since: dt.datetime, now: dt.datetime) -> None:
        return None


class Metrics:
    def __init__(self) -> None:
        self.asked: list[tuple[Any, dt.datetime]] = []

    def sums(self, metrics: Any, since: dt.datetime, now: dt.datetime) -> list[int]:
        self.asked.append((list(metrics), since))
        return [index + 1 for index in range(len(metrics))]


class Stats:
    def __init__(self, depths: dict[str, QueueDepth]) -> None:
        self.depths = depths

    def depth(self, logical_id: str) -> QueueDepth:
        return self.depths.get(logical_id, QueueDepth(0, 0))

    def dead_letter_reasons(self, logical_id: str) -> dict[str, int]:
        return {"OBJECT_NOT_FOUND: List 12 does not exist.": 1}


def test_status_needs_attention_for_dead_letters_suspension_and_a_spent_allocation():
    crm = MemoryCrmStateStore()
    activity = MemoryState(clock=lambda: T0)
    activity.set_cursor(PORTAL, "poll:salesforce:Lead", (T0 - dt.timedelta(minutes=5)).isoformat())
    kwargs: dict[str, Any] = {
        "crm_store": crm,
        "accounts": [(System.SALESFORCE, "00D000000000001AAA"), (System.HUBSPOT, PORTAL)],
        "activity": activity,
        "synced": NoMetrics(),
        "portal": PORTAL,
        "now": T0,
    }
    calm = gather(queues=Stats({"ChangesQueue": QueueDepth(3, 1, 20.0)}), **kwargs)
    assert not calm.needs_attention
    assert [line.state.status for line in calm.crms] == [CrmStatus.RUNNING, CrmStatus.RUNNING]
    assert calm.cursors["poll:salesforce:Lead"] == dt.timedelta(minutes=5)
    assert calm.cursors["poll:hubspot:contacts"] is None

    dead = gather(queues=Stats({"PollRequestsDeadLetterQueue": QueueDepth(1, 0)}), **kwargs)
    assert dead.attention == ["1 dead letter(s) in poll-requests (hssync dlq list poll-requests)"]
    assert dead.dead_letters[0].reasons == {"OBJECT_NOT_FOUND: List 12 does not exist.": 1}

    crm.put_crm_state(
        CrmState(
            System.SALESFORCE,
            "00D000000000001AAA",
            CrmStatus.SUSPENDED,
            since=T0,
            updated_at=T0,
            reason="API_DISABLED_FOR_ORG",
            allocation_percent=50,
        )
    )
    crm.record_usage(
        UsageSample(System.SALESFORCE, "00D000000000001AAA", T0 - dt.timedelta(hours=1), 60, 100)
    )
    crm.record_usage(
        UsageSample(System.SALESFORCE, "00D000000000001AAA", T0 - dt.timedelta(hours=30), 9, 100)
    )
    suspended = gather(queues=Stats({}), **kwargs)
    [salesforce] = [line for line in suspended.crms if line.state.system is System.SALESFORCE]
    assert (salesforce.used, salesforce.limit, salesforce.allocation) == (60, 100, 50)
    assert len(salesforce.usage) == 1  # the last 24 hours only
    assert suspended.attention == [
        "salesforce 00D000000000001AAA is suspended: API_DISABLED_FOR_ORG",
        "salesforce 00D000000000001AAA used 60 of its 50 calls",
    ]


def test_status_shows_the_last_change_of_each_source_and_what_synced_lately():
    from shared.models import ChangeEvent, ChangeType

    def change(system: System, origin: str, at: dt.datetime) -> ChangeEvent:
        return ChangeEvent(
            system=system,
            account=PORTAL,
            object_type="contacts" if system is System.HUBSPOT else "Lead",
            record_id="1" if system is System.HUBSPOT else "00Q000000000001AAA",
            change_type=ChangeType.UPDATE,
            occurred_at=at,
            origin=origin,
            source_event_id=f"{origin}:{at.isoformat()}",
        )

    events = [
        change(System.HUBSPOT, "CRM_UI", T0 - dt.timedelta(minutes=3)),
        change(System.HUBSPOT, "hssync:poll", T0),  # hssync's own reads are no user's change
        change(System.SALESFORCE, "Web", T0 - dt.timedelta(minutes=9)),
    ]
    assert latest_by_source(events) == {
        System.HUBSPOT: T0 - dt.timedelta(minutes=3),
        System.SALESFORCE: T0 - dt.timedelta(minutes=9),
    }
    activity = MemoryState(clock=lambda: T0)
    activity.set_cursor(PORTAL, seen_cursor(System.HUBSPOT), (T0 - dt.timedelta(minutes=3)).isoformat())
    metrics = Metrics()
    report = gather(
        crm_store=MemoryCrmStateStore(),
        accounts=[],
        queues=Stats({}),
        activity=activity,
        synced=metrics,
        portal=PORTAL,
        now=T0,
    )
    assert report.last_seen == {
        "HubSpot webhooks": T0 - dt.timedelta(minutes=3),
        "Salesforce change events": None,
    }
    # per outcome: created = both directions' creations (1 + 4), updated (2 + 5), linked (3 + 6) ...
    expected = {"created": 5, "updated": 7, "linked": 9, "skipped": 8, "failed": 7}
    assert report.last_hour == report.last_day == expected
    [(asked, hour_ago), (_, day_ago)] = metrics.asked
    assert ("apply", "hubspot_to_salesforce_created") in asked
    assert ("dedupe", "Skipped") in asked
    assert (hour_ago, day_ago) == (T0 - dt.timedelta(hours=1), T0 - dt.timedelta(days=1))
    local = gather(
        crm_store=MemoryCrmStateStore(),
        accounts=[],
        queues=Stats({}),
        activity=activity,
        synced=NoMetrics(),
        portal=PORTAL,
        now=T0,
    )
    assert local.last_hour is None


def test_a_crm_that_stopped_is_an_api_limit_entry_whose_command_reads_everything_since():
    from infra.cli.sync import requests_of_command

    state = MemoryState(clock=lambda: T0)
    paused = CrmState(
        System.SALESFORCE,
        "00D000000000001AAA",
        CrmStatus.PAUSED,
        since=T0 - dt.timedelta(hours=2),
        updated_at=T0,
        reason="REQUEST_LIMIT_EXCEEDED",
        message="the org's daily API limit is spent",
    )
    running = CrmState(System.HUBSPOT, PORTAL, CrmStatus.RUNNING, since=T0, updated_at=T0)
    [row] = health_rows(state, PORTAL, crm_states=[paused, running])
    assert (row.category, row.record, row.code) == (
        HealthCategory.API_LIMIT,
        "salesforce:org:00D000000000001AAA",
        "REQUEST_LIMIT_EXCEEDED",
    )
    assert row.message == "paused: the org's daily API limit is spent"
    assert row.resync == "hssync resync --all --since 2026-03-01T10:00:00+00:00"
    requests = requests_of_command(row.resync)
    assert {(r.system.value if r.system else None, r.since) for r in requests} == {
        ("hubspot", T0 - dt.timedelta(hours=2)),
        ("salesforce", T0 - dt.timedelta(hours=2)),
    }
    counts = {c.category: c.records for c in category_counts([row])}
    assert counts[HealthCategory.API_LIMIT] == 1


@pytest.mark.parametrize(
    "command",
    [
        "hssync resync hubspot:contacts:1",
        "hssync resync salesforce:Group:00G5g00000QuEuE",
        "hssync resync --all",
    ],
)
def test_every_resync_command_sync_health_prints_parses(command):
    from infra.cli.sync import requests_of_command

    assert requests_of_command(command)


@pytest.mark.parametrize(
    "command", ["rm -rf /", "hssync dlq redrive changes", "hssync resync --bogus", "hssync resync 123"]
)
def test_anything_else_is_refused(command):
    from infra.cli.sync import requests_of_command

    with pytest.raises(ValueError, match=r"resync|expected"):
        requests_of_command(command)
