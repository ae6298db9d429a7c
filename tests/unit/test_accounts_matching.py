"""S7: a company's Account through its contacts (most of them, ties to the oldest Account), sticky
once linked, never by name."""

from __future__ import annotations

import datetime as dt
import inspect

from shared.accounts.matching import AccountMatch, MatchKind, match_account

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
A1, A2, A3 = "001000000000001AAA", "001000000000002AAA", "001000000000003AAA"
CREATED = {A1: T0 + dt.timedelta(days=2), A2: T0, A3: T0 + dt.timedelta(days=1)}


def test_the_account_most_of_the_companys_contacts_belong_to():
    match = match_account(None, [A1, A1, A2, None], CREATED)
    assert (match.account_id, match.kind) == (A1, MatchKind.BY_CONTACTS)
    assert match.votes == ((A1, 2), (A2, 1))
    assert match.several
    assert match.report() is not None
    assert A1 in (match.report() or "")


def test_a_tie_goes_to_the_oldest_account_and_is_reported():
    match = match_account(None, [A1, A2, A3, A3, A2, A1], CREATED)
    assert match.account_id == A2  # the oldest of the three tied
    assert "several Accounts" in (match.report() or "")


def test_a_tie_between_accounts_of_unknown_age_goes_to_the_known_then_the_smaller_id():
    assert match_account(None, [A3, A1], {A3: T0}).account_id == A3
    assert match_account(None, [A3, A1], {}).account_id == A1


def test_one_account_is_not_reported():
    match = match_account(None, [A1, A1, None], CREATED)
    assert match == AccountMatch(A1, MatchKind.BY_CONTACTS, ((A1, 2),))
    assert match.report() is None


def test_a_link_is_sticky_whatever_the_contacts_say():
    match = match_account(A3, [A1, A1, A1], CREATED)
    assert (match.account_id, match.kind) == (A3, MatchKind.LINKED)
    assert match.report() is None


def test_leads_and_contacts_without_an_account_match_nothing():
    match = match_account(None, [None, None], CREATED)
    assert (match.account_id, match.kind) == (None, MatchKind.NONE)
    assert match_account(None, [], CREATED).account_id is None


def test_an_account_linked_to_another_company_is_no_candidate_and_is_reported():
    match = match_account(None, [A1, A1, A2], CREATED, taken={A1})
    assert match.account_id == A2
    assert match.taken == (A1,)
    assert A1 in (match.report() or "")
    alone = match_account(None, [A1], CREATED, taken={A1})
    assert (alone.account_id, alone.kind) == (None, MatchKind.NONE)


def test_accounts_are_never_matched_by_name():
    # the rule takes no name at all: only links and the contacts' Accounts
    assert "name" not in " ".join(inspect.signature(match_account).parameters)
