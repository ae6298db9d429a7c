"""S13 with account sync: a Contact's ``AccountId`` <-> its HubSpot contact's primary company.

The side whose change is being synced wins (a HubSpot association change, a Contact's AccountId
edit); when that is not known (a resync, a first sync), Salesforce wins when it has an Account, and
HubSpot's primary company otherwise. The decision compares both sides' current state, so hssync's own
writes coming back find the pair in line. A side's value moves to the other through the company links:
an Account becomes the company it is linked to, a company the Account it is linked to; one not linked
yet must be created (or linked) first, when the creation settings allow.

Leads have no Account and never get one: a contact linked to a Lead keeps its companies untouched,
and its company never creates an Account. A removed value (no Account, no primary company) is
never propagated: a Contact keeps its Account, and a contact its companies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from shared.models import CONTACT

Changed = Literal["hubspot", "salesforce"] | None  # the side whose change is synced; None: unknown


class Move(StrEnum):
    NONE = "none"  # in line, or nothing to carry over
    SET_ACCOUNT = "set_account"  # write the Contact's AccountId
    SET_COMPANY = "set_company"  # make the company the contact's primary company
    NEEDS_ACCOUNT = "needs_account"  # the company has no Account yet: create or link it first
    NEEDS_COMPANY = "needs_company"  # the Account has no company yet: create or link it first


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
    changed: Changed,
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
    from_salesforce = changed == "salesforce" or (changed is None and account_id is not None)
    if from_salesforce and account_id is not None:
        return _to_hubspot(account_id, account_company, changed is not None)
    if not from_salesforce and primary_company is not None:
        return _to_salesforce(primary_company, account_of_company.get(primary_company))
    return AssociationMove(Move.NONE, reason="a removal (never propagated)")


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
