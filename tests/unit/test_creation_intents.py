"""Creation intents (``shared.accounts.creation_intents``): what identifies a new company or Account,
the window looked in, and which record found settles which lost create."""

from __future__ import annotations

import datetime as dt

from shared.accounts.creation_intents import (
    CLOCK_SKEW,
    INTENT_KEPT,
    LEASE_MARGIN,
    Created,
    CreationIntent,
    identifying,
    intent_for,
    intent_from_text,
    names_of,
    recovered,
)

T0 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _intent(name: str, at: dt.datetime = T0, **more: str) -> CreationIntent:
    return CreationIntent({"name": name, **more}, at, at + dt.timedelta(minutes=1))


def test_a_create_is_identified_by_its_name_and_its_domain_or_website() -> None:
    assert identifying("salesforce", {"Name": " Acme ", "Website": "acme.example", "Phone": "1"}) == {
        "Name": "Acme",
        "Website": "acme.example",
    }
    assert identifying("hubspot", {"name": "Acme", "phone": "1"}) == {"name": "Acme"}
    assert identifying("hubspot", {"domain": "acme.example"}) == {}  # no name: it cannot be looked for


def test_the_lease_outlives_the_invocation_and_an_earlier_moment_is_kept() -> None:
    first = intent_for("hubspot", {"name": "Acme"}, T0, dt.timedelta(seconds=90), None)
    assert first.since == T0
    assert first.lease_until == T0 + dt.timedelta(seconds=90) + LEASE_MARGIN
    assert first.in_flight(T0 + dt.timedelta(seconds=119))
    assert not first.in_flight(first.lease_until)
    later = intent_for("hubspot", {"name": "Acme"}, T0 + dt.timedelta(minutes=3), dt.timedelta(0), first)
    assert later.since == T0  # the window only widens
    assert first.ended(T0).lease_until == T0
    assert not first.stale(T0 + INTENT_KEPT)
    assert first.stale(T0 + INTENT_KEPT + dt.timedelta(seconds=1))


def test_an_intent_is_stored_as_text_and_read_back() -> None:
    intent = CreationIntent({"name": "Acme", "domain": "acme.example"}, T0, T0 + LEASE_MARGIN)
    assert intent_from_text(intent.to_text()) == intent
    assert intent_from_text(intent.to_text()).name == "Acme"  # type: ignore[union-attr]
    assert intent_from_text(None) is None
    assert intent_from_text("{not json") is None
    assert intent_from_text('{"values": {}}') is None


def test_one_query_looks_for_every_name_since_the_earliest_moment_less_the_skew() -> None:
    names, since = names_of(
        [_intent("Beta", T0), _intent("Acme", T0 - dt.timedelta(minutes=2)), _intent("Acme")]
    )
    assert names == ["Acme", "Beta"]
    assert since == T0 - dt.timedelta(minutes=2) - CLOCK_SKEW
    assert names_of([CreationIntent({}, T0, T0)]) == ([], None)


def test_a_record_found_settles_the_create_with_the_same_values() -> None:
    intents = {"p1": _intent("Acme", domain="acme.example"), "p2": _intent("Beta")}
    found = [
        Created("c1", {"name": "ACME", "domain": "other.example"}, T0),  # another domain
        Created("c2", {"name": "acme", "domain": "Acme.example "}, T0 + dt.timedelta(seconds=1)),
        Created("c3", {"name": "Beta", "domain": None}, T0),
    ]
    assert recovered(intents, found, linked=[]) == {"p1": "c2", "p2": "c3"}


def test_a_linked_or_older_record_is_never_taken_and_one_record_settles_one_create() -> None:
    intents = {"p1": _intent("Acme"), "p2": _intent("Acme", T0 + dt.timedelta(seconds=5))}
    found = [
        Created("old", {"name": "Acme"}, T0 - CLOCK_SKEW - dt.timedelta(seconds=1)),  # before the window
        Created("linked", {"name": "Acme"}, T0),
        Created("a", {"name": "Acme"}, T0 + dt.timedelta(seconds=1)),
    ]
    # the earliest intent takes the oldest free record; the other finds none (and creates)
    assert recovered(intents, found, linked=["linked"]) == {"p1": "a"}
    assert recovered({"p": _intent("Acme")}, [], linked=[]) == {}
