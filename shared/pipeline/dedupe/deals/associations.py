"""A contact's or a company's association change with a deal (HubSpot's ``CONTACT_TO_DEAL`` /
``COMPANY_TO_DEAL``, and hssync's own deal association writes coming back) is the deal's: with deal
sync on it is answered without a read. It is not a contact <-> company association (the accounts
part would read the contact's company for it), and a deal's associations are synced with the deal's
changes (a HubSpot association change alone waits for the deal's next change)."""

from __future__ import annotations

from shared.models import COMPANIES, CONTACTS, DEALS, ChangeEvent, ChangeType, System

DEAL_ASSOCIATION = "association with a deal (synced with the deal's changes)"


def with_a_deal(event: ChangeEvent) -> bool:
    """Whether ``event`` is a contact's or a company's association change with a deal."""
    return (
        event.system is System.HUBSPOT
        and event.change_type is ChangeType.ASSOCIATION
        and event.object_type in (CONTACTS, COMPANIES)
        and event.related_type == DEALS
    )
