"""Lifecycle stages from opportunities (S15): when they apply, who moves, never backwards, batched."""

from __future__ import annotations

import pytest

from shared.config import parse_config
from shared.deals.lifecycle import (
    DealState,
    OpportunityContacts,
    applies,
    contacts_to_read,
    lifecycle_writes,
    moves_forward,
    transitions,
)

BOTH = "portals: [1]\naccounts: {enabled: true}\ndeals: {enabled: true}\n"
ON = parse_config(BOTH)
TO_COMPANY = parse_config(BOTH + "lifecycle: {sync_to_company_contacts: true}")


def test_it_applies_only_with_deal_sync_account_sync_and_automatic_transitions_on():
    assert applies(ON)
    assert not applies(parse_config("portals: [1]\ndeals: {enabled: true}"))
    assert not applies(parse_config("portals: [1]\naccounts: {enabled: true}"))
    off = BOTH + "lifecycle: {automatic_transitions: false}"
    assert not applies(parse_config(off))
    won = [OpportunityContacts(DealState.WON, ("1",))]
    assert transitions(parse_config(off), won, {"1": "lead"}) == {}


def test_the_state_of_an_opportunity():
    assert DealState.of(closed=False, won=False) is DealState.OPEN
    assert DealState.of(closed=True, won=True) is DealState.WON
    assert DealState.of(closed=True, won=False) is DealState.LOST


def test_closed_won_makes_its_contact_roles_customers_and_open_makes_them_opportunities():
    opportunities = [
        OpportunityContacts(DealState.WON, ("1", "2"), company_contacts=("9",)),
        OpportunityContacts(DealState.OPEN, ("3",)),
    ]
    current = {"1": "lead", "2": None, "3": "subscriber", "9": "lead"}
    assert transitions(ON, opportunities, current) == {"1": "customer", "2": "customer", "3": "opportunity"}


def test_with_sync_to_company_contacts_the_companys_other_contacts_move_too():
    opportunities = [OpportunityContacts(DealState.WON, ("1",), company_contacts=("8", "9"))]
    current = {"1": "lead", "8": "opportunity", "9": "salesqualifiedlead"}
    assert transitions(TO_COMPANY, opportunities, current) == {
        "1": "customer",
        "8": "customer",
        "9": "customer",
    }


def test_an_opportunity_without_contact_roles_changes_nothing_even_for_its_company():
    opportunities = [OpportunityContacts(DealState.WON, (), company_contacts=("8", "9"))]
    assert transitions(TO_COMPANY, opportunities, {"8": "lead", "9": "lead"}) == {}


def test_a_lost_opportunity_changes_nothing():
    assert transitions(ON, [OpportunityContacts(DealState.LOST, ("1",))], {"1": "lead"}) == {}


@pytest.mark.parametrize(
    ("current", "target", "moves"),
    [
        (None, "opportunity", True),
        ("", "customer", True),
        ("lead", "opportunity", True),
        ("opportunity", "customer", True),
        ("opportunity", "opportunity", False),
        ("customer", "opportunity", False),  # never backwards
        ("customer", "customer", False),
        ("evangelist", "customer", False),
        ("other", "customer", False),  # outside the order: never touched
        ("my_custom_stage", "customer", False),
    ],
)
def test_stages_never_move_backwards(current, target, moves):
    assert moves_forward(current, target) is moves


def test_a_customer_is_never_made_an_opportunity_by_a_new_open_deal():
    opportunities = [OpportunityContacts(DealState.OPEN, ("1", "2"))]
    assert transitions(ON, opportunities, {"1": "customer", "2": "lead"}) == {"2": "opportunity"}


def test_a_contact_of_several_opportunities_gets_the_furthest_target():
    opportunities = [
        OpportunityContacts(DealState.OPEN, ("1",)),
        OpportunityContacts(DealState.WON, ("1",)),
        OpportunityContacts(DealState.OPEN, ("1",)),
    ]
    assert transitions(ON, opportunities, {"1": "lead"}) == {"1": "customer"}


def test_contacts_not_read_are_left_out():
    assert transitions(ON, [OpportunityContacts(DealState.WON, ("1", "2"))], {"1": "lead"}) == {
        "1": "customer"
    }


def test_each_transition_is_one_batched_write_and_the_reads_are_one_batch():
    moves = {"3": "customer", "1": "opportunity", "2": "customer"}
    assert lifecycle_writes(moves) == {"opportunity": ["1"], "customer": ["2", "3"]}
    opportunities = [
        OpportunityContacts(DealState.WON, ("2", "1"), ("7",)),
        OpportunityContacts(DealState.LOST, ("5",)),
    ]
    assert contacts_to_read(opportunities, to_company=False) == ["1", "2"]
    assert contacts_to_read(opportunities, to_company=True) == ["1", "2", "7"]
