"""Owner matching (S16) and what to write when owners differ (S17)."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.owners.decide import OwnerState, resolve
from shared.owners.directory import HubSpotOwner, OwnerDirectory, SalesforceOwner

ADA_SF = SalesforceOwner("005A", "User", "Ada Lovelace", "Ada@Example.com", "Ada", "Lovelace", "Standard")
PAT_SF = SalesforceOwner("005P", "User", "Pat Partner", "pat@partner.com", "Pat", "Partner", "PowerPartner")
GUS_SF = SalesforceOwner("005G", "User", "Gus Guest", "gus@example.com", "Gus", "Guest", "Guest")
OLD_SF = SalesforceOwner(
    "005O", "User", "Otto Old", "otto@example.com", "Otto", "Old", "Standard", active=False
)
BOB_SF = SalesforceOwner("005B", "User", "Robert Smith", "bob@example.com", "Robert", "Smith", "Standard")
QUEUE = SalesforceOwner("00GQ", "Queue", "Inbound Leads", "queue@example.com")
ONLY_SF = SalesforceOwner("005X", "User", "Xena Only", "xena@example.com", "Xena", "Only", "Standard")

ADA_HS = HubSpotOwner("11", "ada@example.com", "Ada", "Lovelace")
PAT_HS = HubSpotOwner("12", "PAT@partner.com", "Pat", "Partner")
GUS_HS = HubSpotOwner("13", "gus@example.com", "Gus", "Guest")
OTTO_HS = HubSpotOwner("14", "otto@example.com", "Otto", "Old")
BOB_HS = HubSpotOwner("15", "bob@example.com", "Bob", "Smith")  # same email, another name
NORA_HS = HubSpotOwner("16", "nora@example.com", "Nora", "Quinn")  # no Salesforce user
GONE_HS = HubSpotOwner("17", "xena@example.com", "Xena", "Only", archived=True)


@pytest.fixture
def directory() -> OwnerDirectory:
    return OwnerDirectory(
        [ADA_SF, PAT_SF, GUS_SF, OLD_SF, BOB_SF, QUEUE, ONLY_SF],
        [ADA_HS, PAT_HS, GUS_HS, OTTO_HS, BOB_HS, NORA_HS, GONE_HS],
    )


@pytest.mark.parametrize(
    ("salesforce", "hubspot", "reason"),
    [
        ("005A", "11", None),  # Standard, email case-insensitive
        ("005P", "12", None),  # PowerPartner
        ("005G", "13", None),  # Guest
        ("00GQ", None, "is a queue"),
        ("005X", None, "no HubSpot owner has the email"),  # its HubSpot owner is archived
        ("005Z", None, "not a known user or queue"),
    ],
)
def test_a_salesforce_owner_becomes_the_hubspot_owner_with_its_email(directory, salesforce, hubspot, reason):
    match = directory.hubspot_for(salesforce)
    assert match.owner_id == hubspot
    if reason:
        assert reason in str(match.reason)


@pytest.mark.parametrize(
    ("hubspot", "salesforce", "reason"),
    [
        ("11", "005A", None),
        ("12", "005P", None),
        ("13", "005G", None),
        ("14", None, "only an inactive Salesforce user"),
        ("15", None, "another name"),
        ("16", None, "matches no Salesforce user"),
        ("17", None, "archived"),
    ],
)
def test_a_hubspot_owner_reaches_salesforce_only_as_an_active_user_with_its_name_and_email(
    directory, hubspot, salesforce, reason
):
    match = directory.salesforce_for(hubspot)
    assert match.owner_id == salesforce
    if reason:
        assert reason in str(match.reason)


def test_the_directory_survives_the_cache(directory):
    again = OwnerDirectory.from_json(directory.to_json())
    assert again.hubspot_for("005A").owner_id == "11"
    assert again.salesforce_for("14").owner_id is None


T1 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(minutes=1)


def test_a_salesforce_owner_change_flows_to_hubspot(directory):
    out = resolve(OwnerState(hubspot="11", salesforce="005P", remembered=("11", "005A")), directory)
    assert (out.write_hubspot, out.write_salesforce, out.synced, out.code) == (
        "12",
        None,
        ("12", "005P"),
        None,
    )


def test_a_queue_leaves_the_hubspot_owner_and_says_why(directory):
    out = resolve(OwnerState(hubspot="11", salesforce="00GQ", remembered=("11", "005A")), directory)
    assert (out.write_hubspot, out.write_salesforce) == (None, None)
    assert out.synced == ("11", "00GQ")  # remembered: the next unrelated change does not repeat it
    assert out.code == "OWNER_NOT_IN_HUBSPOT"
    assert "queue" in str(out.message)


def test_a_valid_hubspot_owner_change_is_written_to_salesforce(directory):
    out = resolve(OwnerState(hubspot="13", salesforce="005A", remembered=("11", "005A")), directory)
    assert (out.write_salesforce, out.write_hubspot, out.synced) == ("005G", None, ("13", "005G"))


@pytest.mark.parametrize("rejected", ["14", "15", "16", None])
def test_a_rejected_hubspot_owner_is_reset_to_the_salesforce_owner(directory, rejected):
    out = resolve(OwnerState(hubspot=rejected, salesforce="005A", remembered=("11", "005A")), directory)
    assert out.write_salesforce is None
    assert out.write_hubspot == "11"
    assert out.synced == ("11", "005A")  # so the reset's webhook is an echo
    assert out.code == "OWNER_REJECTED"


def test_simultaneous_owner_changes_go_to_the_newer_ties_to_salesforce(directory):
    both = OwnerState(hubspot="13", salesforce="005P", remembered=("11", "005A"))
    newer_hs = resolve(
        both.model_copy(update={"hubspot_changed_at": T2, "salesforce_changed_at": T1}), directory
    )
    assert newer_hs.write_salesforce == "005G"
    tie = resolve(both.model_copy(update={"hubspot_changed_at": T1, "salesforce_changed_at": T1}), directory)
    assert (tie.write_hubspot, tie.write_salesforce) == ("12", None)


def test_owners_already_in_line_write_nothing(directory):
    assert resolve(
        OwnerState(hubspot="11", salesforce="005A", remembered=("11", "005A")), directory
    ).synced == (
        "11",
        "005A",
    )
    first = resolve(OwnerState(hubspot="11", salesforce="005A"), directory)
    assert (first.write_hubspot, first.write_salesforce) == (None, None)


def test_a_lead_created_from_hubspot_takes_a_valid_owner_or_leaves_it_to_assignment_rules(directory):
    valid = resolve(OwnerState(hubspot="11", creating="salesforce"), directory)
    assert valid.write_salesforce == "005A"
    invalid = resolve(OwnerState(hubspot="16", creating="salesforce"), directory)
    assert invalid.write_salesforce is None  # never the integration user: assignment rules decide
    assert invalid.code == "OWNER_NOT_IN_SALESFORCE"
    assert resolve(OwnerState(creating="salesforce"), directory).write_salesforce is None


def test_a_contact_created_from_salesforce_gets_the_matching_hubspot_owner(directory):
    assert resolve(OwnerState(salesforce="005A", creating="hubspot"), directory).write_hubspot == "11"
    queue = resolve(OwnerState(salesforce="00GQ", creating="hubspot"), directory)
    assert queue.write_hubspot is None
    assert queue.code == "OWNER_NOT_IN_HUBSPOT"


# -- the owners stage: shared cache, one lookup per batch ----------------------------------------


def _plan(plan_id: str, owner: OwnerState, **extra):
    from shared.pipeline.plans import SyncPlan

    return SyncPlan(
        plan_id=plan_id,
        portal="1",
        hubspot_id=extra.pop("hubspot_id", "101"),
        sf_object="Lead",
        sf_id=extra.pop("sf_id", "00Q000000000001EAA"),
        owner=owner,
        synced_after={"email": ("a@example.com", "a@example.com")},
        **extra,
    )


def test_the_stage_reads_owners_once_then_serves_batches_from_the_cache():
    from shared.owners.stage import OwnerStage
    from tests.fakes import Clock, FakeHubSpot, FakeSalesforce
    from tests.memory_state import MemoryCache

    clock = Clock()
    sf, hs = FakeSalesforce(clock), FakeHubSpot(clock)
    sf.owner_rows = [ADA_SF, PAT_SF, QUEUE]
    hs.owner_rows = [ADA_HS, PAT_HS]
    now = [1000.0]
    stage = OwnerStage(
        portal="1", salesforce=sf, hubspot=hs, cache=MemoryCache(lambda: now[0]), clock=lambda: now[0]
    )
    batch = [
        _plan("p1", OwnerState(hubspot="11", salesforce="005P", remembered=("11", "005A"))),
        _plan("p2", OwnerState(hubspot="12", salesforce="00GQ", remembered=("12", "005P")), hubspot_id="102"),
        _plan("p3", OwnerState(hubspot="11", creating="salesforce"), sf_id=None, create="salesforce"),
    ]
    first = stage.process(batch)
    assert first.refreshed
    assert (sf.calls, hs.calls) == (1, 1)  # one owner read per system for the whole batch
    moved, queued, created = first.plans
    assert moved.hubspot_writes == {"hubspot_owner_id": "12"}
    assert moved.synced_after["hubspot_owner_id"] == ("12", "005P")
    assert queued.hubspot_writes == {}
    assert [n.code for n in queued.notes] == ["OWNER_NOT_IN_HUBSPOT"]
    assert queued.notes[0].record == "salesforce:Group:00GQ"  # one entry per owner, not per record
    assert queued.notes[0].category == "owners"
    assert created.salesforce_writes["OwnerId"] == "005A"
    assert all(p.owner is None for p in first.plans)  # decided

    again = stage.process(batch)  # warm: no owner API call at all
    assert not again.refreshed
    assert (sf.calls, hs.calls) == (1, 1)
    unknown = [_plan("p4", OwnerState(hubspot="99", salesforce="005A", remembered=("11", "005A")))]
    stage.process(unknown)
    assert (sf.calls, hs.calls) == (1, 1)  # a miss refreshes at most once a minute
    now[0] += 61
    assert stage.process(unknown).refreshed
    assert (sf.calls, hs.calls) == (2, 2)
