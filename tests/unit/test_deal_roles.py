"""A contact role's change decided from the role alone (``shared.pipeline.dedupe.deals.roles``): a
role of a linked Opportunity adds its contact to the deal and moves its lifecycle stage without
reading the Opportunity or the deal again; a role of an Opportunity not linked yet has the
Opportunity decided in full; a role gone is skipped; no write after the settle."""

from __future__ import annotations

import pytest

from shared.deals.ports import ContactRole
from shared.models import OPPORTUNITY
from shared.pipeline.dedupe.deals.roles import ROLE_GONE
from tests import fakes
from tests.unit.test_deals_part import LIFECYCLE_ON, World, _stage, _synced_contact

ROLE = "OpportunityContactRole"


@pytest.fixture(autouse=True)
def roles_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, OPPORTUNITY, "006")
    monkeypatch.setitem(fakes.PREFIX, ROLE, "00K")


def _won(world: World) -> str:
    return world.sf.add(OPPORTUNITY, Name="Won", CloseDate="2026-12-31", StageName="Closed Won",
                        IsClosed=True, IsWon=True)  # fmt: skip


def test_a_role_of_a_linked_opportunity_is_decided_without_reading_the_opportunity_or_the_deal() -> None:
    world = World(LIFECYCLE_ON)
    contact, record = _synced_contact(world, "lead")
    won = _won(world)
    world.sync()
    (deal_id,) = world.deals.deals
    world.deals.calls.clear()
    sf_calls = world.sf.calls
    world.sf.add(ROLE, OpportunityId=won, ContactId=record, Role="Decision Maker")
    world.sync()
    assert world.sf.calls == sf_calls  # neither the role nor the Opportunity retrieved
    assert world.roles.changed_reads == 1
    assert "read_deals" not in world.deals.calls
    assert world.deals.contacts[deal_id] == [(contact, "Decision Maker")]
    assert _stage(world, contact) == "customer"
    plans = world.plans
    world.sync()
    assert world.plans == plans  # no write after the settle


def test_a_role_whose_contact_is_already_the_deals_changes_nothing() -> None:
    world = World(LIFECYCLE_ON)
    contact, record = _synced_contact(world, "customer")
    won = _won(world)
    world.sync()
    (deal_id,) = world.deals.deals
    world.deals.contacts[deal_id] = [(contact, None)]
    plans = world.plans
    world.sf.add(ROLE, OpportunityId=won, ContactId=record)
    world.sync()
    assert world.plans == plans
    assert "associate_deal_contacts" not in world.deals.calls


def test_a_role_of_an_opportunity_not_linked_yet_decides_the_opportunity_with_its_roles() -> None:
    world = World(LIFECYCLE_ON)
    contact, record = _synced_contact(world, "lead")
    won = _won(world)
    world.sf.drain_events()  # the Opportunity's own change is not seen yet
    world.sf.add(ROLE, OpportunityId=won, ContactId=record)
    world.roles.roles = [ContactRole(won, record, primary=True)]
    world.sync()
    (deal_id,) = world.deals.deals
    assert world.deals.deals[deal_id]["dealname"] == "Won"
    assert world.deals.contacts[deal_id] == [(contact, None)]
    assert _stage(world, contact) == "customer"


def test_a_role_gone_before_it_is_read_is_skipped() -> None:
    world = World(LIFECYCLE_ON)
    _, record = _synced_contact(world, "lead")
    won = _won(world)
    world.sync()
    role = world.sf.add(ROLE, OpportunityId=won, ContactId=record)
    del world.sf.rows[role]
    world.sync()
    assert world.skipped.get(ROLE_GONE) == 1
