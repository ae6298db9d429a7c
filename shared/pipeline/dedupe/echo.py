"""How dedupe recognises hssync's own changes (DESIGN §5): the one home of the marks hssync's
writes carry and of the checks that read them.

- Salesforce: every request hssync makes carries ``Sforce-Call-Options: client=hssync``
  (``shared.models.SALESFORCE_CALL_OPTIONS``, which the adapter sends), so the change events of its
  writes carry it in ``changeOrigin``.
- HubSpot: a change made through the API by an app has ``changeSource`` ``INTEGRATION`` and the
  app's id as ``sourceId``; hssync's app id is configuration (``own_app_id``).
- A notification that only reports values hssync last synced is answered from the link, without
  a read; one whose pair hssync is still writing to waits until the write is recorded
  (``shared.intents``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence

from shared.models import SALESFORCE_CALL_OPTIONS, ChangeEvent, ChangeType
from shared.pipeline.dedupe.outcome import Retry
from shared.ports import Link

CALL_OPTIONS = SALESFORCE_CALL_OPTIONS
# changeOrigin of Salesforce changes made by hssync itself (Sforce-Call-Options: client=hssync)
OWN_CLIENT_MARKER = CALL_OPTIONS
# HubSpot's changeSource for changes made through the API by an app (its id is the sourceId)
INTEGRATION_SOURCE = "INTEGRATION"

ECHO = "echo of our own write"
ALREADY_SYNCED = "reported values already synced"
OWN_CREATION_DEFERRALS = 2  # then a creation by hssync's app whose link is still missing is read

Clock = Callable[[], dt.datetime]
Comparable = Callable[[str, str, str | None], str | None]  # (property, Salesforce object, value)


def made_in_salesforce_by_hssync(event: ChangeEvent) -> bool:
    """Whether hssync's own write made this Salesforce change."""
    return bool(event.origin and OWN_CLIENT_MARKER in event.origin)


def made_in_hubspot_by_hssync(event: ChangeEvent, own_app_id: str | None) -> bool:
    """Whether hssync's own HubSpot app made this change."""
    return bool(own_app_id and event.origin == INTEGRATION_SOURCE and event.origin_id == own_app_id)


def answered_from_link(
    event: ChangeEvent,
    link: Link | None,
    *,
    own_app_id: str | None,
    mapped: Collection[str],
    inclusion: Collection[str],
    comparable: Comparable,
) -> bool:
    """Whether a HubSpot notification can be answered without reading the contact: the pair is
    linked and every value it reports for a mapped property is the one hssync last synced (the
    echo of hssync's own write, or a write of the same value). A creation counts only when
    hssync's app made it. Anything else, or an inclusion-list property, is read."""
    if link is None or event.change_type not in (ChangeType.CREATE, ChangeType.UPDATE):
        return False
    if link.intent is not None:  # a write not recorded yet: the contact is read
        return False
    if event.change_type is ChangeType.CREATE and not made_in_hubspot_by_hssync(event, own_app_id):
        return False
    if not event.changed_fields and event.change_type is ChangeType.UPDATE:
        return False
    if any(name not in event.reported for name in event.changed_fields):
        return False
    for name, value in event.reported.items():
        if name in inclusion:
            return False
        if name not in mapped:
            continue
        synced = link.synced.get(name)
        if synced is None or comparable(name, link.sf_object, value) != synced[0]:
            return False
    return True


def awaits_own_link(unknown: Sequence[ChangeEvent], own_app_id: str | None) -> bool:
    """Whether the unlinked contact's changes are all hssync's own creation, seen before apply
    recorded its link: they are looked at again shortly, and then answered from the link (a read
    would only find what apply wrote)."""
    return all(
        made_in_hubspot_by_hssync(e, own_app_id) and e.attempt < OWN_CREATION_DEFERRALS for e in unknown
    )


def writing(link: Link | None, clock: Clock) -> bool:
    """Whether apply may still be writing to this pair: it is decided once the write is recorded."""
    return link is not None and link.intent is not None and link.intent.in_flight(clock())


def hold_writes_in_flight(
    links: Mapping[str, Link], events: Mapping[str, ChangeEvent | Sequence[ChangeEvent]], clock: Clock
) -> tuple[set[str], dict[str, Link], list[Retry]]:
    """The pairs with a write in flight (by the key of ``links``), the links without them, and their
    changes to decide again once the write is recorded (``shared.intents``): every change of such a
    pair waits, not one for all."""
    busy = {key for key, link in links.items() if writing(link, clock)}
    retries: list[Retry] = []
    for key in busy:
        waiting = events.get(key)
        if isinstance(waiting, ChangeEvent):
            retries.append(Retry(waiting))
        elif waiting:
            retries.append(Retry.all_of(waiting))
    return busy, {key: link for key, link in links.items() if key not in busy}, retries
