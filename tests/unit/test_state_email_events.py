"""DynamoState for email events: links found by email (batched, checked), events done, events
waiting for their recipient to be synced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.email_events.retry import WaitingEvent
from shared.ports import Link
from shared.state import DynamoState
from tests.template_tables import create_table_from_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoState]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        table = create_table_from_template(client, TEMPLATE, "StateTable")
        yield DynamoState(table, client, clock=lambda: NOW)


def _lead(index: int) -> str:
    return f"00Q{index:012d}AAA"


def test_links_are_found_by_either_sides_email(state: DynamoState) -> None:
    state.save_links(
        [
            Link("1", "51", "Lead", _lead(1), {"email": ("Ann@Example.com", "ann@work.example")}),
            Link("1", "52", "Contact", "003000000000002AAA", {"email": ("bob@example.com", None)}),
            Link("1", "53", "Lead", _lead(3), {"phone": ("1", "1")}),
        ]
    )
    found = state.links_by_email("1", ["ann@example.com", " ANN@work.example", "bob@example.com", "x@y.z"])
    assert {email: link.hubspot_id for email, link in found.items()} == {
        "ann@example.com": "51",
        "ann@work.example": "51",
        "bob@example.com": "52",
    }
    assert found["bob@example.com"].sf_object == "Contact"
    assert state.links_by_email("2", ["ann@example.com"]) == {}


def test_a_stale_email_leads_nowhere(state: DynamoState) -> None:
    state.save_links([Link("1", "51", "Lead", _lead(1), {"email": ("old@example.com", "old@example.com")})])
    state.save_links([Link("1", "51", "Lead", _lead(1), {"email": ("new@example.com", "new@example.com")})])
    assert set(state.links_by_email("1", ["old@example.com", "new@example.com"])) == {"new@example.com"}


def test_a_moved_email_leads_to_its_new_contact(state: DynamoState) -> None:
    state.save_links([Link("1", "51", "Lead", _lead(1), {"email": ("a@example.com", None)})])
    state.save_links([Link("1", "51", "Lead", _lead(1), {"email": ("b@example.com", None)})])
    state.save_links([Link("1", "52", "Lead", _lead(2), {"email": ("a@example.com", None)})])
    assert state.links_by_email("1", ["a@example.com"])["a@example.com"].hubspot_id == "52"


def test_many_emails_are_read_in_batches(state: DynamoState) -> None:
    links = [Link("1", str(i), "Lead", _lead(i), {"email": (f"p{i}@example.com", None)}) for i in range(250)]
    state.save_links(links)
    found = state.links_by_email("1", [f"p{i}@example.com" for i in range(250)])
    assert len(found) == 250


def test_events_done_are_remembered_until_they_expire(state: DynamoState) -> None:
    state.record_email_events_done("1", {"e1": "00T000000000001AAA"}, dt.timedelta(days=1))
    assert state.email_events_done("1", ["e1", "e2"]) == {"e1"}
    assert state.email_events_done("2", ["e1"]) == set()
    later = DynamoState(state.table_name, state.client, clock=lambda: NOW + dt.timedelta(days=2))
    assert later.email_events_done("1", ["e1"]) == set()


def test_waiting_events_are_kept_and_dropped(state: DynamoState) -> None:
    waiting = [
        WaitingEvent(f"e{i}", f'{{"id": "e{i}"}}', 1000 + i, "recipient_not_synced") for i in range(30)
    ]
    state.keep_waiting_email_events("1", waiting, dt.timedelta(hours=24))
    assert sorted(state.waiting_email_events("1"), key=lambda w: w.first_skipped_ms) == waiting
    state.drop_waiting_email_events("1", [f"e{i}" for i in range(29)])
    assert [w.event_id for w in state.waiting_email_events("1")] == ["e29"]
