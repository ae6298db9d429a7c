"""Contacts search: ``contacts_modified_since``, the poller's read.

Search on ``hs_lastmodifieddate`` (``GT``, ascending, 200 per page, paged with ``after``). Search stops
at 10,000 results per query: the adapter then starts a new query from the last timestamp seen (``GTE``,
skipping the ids already returned). Search calls are paced: 3 per second by default, a margin under
HubSpot's 4-5 per token (a 429 is still honoured).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from shared.adapters.hubspot.parse import MODIFIED, modified, to_contact
from shared.adapters.hubspot.transport import HubSpotTransport, Pacer
from shared.ports import HubSpotContact
from shared.times import epoch_ms

SEARCH_PAGE = 200
SEARCH_MAX_RESULTS = 10_000
SEARCH_PER_SECOND = 3.0


class HubSpotSearch(HubSpotTransport):
    _pacer: Pacer

    def contacts_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotContact]:
        """Contacts with ``hs_lastmodifieddate > since``, oldest first.

        May return more than ``limit`` contacts: those sharing the last one's modification time are
        all included, so that a cursor kept as "the newest timestamp processed" never skips any.
        """
        if limit < 1:
            raise ValueError("limit must be positive")
        props = list(dict.fromkeys([*properties, MODIFIED]))
        collected: list[HubSpotContact] = []
        seen: set[str] = set()
        operator, floor, after = "GT", epoch_ms(since), 0
        while True:
            page = self._search(props, operator, floor, after)
            fresh = [to_contact(o, props) for o in page.results or () if str(o.id) not in seen]
            seen.update(c.id for c in fresh)
            collected.extend(fresh)
            if _complete(collected, limit):
                break
            next_after = int(page.paging.next.after) if page.paging and page.paging.next else None
            if next_after is not None and next_after < SEARCH_MAX_RESULTS:
                after = next_after
                continue
            if (page.total or 0) <= after + len(page.results or ()) or not fresh:
                break  # the end, or a restart that found nothing new
            operator, floor, after = "GTE", epoch_ms(modified(collected[-1])), 0  # past the 10,000 cap
        return _trim(collected, limit)

    def _search(self, props: list[str], operator: str, floor: int, after: int) -> Any:
        from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest

        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(filters=[Filter(property_name=MODIFIED, operator=operator, value=str(floor))])
            ],
            sorts=[{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            properties=props,
            limit=SEARCH_PAGE,
            after=str(after) if after else None,
        )

        def call() -> Any:
            self._pacer.wait()
            return self._searcher().do_search(request, **self._opts())

        return self._read("search", call)


def _complete(collected: Sequence[HubSpotContact], limit: int) -> bool:
    """True once ``limit`` contacts are in and a later timestamp shows the last one's is complete."""
    if len(collected) <= limit:
        return False
    boundary = modified(collected[limit - 1])
    return any(modified(c) > boundary for c in collected[limit:])


def _trim(collected: Sequence[HubSpotContact], limit: int) -> list[HubSpotContact]:
    if len(collected) <= limit:
        return list(collected)
    boundary = modified(collected[limit - 1])
    return [*collected[:limit], *(c for c in collected[limit:] if modified(c) <= boundary)]
