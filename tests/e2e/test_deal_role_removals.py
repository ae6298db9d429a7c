"""Contact roles <-> deal contacts carry removals both ways, and a HubSpot association change alone
syncs at once (issue 14's known gaps, ``shared.deals.contact_roles``), with the real clients and the
local stack. Every test asserts both CRMs' final state and that no write follows the settle."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import World, quiet
from tests.e2e.test_deals import DEALS_ON, _contact, all_deals, opportunity


@pytest.fixture
def deals(world: World) -> World:
    world.use_config(DEALS_ON)
    return world


def deal_contacts(world: World, deal_id: str) -> list[str]:
    return sorted(world.sandbox.hubspot.associations.associated_ids("deals", deal_id, "contacts"))


def roles_of(world: World, opportunity_id: str) -> list[dict[str, Any]]:
    return [
        r for r in world.salesforce_rows("OpportunityContactRole") if r["OpportunityId"] == opportunity_id
    ]


def _synced_deal(world: World, *contacts: str) -> tuple[str, str, list[str]]:
    """An Opportunity with a contact role of each Contact (the first primary), synced to a deal:
    (Opportunity id, deal id, role ids)."""
    made = opportunity(world, name="With roles", stage="Prospecting")
    role_ids = [
        world.salesforce_create(
            "OpportunityContactRole", OpportunityId=made, ContactId=contact, IsPrimary=index == 0
        )
        for index, contact in enumerate(contacts)
    ]
    quiet(world, "an Opportunity with contact roles")
    (created,) = all_deals(world)
    return made, created.id, role_ids


def _as_hubspot_user(world: World, call_name: str, deal_id: str, contact_id: str) -> None:
    api = world.hubspot.crm.associations.v4.basic_api
    if call_name == "archive":
        world._as_user("hubspot", lambda: api.archive("deals", deal_id, "contacts", contact_id), write=True)
    else:
        world._as_user(
            "hubspot", lambda: api.create_default("deals", deal_id, "contacts", contact_id), write=True
        )


def test_a_role_deleted_in_salesforce_removes_its_contact_from_the_deal(deals: World) -> None:
    world = deals
    (buyer, buyer_hs), (user, user_hs) = (_contact(world, n) for n in ("Rolf", "Ulla"))
    made, deal_id, (_, user_role) = _synced_deal(world, buyer, user)
    assert deal_contacts(world, deal_id) == sorted([buyer_hs, user_hs])
    # a second role of the buyer, then deleted: another role of the buyer remains, the buyer stays
    second = world.salesforce_create(
        "OpportunityContactRole", OpportunityId=made, ContactId=buyer, Role="Economic Buyer"
    )
    quiet(world, "a second role of the same contact")
    world._as_user("salesforce", lambda: world.salesforce.OpportunityContactRole.delete(second), write=True)
    quiet(world, "a second role deleted")
    assert deal_contacts(world, deal_id) == sorted([buyer_hs, user_hs])
    world._as_user(
        "salesforce", lambda: world.salesforce.OpportunityContactRole.delete(user_role), write=True
    )
    quiet(world, "a contact role deleted")
    assert deal_contacts(world, deal_id) == [buyer_hs]
    assert [r["ContactId"] for r in roles_of(world, made)] == [buyer]


def test_a_contact_removed_from_the_deal_in_hubspot_deletes_its_contact_role(deals: World) -> None:
    world = deals
    (buyer, buyer_hs), (user, user_hs) = (_contact(world, n) for n in ("Rhea", "Uwe"))
    made, deal_id, _ = _synced_deal(world, buyer, user)
    assert len(roles_of(world, made)) == 2
    _as_hubspot_user(world, "archive", deal_id, user_hs)
    quiet(world, "a deal contact removed in HubSpot")
    assert [r["ContactId"] for r in roles_of(world, made)] == [buyer]
    assert deal_contacts(world, deal_id) == [buyer_hs]


def test_a_contact_added_to_the_deal_in_hubspot_alone_becomes_a_contact_role(deals: World) -> None:
    world = deals
    (buyer, buyer_hs), (third, third_hs) = (_contact(world, n) for n in ("Rune", "Thea"))
    made, deal_id, _ = _synced_deal(world, buyer)
    _as_hubspot_user(world, "add", deal_id, third_hs)
    quiet(world, "a deal contact added in HubSpot")
    roles = roles_of(world, made)
    assert sorted(r["ContactId"] for r in roles) == sorted([buyer, third])
    assert [r["ContactId"] for r in roles if r["IsPrimary"]] == [buyer]  # the primary role stays
    assert deal_contacts(world, deal_id) == sorted([buyer_hs, third_hs])
