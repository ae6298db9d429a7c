"""S13 with account sync: a Contact's AccountId <-> its HubSpot contact's primary company, through
the company links; the side whose change is synced wins (unknown: Salesforce when it has an Account);
Leads never get an Account; removals never move."""

from __future__ import annotations

import pytest

from shared.accounts.associations import AssociationMove, Move, decide_association

X, X2 = "001000000000001AAA", "001000000000002AAA"
C, C2 = "9001", "9002"
LINKS = {X: C, X2: C2}
BACK = {C: X, C2: X2}


def decide(account, company, changed, sf_object="Contact"):
    return decide_association(sf_object, account, company, LINKS, BACK, changed)


def test_a_lead_has_no_account_and_never_moves_companies():
    move = decide(None, C, "hubspot", sf_object="Lead")
    assert move.move is Move.NONE
    assert "Lead" in move.reason
    assert decide(X, None, "salesforce", sf_object="Lead").move is Move.NONE


@pytest.mark.parametrize("changed", ["hubspot", "salesforce", None])
def test_in_line_is_nothing_to_do(changed):
    assert decide(X, C, changed).move is Move.NONE


def test_unknown_change_salesforces_account_becomes_the_primary_company():
    assert decide(X, None, None) == AssociationMove(
        Move.SET_COMPANY, C, X, "the Contact's Account (Salesforce wins)"
    )
    assert decide(X, C2, None).move is Move.SET_COMPANY


def test_unknown_change_without_an_account_takes_the_companys_account():
    move = decide(None, C2, None)
    assert (move.move, move.account_id, move.company_id) == (Move.SET_ACCOUNT, X2, C2)


def test_a_contact_moved_to_another_company_moves_its_contact_to_that_account():
    move = decide(X, C2, "hubspot")
    assert (move.move, move.account_id) == (Move.SET_ACCOUNT, X2)


def test_a_contact_moved_to_another_account_gets_that_accounts_company():
    move = decide(X2, C, "salesforce")
    assert (move.move, move.company_id, move.reason) == (
        Move.SET_COMPANY,
        C2,
        "the Contact's Account changed",
    )


@pytest.mark.parametrize(
    ("account", "company", "changed"),
    [(X, None, "hubspot"), (None, C, "salesforce")],  # removed in HubSpot, removed in Salesforce
)
def test_a_removal_is_never_propagated(account, company, changed):
    assert decide(account, company, changed).move is Move.NONE


def test_a_company_without_an_account_needs_one_first():
    move = decide(X, "9003", "hubspot")
    assert (move.move, move.company_id) == (Move.NEEDS_ACCOUNT, "9003")


def test_an_account_without_a_company_needs_one_first():
    move = decide("001000000000003AAA", C, "salesforce")
    assert (move.move, move.account_id) == (Move.NEEDS_COMPANY, "001000000000003AAA")


def test_hssyncs_own_writes_coming_back_find_the_pair_in_line():
    # hssync set the company from the Account: the association change it causes is no move
    assert decide(X2, C2, "hubspot").move is Move.NONE
    assert decide(X2, C2, "salesforce").move is Move.NONE
