"""The named pieces of the owner decision (S17): who wins, and what following each side writes.

``test_owners.py`` pins :func:`resolve` end to end; these pin each rule on its own."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.owners.decide import (
    OWNER_NOT_IN_HUBSPOT,
    OWNER_NOT_IN_SALESFORCE,
    OWNER_REJECTED,
    OwnerOutcome,
    OwnerState,
    follow_hubspot,
    follow_salesforce,
    owner_of_new_salesforce_record,
    reject_hubspot_owner,
    winner,
)
from shared.owners.directory import HubSpotOwner, OwnerDirectory, SalesforceOwner

ADA_SF = SalesforceOwner("005A", "User", "Ada Lovelace", "ada@example.com", "Ada", "Lovelace", "Standard")
GUS_SF = SalesforceOwner("005G", "User", "Gus Guest", "gus@example.com", "Gus", "Guest", "Guest")
QUEUE = SalesforceOwner("00GQ", "Queue", "Inbound Leads", "queue@example.com")
ADA_HS = HubSpotOwner("11", "ada@example.com", "Ada", "Lovelace")
GUS_HS = HubSpotOwner("13", "gus@example.com", "Gus", "Guest")
NORA_HS = HubSpotOwner("16", "nora@example.com", "Nora", "Quinn")  # no Salesforce user

T1 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(minutes=1)


@pytest.fixture
def directory() -> OwnerDirectory:
    return OwnerDirectory([ADA_SF, GUS_SF, QUEUE], [ADA_HS, GUS_HS, NORA_HS])


# -- who wins -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hs", "sf", "remembered", "times", "side"),
    [
        ("11", "005A", ("11", "005A"), (None, None), None),  # neither changed
        (None, None, ("", ""), (None, None), None),  # blanks are no owner
        ("13", "005A", ("11", "005A"), (None, None), "hubspot"),
        ("11", "005G", ("11", "005A"), (None, None), "salesforce"),
        ("11", "005A", None, (T2, T1), "salesforce"),  # a first sync: Salesforce is the reference
        ("13", "005G", ("11", "005A"), (T2, T1), "hubspot"),  # both changed: the newer
        ("13", "005G", ("11", "005A"), (T1, T2), "salesforce"),
        ("13", "005G", ("11", "005A"), (T1, T1), "salesforce"),  # a tie goes to Salesforce
        ("13", "005G", ("11", "005A"), (None, T1), "salesforce"),  # an unknown time loses
        ("13", "005G", ("11", "005A"), (T1, None), "hubspot"),
    ],
)
def test_winner(hs, sf, remembered, times, side):
    state = OwnerState(
        hubspot=hs,
        salesforce=sf,
        remembered=remembered,
        hubspot_changed_at=times[0],
        salesforce_changed_at=times[1],
    )
    assert winner(state, hs, sf) == side


# -- a record created from HubSpot ----------------------------------------------------------------
def test_a_new_salesforce_record_takes_the_matching_user_or_leaves_it_to_assignment_rules(directory):
    assert owner_of_new_salesforce_record("11", directory) == OwnerOutcome(
        write_salesforce="005A", synced=("11", "005A")
    )
    assert owner_of_new_salesforce_record(None, directory) == OwnerOutcome(synced=(None, None))
    unmatched = owner_of_new_salesforce_record("16", directory)
    assert (unmatched.write_salesforce, unmatched.synced, unmatched.code) == (
        None,
        ("16", None),
        OWNER_NOT_IN_SALESFORCE,
    )
    assert str(unmatched.message).endswith("; Salesforce's assignment rules chose the owner")


# -- Salesforce wins ------------------------------------------------------------------------------
def test_following_salesforce(directory):
    assert follow_salesforce("11", "005G", directory) == OwnerOutcome(
        write_hubspot="13", synced=("13", "005G")
    )
    assert follow_salesforce(None, "005A", directory) == OwnerOutcome(
        write_hubspot="11", synced=("11", "005A")
    )
    assert follow_salesforce("11", "005A", directory) == OwnerOutcome(synced=("11", "005A"))  # in line
    assert follow_salesforce("11", None, directory) == OwnerOutcome(synced=("11", None))  # no owner to follow
    queue = follow_salesforce("11", "00GQ", directory)
    assert (queue.write_hubspot, queue.synced, queue.code) == (None, ("11", "00GQ"), OWNER_NOT_IN_HUBSPOT)
    assert "is a queue" in str(queue.message)


# -- HubSpot wins ---------------------------------------------------------------------------------
def test_following_hubspot_writes_a_matching_user(directory):
    assert follow_hubspot("13", "005A", directory) == OwnerOutcome(
        write_salesforce="005G", synced=("13", "005G")
    )
    assert follow_hubspot("11", "005A", directory) == OwnerOutcome(synced=("11", "005A"))  # in line


@pytest.mark.parametrize(
    ("hs", "why"), [("16", "matches no Salesforce user"), (None, "the HubSpot owner was cleared")]
)
def test_following_hubspot_without_a_matching_user_rejects_it(directory, hs, why):
    out = follow_hubspot(hs, "005A", directory)
    assert (out.write_salesforce, out.write_hubspot, out.synced, out.code) == (
        None,
        "11",
        ("11", "005A"),
        OWNER_REJECTED,
    )
    assert why in str(out.message)


def test_a_rejected_hubspot_owner_is_reset_to_the_salesforce_owner_when_one_matches(directory):
    assert reject_hubspot_owner("16", "005A", "why", directory) == OwnerOutcome(
        write_hubspot="11",
        synced=("11", "005A"),
        code=OWNER_REJECTED,
        message="why: Salesforce keeps its owner and the HubSpot owner was reset to it",
    )
    # already the matching owner (another change was rejected): remembered, nothing to write
    assert reject_hubspot_owner("11", "005A", "why", directory).write_hubspot is None


def test_a_rejected_hubspot_owner_stays_when_no_hubspot_owner_matches_salesforce(directory):
    queue = reject_hubspot_owner("16", "00GQ", "why", directory)
    assert (queue.write_hubspot, queue.synced, queue.code) == (None, ("16", "00GQ"), OWNER_REJECTED)
    assert str(queue.message).startswith(
        "why: Salesforce keeps its owner (owner not in HubSpot: queue Inbound"
    )
    assert (
        reject_hubspot_owner("16", None, "why", directory).message == "why: Salesforce keeps its owner (none)"
    )
