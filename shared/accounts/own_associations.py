"""hssync's own association writes coming back (S13): HubSpot sends a contact <-> company
association change with no ``sourceId``, so it cannot say who made it. The company link remembers
the contacts hssync last made primary contacts of its company (``Link.associated``), and an
association *added* between one of them and that company shortly after is hssync's own: it is
answered without reading either CRM. A removal is never hssync's (it never removes a primary
company), and anything else about the contact is read and decided as before.

What a link remembers is bounded: the contacts of its latest writes within :data:`ECHO_WINDOW`,
at most :data:`MAX_REMEMBERED` of them (a contact beyond that is read again: slower, never wrong).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from shared.ports import Link

# how long after hssync associated a contact with a company its association change counts as its own
ECHO_WINDOW = dt.timedelta(minutes=10)
MAX_REMEMBERED = 1000


def remembered(
    previous: Link | None, associated: Sequence[str], now: dt.datetime
) -> tuple[tuple[str, ...], dt.datetime | None]:
    """What a company link remembers (its ``associated`` and ``associated_at``) once hssync
    associated ``associated`` with its company now: those, after the ones it still remembers from a
    recent write (newest kept, at most :data:`MAX_REMEMBERED`)."""
    recent = previous.associated if previous is not None and _recent(previous, now) else ()
    if not associated:
        return (recent, previous.associated_at) if recent and previous is not None else ((), None)
    fresh = set(associated)
    kept = [c for c in recent if c not in fresh] + list(dict.fromkeys(associated))
    return tuple(kept[-MAX_REMEMBERED:]), now


def is_own_association(link: Link | None, contact: str, occurred_at: dt.datetime) -> bool:
    """Whether an association added between ``contact`` and the company of ``link`` at
    ``occurred_at`` is hssync's own write coming back."""
    if link is None or contact not in link.associated:
        return False
    return _recent(link, occurred_at)


def _recent(link: Link, when: dt.datetime) -> bool:
    return link.associated_at is not None and abs(when - link.associated_at) <= ECHO_WINDOW
