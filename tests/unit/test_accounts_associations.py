"""S13 with account sync: a Contact's AccountId <-> its HubSpot contact's primary company, decided
like a two-way field through the company links; Leads never get an Account; removals never move."""

from __future__ import annotations

import pytest

from shared.accounts.associations import AssociationMove, Move, Remembered, decide_association

X, X2 = "001000000000001AAA", "001000000000002AAA"
C, C2 = "9001", "9002"
LINKS = {X: C, X2: C2}
BACK = {C: X, C2: X2}


def decide(account, company, remembered, sf_object="Contact", links=LINKS, back=BACK):
    return decide_association(sf_object, account, company, links, back, remembered)


def test_a_lead_has_no_account_and_never_moves_companies():
    move = decide(None, C, None, sf_object="Lead")
    assert move.move is Move.NONE
    assert "Lead" in move.reason
    assert decide(X, None, None, sf_object="Lead").move is Move.NONE


def test_in_line_is_nothing_to_do():
    assert decide(X, C, Remembered(C, X)).move is Move.NONE
    assert decide(X, C, None).move is Move.NONE


def test_first_sync_salesforces_account_becomes_the_primary_company():
    assert decide(X, None, None) == AssociationMove(Move.SET_COMPANY, C, X, "the Contact's Account changed")


def test_first_sync_without_an_account_takes_the_companys_account():
    move = decide(None, C2, None)
    assert (move.move, move.account_id, move.company_id) == (Move.SET_ACCOUNT, X2, C2)


def test_a_contact_moved_to_another_company_moves_its_contact_to_that_account():
    move = decide(X, C2, Remembered(C, X))
    assert (move.move, move.account_id) == (Move.SET_ACCOUNT, X2)


def test_a_contact_moved_to_another_account_gets_that_accounts_company():
    move = decide(X2, C, Remembered(C, X))
    assert (move.move, move.company_id) == (Move.SET_COMPANY, C2)


def test_both_changed_salesforce_wins():
    move = decide(X2, "9003", Remembered(C, X))
    assert (move.move, move.company_id) == (Move.SET_COMPANY, C2)


@pytest.mark.parametrize(
    ("account", "company"),
    [(X, None), (None, C)],  # removed in HubSpot, removed in Salesforce
)
def test_a_removal_is_never_propagated(account, company):
    assert decide(account, company, Remembered(C, X)).move is Move.NONE


def test_a_company_without_an_account_needs_one_first():
    move = decide(X, "9003", Remembered(C, X), back=BACK)
    assert (move.move, move.company_id) == (Move.NEEDS_ACCOUNT, "9003")


def test_an_account_without_a_company_needs_one_first():
    move = decide("001000000000003AAA", C, Remembered(C, X))
    assert (move.move, move.account_id) == (Move.NEEDS_COMPANY, "001000000000003AAA")


def test_an_echo_of_hssyncs_own_association_is_no_change():
    # hssync set the company from the Account; both sides now hold what it remembered
    assert decide(X2, C2, Remembered(C2, X2)).move is Move.NONE
