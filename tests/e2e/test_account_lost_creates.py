"""A company or Account create whose answer is lost (issue 13: ``shared.accounts.creation_intents``):
the sandbox applies the create, then drops its answer; hssync finds the record it made and links
it, never creating a second one. Every test asserts both CRMs' final state and that no write follows
the settle."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import World, quiet
from tests.e2e.test_accounts import ACCOUNTS_ON, companies, company, company_link, contact_of, primary_company


@pytest.fixture
def accounts(world: World) -> World:
    world.use_config(ACCOUNTS_ON)
    return world


def lose_one(world: World, system: str, path: str) -> None:
    """The next hssync write to ``path`` is applied, then its answer is lost (a dropped connection)."""
    body = {"rate": 1, "kinds": ["lost"], "path": path, "limit": 1, "timeout_seconds": 0.5}
    world.sandbox_post(system, "faults", body)


def injected(world: World, system: str) -> dict[str, Any]:
    faults = world.sandbox.salesforce.faults if system == "salesforce" else world.sandbox.hubspot.faults
    return dict(faults.injected)


def test_a_new_account_whose_company_create_answer_is_lost_makes_one_company(accounts: World) -> None:
    world = accounts
    lose_one(world, "hubspot", "/crm/v3/objects/companies/batch/create")
    try:
        account = world.salesforce_create("Account", Name="Lost Answers Ltd", Website="lost.example.com")
        people = [
            world.salesforce_create(
                "Contact", LastName=name, Email=f"{name.lower()}@lost.example.com", AccountId=account
            )
            for name in ("Turing", "Hopper")
        ]
        quiet(world, "the new Account whose company create lost its answer")
        assert injected(world, "hubspot") == {"lost": 1}  # the company create was applied, unanswered
    finally:
        world.faults_off()

    (made,) = companies(world)  # exactly one company
    assert company(world, made.id)["name"] == "Lost Answers Ltd"
    assert company(world, made.id)["domain"] == "lost.example.com"
    link = company_link(world, made.id)
    assert link is not None
    assert link.sf_id == account
    for person in people:
        assert primary_company(world, contact_of(world, person)) == made.id
        assert world.salesforce_row("Contact", person)["AccountId"] == account
    assert len(world.salesforce_rows("Account")) == 1
    assert world.health() == []


def test_a_new_company_whose_account_create_answer_is_lost_makes_one_account(accounts: World) -> None:
    from tests.e2e.test_accounts import hubspot_company

    world = accounts
    lose_one(world, "salesforce", "/composite/sobjects")
    try:
        made = hubspot_company(world, name="Unanswered Inc", domain="unanswered.example.com")
        quiet(world, "the new company whose Account create lost its answer")
        assert injected(world, "salesforce") == {"lost": 1}  # the Account create was applied, unanswered
    finally:
        world.faults_off()

    (account,) = world.salesforce_rows("Account")  # exactly one Account
    assert account["Name"] == "Unanswered Inc"
    assert account["Website"] == "unanswered.example.com"
    link = company_link(world, made)
    assert link is not None
    assert link.sf_id == account["Id"]
    assert [c.id for c in companies(world)] == [made]
    assert company(world, made)["name"] == "Unanswered Inc"
    assert world.health() == []
