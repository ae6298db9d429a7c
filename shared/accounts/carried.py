"""A contact's change of company or Account answered by the company plan that already carried it
(S13). A new contact's change waits for its first sync's link, and by then the plan of its company
has often brought it in line already: a new Account's plan associates every Contact it reads with its
company, a company's plan gives its contacts' new Contacts its Account. The company link remembers
the contacts hssync last brought in line with its company (``Link.associated``,
``shared.accounts.own_associations``: the contacts it made primary contacts of the company and,
marked by :func:`moved_mark`, those whose Contacts it gave the company's Account). The change is
answered without reading the Contact's Account (a Salesforce read) when all of these hold (the
contact's primary company is read as before):

- the contact was first synced after the change occurred (its link was made after it: the change
  was part of the state its first sync and its company's plan saw, not a later move);
- the company that is now the contact's primary company remembers it;
- that company's plan wrote after the change occurred, within :data:`ECHO_WINDOW` of it.

Anything else (a contact synced before the change, a company that does not remember it, an old
write) is read and decided as before: slower, never wrong. A Contact moved to another Account
before its contact's first sync, between the company plan's read and its write (seconds), is the
one case this does not see (the same bound as hssync's own association writes coming back).
"""

from __future__ import annotations

import datetime as dt

from shared.accounts.own_associations import ECHO_WINDOW
from shared.ports import Link

MOVED = "moved:"  # a remembered contact whose Contact hssync moved to the company's Account


def moved_mark(contact: str) -> str:
    """How a company link remembers a contact whose Salesforce Contact hssync gave its Account (not
    a contact it associated in HubSpot: such a mark is never taken for hssync's own association)."""
    return f"{MOVED}{contact}"


def carried_by_company(
    company_link: Link | None, contact_link: Link | None, occurred_at: dt.datetime
) -> bool:
    """Whether the change of the contact of ``contact_link`` that occurred at ``occurred_at`` was
    carried by the plan of ``company_link`` (its primary company's link)."""
    if company_link is None or contact_link is None:
        return False
    written = company_link.associated_at
    first_synced = contact_link.linked_at
    contact = contact_link.hubspot_id
    if written is None or first_synced is None:
        return False
    if contact not in company_link.associated and moved_mark(contact) not in company_link.associated:
        return False
    return first_synced >= occurred_at and occurred_at <= written <= occurred_at + ECHO_WINDOW
