"""Email events -> tasks: the start, the cursor window, parsing, forwards, resolving, the Task."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.config import ConfigError, parse_config
from shared.email_events.events import EmailEvent, forwards, parse_event, wanted
from shared.email_events.resolve import NOT_SYNCED, recipients, resolve
from shared.email_events.retry import retrying
from shared.email_events.start import check_start, start_at
from shared.email_events.tasks import FORWARD_NOTE, Campaign, subject, task_fields
from shared.email_events.window import cursor_after, next_window
from shared.ports import Link
from shared.times import epoch_ms

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _event(kind: str = "OPEN", created: int = 1000, **extra: object) -> EmailEvent:
    base: dict[str, object] = {
        "id": f"e-{kind}-{created}",
        "created": created,
        "kind": kind,
        "recipient": "ann@example.com",
        "campaign_id": 7,
        "message_id": "m1",
    }
    base.update(extra)
    return EmailEvent(**base)  # type: ignore[arg-type]


# -- settings ------------------------------------------------------------------------------------
def test_defaults_turn_opens_and_clicks_into_tasks_from_now_on():
    settings = parse_config("portals: [1]").email_events
    assert settings.enabled is True
    assert settings.types == ("OPEN", "CLICK")
    assert settings.start == "now"
    assert settings.event_id_field is None


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("{types: [OPEN, DELIVERED]}", "email_events.types"),
        ("{types: []}", "email_events.types"),
        ("{types: [OPEN, OPEN]}", "listed twice"),
        ("{start: yesterday}", "start is 'now'"),
        ("{start: P400D}", "at most 366 days"),
        ("{event_id_field: 'Event Id'}", "event_id_field"),
        ("{enabled: 'yes'}", "enabled"),
    ],
)
def test_email_event_settings_are_checked(section, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_config(f"portals: [1]\nemail_events: {section}")


def test_the_schema_has_the_email_events_section():
    from shared.config import json_schema

    schema = json_schema()
    assert "email_events" in schema["properties"]


# -- start and window ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("now", NOW),
        ("P30D", NOW - dt.timedelta(days=30)),
        ("PT12H", NOW - 12 * HOUR),
        ("P1DT2H", NOW - dt.timedelta(days=1, hours=2)),
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        ("2026-11-01T08:00:00+01:00", dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)),
    ],
)
def test_the_start_is_now_a_date_or_a_lookback(spec, expected):
    assert start_at(spec, NOW) == expected


@pytest.mark.parametrize("spec", ["", "P", "PT", "30D", "beginning", "P-1D"])
def test_there_is_no_start_at_the_beginning_of_time(spec):
    with pytest.raises(ValueError, match="start is 'now'"):
        check_start(spec)


def test_the_first_window_starts_at_the_configured_start():
    window = next_window(None, start="P2D", overlap=HOUR, now=NOW)
    assert (window.start, window.end) == (epoch_ms(NOW - dt.timedelta(days=2)), epoch_ms(NOW))
    assert next_window(None, start="now", overlap=HOUR, now=NOW).start == epoch_ms(NOW)


def test_later_windows_re_read_an_overlap_before_the_last_end():
    first = next_window(None, start="now", overlap=HOUR, now=NOW)
    later = NOW + dt.timedelta(minutes=5)
    second = next_window(cursor_after(first), start="P30D", overlap=HOUR, now=later)
    assert second.start == epoch_ms(NOW - HOUR)
    assert second.end == epoch_ms(later)


def test_a_start_in_the_future_reads_nothing_yet():
    window = next_window(None, start="2027-01-01", overlap=HOUR, now=NOW)
    assert window.start == window.end == epoch_ms(NOW)


# -- events ---------------------------------------------------------------------------------------
def test_an_api_event_is_parsed_with_its_message_and_client():
    raw = {
        "id": "abc",
        "created": 5,
        "type": "CLICK",
        "recipient": " Ann@Example.com ",
        "emailCampaignId": 7,
        "sentBy": {"id": "sent-1", "created": 1},
        "url": "https://x.example/a",
        "deviceType": "COMPUTER",
        "browser": {"name": "Chrome 120.0"},
        "location": {"country": "UNITED STATES", "state": "texas", "city": "austin"},
    }
    event = parse_event(raw)
    assert event is not None
    assert (event.recipient, event.kind, event.message_id, event.campaign_id) == (
        "ann@example.com",
        "CLICK",
        "sent-1",
        7,
    )
    assert event.location == "Austin, Texas, United States"
    assert event.browser == "Chrome 120.0"


def test_unsubscribing_is_a_status_change_and_incomplete_events_are_dropped():
    raw = {"id": "a", "created": 1, "type": "STATUSCHANGE", "recipient": "a@b.c"}
    assert parse_event({**raw, "portalSubscriptionStatus": "UNSUBSCRIBED"}).kind == "UNSUBSCRIBED"  # type: ignore[union-attr]
    assert parse_event({**raw, "portalSubscriptionStatus": "SUBSCRIBED"}).kind == "STATUSCHANGE"  # type: ignore[union-attr]
    assert parse_event({**raw, "id": ""}) is None
    assert parse_event({**raw, "created": "1"}) is None
    assert parse_event({**raw, "recipient": None}) is None


def test_only_the_chosen_kinds_once_each_oldest_first():
    events = [_event("CLICK", 3), _event("OPEN", 1), _event("DELIVERED", 0), _event("OPEN", 1)]
    chosen = wanted(events, ("OPEN", "CLICK"), {})
    assert [(e.kind, e.created) for e in chosen] == [("OPEN", 1), ("CLICK", 3)]


def test_opens_and_clicks_after_a_forward_say_so():
    events = [_event("OPEN", 1), _event("FORWARD", 2), _event("OPEN", 3), _event("CLICK", 4)]
    forwarded = forwards(events)
    assert forwarded == {"m1": 2}
    chosen = wanted(events, ("OPEN", "CLICK", "FORWARD"), forwarded)
    assert [(e.kind, e.after_forward) for e in chosen] == [
        ("OPEN", False),
        ("FORWARD", False),
        ("OPEN", True),
        ("CLICK", True),
    ]


# -- resolving --------------------------------------------------------------------------------------
def test_recipients_resolve_to_their_linked_record_and_others_are_skipped():
    link = Link(portal="1", hubspot_id="51", sf_object="Lead", sf_id="00Q000000000001AAA")
    ann = _event("OPEN", 1)
    bob = _event("OPEN", 2, recipient="bob@example.com")
    assert recipients([ann, bob, ann]) == ["ann@example.com", "bob@example.com"]
    result = resolve([ann, bob], {"ann@example.com": link})
    assert [(e.id, t.sf_id, t.sf_object) for e, t in result.resolved] == [
        (ann.id, "00Q000000000001AAA", "Lead")
    ]
    assert result.skipped == [(bob, NOT_SYNCED)]


def test_an_unsynced_event_is_retried_for_the_window_only():
    first = epoch_ms(NOW)
    assert retrying(first, NOW + 23 * HOUR, dt.timedelta(hours=24))
    assert not retrying(first, NOW + 25 * HOUR, dt.timedelta(hours=24))


# -- tasks --------------------------------------------------------------------------------------------
def _target():
    from shared.email_events.resolve import Target

    return Target("Lead", "00Q000000000001AAA", "51")


def test_a_task_per_event_with_what_happened_and_to_which_email():
    campaign = Campaign(7, "Spring launch", "Meet the new product")
    click = _event("CLICK", epoch_ms(NOW), url="https://x.example/a", device="MOBILE", location="Tokyo")
    fields = task_fields(click, campaign, _target(), owner_id="005000000000001AAA", event_id_field=None)
    assert fields["Subject"] == "Clicked https://x.example/a in Meet the new product"
    assert fields["WhoId"] == "00Q000000000001AAA"
    assert fields["OwnerId"] == "005000000000001AAA"
    assert fields["ActivityDate"] == "2026-12-07"
    assert (fields["Status"], fields["Priority"], fields["Type"], fields["TaskSubtype"]) == (
        "Completed",
        "Normal",
        "Email",
        "Email",
    )
    for text in ("Spring launch (7)", "2026-12-07T12:00:00Z", "Link clicked: https://x.example/a", "MOBILE"):
        assert text in fields["Description"]
    assert "Tokyo" in fields["Description"]


def test_the_event_id_field_carries_the_event_id_and_a_forward_is_noted():
    opened = _event("OPEN", 1, after_forward=True)
    fields = task_fields(opened, None, _target(), owner_id=None, event_id_field="HS_Event__c")
    assert fields["HS_Event__c"] == opened.id
    assert "OwnerId" not in fields
    assert fields["Subject"] == "Marketing email opened: a marketing email"
    assert FORWARD_NOTE in fields["Description"]


def test_a_long_subject_is_cut_to_the_field_length():
    text = subject(_event("OPEN"), Campaign(1, None, "x" * 400))
    assert len(text) == 255
