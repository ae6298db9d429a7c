"""Issue 4, creation settings (S3, S10, S13): Salesforce->HubSpot creation off, HubSpot contacts created
as Salesforce Contacts, the Lead Company placeholder, person-account orgs, and company text that only
ever travels with a Lead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import World, quiet, recycle_workers, status_of


@pytest.fixture
def metadata_changes(world: World) -> Iterator[None]:
    """For a test that changes the org's settings: its workers describe afresh afterwards, so that no
    later test runs with this test's metadata (the sandbox's reset restores the settings)."""
    yield
    recycle_workers(world)


def test_salesforce_to_hubspot_do_nothing_and_the_lead_company_placeholder(world: World) -> None:
    pair_lead = world.salesforce_create(
        "Lead", LastName="Pair", Company="Pair Co", Email="pair@example.com", Title="Before"
    )
    world.settle()
    [pair] = world.hubspot_with_email("pair@example.com")

    world.use_config(
        'creation:\n  salesforce_to_hubspot: do_nothing\n  lead_company_placeholder: "Company unknown"\n'
    )
    with world.events_paused():  # contacts that predate the connector, then edited by users
        nobody = world.hubspot_create(email="nobody@example.com", lastname="Nobody")
        firm = world.hubspot_create(email="firm@example.com", lastname="Firm", company="Firm Ltd")
    lonely = world.salesforce_create("Lead", LastName="Lonely", Company="Solo", Email="lonely@example.com")
    alone = world.salesforce_create("Contact", LastName="Alone", Email="alone@example.com")
    world.salesforce_update("Lead", pair_lead, Title="After")
    world.hubspot_edit(nobody, jobtitle="Drifter")
    world.hubspot_edit(firm, jobtitle="Partner")
    world.settle()

    # no contact for a new Salesforce record, and the reason is visible
    assert world.hubspot_with_email("lonely@example.com") == []
    assert world.hubspot_with_email("alone@example.com") == []
    assert status_of(world, f"salesforce:Lead:{lonely}") == "contact creation disabled"
    assert status_of(world, f"salesforce:Contact:{alone}") == "contact creation disabled"
    # a linked pair still syncs
    assert world.hubspot_contact(pair.id).get("jobtitle") == "After"
    # HubSpot->Salesforce creation is unaffected; a blank company gets the configured placeholder
    [nobody_lead] = world.salesforce_with_email("Lead", "nobody@example.com")
    [firm_lead] = world.salesforce_with_email("Lead", "firm@example.com")
    assert (nobody_lead["Company"], nobody_lead["Title"]) == ("Company unknown", "Drifter")
    assert firm_lead["Company"] == "Firm Ltd"

    world.hubspot_edit(pair.id, phone="+1 555 0199")
    quiet(world, "the edits of a linked pair")
    assert world.salesforce_row("Lead", pair_lead)["Phone"] == "+1 555 0199"
    assert world.hubspot_contact(nobody).get("company") in (None, ""), "the placeholder came back"
    assert len(world.hubspot_contacts()) == 3
    assert (len(world.salesforce_rows("Lead")), len(world.salesforce_rows("Contact"))) == (4, 1)


def test_hubspot_contacts_become_salesforce_contacts_and_company_text_stays_with_leads(
    world: World,
) -> None:
    world.use_config("creation:\n  hubspot_to_salesforce: contact\n")
    with world.events_paused():  # a contact that predates the connector, then edited by a user
        wile = world.hubspot_create(
            email="wile@example.com", firstname="Wile", lastname="Coyote", company="Acme Corp", city="Mesa"
        )
    world.hubspot_edit(wile, jobtitle="Genius")
    account = world.salesforce_create("Account", Name="Globex")
    hank = world.salesforce_create(
        "Contact",
        FirstName="Hank",
        LastName="Scorpio",
        Email="hank@example.com",
        AccountId=account,
        Title="CEO",
    )
    world.settle()

    # a Contact, not a Lead; it has no company text (S13: a Contact has an Account lookup)
    assert world.salesforce_with_email("Lead", "wile@example.com") == []
    [contact] = world.salesforce_with_email("Contact", "wile@example.com")
    assert (contact["FirstName"], contact["LastName"], contact["Title"], contact["MailingCity"]) == (
        "Wile",
        "Coyote",
        "Genius",
        "Mesa",
    )
    assert contact["AccountId"] is None
    assert "Company" not in contact
    link = world.link_of(wile)
    assert link is not None
    assert (link.sf_object, link.sf_id) == ("Contact", contact["Id"])
    [hank_hs] = world.hubspot_with_email("hank@example.com")
    assert hank_hs.properties.get("jobtitle") == "CEO"
    assert hank_hs.properties.get("company") in (None, ""), "a Contact's account name became company text"

    # company text edits on a contact linked to a Contact write nothing; nor does the Account's name
    before = world.pipeline_writes()
    world.hubspot_edit(wile, company="Acme Rockets")
    world.salesforce_update("Account", account, Name="Globex Corporation")
    world.settle()
    assert world.pipeline_writes() == before, "company text was written for a Contact"
    assert world.hubspot_contact(hank_hs.id).get("company") in (None, "")

    # the other mapped fields still flow both ways
    world.salesforce_update("Contact", hank, Title="Chairman")
    world.hubspot_edit(wile, jobtitle="Super genius")
    quiet(world, "the edits")
    assert world.hubspot_contact(hank_hs.id).get("jobtitle") == "Chairman"
    assert world.hubspot_contact(hank_hs.id).get("company") in (None, "")
    assert world.salesforce_row("Contact", contact["Id"])["Title"] == "Super genius"
    assert world.hubspot_contact(wile).get("company") == "Acme Rockets"
    assert world.salesforce_rows("Lead") == []
    assert len(world.hubspot_contacts()) == 2


def test_a_lead_from_hubspot_has_no_company_in_an_org_with_person_accounts(
    world: World, metadata_changes: None
) -> None:
    # the org has person accounts before hssync describes it (a describe is kept for up to an hour)
    world.sandbox_post("salesforce", "settings", {"person_accounts": True})
    recycle_workers(world)
    with world.events_paused():  # contacts that predate the connector, then edited by users
        pat = world.hubspot_create(email="pat@example.com", firstname="Pat", lastname="Person")
        firm = world.hubspot_create(email="firm@example.com", lastname="Firm", company="Firm Ltd")
    world.hubspot_edit(pat, jobtitle="Freelancer")
    world.hubspot_edit(firm, jobtitle="Partner")
    quiet(world, "the creations")
    # S9/S10: a Lead may have no Company here (it can later become a person account)
    [pat_lead] = world.salesforce_with_email("Lead", "pat@example.com")
    assert (pat_lead["FirstName"], pat_lead["LastName"], pat_lead["Title"]) == ("Pat", "Person", "Freelancer")
    assert pat_lead["Company"] is None, "a placeholder Company in an org with person accounts"
    [firm_lead] = world.salesforce_with_email("Lead", "firm@example.com")
    assert firm_lead["Company"] == "Firm Ltd"
    assert world.hubspot_contact(pat).get("company") in (None, "")
    assert world.health() == []
