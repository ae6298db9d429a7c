"""Deal sync (issue 14): deals <-> Opportunities through the same pipeline, with the real clients and
the local stack: stages by deals.pipelines, no de-duplication (S8), lifecycle stages from contact
roles (S15), unmapped stages in sync health, deletes. Every test asserts both CRMs' final state and
that no write follows the settle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.models import DEALS
from shared.ports import Link
from tests.e2e.conftest import World, quiet

DEALS_ON = "deals: {enabled: true}\n"
LIFECYCLE_ON = (
    "accounts: {enabled: true}\ncreation: {hubspot_to_salesforce: contact}\ndeals: {enabled: true}\n"
)


@pytest.fixture
def deals(world: World) -> World:
    world.use_config(DEALS_ON)
    return world


def all_deals(world: World) -> list[Any]:
    return list(world.sandbox.hubspot.store.records("deals"))


def deal(world: World, deal_id: str) -> dict[str, str | None]:
    record = world.sandbox.hubspot.store.get("deals", deal_id)
    assert record is not None, f"HubSpot deal {deal_id} does not exist"
    return dict(record.properties)


def deal_link(world: World, deal_id: str) -> Link | None:
    return world.stack.state.links_by_hubspot(world.portal, [deal_id], kind=DEALS).get(deal_id)


def hubspot_deal(world: World, contacts: tuple[str, ...] = (), **properties: str) -> str:
    """A deal a HubSpot user creates (associated with ``contacts``)."""
    from hubspot.crm.deals import (
        AssociationSpec,
        PublicAssociationsForObject,
        PublicObjectId,
        SimplePublicObjectInputForCreate,
    )

    spec = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=3)
    associations = [PublicAssociationsForObject(to=PublicObjectId(id=c), types=[spec]) for c in contacts]
    answer = world._as_user(
        "hubspot",
        lambda: world.hubspot.crm.deals.basic_api.create(
            SimplePublicObjectInputForCreate(properties=properties, associations=associations)
        ),
        write=True,
    )
    return str(answer.id)


def opportunity(world: World, name: str = "Big deal", stage: str = "Closed Won", **fields: Any) -> str:
    return world.salesforce_create(
        "Opportunity", Name=name, StageName=stage, CloseDate="2026-12-31", Amount=5000, **fields
    )


def test_an_opportunity_becomes_a_deal_with_its_stage_amount_and_close_date(deals: World) -> None:
    world = deals
    made = opportunity(world, stage="Negotiation/Review")
    quiet(world, "the new Opportunity")
    (created,) = all_deals(world)
    props = deal(world, created.id)
    assert props["dealname"] == "Big deal"
    assert (props["pipeline"], props["dealstage"]) == ("default", "contractsent")
    assert float(props["amount"] or 0) == 5000
    assert str(props["closedate"]).startswith("2026-12-31")
    link = deal_link(world, created.id)
    assert link is not None
    assert link.sf_id == made
    assert world.salesforce_row("Opportunity", made)["StageName"] == "Negotiation/Review"


def test_a_deal_becomes_an_opportunity(deals: World) -> None:
    world = deals
    made = hubspot_deal(world, dealname="From HubSpot", amount="1200", closedate="2027-01-15T00:00:00Z",
                        dealstage="qualifiedtobuy", pipeline="default")  # fmt: skip
    quiet(world, "the new deal")
    (row,) = world.salesforce_rows("Opportunity")
    assert (row["Name"], row["StageName"], float(row["Amount"])) == ("From HubSpot", "Qualification", 1200)
    assert str(row["CloseDate"]).startswith("2027-01-15")
    link = deal_link(world, made)
    assert link is not None
    assert link.sf_id == row["Id"]
    assert deal(world, made)["dealstage"] == "qualifiedtobuy"


def test_two_identical_opportunities_are_two_deals(deals: World) -> None:
    world = deals
    first, second = opportunity(world), opportunity(world)
    quiet(world, "two identical Opportunities")
    made = all_deals(world)
    assert len(made) == 2
    assert {deal(world, d.id)["dealname"] for d in made} == {"Big deal"}
    links = [deal_link(world, d.id) for d in made]
    assert {link.sf_id for link in links if link is not None} == {first, second}


def test_an_unmapped_stage_is_reported_and_the_rest_of_the_deal_syncs(world: World) -> None:
    world.use_config(
        "deals:\n  enabled: true\n"
        "  pipelines: [{salesforce: Closed Won, pipeline: default, stage: closedwon}]\n"
    )
    made = opportunity(world, stage="Prospecting")
    quiet(world, "an Opportunity in an unmapped stage")
    (created,) = all_deals(world)
    props = deal(world, created.id)
    assert props["dealname"] == "Big deal"
    assert float(props["amount"] or 0) == 5000
    entries = [e for e in world.health() if e.code == "UNMAPPED_STAGE"]
    assert [(e.category, e.record) for e in entries] == [
        ("property_values", f"salesforce:Opportunity:{made}")
    ]
    assert world.salesforce_row("Opportunity", made)["StageName"] == "Prospecting"


def test_an_opportunity_delete_archives_its_deal_and_a_deal_delete_keeps_the_opportunity(
    deals: World,
) -> None:
    world = deals
    gone, kept = opportunity(world, name="Gone"), opportunity(world, name="Kept")
    world.settle()
    by_name = {deal(world, d.id)["dealname"]: d.id for d in all_deals(world)}
    world._as_user("salesforce", lambda: world.salesforce.Opportunity.delete(gone), write=True)
    world._as_user("hubspot", lambda: world.hubspot.crm.deals.basic_api.archive(by_name["Kept"]), write=True)
    quiet(world, "the deletes")
    assert all_deals(world) == []
    assert deal_link(world, by_name["Gone"]) is None
    assert deal_link(world, by_name["Kept"]) is None
    assert [r["Id"] for r in world.salesforce_rows("Opportunity")] == [kept]
    assert [e.record for e in world.health() if e.code == "DEAL_DELETED"] == [
        f"hubspot:deals:{by_name['Kept']}"
    ]


def _contact(world: World, name: str, account: str | None = None) -> tuple[str, str]:
    """A Salesforce Contact synced to a HubSpot contact: (Contact id, HubSpot contact id)."""
    fields: dict[str, Any] = {"LastName": name, "Email": f"{name.lower()}@deals.example.com"}
    if account:
        fields["AccountId"] = account
    record = world.salesforce_create("Contact", **fields)
    world.settle()
    links = world.stack.state.links_by_salesforce(world.portal, [record])
    assert record in links
    return record, links[record].hubspot_id


def test_closed_won_makes_the_contact_roles_customers_and_never_moves_them_back(world: World) -> None:
    world.use_config(LIFECYCLE_ON)
    account = world.salesforce_create("Account", Name="Closers Inc")
    (buyer, buyer_hs), (user, user_hs) = _contact(world, "Buyer", account), _contact(world, "User", account)
    won = opportunity(world, name="Won", AccountId=account)
    world.salesforce_create("OpportunityContactRole", OpportunityId=won, ContactId=buyer, IsPrimary=True)
    quiet(world, "a Closed Won opportunity with a contact role")
    assert world.hubspot_contact(buyer_hs).get("lifecyclestage") == "customer", world.counters()
    assert world.hubspot_contact(user_hs).get("lifecyclestage") != "customer"  # not a contact role
    # a new open opportunity of the customer: never backwards
    opened = opportunity(world, name="Next", stage="Prospecting", AccountId=account)
    world.salesforce_create("OpportunityContactRole", OpportunityId=opened, ContactId=buyer)
    world.salesforce_create("OpportunityContactRole", OpportunityId=opened, ContactId=user)
    quiet(world, "an open opportunity of a customer")
    assert world.hubspot_contact(buyer_hs).get("lifecyclestage") == "customer"
    assert world.hubspot_contact(user_hs).get("lifecyclestage") == "opportunity"


def test_closed_won_without_contact_roles_changes_no_lifecycle_stage(world: World) -> None:
    world.use_config(LIFECYCLE_ON + "lifecycle: {sync_to_company_contacts: true}\n")
    account = world.salesforce_create("Account", Name="Roleless Inc")
    _, contact_hs = _contact(world, "Nobody", account)
    before = world.hubspot_contact(contact_hs).get("lifecyclestage")
    opportunity(world, name="No roles", AccountId=account)
    quiet(world, "a Closed Won opportunity without contact roles")
    assert world.hubspot_contact(contact_hs).get("lifecyclestage") == before
    assert len(all_deals(world)) == 1


def test_the_opportunitys_account_becomes_the_deals_company(world: World) -> None:
    world.use_config(LIFECYCLE_ON)
    account = world.salesforce_create("Account", Name="Associated Co")
    world.settle()
    company_links = world.stack.state.links_by_salesforce(world.portal, [account], kind="companies")
    assert account in company_links
    made = opportunity(world, name="Associated", AccountId=account)
    quiet(world, "an Opportunity of a synced Account")
    (created,) = all_deals(world)
    associated = world.sandbox.hubspot.associations.associated_ids("deals", created.id, "companies")
    assert list(associated) == [company_links[account].hubspot_id]
    assert world.salesforce_row("Opportunity", made)["AccountId"] == account


def test_deal_owners_sync_both_ways_and_a_rejected_owner_is_reset(deals: World) -> None:
    from hubspot.crm.deals import SimplePublicObjectInput

    from tests.e2e.test_owners import OWNER, _setup

    world = deals
    ids = _setup(world)
    made = opportunity(world, name="Owned", OwnerId=ids["mina"])
    world.settle()
    (created,) = all_deals(world)
    assert deal(world, created.id)[OWNER] == ids["hs_mina"]

    def set_owner(owner: str) -> None:
        world._as_user(
            "hubspot",
            lambda: world.hubspot.crm.deals.basic_api.update(
                created.id, SimplePublicObjectInput(properties={OWNER: owner})
            ),
            write=True,
        )

    set_owner(ids["hs_gus"])  # an active user by name and email
    quiet(world, "the deal's new owner")
    assert world.salesforce_row("Opportunity", made)["OwnerId"] == ids["gus"]
    set_owner(ids["hs_nora"])  # no Salesforce user: reset to the Opportunity's owner (S17)
    quiet(world, "the rejected owner")
    assert world.salesforce_row("Opportunity", made)["OwnerId"] == ids["gus"]
    assert deal(world, created.id)[OWNER] == ids["hs_gus"]
    rejected = {h.record: h.code for h in world.health() if h.category.value == "owners"}
    assert rejected[f"hubspot:deals:{created.id}"] == "OWNER_REJECTED"


def test_contact_roles_and_deal_contacts_sync_both_ways(deals: World) -> None:
    world = deals
    (buyer, buyer_hs), (user, user_hs), (third, third_hs) = (
        _contact(world, n) for n in ("Roly", "Ursa", "Tess")
    )
    made = opportunity(world, name="With roles", stage="Prospecting")
    world.salesforce_create("OpportunityContactRole", OpportunityId=made, ContactId=user)
    world.salesforce_create(
        "OpportunityContactRole", OpportunityId=made, ContactId=buyer, IsPrimary=True, Role="Decision Maker"
    )
    quiet(world, "an Opportunity with contact roles")
    (created,) = all_deals(world)
    associated = world.sandbox.hubspot.associations.associated_ids("deals", created.id, "contacts")
    assert sorted(associated) == sorted([buyer_hs, user_hs])
    roles = [r for r in world.salesforce_rows("OpportunityContactRole") if r["OpportunityId"] == made]
    assert len(roles) == 2  # nothing added on the Salesforce side
    # a deal made in HubSpot with two contacts: an Opportunity with their contact roles, one primary
    from_hubspot = hubspot_deal(
        world,
        contacts=(third_hs, buyer_hs),
        dealname="Two contacts",
        amount="300",
        closedate="2027-01-15T00:00:00Z",
        dealstage="qualifiedtobuy",
        pipeline="default",
    )
    quiet(world, "a deal with contacts")
    link = deal_link(world, from_hubspot)
    assert link is not None
    made_roles = [
        r for r in world.salesforce_rows("OpportunityContactRole") if r["OpportunityId"] == link.sf_id
    ]
    assert sorted(r["ContactId"] for r in made_roles) == sorted([third, buyer])
    assert sum(1 for r in made_roles if r["IsPrimary"]) == 1  # HubSpot has no primary deal contact
    associated = world.sandbox.hubspot.associations.associated_ids("deals", from_hubspot, "contacts")
    assert sorted(associated) == sorted([third_hs, buyer_hs])


def test_a_deal_or_an_opportunity_is_resynced_by_id_and_backfill_brings_in_opportunities(
    deals: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from hubspot.crm.deals import SimplePublicObjectInput

    from infra.cli import main

    world = deals
    made = opportunity(world, name="Resync me", stage="Prospecting")
    world.settle()
    (created,) = all_deals(world)
    info = world.sandbox.info
    info.runtime = world.stack.info.to_dict()
    (tmp_path / "sandbox.json").write_text(info.to_json())
    with world.events_paused():  # changes hssync does not hear of
        world.salesforce_update("Opportunity", made, Amount=7000)
        world._as_user(
            "hubspot",
            lambda: world.hubspot.crm.deals.basic_api.update(
                created.id, SimplePublicObjectInput(properties={"description": "from a resync"})
            ),
            write=True,
        )
        unheard = opportunity(world, name="Backfilled", stage="Prospecting")
    for record in (f"salesforce:Opportunity:{made}", f"hubspot:deals:{created.id}"):
        assert main(["resync", record, "--state-dir", str(tmp_path)]) == 0, capsys.readouterr()
    quiet(world, "the resyncs")
    assert float(deal(world, created.id)["amount"] or 0) == 7000
    assert world.salesforce_row("Opportunity", made)["Description"] == "from a resync"
    assert len(all_deals(world)) == 1  # the unheard Opportunity waits for the backfill
    assert main(["backfill", "--deals", "--state-dir", str(tmp_path)]) == 0, capsys.readouterr()
    quiet(world, "the backfill")
    names = sorted(str(d.properties.get("dealname")) for d in all_deals(world))
    assert names == ["Backfilled", "Resync me"]
    assert world.stack.state.links_by_salesforce(world.portal, [unheard], kind=DEALS)
