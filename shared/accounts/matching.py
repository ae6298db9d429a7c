"""S7: which Salesforce Account a HubSpot company is linked to.

A company is linked through its associated contacts, never by its name: the company's contacts that
are linked to Salesforce Contacts point at those Contacts' Accounts, and the company links to the
Account most of them belong to; a tie goes to the oldest Account (then the smaller id), and several
Accounts are reported. Leads have no Account and count for nothing. A link, once made, is sticky:
the company keeps its Account whatever its contacts do later. An Account already linked to another
company is not a candidate (a company and an Account are linked one to one).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class MatchKind(StrEnum):
    LINKED = "linked"  # the company's link (sticky)
    BY_CONTACTS = "by_contacts"  # the Account most of its synced contacts belong to
    NONE = "none"  # no synced contact with an Account: created, if creation allows


@dataclass(frozen=True)
class AccountMatch:
    """The Account of a company, how it was found, and what an admin should hear about."""

    account_id: str | None
    kind: MatchKind
    # every Account the company's contacts belong to, with how many of them (several: reported)
    votes: tuple[tuple[str, int], ...] = ()
    taken: tuple[str, ...] = ()  # Accounts left out: linked to another company

    @property
    def several(self) -> bool:
        """Whether the company's contacts belong to several Accounts (reported in sync health)."""
        return len(self.votes) > 1

    def report(self) -> str | None:
        """What sync health says about this match, if anything."""
        if self.taken:
            return f"its contacts' Account(s) {', '.join(self.taken)} are linked to another company"
        if not self.several:
            return None
        counted = ", ".join(f"{account} ({count})" for account, count in self.votes)
        return f"its contacts belong to several Accounts: {counted}; linked to {self.account_id}"


def match_account(
    linked_account: str | None,
    contact_accounts: Iterable[str | None],
    account_created: Mapping[str, dt.datetime],
    taken: Collection[str] = (),
) -> AccountMatch:
    """The Account of one company.

    ``linked_account``: the company's link, if any (it wins: links are sticky); ``contact_accounts``:
    the AccountId of the Salesforce record of each of the company's synced contacts (None for a Lead
    or a Contact without an Account); ``account_created``: each Account's CreatedDate (an Account
    missing here is treated as the newest); ``taken``: Accounts linked to another company.
    """
    if linked_account is not None:
        return AccountMatch(linked_account, MatchKind.LINKED)
    counts = Counter(account for account in contact_accounts if account)
    left_out = tuple(sorted(a for a in counts if a in taken))
    votes = sorted(
        ((a, n) for a, n in counts.items() if a not in taken),
        key=lambda vote: (-vote[1], _age(account_created, vote[0]), vote[0]),
    )
    if not votes:
        return AccountMatch(None, MatchKind.NONE, taken=left_out)
    return AccountMatch(votes[0][0], MatchKind.BY_CONTACTS, tuple(votes), left_out)


def _age(created: Mapping[str, dt.datetime], account: str) -> dt.datetime:
    """Oldest first; an Account whose creation is unknown counts as the newest."""
    return created.get(account, dt.datetime.max.replace(tzinfo=dt.UTC))
