"""Account sync (issue 13): companies <-> Accounts through the same pipeline, the contacts'
associations both ways, sticky links, owners, deletes; and account sync off changes nothing. Every
test asserts both CRMs' final state and that no write follows the settle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.models import COMPANIES
from shared.ports import Link
from tests.e2e.conftest import World, quiet

ACCOUNTS_ON = "accounts: {enabled: true}\ncreation: {hubspot_to_salesforce: contact}\n"
PRIMARY = 1  # contact -> company, the Primary label


@pytest.fixture
def accounts(world: World) -> World:
    world.use_config(ACCOUNTS_ON)
    return world


def companies(world: World) -> list[Any]:
    return list(world.sandbox.hubspot.store.records("companies"))


def company(world: World, company_id: str) -> dict[str, str | None]:
    record = world.sandbox.hubspot.store.get("companies", company_id)
    assert record is not None, f"HubSpot company {company_id} does not exist"
    return dict(record.properties)


def primary_company(world: World, contact_id: str) -> str | None:
    associations = world.sandbox.hubspot.associations
    for company_id in associations.associated_ids("contacts", contact_id, "companies"):
        if PRIMARY in associations.types_between("contacts", contact_id, "companies", company_id):
            return company_id
    return None


def company_link(world: World, company_id: str) -> Link | None:
    return world.stack.state.links_by_hubspot(world.portal, [company_id], kind=COMPANIES).get(company_id)


def contact_of(world: World, sf_id: str) -> str:
    links = world.stack.state.links_by_salesforce(world.portal, [sf_id])
    assert sf_id in links, f"Salesforce record {sf_id} is not linked"
    return links[sf_id].hubspot_id


def hubspot_company(world: World, **properties: str) -> str:
    from hubspot.crm.companies import SimplePublicObjectInputForCreate

    answer = world._as_user(
        "hubspot",
        lambda: world.hubspot.crm.companies.basic_api.create(
            SimplePublicObjectInputForCreate(properties=properties)
        ),
        write=True,
    )
    return str(answer.id)


def associate(world: World, contact_id: str, company_id: str) -> None:
    """A HubSpot user makes ``company_id`` the contact's primary company (associations v4)."""
    from hubspot.crm.associations.v4 import AssociationSpec

    spec = [
        AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=279),
        AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=PRIMARY),
    ]
    world._as_user(
        "hubspot",
        lambda: world.hubspot.crm.associations.v4.basic_api.create(
            "contacts", contact_id, "companies", company_id, spec
        ),
        write=True,
    )


def test_a_new_account_with_contacts_creates_the_company_and_both_associations(accounts: World) -> None:
    world = accounts
    account = world.salesforce_create("Account", Name="Analytical Engines", Website="engines.example.com")
    first = world.salesforce_create(
        "Contact", LastName="Lovelace", Email="ada@engines.example.com", AccountId=account
    )
    second = world.salesforce_create(
        "Contact", LastName="Babbage", Email="charles@engines.example.com", AccountId=account
    )
    quiet(world, "the new Account")

    (made,) = companies(world)
    assert company(world, made.id)["name"] == "Analytical Engines"
    assert company(world, made.id)["domain"] == "engines.example.com"
    link = company_link(world, made.id)
    assert link is not None
    assert link.sf_id == account
    for contact in (first, second):
        assert primary_company(world, contact_of(world, contact)) == made.id
        assert world.salesforce_row("Contact", contact)["AccountId"] == account
    assert len(world.salesforce_rows("Account")) == 1


def test_a_company_links_to_the_account_of_its_contacts_and_keeps_it(world: World) -> None:
    # before account sync: an Account and its Contact, synced as a contact only
    account = world.salesforce_create("Account", Name="Difference Engines Ltd")
    contact = world.salesforce_create(
        "Contact", LastName="Menabrea", Email="luigi@de.example.com", AccountId=account
    )
    world.settle()
    hubspot_contact = contact_of(world, contact)
    assert companies(world) == []
    world.use_config(ACCOUNTS_ON)

    # a HubSpot user puts the contact in a new company (another name: never matched by name)
    made = hubspot_company(world, name="DE (HubSpot)")
    associate(world, hubspot_contact, made)
    quiet(world, "the company of a synced contact")
    link = company_link(world, made)
    assert link is not None
    assert link.sf_id == account  # through its contact, not by name
    assert len(world.salesforce_rows("Account")) == 1
    assert world.salesforce_row("Account", account)["Name"] == "DE (HubSpot)"  # then it syncs (two-way)
    assert world.salesforce_row("Contact", contact)["AccountId"] == account

    # sticky: the contact moves to another Account; the company keeps its Account
    elsewhere = world.salesforce_create("Account", Name="Elsewhere Inc")
    world.salesforce_update("Contact", contact, AccountId=elsewhere)
    quiet(world, "the contact's move in Salesforce")
    after = company_link(world, made)
    assert after is not None
    assert after.sf_id == account
    moved_to = primary_company(world, hubspot_contact)
    assert moved_to is not None
    assert moved_to != made
    moved_link = company_link(world, moved_to)
    assert moved_link is not None
    assert moved_link.sf_id == elsewhere


def test_a_contact_moved_to_another_linked_company_moves_its_contacts_account(accounts: World) -> None:
    world = accounts
    first = world.salesforce_create("Account", Name="First Co")
    second = world.salesforce_create("Account", Name="Second Co")
    contact = world.salesforce_create("Contact", LastName="Moved", Email="moved@example.com", AccountId=first)
    world.settle()
    by_name = {c.properties.get("name"): c.id for c in companies(world)}
    hubspot_contact = contact_of(world, contact)
    assert primary_company(world, hubspot_contact) == by_name["First Co"]

    associate(world, hubspot_contact, by_name["Second Co"])
    quiet(world, "the contact's move")
    assert world.salesforce_row("Contact", contact)["AccountId"] == second
    assert primary_company(world, hubspot_contact) == by_name["Second Co"]


def test_a_contacts_account_changed_in_salesforce_moves_its_hubspot_company(accounts: World) -> None:
    world = accounts
    first = world.salesforce_create("Account", Name="Old Employer")
    second = world.salesforce_create("Account", Name="New Employer")
    contact = world.salesforce_create(
        "Contact", LastName="Hopper", Email="grace@example.com", AccountId=first
    )
    world.settle()
    by_name = {c.properties.get("name"): c.id for c in companies(world)}

    world.salesforce_update("Contact", contact, AccountId=second)
    quiet(world, "the Contact's new Account")
    assert primary_company(world, contact_of(world, contact)) == by_name["New Employer"]
    assert world.salesforce_row("Contact", contact)["AccountId"] == second


def test_company_fields_sync_both_ways_without_echo(accounts: World) -> None:
    world = accounts
    account = world.salesforce_create("Account", Name="Acme", Phone="+1 555 0100", Industry="Banking")
    world.settle()
    (made,) = companies(world)
    assert company(world, made.id)["phone"] == "+1 555 0100"

    world.salesforce_update("Account", account, Phone="+1 555 0199")
    quiet(world, "the Account's edit")
    assert company(world, made.id)["phone"] == "+1 555 0199"

    from hubspot.crm.companies import SimplePublicObjectInput

    world._as_user(
        "hubspot",
        lambda: world.hubspot.crm.companies.basic_api.update(
            made.id, SimplePublicObjectInput(properties={"name": "Acme Corp"})
        ),
        write=True,
    )
    quiet(world, "the company's edit")
    assert world.salesforce_row("Account", account)["Name"] == "Acme Corp"
    assert company(world, made.id)["name"] == "Acme Corp"


def test_account_sync_off_changes_nothing_for_contacts(world: World) -> None:
    account = world.salesforce_create("Account", Name="Not Synced Co")
    contact = world.salesforce_create(
        "Contact", LastName="Plain", Email="plain@example.com", AccountId=account
    )
    quiet(world, "a Contact with an Account, account sync off")
    assert companies(world) == []
    hubspot_contact = contact_of(world, contact)
    assert primary_company(world, hubspot_contact) is None
    assert world.hubspot_contact(hubspot_contact)["email"] == "plain@example.com"
    assert world.salesforce_row("Contact", contact)["AccountId"] == account
    assert world.counters().get("salesforce_to_hubspot.companies_created") is None


def test_account_owners_sync_both_ways_and_a_rejected_owner_is_reset_without_echo(accounts: World) -> None:
    from tests.e2e.test_owners import OWNER, _setup

    world = accounts
    ids = _setup(world)
    account = world.salesforce_create("Account", Name="Owned Co", OwnerId=ids["mina"])
    world.settle()
    (made,) = companies(world)
    assert company(world, made.id)[OWNER] == ids["hs_mina"]

    world.salesforce_update("Account", account, OwnerId=ids["pat"])
    quiet(world, "the Account's new owner")
    assert company(world, made.id)[OWNER] == ids["hs_pat"]

    from hubspot.crm.companies import SimplePublicObjectInput

    def set_owner(owner: str) -> None:
        world._as_user(
            "hubspot",
            lambda: world.hubspot.crm.companies.basic_api.update(
                made.id, SimplePublicObjectInput(properties={OWNER: owner})
            ),
            write=True,
        )

    set_owner(ids["hs_gus"])  # an active user by name and email
    quiet(world, "the company's new owner")
    assert world.salesforce_row("Account", account)["OwnerId"] == ids["gus"]
    assert company(world, made.id)[OWNER] == ids["hs_gus"]

    before = world.pipeline_writes()
    set_owner(ids["hs_nora"])  # no Salesforce user: reset to the Account's owner (S17)
    quiet(world, "the rejected owner")
    assert world.salesforce_row("Account", account)["OwnerId"] == ids["gus"]
    assert company(world, made.id)[OWNER] == ids["hs_gus"]
    after = world.pipeline_writes()
    assert (after["salesforce"] - before["salesforce"], after["hubspot"] - before["hubspot"]) == (0, 1)
    rejected = {h.record: h.code for h in world.health() if h.category.value == "owners"}
    assert rejected[f"hubspot:companies:{made.id}"] == "OWNER_REJECTED"


def test_a_deleted_or_merged_account(accounts: World) -> None:
    world = accounts
    kept = world.salesforce_create("Account", Name="Deleted But Kept")
    master = world.salesforce_create("Account", Name="Survivor")
    loser = world.salesforce_create("Account", Name="Merged Away")
    archived = world.salesforce_create("Account", Name="Deleted And Archived")
    world.settle()
    by_name = {c.properties.get("name"): c.id for c in companies(world)}
    assert len(by_name) == 4

    # a delete keeps the company (default); a merge moves the loser's company to the survivor? The
    # survivor has its own company: the loser's company keeps its link (reported as merged elsewhere)
    world._as_user("salesforce", lambda: world.salesforce.Account.delete(kept), write=True)
    world.sandbox_post("salesforce", "merge", {"sobject": "Account", "masterId": master, "mergeIds": [loser]})
    quiet(world, "the delete and the merge")
    assert world.sandbox.hubspot.store.get("companies", by_name["Deleted But Kept"]) is not None
    survivor = company_link(world, by_name["Survivor"])
    assert survivor is not None
    assert survivor.sf_id == master

    # with the setting, a delete archives the company and forgets its link
    world.use_config(ACCOUNTS_ON + "deletes: {salesforce_account_delete: archive}\n")
    world._as_user("salesforce", lambda: world.salesforce.Account.delete(archived), write=True)
    quiet(world, "the archiving delete")
    assert world.sandbox.hubspot.store.get("companies", by_name["Deleted And Archived"]) is None
    assert company_link(world, by_name["Deleted And Archived"]) is None
    assert {r["Id"] for r in world.salesforce_rows("Account")} == {master}


def test_a_merged_account_moves_its_company_to_the_survivor(accounts: World) -> None:
    world = accounts
    with world.events_paused():
        master = world.salesforce_create("Account", Name="Master Without Company")
    loser = world.salesforce_create("Account", Name="Loser With Company")
    world.settle()
    (made,) = companies(world)
    world.sandbox_post("salesforce", "merge", {"sobject": "Account", "masterId": master, "mergeIds": [loser]})
    quiet(world, "the merge")
    link = company_link(world, made.id)
    assert link is not None
    assert link.sf_id == master
    assert [c.id for c in companies(world)] == [made.id]  # no second company for the survivor
    assert world.salesforce_row("Account", master)["Name"] == company(world, made.id)["name"]


def test_a_person_account_becomes_a_contact_and_a_company_renamed_together(accounts: World) -> None:
    from tests.e2e.conftest import recycle_workers

    world = accounts
    world.sandbox_post("salesforce", "settings", {"person_accounts": True})
    recycle_workers(world)
    try:
        query = "SELECT Id FROM RecordType WHERE DeveloperName = 'PersonAccount'"
        person_type = world.salesforce.query(query)["records"][0]["Id"]
        person = world.salesforce_create(
            "Account",
            RecordTypeId=person_type,
            FirstName="Mary",
            LastName="Somerville",
            PersonEmail="mary@example.com",
            PersonTitle="Author",
        )
        quiet(world, "the new person account")
        (contact,) = world.hubspot_with_email("mary@example.com")
        props = world.hubspot_contact(contact.id)
        assert (props["firstname"], props["lastname"], props["jobtitle"]) == ("Mary", "Somerville", "Author")
        (made,) = companies(world)
        assert company(world, made.id)["name"] == "Mary Somerville"
        assert primary_company(world, contact.id) == made.id
        link = company_link(world, made.id)
        assert link is not None
        assert link.sf_id == person
        assert world.salesforce_rows("Lead") == []

        world.salesforce_update("Account", person, LastName="Fairfax")  # renaming the person renames both
        quiet(world, "the person's new name")
        assert world.hubspot_contact(contact.id)["lastname"] == "Fairfax"
        assert company(world, made.id)["name"] == "Mary Fairfax"
        assert len(world.hubspot_contacts()) == 1
        assert len(companies(world)) == 1
        assert world.salesforce_row("Account", person)["LastName"] == "Fairfax"
    finally:
        recycle_workers(world)


def test_a_backfill_syncs_existing_accounts_companies_and_their_associations(accounts: World) -> None:
    world = accounts
    with world.events_paused():  # records that predate the connector
        account = world.salesforce_create("Account", Name="Existing Account")
        contact = world.salesforce_create(
            "Contact", LastName="Old", Email="old@example.com", AccountId=account
        )
        made = hubspot_company(world, name="Existing Company")
    world.stack.backfill()
    quiet(world, "the backfill")
    hubspot_contact = contact_of(world, contact)
    account_company = primary_company(world, hubspot_contact)
    assert account_company is not None
    link = company_link(world, account_company)
    assert link is not None
    assert link.sf_id == account
    made_link = company_link(world, made)  # a company with no contacts: its Account is created
    assert made_link is not None
    assert world.salesforce_row("Account", made_link.sf_id)["Name"] == "Existing Company"
    assert len(companies(world)) == 2
    assert len(world.salesforce_rows("Account")) == 2


def test_a_hubspot_company_merge_moves_the_link_to_the_survivor(accounts: World) -> None:
    from hubspot.crm.companies import PublicMergeInput

    world = accounts
    account = world.salesforce_create("Account", Name="Merged In HubSpot")
    world.settle()
    (linked,) = companies(world)
    survivor = hubspot_company(world, name="Merged In HubSpot")
    world.settle()
    # the survivor had no contacts: it got an Account of its own; merging keeps the survivor's link
    # only when it has none, so merge into a company made while account sync was off
    world.use_config("")
    unlinked = hubspot_company(world, name="Survivor Without Link")
    world.settle()
    world.use_config(ACCOUNTS_ON)
    world._as_user(
        "hubspot",
        lambda: world.hubspot.crm.companies.basic_api.merge(
            PublicMergeInput(primary_object_id=unlinked, object_id_to_merge=linked.id)
        ),
        write=True,
    )
    quiet(world, "the merge of companies")
    # HubSpot's merge makes a new record of the two
    (merged,) = [c.id for c in companies(world) if c.id not in (linked.id, unlinked, survivor)]
    moved = company_link(world, merged)
    assert moved is not None
    assert moved.sf_id == account
    assert company_link(world, linked.id) is None
    assert company_link(world, survivor) is not None  # untouched
    assert len(world.salesforce_rows("Account")) == 2  # a HubSpot merge never deletes an Account


def test_a_company_or_an_account_is_resynced_by_id(
    accounts: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from hubspot.crm.companies import SimplePublicObjectInput

    from infra.cli import main

    world = accounts
    account = world.salesforce_create("Account", Name="Resync Co", Phone="+1 555 0100")
    world.settle()
    (made,) = companies(world)
    info = world.sandbox.info
    info.runtime = world.stack.info.to_dict()
    (tmp_path / "sandbox.json").write_text(info.to_json())
    with world.events_paused():  # changes hssync does not hear of
        world.salesforce_update("Account", account, Phone="+1 555 0199")
        world._as_user(
            "hubspot",
            lambda: world.hubspot.crm.companies.basic_api.update(
                made.id, SimplePublicObjectInput(properties={"domain": "resync.example"})
            ),
            write=True,
        )
    for record in (f"salesforce:Account:{account}", f"hubspot:companies:{made.id}"):
        assert main(["resync", record, "--state-dir", str(tmp_path)]) == 0, capsys.readouterr()
    quiet(world, "the resyncs")
    assert company(world, made.id)["phone"] == "+1 555 0199"
    assert world.salesforce_row("Account", account)["Website"] == "resync.example"
    assert len(companies(world)) == 1
    assert len(world.salesforce_rows("Account")) == 1
