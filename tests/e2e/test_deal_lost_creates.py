"""A deal or Opportunity create whose answer is lost (issue 14: ``shared.accounts.creation_intents``,
the rule of the companies): the sandbox applies the create, then drops its answer; hssync finds the
record it made and links it, never creating a second one (and never joining two records by their
values otherwise: S8). Every test asserts that exactly one fault was injected, both CRMs' final
state, and that no write follows the settle."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World, quiet
from tests.e2e.test_account_lost_creates import injected, lose_one
from tests.e2e.test_deals import DEALS_ON, all_deals, deal, deal_link, hubspot_deal, opportunity


@pytest.fixture
def deals(world: World) -> World:
    world.use_config(DEALS_ON)
    return world


def test_a_new_opportunity_whose_deal_create_answer_is_lost_makes_one_deal(deals: World) -> None:
    world = deals
    lose_one(world, "hubspot", "/crm/v3/objects/deals/batch/create")
    try:
        made = opportunity(world, name="Lost Answer Deal", stage="Negotiation/Review")
        quiet(world, "the new Opportunity whose deal create lost its answer")
        assert injected(world, "hubspot") == {"lost": 1}  # the deal create was applied, unanswered
        assert injected(world, "salesforce") == {}
    finally:
        world.faults_off()

    (created,) = all_deals(world)  # exactly one deal
    props = deal(world, created.id)
    assert props["dealname"] == "Lost Answer Deal"
    assert (props["pipeline"], props["dealstage"]) == ("default", "contractsent")
    assert float(props["amount"] or 0) == 5000
    assert str(props["closedate"]).startswith("2026-12-31")
    link = deal_link(world, created.id)
    assert link is not None
    assert link.sf_id == made
    (row,) = world.salesforce_rows("Opportunity")  # and one Opportunity, as the user made it
    assert row["Id"] == made
    assert (row["Name"], row["StageName"], float(row["Amount"])) == (
        "Lost Answer Deal",
        "Negotiation/Review",
        5000,
    )
    assert world.health() == []


def test_a_new_deal_whose_opportunity_create_answer_is_lost_makes_one_opportunity(deals: World) -> None:
    world = deals
    lose_one(world, "salesforce", "/composite/sobjects")
    try:
        made = hubspot_deal(world, dealname="Unanswered Deal", amount="1200", pipeline="default",
                            closedate="2027-01-15T00:00:00Z", dealstage="qualifiedtobuy")  # fmt: skip
        quiet(world, "the new deal whose Opportunity create lost its answer")
        assert injected(world, "salesforce") == {"lost": 1}  # the Opportunity create was applied, unanswered
        assert injected(world, "hubspot") == {}
    finally:
        world.faults_off()

    (row,) = world.salesforce_rows("Opportunity")  # exactly one Opportunity
    assert (row["Name"], row["StageName"], float(row["Amount"])) == ("Unanswered Deal", "Qualification", 1200)
    assert str(row["CloseDate"]).startswith("2027-01-15")
    link = deal_link(world, made)
    assert link is not None
    assert link.sf_id == row["Id"]
    assert [d.id for d in all_deals(world)] == [made]  # and one deal, as the user made it
    props = deal(world, made)
    assert (props["dealname"], props["dealstage"]) == ("Unanswered Deal", "qualifiedtobuy")
    assert world.health() == []
