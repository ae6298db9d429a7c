"""Acceptance 2: records with the same email are linked, never created twice (S6)."""

from __future__ import annotations

from tests.e2e.conftest import World


def test_email_match_ignores_case_and_links_instead_of_creating(world: World) -> None:
    # Records that predate the connector, one on each side, with emails differing in case. (Spaces
    # never reach hssync through the APIs: HubSpot trims and lowercases an email on input, and
    # Salesforce refuses one with spaces, INVALID_EMAIL_ADDRESS; normalize_email's unit tests
    # cover them.)
    with world.events_paused():
        lead_id = world.salesforce_create(
            "Lead", LastName="Mixed", Company="Case Co", Email="MiXeD@Example.COM"
        )
        waiting_contact = world.hubspot_create(email="  Spaced.Out@Example.com ", lastname="Out")
    # ... and their counterparts, made by users once hssync runs
    contact_id = world.hubspot_create(email="mixed@example.com", firstname="Max", lastname="Mixed")
    new_lead_id = world.salesforce_create(
        "Lead", LastName="Out", Company="Orbit", Email="SPACED.OUT@example.COM"
    )
    world.settle()

    # HubSpot -> Salesforce: the new contact found the Lead by email and linked to it
    assert [r["Id"] for r in world.salesforce_rows("Lead")] == sorted([lead_id, new_lead_id])
    link = world.link_of(contact_id)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", lead_id)
    lead = world.salesforce_row("Lead", lead_id)
    assert lead["FirstName"] == "Max"  # and synced what the Lead lacked
    assert lead["Email"] == "MiXeD@Example.COM"  # the same address: not rewritten
    # Salesforce -> HubSpot: the new Lead found the waiting contact and linked to it
    assert sorted(c.id for c in world.hubspot_contacts()) == sorted([contact_id, waiting_contact])
    back = world.stack.state.links_by_salesforce(world.portal, [new_lead_id])
    assert [(x.hubspot_id, x.sf_object) for x in back.values()] == [(waiting_contact, "Lead")]

    counters = world.counters()
    assert counters.get("hubspot_to_salesforce.linked_by_email") == 1
    assert counters.get("salesforce_to_hubspot.linked_by_email") == 1
    assert "hubspot_to_salesforce.created" not in counters
    assert "salesforce_to_hubspot.created" not in counters


def test_same_email_duplicates_link_the_oldest_sync_the_newest_and_are_reported(world: World) -> None:
    with world.events_paused():
        older = world.salesforce_create("Lead", LastName="Twin", Company="Old Co", Email="twin@example.com")
        newer = world.salesforce_create("Lead", LastName="Twin", Company="New Co", Email="Twin@Example.com")
    contact_id = world.hubspot_create(email="twin@example.com", lastname="Twin")
    world.settle()

    link = world.link_of(contact_id)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", older)  # the oldest is the link
    assert f"Lead:{newer}" in link.duplicates
    # the most recently updated one is what the contact syncs with
    assert world.hubspot_contact(contact_id).get("company") == "New Co"

    # a later edit of the newer duplicate syncs to HubSpot; the link stays on the oldest
    world.salesforce_update("Lead", newer, Title="Second of two", Company="Newest Co")
    world.settle()
    props = world.hubspot_contact(contact_id)
    assert (props.get("jobtitle"), props.get("company")) == ("Second of two", "Newest Co")
    link = world.link_of(contact_id)
    assert link is not None
    assert link.sf_id == older
    # ... and a HubSpot edit goes to that most recently updated duplicate, not to the link
    world.hubspot_edit(contact_id, phone="+1 555 0100")
    world.settle()
    assert world.salesforce_row("Lead", newer)["Phone"] == "+1 555 0100"
    assert world.salesforce_row("Lead", older)["Phone"] is None

    assert len(world.hubspot_contacts()) == 1  # neither duplicate made a contact of its own
    assert len(world.salesforce_rows("Lead")) == 2
    duplicates = [h for h in world.health() if h.code == "DUPLICATE_EMAIL"]
    assert duplicates, "the duplicates are reported in sync health"
    assert {h.record for h in duplicates} == {f"salesforce:Lead:{newer}"}
    assert all(h.category.value == "duplicates" for h in duplicates)


def test_initial_sync_links_existing_duplicates_to_the_oldest(world: World) -> None:
    # an org and a portal that predate the connector, then the initial sync (hssync backfill)
    with world.events_paused():
        older = world.salesforce_create("Lead", LastName="Triplet", Company="First", Email="trip@example.com")
        middle = world.salesforce_create(
            "Lead", LastName="Triplet", Company="Second", Email="TRIP@example.com"
        )
        newest = world.salesforce_create(
            "Lead", LastName="Triplet", Company="Third", Email="Trip@Example.com"
        )
        contact_id = world.hubspot_create(email="trip@example.com", lastname="Triplet")
    world.stack.backfill()
    world.settle()

    link = world.link_of(contact_id)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", older)
    assert set(link.duplicates) == {f"Lead:{middle}", f"Lead:{newest}"}
    assert world.hubspot_contact(contact_id).get("company") == "Third"
    assert len(world.hubspot_contacts()) == 1
    reported = {h.record for h in world.health() if h.code == "DUPLICATE_EMAIL"}
    assert reported == {f"salesforce:Lead:{middle}", f"salesforce:Lead:{newest}"}
