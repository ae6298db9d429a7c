"""Creation intents for deals and Opportunities (``shared.accounts.creation_intents``, the rule the
companies use): what identifies a new deal or Opportunity (its name, and its amount and close date
when written), how they compare (numbers as numbers, dates as days), that each lost create takes at
most one record and never a linked one (no de-duplication, S8), that nothing is looked for without
an earlier intent, and the Salesforce lookup's query."""

from __future__ import annotations

import datetime as dt

from shared.accounts.creation_intents import (
    CLOCK_SKEW,
    IDENTIFYING,
    LEASE_MARGIN,
    Created,
    CreationIntent,
    handed_back,
    identifying,
    intent_for,
    intent_from_text,
    look_for,
    names_of,
    recovered,
)
from shared.adapters.salesforce import soql
from shared.models import COMPANIES, DEALS

T0 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
USER = "005000000000001AAA"


def _deal(name: str, at: dt.datetime = T0, **more: str) -> CreationIntent:
    return CreationIntent({"dealname": name, **more}, at, at + dt.timedelta(minutes=1))


def test_a_deal_or_opportunity_create_is_identified_by_its_name_amount_and_close_date() -> None:
    opportunity = {"Name": " Big deal ", "Amount": 5000.0, "CloseDate": "2026-12-31", "StageName": "Won"}
    assert identifying("salesforce", opportunity, DEALS) == {
        "Name": "Big deal",
        "Amount": "5000.0",
        "CloseDate": "2026-12-31",
    }
    deal = {"dealname": "Big deal", "closedate": "2026-12-31T00:00:00Z", "dealstage": "closedwon"}
    assert identifying("hubspot", deal, DEALS) == {
        "dealname": "Big deal",
        "closedate": "2026-12-31T00:00:00Z",
    }
    assert identifying("hubspot", {"amount": "5", "closedate": "2026-12-31"}, DEALS) == {}  # no name
    assert identifying("hubspot", {"name": "Acme"}) == {"name": "Acme"}  # companies: as before
    assert IDENTIFYING[(COMPANIES, "salesforce")] == ("Name", "Website")


def test_a_deal_intent_is_stored_named_and_handed_back_with_the_earliest_moment() -> None:
    intent = intent_for("salesforce", {"Name": "Big deal", "Amount": 1}, T0, dt.timedelta(0), None, DEALS)
    assert intent.lease_until == T0 + LEASE_MARGIN
    assert intent_from_text(intent.to_text()) == intent
    assert intent.name == "Big deal"
    earlier = _deal("Big deal", T0 - dt.timedelta(minutes=3))
    later = T0 + dt.timedelta(seconds=5)
    assert handed_back(intent, earlier, later) == CreationIntent(intent.values, earlier.since, later)
    assert handed_back(intent, None, later).since == T0
    assert names_of([_deal("Beta"), earlier]) == (["Beta", "Big deal"], earlier.since - CLOCK_SKEW)


def test_amounts_compare_as_numbers_and_close_dates_as_days() -> None:
    intents = {
        "sf": CreationIntent({"Name": "Big deal", "Amount": "5000.0", "CloseDate": "2026-12-31"}, T0, T0),
        "hs": _deal("Big deal", amount="5000", closedate="2026-12-31"),
        "ms": _deal("Other", closedate="1798675200000"),  # epoch milliseconds of 2026-12-31
    }
    found = [
        Created("006A", {"Name": "big deal", "Amount": 5000, "CloseDate": "2026-12-31"}, T0),
        Created("1", {"dealname": "Big deal", "amount": "5000.00", "closedate": "2026-12-31T00:00:00Z"}, T0),
        Created("2", {"dealname": "other", "amount": None, "closedate": "2026-12-31T00:00:00.000Z"}, T0),
    ]
    assert recovered(intents, found, linked=[]) == {"sf": "006A", "hs": "1", "ms": "2"}


def test_another_amount_or_close_date_is_another_deal() -> None:
    intent = {"p": _deal("Big deal", amount="5000", closedate="2026-12-31")}
    found = [
        Created("1", {"dealname": "Big deal", "amount": "5001", "closedate": "2026-12-31"}, T0),
        Created("2", {"dealname": "Big deal", "amount": "5000", "closedate": "2027-01-01"}, T0),
        Created("3", {"dealname": "Big deal", "amount": None, "closedate": "2026-12-31"}, T0),
    ]
    assert recovered(intent, found, linked=[]) == {}


def test_no_dedupe_each_lost_create_takes_one_free_record_created_in_its_window() -> None:
    values = {"dealname": "Big deal", "amount": "5000", "closedate": "2026-12-31"}
    intents = {
        "p1": CreationIntent(values, T0, T0),
        "p2": CreationIntent(values, T0 + dt.timedelta(seconds=1), T0 + dt.timedelta(seconds=1)),
    }
    found = [
        Created("before", values, T0 - CLOCK_SKEW - dt.timedelta(seconds=1)),  # older than any intent
        Created("linked", values, T0),  # a synced deal of the same values
        Created("a", values, T0 + dt.timedelta(seconds=1)),
        Created("b", values, T0 + dt.timedelta(seconds=2)),
        Created("c", values, T0 + dt.timedelta(seconds=3)),
    ]
    # two lost creates, two records: the third identical deal (a person's, or another) stays apart
    assert recovered(intents, found, linked=["linked"]) == {"p1": "a", "p2": "b"}


def test_nothing_is_looked_for_without_an_intent_and_one_query_serves_them_all() -> None:
    calls: list[tuple[list[str], dt.datetime]] = []
    checked: list[list[str]] = []

    def created_since(names: list[str], since: dt.datetime) -> list[Created]:
        calls.append((names, since))
        return [Created("1", {"dealname": "Beta"}, T0), Created("2", {"dealname": "Acme"}, T0)]

    def linked_of(ids: list[str]) -> set[str]:
        checked.append(ids)
        return {"2"}

    assert look_for({}, created_since, linked_of) == {}
    assert look_for({"x": CreationIntent({}, T0, T0)}, created_since, linked_of) == {}
    assert calls == []
    assert checked == []
    intents = {"a": _deal("Acme"), "b": _deal("Beta")}
    assert look_for(intents, created_since, linked_of) == {"b": "1"}
    assert calls == [(["Acme", "Beta"], T0 - CLOCK_SKEW)]
    assert checked == [["1", "2"]]


def test_the_opportunity_lookup_is_one_query_by_name_creator_and_moment() -> None:
    fields = IDENTIFYING[(DEALS, "salesforce")]
    queries = soql.named_created_since_queries("Opportunity", fields, ["Big deal", "O'Neil"], T0, USER)
    assert queries == [
        "SELECT Id, Name, Amount, CloseDate, CreatedDate FROM Opportunity WHERE Name IN "
        "('Big deal', 'O\\'Neil') AND CreatedDate >= 2026-12-07T12:00:00Z AND CreatedById = "
        "'005000000000001AAA' ORDER BY CreatedDate, Id"
    ]
    accounts = soql.named_created_since_queries(
        "Account", IDENTIFYING[(COMPANIES, "salesforce")], ["A"], T0, None
    )
    assert accounts[0].startswith("SELECT Id, Name, Website, CreatedDate FROM Account WHERE Name IN ('A')")
    assert "CreatedById" not in accounts[0]
