"""Acceptance 1 and 3: records and edits flow both ways, and a sync never echoes back."""

from __future__ import annotations

from tests.e2e.conftest import World, quiet

FULL_CONTACT = {
    "email": "ada.lovelace@example.com",
    "firstname": "Ada",
    "lastname": "Lovelace",
    "phone": "+44 20 7946 0958",
    "mobilephone": "+44 7700 900123",
    "jobtitle": "Analyst",
    "company": "Analytical Engines Ltd",
    "website": "https://engines.example.com",
    "address": "12 St James's Square",
    "city": "London",
    "state": "Greater London",
    "zip": "SW1Y 4JH",
    "country": "United Kingdom",
}
# HubSpot property -> Salesforce Lead field (the default mappings)
LEAD_FIELDS = {
    "email": "Email",
    "firstname": "FirstName",
    "lastname": "LastName",
    "phone": "Phone",
    "mobilephone": "MobilePhone",
    "jobtitle": "Title",
    "company": "Company",
    "website": "Website",
    "address": "Street",
    "city": "City",
    "state": "State",
    "zip": "PostalCode",
    "country": "Country",
}


def test_new_hubspot_contact_becomes_a_lead_with_the_mapped_fields(world: World) -> None:
    contact_id = world.hubspot_create(**FULL_CONTACT)
    world.settle()

    leads = world.salesforce_rows("Lead")
    assert len(leads) == 1
    lead = leads[0]
    for prop, sf_field in LEAD_FIELDS.items():
        assert lead[sf_field] == FULL_CONTACT[prop], sf_field
    assert world.salesforce_rows("Contact") == []
    link = world.link_of(contact_id)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Lead", lead["Id"])
    assert len(world.hubspot_contacts()) == 1  # nothing came back as a second contact
    assert world.counters().get("hubspot_to_salesforce.created") == 1


def test_new_salesforce_lead_and_contact_become_hubspot_contacts(world: World) -> None:
    lead_id = world.salesforce_create(
        "Lead",
        FirstName="Grace",
        LastName="Hopper",
        Company="Navy Computing",
        Email="grace.hopper@example.com",
        Title="Rear Admiral",
        Phone="+1 202 555 0101",
        City="Arlington",
        Country="United States",
    )
    contact_id = world.salesforce_create(
        "Contact",
        FirstName="Katherine",
        LastName="Johnson",
        Email="Katherine.Johnson@Example.com",
        Title="Mathematician",
        MailingStreet="1 NASA Drive",
        MailingCity="Hampton",
        MailingPostalCode="23681",
    )
    world.settle()

    grace = world.hubspot_with_email("grace.hopper@example.com")
    assert len(grace) == 1
    assert {
        k: grace[0].properties.get(k) for k in ("firstname", "lastname", "company", "jobtitle", "phone")
    } == {
        "firstname": "Grace",
        "lastname": "Hopper",
        "company": "Navy Computing",
        "jobtitle": "Rear Admiral",
        "phone": "+1 202 555 0101",
    }
    assert (grace[0].properties.get("city"), grace[0].properties.get("country")) == (
        "Arlington",
        "United States",
    )
    katherine = world.hubspot_with_email("katherine.johnson@example.com")
    assert len(katherine) == 1
    props = katherine[0].properties
    assert (props.get("firstname"), props.get("lastname"), props.get("jobtitle")) == (
        "Katherine",
        "Johnson",
        "Mathematician",
    )
    assert (props.get("address"), props.get("city"), props.get("zip")) == ("1 NASA Drive", "Hampton", "23681")
    assert props.get("company") in (None, "")  # company text maps to a Lead's Company only (S13)

    links = world.stack.state.links_by_salesforce(world.portal, [lead_id, contact_id])
    assert {(link.sf_object, link.hubspot_id) for link in links.values()} == {
        ("Lead", grace[0].id),
        ("Contact", katherine[0].id),
    }
    assert len(world.hubspot_contacts()) == 2
    assert len(world.salesforce_rows("Lead")) == 1
    assert len(world.salesforce_rows("Contact")) == 1


def test_updates_flow_both_ways(world: World) -> None:
    contact_id = world.hubspot_create(email="alan.turing@example.com", firstname="Alan", lastname="Turing")
    lead_id = world.salesforce_create(
        "Lead", LastName="Franklin", Company="King's College", Email="rosalind@example.com"
    )
    world.settle()
    lead_of_alan = world.link_of(contact_id)
    assert lead_of_alan is not None
    rosalind = world.hubspot_with_email("rosalind@example.com")
    assert len(rosalind) == 1

    world.hubspot_edit(contact_id, jobtitle="Cryptanalyst", phone="+44 1908 640404")
    world.salesforce_update("Lead", lead_id, Title="Crystallographer", FirstName="Rosalind")
    world.settle()

    alan = world.salesforce_row("Lead", lead_of_alan.sf_id)
    assert (alan["Title"], alan["Phone"]) == ("Cryptanalyst", "+44 1908 640404")
    props = world.hubspot_contact(rosalind[0].id)
    assert (props.get("jobtitle"), props.get("firstname")) == ("Crystallographer", "Rosalind")

    # clearing a field is a change too (two-way: clearing syncs)
    world.hubspot_edit(contact_id, phone="")
    world.settle()
    assert world.salesforce_row("Lead", lead_of_alan.sf_id)["Phone"] in (None, "")


def test_no_ping_pong_and_a_later_edit_of_the_same_field_still_syncs(world: World) -> None:
    contact_id = world.hubspot_create(
        email="echo@example.com", firstname="Echo", lastname="Narcissus", jobtitle="Nymph"
    )
    world.settle()
    link = world.link_of(contact_id)
    assert link is not None
    lead_id = link.sf_id

    start = quiet(world, "the creation", pause=2.5)
    counters = world.counters()

    # a HubSpot user edits: exactly one Salesforce write, nothing written back to HubSpot (an echo
    # would show as a further write here or in a later step's exact count)
    world.hubspot_edit(contact_id, jobtitle="Oread")
    world.settle()
    after_hs_edit = world.pipeline_writes()
    assert world.salesforce_row("Lead", lead_id)["Title"] == "Oread"
    assert after_hs_edit["salesforce"] - start["salesforce"] == 1
    assert after_hs_edit["hubspot"] == start["hubspot"]

    # a Salesforce user edits the same field: exactly one HubSpot write, nothing back to Salesforce
    world.salesforce_update("Lead", lead_id, Title="Mountain nymph")
    world.settle()
    after_sf_edit = world.pipeline_writes()
    assert world.hubspot_contact(contact_id).get("jobtitle") == "Mountain nymph"
    # the placeholder Company hssync gave the Lead is its own write, not a Salesforce edit: it
    # must not come back to the contact
    assert world.hubspot_contact(contact_id).get("company") in (None, "")
    assert world.salesforce_row("Lead", lead_id)["Company"] == "[not provided]"
    assert after_sf_edit["hubspot"] - after_hs_edit["hubspot"] == 1
    assert after_sf_edit["salesforce"] == after_hs_edit["salesforce"]

    # a genuine edit back to a value hssync itself wrote earlier is still an edit
    world.hubspot_edit(contact_id, jobtitle="Oread")
    after_revert = quiet(world, "the last edit", pause=2.5)
    assert world.salesforce_row("Lead", lead_id)["Title"] == "Oread"
    assert after_revert["salesforce"] - after_sf_edit["salesforce"] == 1
    assert after_revert["hubspot"] == after_sf_edit["hubspot"]

    now = world.counters()
    assert now.get("hubspot_to_salesforce.updated", 0) - counters.get("hubspot_to_salesforce.updated", 0) == 2
    assert now.get("salesforce_to_hubspot.updated", 0) - counters.get("salesforce_to_hubspot.updated", 0) == 1
    assert len(world.hubspot_contacts()) == 1
    assert len(world.salesforce_rows("Lead")) == 1
