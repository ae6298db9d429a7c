"""Matching people across the two CRMs by email (S6).

HubSpot allows one contact per email; Salesforce allows any number of leads and contacts with the
same email. When several Salesforce records share an email, hssync links the HubSpot contact to the
oldest of them (deterministically: earliest ``CreatedDate``, then lowest id — the native connector
takes "the first record Salesforce returns, generally the oldest"), later syncs with whichever of
them was updated most recently, and reports the others as duplicates in sync health.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


def normalize_email(value: str | None) -> str | None:
    """Case-insensitive, whitespace-trimmed; blank is no email."""
    if value is None:
        return None
    email = value.strip().lower()
    return email or None


@dataclass(frozen=True)
class SalesforcePerson:
    """A Salesforce Contact or unconverted Lead that may match a HubSpot contact."""

    sobject: str  # "Lead" or "Contact"
    id: str
    email: str | None
    created: dt.datetime
    last_modified: dt.datetime


@dataclass(frozen=True)
class EmailMatch:
    email: str
    link_to: SalesforcePerson  # the record the HubSpot contact is linked to (the oldest)
    sync_with: SalesforcePerson  # the record whose values sync now (the most recently updated)
    duplicates: tuple[SalesforcePerson, ...]  # every record sharing the email except link_to

    @property
    def has_duplicates(self) -> bool:
        return bool(self.duplicates)


def match_by_email(records: Iterable[SalesforcePerson]) -> dict[str, EmailMatch]:
    """Group Salesforce records by normalised email and pick the link target and the sync source."""
    groups: dict[str, list[SalesforcePerson]] = defaultdict(list)
    for record in records:
        email = normalize_email(record.email)
        if email is not None:
            groups[email].append(record)
    matches: dict[str, EmailMatch] = {}
    for email, group in groups.items():
        oldest = min(group, key=lambda r: (r.created, r.id))
        newest = max(group, key=lambda r: (r.last_modified, r.created, r.id))
        matches[email] = EmailMatch(
            email=email,
            link_to=oldest,
            sync_with=newest,
            duplicates=tuple(sorted((r for r in group if r is not oldest), key=lambda r: (r.created, r.id))),
        )
    return matches
