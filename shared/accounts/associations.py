"""S13 with account sync: a Contact's ``AccountId`` <-> its HubSpot contact's primary company.

The pair is kept like a two-way field: the contact link remembers the company and the Account last
synced (``Remembered``), so hssync's own writes coming back are no change. Of the two sides, the one
that changed since then wins; both changed, or never synced: Salesforce wins when it has an Account
(HubSpot's company otherwise). A side's value moves to the other through the company links: an
Account becomes the company it is linked to, a company the Account it is linked to; one not linked
yet must be created (or linked) first, when the creation settings allow.

Leads have no Account and never get one: a contact linked to a Lead keeps its companies untouched,
and its company never creates an Account. A removed value (no Account, no primary company) is
never propagated: a Contact keeps its Account, and a contact its companies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.models import CONTACT


class Move(StrEnum):
    NONE = "none"  # in line, or nothing to carry over
    SET_ACCOUNT = "set_account"  # write the Contact's AccountId
    SET_COMPANY = "set_company"  # make the company the contact's primary company
    NEEDS_ACCOUNT = "needs_account"  # the company has no Account yet: create or link it first
    NEEDS_COMPANY = "needs_company"  # the Account has no company yet: create or link it first


@dataclass(frozen=True)
class Remembered:
    """The company and the Account last synced for a contact pair (from its link)."""

    company_id: str | None
    account_id: str | None


@dataclass(frozen=True)
class AssociationMove:
    move: Move
    company_id: str | None = None  # the company to associate (or whose Account is needed)
    account_id: str | None = None  # the Account to set (or whose company is needed)
    reason: str = ""


def decide_association(
    sf_object: str,
    account_id: str | None,
    primary_company: str | None,
    company_of_account: Mapping[str, str],
    account_of_company: Mapping[str, str],
    remembered: Remembered | None,
) -> AssociationMove:
    """What brings a linked contact pair's Account and primary company in line.

    ``company_of_account`` and ``account_of_company``: the company links of the Accounts and the
    companies involved, read from either side.
    """
    if sf_object != CONTACT:
        return AssociationMove(Move.NONE, reason="a Lead has no Account")
    account_company = company_of_account.get(account_id) if account_id else None
    if account_id is not None and account_company is not None and account_company == primary_company:
        return AssociationMove(Move.NONE, primary_company, account_id, "in line")
    hs_changed = remembered is None or primary_company != remembered.company_id
    sf_changed = remembered is None or account_id != remembered.account_id
    from_salesforce = account_id is not None and (sf_changed or not hs_changed)
    if from_salesforce:
        return _to_hubspot(account_id, account_company, sf_changed)
    if primary_company is not None and hs_changed:
        return _to_salesforce(primary_company, account_of_company.get(primary_company))
    return AssociationMove(Move.NONE, reason="nothing changed, or a removal (never propagated)")


def _to_hubspot(account_id: str | None, company: str | None, changed: bool) -> AssociationMove:
    why = "the Contact's Account changed" if changed else "the Contact's Account (Salesforce wins)"
    if company is None:
        return AssociationMove(Move.NEEDS_COMPANY, account_id=account_id, reason=f"{why}; no company yet")
    return AssociationMove(Move.SET_COMPANY, company, account_id, why)


def _to_salesforce(company: str, account: str | None) -> AssociationMove:
    why = "the contact's primary company changed"
    if account is None:
        return AssociationMove(Move.NEEDS_ACCOUNT, company_id=company, reason=f"{why}; no Account yet")
    return AssociationMove(Move.SET_ACCOUNT, company, account, why)
