"""Linking by email (S6): a HubSpot contact with no link is linked to the oldest Salesforce Lead or
Contact with its email, and syncs with the most recently updated of them; the others are reported
as duplicates. ``shared.matching`` picks them; this module turns the pick into links and notes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from shared.matching import SalesforcePerson, match_by_email
from shared.models import ChangeEvent
from shared.pipeline.dedupe.reconcile import Pair
from shared.pipeline.dedupe.records import sf_key
from shared.pipeline.plans import HealthNote
from shared.ports import HubSpotContact, Link, SalesforceRecord


@dataclass(frozen=True)
class Match:
    link_to: SalesforceRecord  # the oldest record with the email
    sync_with: SalesforceRecord  # the most recently updated one
    duplicates: tuple[str, ...]  # the others, as "Object:Id"
    notes: tuple[HealthNote, ...]


def matches(found: Iterable[SalesforceRecord]) -> dict[str, Match]:
    """The Salesforce Leads and Contacts found for some emails, by email: which to link to, which
    to sync with. Person accounts are left out: they sync through their account."""
    people = {r.id: r for r in found if not r.fields.get("IsPersonAccount")}
    persons = [
        SalesforcePerson(r.sobject, r.id, r.fields.get("Email"), r.created, r.last_modified)
        for r in people.values()
    ]
    out: dict[str, Match] = {}
    for email, match in match_by_email(persons).items():
        oldest = match.link_to
        out[email] = Match(
            link_to=people[oldest.id],
            sync_with=people[match.sync_with.id],
            duplicates=tuple(f"{d.sobject}:{d.id}" for d in match.duplicates),
            notes=tuple(duplicate_note(d.sobject, d.id, oldest.sobject, oldest.id) for d in match.duplicates),
        )
    return out


def first_link(portal: str, contact: HubSpotContact, match: Match) -> Link:
    """A first link: to the oldest record with the email (it syncs with the most recently updated)."""
    return Link(portal, contact.id, match.link_to.sobject, match.link_to.id, duplicates=match.duplicates)


def email_pair(portal: str, contact: HubSpotContact, match: Match, event: ChangeEvent) -> Pair:
    """A contact's first sync, linked by email: to the oldest record, with the most recently updated."""
    target = first_link(portal, contact, match)
    return Pair(contact, match.sync_with, None, event, link=target, new_link=True, notes=match.notes)


def with_duplicate(link: Link, sobject: str, record_id: str) -> Link:
    """``link`` knowing one more same-email record of its contact (it may sync with it)."""
    known = f"{sobject}:{record_id}"
    duplicates = link.duplicates if known in link.duplicates else (*link.duplicates, known)
    return replace(link, duplicates=duplicates)


def duplicate_note(sobject: str, record_id: str, linked_object: str, linked_id: str) -> HealthNote:
    """Sync health: a Salesforce record that shares its email with the one the contact is linked to."""
    return HealthNote(
        system="salesforce",
        record=sf_key(sobject, record_id),
        category="duplicates",
        code="DUPLICATE_EMAIL",
        message=(
            f"{sobject} {record_id} shares its email with {linked_object} {linked_id}, which the HubSpot "
            "contact is linked to; the most recently updated of them syncs"
        ),
    )
