"""Write intents (shared.intents): a value hssync wrote is never taken for a person's change."""

from __future__ import annotations

import datetime as dt

from shared.config import SyncRule
from shared.intents import IntendedValue, WriteIntent, intent_for, remembered
from shared.rules import FieldState, Remembered, Side, decide

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
LINK = {"jobtitle": ("Old", "Old")}
# hssync decided to write the HubSpot edit "U40" to Salesforce
INTENT = WriteIntent("plan-1", NOW, {"jobtitle": IntendedValue("salesforce", "U40", "U40")})


def _decide(hubspot: str, salesforce: str, *, hubspot_at: int, salesforce_at: int) -> Side | None:
    """The two-way decision for jobtitle, with the intent taken into account."""
    pair = remembered("jobtitle", LINK, INTENT, hubspot=hubspot, salesforce=salesforce)
    state = FieldState(
        hubspot, salesforce, NOW + dt.timedelta(seconds=hubspot_at), NOW + dt.timedelta(seconds=salesforce_at)
    )
    write = decide(SyncRule.TWO_WAY, state, Remembered(*pair) if pair else None)
    return write.to if write is not None else None


def test_a_landed_write_is_hssyncs_own_even_when_it_is_newer_than_a_persons_edit():
    # the race of the issue: the person's second edit (U48, at 38 s) is older than hssync's write of
    # the first one (U40, at 41 s), read before apply recorded it
    assert remembered("jobtitle", LINK, INTENT, hubspot="U48", salesforce="U40") == ("U40", "U40")
    assert _decide("U48", "U40", hubspot_at=38, salesforce_at=41) is Side.SALESFORCE
    # without the intent, the same read let hssync's own write win
    assert decide(
        SyncRule.TWO_WAY,
        FieldState("U48", "U40", NOW, NOW + dt.timedelta(seconds=3)),
        Remembered(*LINK["jobtitle"]),
    ) == decide(SyncRule.TWO_WAY, FieldState("U48", "U40", NOW, NOW + dt.timedelta(seconds=3)), None)


def test_a_write_that_did_not_land_counts_as_not_written():
    # Salesforce still holds the old value: the link's pair counts, so the HubSpot edit is written
    assert remembered("jobtitle", LINK, INTENT, hubspot="U40", salesforce="Old") == ("Old", "Old")
    assert _decide("U40", "Old", hubspot_at=1, salesforce_at=0) is Side.SALESFORCE


def test_a_person_who_overwrote_hssyncs_write_is_a_change():
    # a Salesforce user typed X over hssync's U40: both changed, and the user's newer edit wins
    assert remembered("jobtitle", LINK, INTENT, hubspot="U40", salesforce="X") == ("Old", "Old")
    assert _decide("U40", "X", hubspot_at=1, salesforce_at=5) is Side.HUBSPOT


def test_blanks_compare_as_blanks_and_other_properties_keep_the_link():
    cleared = WriteIntent("p", NOW, {"phone": IntendedValue("hubspot", None, None)})
    link = {"phone": ("1", "1"), "city": ("A", "A")}
    assert remembered("phone", link, cleared, hubspot="  ", salesforce=None) == (None, None)
    assert remembered("city", link, cleared, hubspot="B", salesforce="A") == ("A", "A")
    assert remembered("city", None, None, hubspot="B", salesforce="A") is None


def test_an_intent_holds_what_the_plan_writes_and_is_in_flight_until_its_lease_ends():
    intent = intent_for(
        "plan-2",
        {"jobtitle": "salesforce", "hubspot_owner_id": "hubspot"},
        {"jobtitle": ("U40", "U40"), "hubspot_owner_id": ("7", "005"), "city": ("A", "A")},
        NOW,
    )
    assert intent is not None
    assert dict(intent.values) == {
        "jobtitle": IntendedValue("salesforce", "U40", "U40"),
        "hubspot_owner_id": IntendedValue("hubspot", "7", "005"),
    }
    assert intent.values["hubspot_owner_id"].written == "7"
    assert intent.in_flight(NOW - dt.timedelta(milliseconds=1))
    assert not intent.in_flight(NOW)
    assert intent_for("plan-3", {}, {"city": ("A", "A")}, NOW) is None
