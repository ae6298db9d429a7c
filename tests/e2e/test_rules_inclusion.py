"""Issue 4, inclusion list (S4, S5): which HubSpot contacts sync to Salesforce, by preset, by property
filters and by HubSpot list; a Salesforce record de-duplicates to a contact outside the list (linked,
nothing written) and creates contacts regardless; once the contact enters the list, the pair syncs."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World, quiet, sleep_quietly, status_of

OUTSIDE = "outside the inclusion list"
LINKED_OUTSIDE = "linked; the HubSpot contact is outside the inclusion list"
# what a pair holds once synced: both sides agree on every mapped field of a Lead
LEAD_PAIRS = {
    "email": "Email",
    "firstname": "FirstName",
    "lastname": "LastName",
    "phone": "Phone",
    "jobtitle": "Title",
    "city": "City",
    "company": "Company",
}


def create_list(world: World, name: str) -> str:
    """A static (MANUAL) contact list, made by a HubSpot user through lists v3."""
    from hubspot.crm.lists import ListCreateRequest

    created = world._as_user(
        "hubspot",
        lambda: world.hubspot.crm.lists.lists_api.create(
            ListCreateRequest(name=name, object_type_id="0-1", processing_type="MANUAL")
        ),
        write=True,
    )
    return str(created.list.list_id)


def add_to_list(world: World, list_id: str, contact_ids: list[str]) -> None:
    world._as_user(
        "hubspot", lambda: world.hubspot.crm.lists.memberships_api.add(list_id, contact_ids), write=True
    )


def assert_pair_agrees(world: World, contact_id: str, lead_id: str) -> dict[str, Any]:
    props = world.hubspot_contact(contact_id)
    lead = world.salesforce_row("Lead", lead_id)
    for prop, sf_field in LEAD_PAIRS.items():
        hs, sf = props.get(prop) or None, lead.get(sf_field) or None
        if prop == "email":
            hs, sf = (hs or "").lower(), (sf or "").lower()
        assert hs == sf, f"{prop} <-> {sf_field} differ after the sync: {hs!r} vs {sf!r}"
    return lead


def test_subscribers_do_not_become_leads_until_their_stage_changes_to_lead(world: World) -> None:
    world.use_config("inclusion:\n  preset: everyone_except_subscribers\n")
    with world.events_paused():  # contacts that predate the connector, then edited by users
        subscriber = world.hubspot_create(email="reader@example.com", lastname="Reader")
        buyer = world.hubspot_create(email="buyer@example.com", lastname="Buyer")
        unstaged = world.hubspot_create(email="unstaged@example.com", lastname="Nostage")
    world.hubspot_edit(subscriber, lifecyclestage="subscriber")
    world.hubspot_edit(buyer, lifecyclestage="lead")
    world.hubspot_edit(unstaged, jobtitle="Browser")
    world.settle()

    assert world.salesforce_with_email("Lead", "reader@example.com") == []
    assert world.link_of(subscriber) is None
    assert status_of(world, f"hubspot:contacts:{subscriber}") == OUTSIDE
    # everyone else syncs (a blank stage is not "subscriber")
    assert len(world.salesforce_with_email("Lead", "buyer@example.com")) == 1
    assert len(world.salesforce_with_email("Lead", "unstaged@example.com")) == 1
    assert world.link_of(buyer) is not None
    assert world.link_of(unstaged) is not None

    # an edit while still a subscriber changes nothing in Salesforce
    world.hubspot_edit(subscriber, jobtitle="Avid reader")
    world.settle()
    assert world.salesforce_with_email("Lead", "reader@example.com") == []

    world.hubspot_edit(subscriber, lifecyclestage="lead")
    quiet(world, "the subscriber became a lead")
    [lead] = world.salesforce_with_email("Lead", "reader@example.com")
    assert (lead["LastName"], lead["Title"]) == ("Reader", "Avid reader")
    link = world.link_of(subscriber)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", lead["Id"])
    assert len(world.salesforce_rows("Lead")) == 3
    assert len(world.hubspot_contacts()) == 3


def test_property_filters_and_a_salesforce_lead_for_a_contact_outside_them(world: World) -> None:
    world.use_config(
        "inclusion:\n  property_filters:\n    - {property: hs_lead_status, operator: EQ, value: OPEN}\n"
    )
    with world.events_paused():  # contacts that predate the connector, then edited by users
        outside = world.hubspot_create(email="olive@example.com", firstname="Olive", lastname="Out")
        inside = world.hubspot_create(email="ian@example.com", lastname="In", hs_lead_status="OPEN")
    world.hubspot_edit(outside, jobtitle="Gardener")
    world.hubspot_edit(inside, jobtitle="Insider")
    world.settle()
    assert world.salesforce_with_email("Lead", "olive@example.com") == []
    assert status_of(world, f"hubspot:contacts:{outside}") == OUTSIDE
    [inside_lead] = world.salesforce_with_email("Lead", "ian@example.com")
    assert inside_lead["LastName"] == "In"

    # S5: a Salesforce user creates a lead with the outside contact's email (another case), and
    # one with a new email
    before = world.pipeline_writes()
    lead_id = world.salesforce_create(
        "Lead", LastName="Outlaw", Company="Olive Oil Co", Email="Olive@Example.com", Title="Buyer"
    )
    newcomer_lead = world.salesforce_create(
        "Lead", LastName="Newcomer", Company="New Co", Email="newcomer@example.com", Title="Fresh"
    )
    world.settle()

    link = world.link_of(outside)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", lead_id), link
    assert status_of(world, f"salesforce:Lead:{lead_id}") == LINKED_OUTSIDE
    props = world.hubspot_contact(outside)
    assert (props.get("lastname"), props.get("jobtitle"), props.get("company") or None) == (
        "Out",
        "Gardener",
        None,
    ), "a linked contact outside the list received Salesforce values"
    lead = world.salesforce_row("Lead", lead_id)
    assert (lead["LastName"], lead["Title"], lead["FirstName"]) == ("Outlaw", "Buyer", None)
    assert world.pipeline_writes()["salesforce"] == before["salesforce"], (
        "something was written to Salesforce"
    )
    # the new lead creates its HubSpot contact although that contact is outside the list
    [newcomer] = world.hubspot_with_email("newcomer@example.com")
    assert (newcomer.properties.get("lastname"), newcomer.properties.get("jobtitle")) == ("Newcomer", "Fresh")
    assert newcomer.properties.get("company") == "New Co"
    newcomer_link = world.link_of(newcomer.id)
    assert newcomer_link is not None
    assert newcomer_link.sf_id == newcomer_lead

    # while outside the list, edits on either side do not sync
    world.salesforce_update("Lead", lead_id, Phone="+1 555 0100")
    world.salesforce_update("Lead", newcomer_lead, Title="Stale")
    sleep_quietly(1.1)  # HubSpot's edit is newer than the Lead's LastModifiedDate (whole seconds)
    world.hubspot_edit(outside, jobtitle="Head gardener", city="Lisbon")
    world.settle()
    props = world.hubspot_contact(outside)
    assert (props.get("phone") or None, props.get("jobtitle")) == (None, "Head gardener")
    lead = world.salesforce_row("Lead", lead_id)
    assert (lead["Title"], lead["City"]) == ("Buyer", None)
    assert world.hubspot_contact(newcomer.id).get("jobtitle") == "Fresh"

    # entering the list (a property change) syncs the pair: its first sync, both ways
    world.hubspot_edit(outside, hs_lead_status="OPEN")
    quiet(world, "the contact entered the list")
    lead = assert_pair_agrees(world, outside, lead_id)
    assert lead["Title"] == "Head gardener"  # HubSpot's change is the newer one
    assert (lead["City"], lead["FirstName"]) == ("Lisbon", "Olive")  # a blank never erases
    props = world.hubspot_contact(outside)
    assert (props.get("phone"), props.get("company")) == ("+1 555 0100", "Olive Oil Co")
    assert world.hubspot_contact(newcomer.id).get("jobtitle") == "Fresh"  # still outside
    assert len(world.salesforce_rows("Lead")) == 3
    assert len(world.hubspot_contacts()) == 3


def test_list_id_members_only_and_a_contact_that_joins_syncs_at_the_next_poll(world: World) -> None:
    list_id = create_list(world, "Sync to Salesforce")
    world.use_config(f'inclusion:\n  list_id: "{list_id}"\n')
    with world.events_paused():  # contacts that predate the connector, then edited by users
        member = world.hubspot_create(email="mia@example.com", lastname="Member", jobtitle="Listed")
        outsider = world.hubspot_create(email="otto@example.com", firstname="Otto", lastname="Side")
    add_to_list(world, list_id, [member])
    world.hubspot_edit(member, phone="+1 555 0101")
    world.hubspot_edit(outsider, jobtitle="Trader")
    world.settle()

    [member_lead] = world.salesforce_with_email("Lead", "mia@example.com")
    assert (member_lead["Title"], member_lead["Phone"]) == ("Listed", "+1 555 0101")
    assert world.salesforce_with_email("Lead", "otto@example.com") == []
    assert status_of(world, f"hubspot:contacts:{outsider}") == OUTSIDE

    before = world.pipeline_writes()
    lead_id = world.salesforce_create(
        "Lead", LastName="Side", Company="Side Co", Email="otto@example.com", Title="Broker"
    )
    world.settle()
    assert world.pipeline_writes() == before, "a pair outside the list was written to"
    link = world.link_of(outsider)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", lead_id), link
    assert status_of(world, f"salesforce:Lead:{lead_id}") == LINKED_OUTSIDE
    assert world.hubspot_contact(outsider).get("company") in (None, "")
    assert world.salesforce_row("Lead", lead_id)["FirstName"] is None

    # edits on either side while outside: nothing syncs; joining the list sends no webhook
    world.salesforce_update("Lead", lead_id, Phone="+1 555 0102")
    world.hubspot_edit(outsider, city="Oslo")
    world.settle()
    add_to_list(world, list_id, [outsider])
    world.settle()
    assert world.hubspot_contact(outsider).get("phone") in (None, "")
    assert world.salesforce_row("Lead", lead_id)["City"] is None

    # the scheduled poll reads who joined the list since its last run
    answer = world.stack.runtime.invoke_schedule("PollFunction")
    assert answer.ok, answer.payload
    quiet(world, "the poll of list joins")
    lead = assert_pair_agrees(world, outsider, lead_id)
    assert (lead["City"], lead["FirstName"]) == ("Oslo", "Otto")
    props = world.hubspot_contact(outsider)
    assert (props.get("phone"), props.get("company")) == ("+1 555 0102", "Side Co")
    assert len(world.salesforce_rows("Lead")) == 2
    assert len(world.hubspot_contacts()) == 2
