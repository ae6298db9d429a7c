"""The scheduled poll reconciles, it does not re-sync (issue 17): after the events synced a load, a
poll costs its reads and queues nothing; an edit whose event was lost is still found and synced,
with no echo after it."""

from __future__ import annotations

from collections import Counter

from tests.e2e.conftest import World, quiet


def calls(world: World) -> tuple[Counter[str], Counter[str]]:
    return (
        Counter(world.sandbox.salesforce.stats.snapshot()["calls"]),
        Counter(world.sandbox.hubspot.stats.snapshot()["calls"]),
    )


def test_a_poll_after_a_synced_load_reads_and_queues_nothing_and_a_lost_edit_still_syncs(
    world: World,
) -> None:
    leads = [
        world.salesforce_create("Lead", LastName=f"Lead {i}", Company="Acme", Email=f"lead{i}@example.com")
        for i in range(6)
    ]
    contacts = [world.hubspot_create(email=f"hs{i}@example.com", lastname=f"Hs {i}") for i in range(6)]
    quiet(world, "the load")
    first = world.stack.runtime.invoke_schedule("PollFunction")  # the cursors start: everything is read once
    assert first.ok, first.payload
    quiet(world, "the first poll")

    with world.events_paused():
        world.salesforce_update("Lead", leads[0], Title="Changed while nobody listened")
        world.hubspot_edit(contacts[0], jobtitle="Also unheard")
    sf_before, hs_before = calls(world)
    answer = world.stack.runtime.invoke_schedule("PollFunction")
    assert answer.ok, answer.payload
    sf_poll, hs_poll = calls(world)
    queued = answer.payload["queued"]
    assert queued["poll:salesforce:Lead"] == 1, queued
    assert queued["poll:hubspot:contacts"] == 1, queued
    # the poll itself: one query per Salesforce object, one search page for HubSpot contacts
    assert sum((sf_poll - sf_before).values()) <= 3, sf_poll - sf_before
    assert sum((hs_poll - hs_before).values()) <= 3, hs_poll - hs_before
    quiet(world, "the poll")

    lead = world.salesforce_row("Lead", leads[0])
    assert world.hubspot_with_email("lead0@example.com")[0].properties["jobtitle"] == lead["Title"]
    [hs_lead] = world.salesforce_with_email("Lead", "hs0@example.com")
    assert hs_lead["Title"] == "Also unheard"

    again = world.stack.runtime.invoke_schedule("PollFunction")  # what the poll synced is not read again
    assert again.ok, again.payload
    assert sum(again.payload["queued"].values()) == 0, again.payload
    quiet(world, "the last poll")
