"""A company or Account create whose answer is lost, on in-memory fakes: the next plan finds the
record it made (one query per batch) and links it, so neither is ever created twice; a create that
did not land is made once; an apply that died after its create is found once its lease is over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from shared.models import ACCOUNT, COMPANIES, CONTACT
from shared.pipeline.apply import APPLY_TIMEOUT, Applier
from shared.pipeline.dedupe import Deduper
from shared.ports import RecordWrite, WriteOutcome
from tests import fakes
from tests.fakes import APP_ID, PORTAL
from tests.unit.lost_answers import lose_hubspot_answers, lose_salesforce_answers
from tests.unit.test_accounts_part import ON, World


@pytest.fixture(autouse=True)
def accounts_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, ACCOUNT, "001")


def _lose_company_answers(world: World, times: int, *, lands: bool = True) -> None:
    """The next ``times`` creates are applied (when ``lands``), their answers lost."""
    lossy = lose_hubspot_answers(world.companies.create_companies, times, lands=lands)
    world.companies.create_companies = lossy  # type: ignore[method-assign, assignment]


def _lose_account_answers(world: World, times: int) -> None:
    lose_salesforce_answers(world.sf, ACCOUNT, times)


def _accounts(world: World) -> list[str]:
    return [rid for rid, row in world.sf.rows.items() if row.sobject == ACCOUNT]


def test_a_company_create_whose_answer_was_lost_is_found_and_linked_with_its_contacts() -> None:
    world = World(ON)
    account = world.sf.add(ACCOUNT, Name="Acme", Website="acme.example")
    contacts = [
        world.sf.add(CONTACT, LastName=f"P{n}", Email=f"p{n}@acme.example", AccountId=account)
        for n in range(2)
    ]
    _lose_company_answers(world, 1)
    world.sync()
    assert len(world.companies.companies) == 1  # never created twice
    company = next(iter(world.companies.companies))
    assert world.company_link(company).sf_id == account
    for contact in contacts:
        hubspot_contact = world.state.links_by_salesforce(PORTAL, [contact])[contact].hubspot_id
        assert world.companies.primary[hubspot_contact] == company
    assert world.companies.calls.count("companies_created_since") == 1  # one search for the batch
    assert world.companies.calls.count("create_companies") == 1


def test_an_account_create_whose_answer_was_lost_is_found_and_linked() -> None:
    world = World(ON)
    company = world.companies.add(name="Globex", domain="globex.example")
    _lose_account_answers(world, 1)
    world.sync()
    assert len(_accounts(world)) == 1  # never created twice
    assert world.company_link(company).sf_id == _accounts(world)[0]
    assert world.sf.rows[_accounts(world)[0]].fields["Name"] == "Globex"


def test_a_lost_create_that_did_not_land_is_created_once() -> None:
    world = World(ON)
    account = world.sf.add(ACCOUNT, Name="Initech")
    _lose_company_answers(world, 1, lands=False)
    world.sync()
    assert len(world.companies.companies) == 1
    company = next(iter(world.companies.companies))
    assert world.company_link(company).sf_id == account


def test_an_apply_that_died_after_its_create_is_found_once_its_lease_is_over() -> None:
    world = World(ON)
    world.sf.add(ACCOUNT, Name="Umbrella")
    deduper = Deduper(config=world.config, portal=PORTAL, salesforce=world.sf, hubspot=world.hs,
                      state=world.state, own_app_id=APP_ID, clock=world.clock, companies=world.companies,
                      accounts=world.accounts)  # fmt: skip
    plans = deduper.process(world.sf.drain_events()).plans
    applier = Applier(salesforce=world.sf, hubspot=world.hs, state=world.state, clock=world.clock,
                      companies=world.companies, accounts=world.accounts)  # fmt: skip
    create = world.companies.create_companies

    def dies(writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        create(writes)
        raise RuntimeError("the invocation timed out")

    world.companies.create_companies = dies  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        applier.apply(plans)
    world.companies.create_companies = create  # type: ignore[method-assign]
    # the same message delivered again while the dead invocation's lease may still run: it waits
    waiting = applier.apply(plans)
    assert waiting.retry_plan_ids == {p.plan_id for p in plans}
    assert len(world.companies.companies) == 1
    world.clock.tick((APPLY_TIMEOUT + dt.timedelta(seconds=31)).total_seconds())
    applier.apply(plans)
    assert len(world.companies.companies) == 1
    company = next(iter(world.companies.companies))
    assert world.state.links_by_hubspot(PORTAL, [company], kind=COMPANIES)[company].sf_object == ACCOUNT
