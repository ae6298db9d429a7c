"""A deal or Opportunity create whose answer is lost, on in-memory fakes: the next plan finds the
record it made (one query per side per batch) and links it, so neither is ever created twice; a
create that did not land is made once; normal runs look for nothing; two identical deals whose
answers are both lost stay two (S8); an apply that died after its create is found once its lease
is over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from shared.models import DEALS, OPPORTUNITY
from shared.pipeline.apply import APPLY_TIMEOUT, Applier
from shared.pipeline.dedupe import Deduper
from shared.ports import RecordWrite, WriteOutcome
from tests import fakes
from tests.fakes import APP_ID, PORTAL
from tests.unit.lost_answers import lose_hubspot_answers, lose_salesforce_answers
from tests.unit.test_deals_part import ON, World, _opportunity


@pytest.fixture(autouse=True)
def opportunities_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, OPPORTUNITY, "006")


def _lose_deal_answers(world: World, times: int, *, lands: bool = True) -> None:
    """The next ``times`` creates are applied (when ``lands``), their answers lost."""
    lossy = lose_hubspot_answers(world.deals.create_deals, times, lands=lands)
    world.deals.create_deals = lossy  # type: ignore[method-assign, assignment]


def _lose_opportunity_answers(world: World, times: int) -> None:
    lose_salesforce_answers(world.sf, OPPORTUNITY, times)


def test_a_deal_create_whose_answer_was_lost_is_found_and_linked() -> None:
    world = World(ON)
    opportunity = _opportunity(world)
    _lose_deal_answers(world, 1)
    world.sync()
    ((deal_id, deal),) = world.deals.deals.items()  # never created twice
    assert deal["dealname"] == "Big deal"
    assert world.link_of_deal(deal_id).sf_id == opportunity
    assert world.deals.calls.count("deals_created_since") == 1  # one search for the batch
    assert world.deals.calls.count("create_deals") == 1
    assert world.roles.lookups == 0  # nothing lost on the Salesforce side: no query
    written = world.plans
    world.sync()
    assert world.plans == written  # no write after the settle


def test_an_opportunity_create_whose_answer_was_lost_is_found_and_linked() -> None:
    world = World(ON)
    deal_id = world.deals.add(
        dealname="From HubSpot", amount="1200", closedate="2027-01-15", dealstage="qualifiedtobuy"
    )
    _lose_opportunity_answers(world, 1)
    world.sync()
    ((opportunity_id, fields),) = world.opportunities().items()  # never created twice
    assert fields["Name"] == "From HubSpot"
    assert world.link_of_deal(deal_id).sf_id == opportunity_id
    assert world.roles.lookups == 1
    assert "deals_created_since" not in world.deals.calls


def test_normal_runs_look_for_nothing() -> None:
    world = World(ON)
    _opportunity(world)
    world.deals.add(dealname="From HubSpot", amount="1", closedate="2027-01-15", dealstage="qualifiedtobuy")
    world.sync()
    assert len(world.deals.deals) == 2
    assert len(world.opportunities()) == 2
    assert "deals_created_since" not in world.deals.calls
    assert world.roles.lookups == 0


def test_a_lost_create_that_did_not_land_is_created_once() -> None:
    world = World(ON)
    opportunity = _opportunity(world)
    _lose_deal_answers(world, 1, lands=False)
    world.sync()
    ((deal_id, _),) = world.deals.deals.items()
    assert world.link_of_deal(deal_id).sf_id == opportunity
    assert world.deals.calls.count("deals_created_since") == 1  # looked for, not found: created


def test_two_identical_opportunities_whose_deal_answers_are_lost_are_still_two_deals() -> None:
    world = World(ON)
    first, second = _opportunity(world), _opportunity(world)
    _lose_deal_answers(world, 1)  # the one batched create of both deals
    world.sync()
    assert len(world.deals.deals) == 2  # each lost create takes one record: S8 holds
    assert {world.link_of_deal(d).sf_id for d in world.deals.deals} == {first, second}
    assert world.deals.calls.count("create_deals") == 1
    assert world.deals.calls.count("deals_created_since") == 1


def test_a_linked_deal_of_the_same_values_is_never_taken() -> None:
    world = World(ON)
    _opportunity(world)
    world.sync()
    ((synced, _),) = world.deals.deals.items()
    world.clock.tick(1)
    twin = _opportunity(world)  # the same name, amount and close date
    _lose_deal_answers(world, 1, lands=False)
    world.sync()
    assert len(world.deals.deals) == 2
    made = next(d for d in world.deals.deals if d != synced)
    assert world.link_of_deal(made).sf_id == twin
    assert world.link_of_deal(synced).sf_id != twin


def test_an_apply_that_died_after_its_deal_create_is_found_once_its_lease_is_over() -> None:
    world = World(ON)
    _opportunity(world)
    deduper = Deduper(config=world.config, portal=PORTAL, salesforce=world.sf, hubspot=world.hs,
                      state=world.state, own_app_id=APP_ID, clock=world.clock, deals=world.deals,
                      opportunities=world.roles)  # fmt: skip
    plans = deduper.process(world.sf.drain_events()).plans
    applier = Applier(salesforce=world.sf, hubspot=world.hs, state=world.state, clock=world.clock,
                      deals=world.deals, opportunities=world.roles)  # fmt: skip
    create = world.deals.create_deals

    def dies(writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        create(writes)
        raise RuntimeError("the invocation timed out")

    world.deals.create_deals = dies  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        applier.apply(plans)
    world.deals.create_deals = create  # type: ignore[method-assign]
    # the same message delivered again while the dead invocation's lease may still run: it waits
    waiting = applier.apply(plans)
    assert waiting.retry_plan_ids == {p.plan_id for p in plans}
    assert len(world.deals.deals) == 1
    world.clock.tick((APPLY_TIMEOUT + dt.timedelta(seconds=31)).total_seconds())
    applier.apply(plans)
    (deal_id,) = world.deals.deals
    assert world.state.links_by_hubspot(PORTAL, [deal_id], kind=DEALS)[deal_id].sf_object == OPPORTUNITY
