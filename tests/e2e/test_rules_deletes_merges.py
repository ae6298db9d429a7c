"""Issue 4, deletes and merges: HubSpot never deletes in Salesforce; a Salesforce delete keeps the
contact unless configured to archive it; merges on either side and lead conversion move the link to
the surviving record, after which updates flow."""

from __future__ import annotations

from tests.e2e.conftest import World, quiet, status_of


def archived(world: World, contact_id: str) -> bool:
    record = world.sandbox.hubspot.store.get("contacts", contact_id, include_archived=True)
    assert record is not None, f"HubSpot contact {contact_id} is gone altogether"
    return bool(record.archived)


def test_salesforce_deletes_merges_and_conversions(world: World) -> None:
    with world.events_paused():  # a duplicate that predates the connector
        master = world.salesforce_create(
            "Lead", LastName="Merged", Company="M", Email="dup@example.com", Title="Master title"
        )
    loser = world.salesforce_create(
        "Lead", LastName="Merged", Company="M", Email="dup@example.com", Title="Loser"
    )
    convert = world.salesforce_create(
        "Lead", FirstName="Conny", LastName="Vert", Company="Convert Co", Email="conny@example.com"
    )
    kept_lead = world.salesforce_create("Lead", LastName="Kept", Company="K", Email="kept@example.com")
    archive_lead = world.salesforce_create(
        "Lead", LastName="Archive", Company="A", Email="archive@example.com"
    )
    world.settle()
    [dup] = world.hubspot_with_email("dup@example.com")
    [conny] = world.hubspot_with_email("conny@example.com")
    [kept] = world.hubspot_with_email("kept@example.com")
    [to_archive] = world.hubspot_with_email("archive@example.com")
    link = world.link_of(dup.id)
    assert link is not None
    assert link.sf_id == loser

    # a Salesforce user deletes a lead (default: the contact stays), merges the duplicate into the
    # master (the loser is deleted: its link moves to the master) and converts a lead (its link
    # moves to the new Contact)
    world._as_user("salesforce", lambda: world.salesforce.Lead.delete(kept_lead), write=True)
    world.sandbox_post("salesforce", "merge", {"sobject": "Lead", "masterId": master, "mergeIds": [loser]})
    converted = world.sandbox_post("salesforce", "convert-lead", {"leadId": convert})["contactId"]
    world.settle()
    assert not archived(world, kept.id)
    assert world.hubspot_contact(kept.id).get("lastname") == "Kept"
    assert (
        status_of(world, f"salesforce:Lead:{kept_lead}")
        == "Salesforce record deleted; the HubSpot contact is kept"
    )
    link = world.link_of(dup.id)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", master), link
    assert world.hubspot_contact(dup.id).get("jobtitle") == "Master title"
    link = world.link_of(conny.id)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Contact", converted), link

    # with the setting, a delete archives the contact; updates flow with the surviving records
    world.use_config("deletes:\n  salesforce_delete: archive_hubspot_contact\n")
    world._as_user("salesforce", lambda: world.salesforce.Lead.delete(archive_lead), write=True)
    world.salesforce_update("Lead", master, Title="After the merge")
    world.salesforce_update("Contact", converted, Title="Converted")
    world.hubspot_edit(conny.id, phone="+1 555 0122")
    world.hubspot_edit(dup.id, phone="+1 555 0133")
    quiet(world, "the deletes and the updates")
    assert archived(world, to_archive.id)
    assert world.link_of(to_archive.id) is None
    assert world.counters().get("salesforce_to_hubspot.archived") == 1
    assert world.hubspot_contact(dup.id).get("jobtitle") == "After the merge"
    assert world.salesforce_row("Lead", master)["Phone"] == "+1 555 0133"
    assert world.hubspot_contact(conny.id).get("jobtitle") == "Converted"
    contact = world.salesforce_row("Contact", converted)
    assert (contact["Phone"], contact["FirstName"], contact["LastName"]) == ("+1 555 0122", "Conny", "Vert")
    assert world.hubspot_contact(conny.id).get("company") == "Convert Co"  # company text stays as it was
    assert sorted(c.id for c in world.hubspot_contacts()) == sorted([dup.id, conny.id, kept.id]), (
        "a surviving Salesforce record created a second contact"
    )
    assert world.health() == []


def test_hubspot_deletes_and_merges(world: World) -> None:
    first_lead = world.salesforce_create("Lead", LastName="Primary", Company="P", Email="primary@example.com")
    second_lead = world.salesforce_create(
        "Lead", LastName="Secondary", Company="S", Email="secondary@example.com"
    )
    gone_lead = world.salesforce_create("Lead", LastName="Gone", Company="G", Email="gone@example.com")
    world.settle()
    with world.events_paused():  # unlinked duplicates that predate the connector
        extra_one = world.hubspot_create(email="extra.one@example.com", lastname="Primary", jobtitle="Extra")
        extra_two = world.hubspot_create(email="extra.two@example.com", lastname="Secondary")
    [primary] = world.hubspot_with_email("primary@example.com")
    [secondary] = world.hubspot_with_email("secondary@example.com")
    [gone] = world.hubspot_with_email("gone@example.com")

    from hubspot.crm.contacts import PublicMergeInput

    def merge(keep: str, other: str) -> str:
        answer = world._as_user(
            "hubspot",
            lambda: world.hubspot.crm.contacts.basic_api.merge(
                PublicMergeInput(primary_object_id=keep, object_id_to_merge=other)
            ),
            write=True,
        )
        return str(answer.id)

    # a HubSpot user deletes a contact, and merges: the linked contact is the primary of one merge
    # and the one merged away of the other
    world._as_user("hubspot", lambda: world.hubspot.crm.contacts.basic_api.archive(gone.id), write=True)
    kept_primary = merge(primary.id, extra_one)
    kept_extra = merge(extra_two, secondary.id)
    world.settle()

    assert archived(world, gone.id)
    assert world.salesforce_row("Lead", gone_lead)["LastName"] == "Gone"  # HubSpot never deletes it
    assert status_of(world, f"hubspot:contacts:{gone.id}") == "HubSpot deletion (never deletes in Salesforce)"
    link = world.link_of(kept_primary)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", first_lead), link
    link = world.link_of(kept_extra)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", second_lead), link
    for merged_away in (primary.id, secondary.id, extra_one, extra_two):
        assert world.link_of(merged_away) is None, f"{merged_away} is still linked after the merge"
    assert len(world.salesforce_rows("Lead")) == 3, "a merged contact created a Lead"

    world.hubspot_edit(kept_primary, jobtitle="Survivor")
    world.hubspot_edit(kept_extra, jobtitle="Survivor too")
    quiet(world, "the merges")
    assert world.salesforce_row("Lead", first_lead)["Title"] == "Survivor"
    lead = world.salesforce_row("Lead", second_lead)
    assert lead["Title"] == "Survivor too"
    # the surviving contact's email (the primary's) is the pair's email now, on both sides
    assert (lead["Email"], world.hubspot_contact(kept_extra).get("email")) == ("extra.two@example.com",) * 2
    assert len(world.salesforce_rows("Lead")) == 3
    assert world.health() == []
