"""Email matching and same-email duplicates (S6)."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.matching import SalesforcePerson, match_by_email, normalize_email

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def person(id_: str, email: str | None, created_days: int, modified_days: int, sobject: str = "Lead"):
    return SalesforcePerson(sobject, id_, email, T0 + created_days * DAY, T0 + modified_days * DAY)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Ana@Example.COM", "ana@example.com"),
        ("  ana@example.com\t", "ana@example.com"),
        ("  ", None),
        (None, None),
    ],
)
def test_emails_are_compared_case_and_whitespace_insensitively(raw, normal):
    assert normalize_email(raw) == normal


def test_a_single_record_links_and_syncs_with_itself():
    only = person("00Q1", "ana@example.com", 0, 0)
    match = match_by_email([only])["ana@example.com"]
    assert (match.link_to, match.sync_with, match.has_duplicates) == (only, only, False)


def test_duplicates_link_to_the_oldest_and_sync_with_the_most_recently_updated():
    oldest = person("00Q2", "ANA@example.com", 0, 1)
    recent = person("0033", " ana@example.com ", 5, 9, "Contact")
    middle = person("00Q4", "ana@example.com", 3, 4)
    match = match_by_email([recent, middle, oldest])["ana@example.com"]
    assert match.link_to == oldest
    assert match.sync_with == recent
    assert match.duplicates == (middle, recent)


def test_ties_are_broken_by_id_so_every_run_picks_the_same_record():
    a = person("00QB", "x@example.com", 0, 2)
    b = person("00QA", "x@example.com", 0, 2)
    assert match_by_email([a, b])["x@example.com"].link_to == b
    assert match_by_email([b, a])["x@example.com"].link_to == b


def test_records_without_email_never_match():
    assert match_by_email([person("00Q1", None, 0, 0), person("00Q2", " ", 0, 0)]) == {}
