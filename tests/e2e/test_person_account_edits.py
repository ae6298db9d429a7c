"""Person accounts edited in HubSpot (issue 13, S9): a HubSpot edit of a linked person's contact
reaches the person account (Salesforce refuses a direct update of its Contact), and renaming the
person in HubSpot renames the Account and the company named after the person. HubSpot still never
creates a person account. Every test asserts both CRMs' final state and that no write follows the
settle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import World, quiet, recycle_workers
from tests.e2e.test_accounts import ACCOUNTS_ON, companies, company, primary_company


@pytest.fixture
def persons(world: World) -> Iterator[World]:
    world.use_config(ACCOUNTS_ON)
    world.sandbox_post("salesforce", "settings", {"person_accounts": True})
    recycle_workers(world)
    try:
        yield world
    finally:
        recycle_workers(world)


def person_account(world: World, **fields: Any) -> str:
    query = "SELECT Id FROM RecordType WHERE DeveloperName = 'PersonAccount'"
    person_type = world.salesforce.query(query)["records"][0]["Id"]
    person = world.salesforce_create("Account", RecordTypeId=person_type, **fields)
    quiet(world, "the new person account")
    return person


def synced_person(world: World) -> tuple[str, str, str]:
    """A person account synced to HubSpot: (Account id, its HubSpot contact, its company)."""
    person = person_account(
        world,
        FirstName="Mary",
        LastName="Somerville",
        PersonEmail="mary@example.com",
        PersonTitle="Author",
        Phone="+44 20 7946 0001",
    )
    (contact,) = world.hubspot_with_email("mary@example.com")
    (made,) = companies(world)
    assert primary_company(world, contact.id) == made.id
    return person, contact.id, made.id


def test_a_hubspot_edit_of_a_persons_contact_reaches_the_person_account(persons: World) -> None:
    world = persons
    person, contact, made = synced_person(world)
    person_contact = world.salesforce_row("Account", person)["PersonContactId"]

    world.hubspot_edit(
        contact, jobtitle="Astronomer", mobilephone="+44 7700 900123", phone="+44 20 7946 0002"
    )
    quiet(world, "the HubSpot edit of the person's contact")

    account = world.salesforce_row("Account", person)
    assert (account["PersonTitle"], account["PersonMobilePhone"]) == ("Astronomer", "+44 7700 900123")
    assert account["Phone"] == "+44 20 7946 0002"  # the person's phone is the Account's
    assert company(world, made)["phone"] == "+44 20 7946 0002"  # and so its company's
    assert (account["FirstName"], account["LastName"]) == ("Mary", "Somerville")
    mirror = world.salesforce_row("Contact", person_contact)  # Salesforce mirrors it on the Contact
    assert (mirror["Title"], mirror["MobilePhone"]) == ("Astronomer", "+44 7700 900123")
    props = world.hubspot_contact(contact)
    assert (props["jobtitle"], props["mobilephone"]) == ("Astronomer", "+44 7700 900123")
    assert world.health() == []  # a sync, not a sync-health entry
    assert company(world, made)["name"] == "Mary Somerville"
    assert len(world.hubspot_contacts()) == 1
    assert len(companies(world)) == 1
    assert len(world.salesforce_rows("Account")) == 1
    assert world.salesforce_rows("Lead") == []
    link = world.link_of(contact)
    assert link is not None
    assert link.sf_id == person_contact  # the link stays with the person's Contact


def test_renaming_the_person_in_hubspot_renames_the_account_and_the_company(persons: World) -> None:
    world = persons
    person, contact, made = synced_person(world)

    world.hubspot_edit(contact, firstname="Maria", lastname="Fairfax")
    quiet(world, "the person renamed in HubSpot")

    account = world.salesforce_row("Account", person)
    assert (account["FirstName"], account["LastName"]) == ("Maria", "Fairfax")
    assert account["Name"] == "Maria Fairfax"
    assert company(world, made)["name"] == "Maria Fairfax"
    props = world.hubspot_contact(contact)
    assert (props["firstname"], props["lastname"]) == ("Maria", "Fairfax")
    assert primary_company(world, contact) == made
    assert world.health() == []
    assert len(world.hubspot_contacts()) == 1
    assert len(companies(world)) == 1
    assert len(world.salesforce_rows("Account")) == 1
    assert world.salesforce_rows("Contact")[0]["LastName"] == "Fairfax"
