"""Recipient -> the Salesforce record a task goes on: the recipient's synced HubSpot contact and the
Lead or Contact it is linked to. Lookups are by email in batches (``links_by_email``); a recipient
with no link is skipped with its reason, and tried again for a while (``shared.email_events.retry``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.email_events.events import EmailEvent
from shared.ports import Link

NOT_SYNCED = "recipient_not_synced"


@dataclass(frozen=True)
class Target:
    """The record a task goes on."""

    sf_object: str  # Lead or Contact
    sf_id: str
    hubspot_id: str


@dataclass(frozen=True)
class Resolution:
    resolved: list[tuple[EmailEvent, Target]]
    skipped: list[tuple[EmailEvent, str]]  # the event and why


def recipients(events: Sequence[EmailEvent]) -> list[str]:
    """The distinct recipients of ``events`` (normalised emails), in order."""
    return list(dict.fromkeys(event.recipient for event in events))


def resolve(events: Sequence[EmailEvent], links: Mapping[str, Link]) -> Resolution:
    """``links``: recipient email -> its contact's link (recipients with none are absent)."""
    resolved: list[tuple[EmailEvent, Target]] = []
    skipped: list[tuple[EmailEvent, str]] = []
    for event in events:
        link = links.get(event.recipient)
        if link is None:
            skipped.append((event, NOT_SYNCED))
        else:
            resolved.append((event, Target(link.sf_object, link.sf_id, link.hubspot_id)))
    return Resolution(resolved, skipped)
