"""Contacts and companies search: ``contacts_modified_since`` and ``companies_modified_since``, the
poller's reads (companies with account sync on; their calls are counted as ``companies_search``),
and ``companies_created_since`` (and the deals adapter's ``deals_created_since``), where a company
(or deal) create whose answer was lost is looked for.

Search on ``hs_lastmodifieddate`` (``GT``, ascending, 200 per page, paged with ``after``). Search stops
at 10,000 results per query: the adapter then starts a new query from the last timestamp seen (``GTE``,
skipping the ids already returned). Search calls are paced: 3 per second by default, a margin under
HubSpot's 4-5 per token (a 429 is still honoured).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from functools import partial
from typing import Any

from shared.accounts.creation_intents import IDENTIFYING, Created, CreatedKind
from shared.adapters.hubspot.parse import MODIFIED, modified, to_contact
from shared.adapters.hubspot.transport import COMPANIES, CONTACTS, DEALS, HubSpotTransport, Pacer
from shared.chunking import chunks
from shared.models import COMPANIES as COMPANIES_KIND
from shared.models import DEALS as DEALS_KIND
from shared.ports import HubSpotCompany, HubSpotContact
from shared.times import as_utc, epoch_ms

SEARCH_PAGE = 200
SEARCH_MAX_RESULTS = 10_000
SEARCH_PER_SECOND = 3.0
CREATED = "createdate"
CREATED_NAMES = 100  # values of one IN filter
# where each kind's lost creates are looked for: its client package, and its calls' counter
_CREATED_SEARCH: dict[CreatedKind, tuple[str, str]] = {
    COMPANIES_KIND: (COMPANIES, "companies_search"),
    DEALS_KIND: (DEALS, "deals_search"),
}


class HubSpotSearch(HubSpotTransport):
    _pacer: Pacer

    def contacts_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotContact]:
        """Contacts with ``hs_lastmodifieddate > since``, oldest first.

        May return more than ``limit`` contacts: those sharing the last one's modification time are
        all included, so that a cursor kept as "the newest timestamp processed" never skips any.
        """
        return self._modified_since(since, properties, limit, CONTACTS)

    def companies_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotCompany]:
        """:meth:`contacts_modified_since` for companies."""
        return self._modified_since(since, properties, limit, COMPANIES)

    def companies_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """Companies created at or after ``since`` named one of ``names`` (``createdate GTE`` and
        ``name IN``, 100 names a search, 200 results a page): where a company create whose answer
        was lost is looked for. Counted as ``companies_search``."""
        return self._created_since(COMPANIES_KIND, names, since)

    def _created_since(self, kind: CreatedKind, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """Records of ``kind`` created at or after ``since`` whose name (the first of their
        identifying properties, ``shared.accounts.creation_intents.IDENTIFYING``) is one of ``names``,
        with their identifying properties."""
        package, operation = _CREATED_SEARCH[kind]
        fields = IDENTIFYING[(kind, "hubspot")]
        models: Any = importlib.import_module(package)
        searcher = models.SearchApi(self._client(package))
        out: list[Created] = []
        for group in chunks(sorted({n for n in names if n}), CREATED_NAMES):
            after: str | None = None
            while True:
                request = _created_request(models, fields, list(group), since, after)
                page = self._paced_search(searcher, request, operation, package)
                out += [_created(o, fields) for o in page.results or ()]
                after = str(page.paging.next.after) if page.paging and page.paging.next else None
                if after is None:
                    break
        return out

    def _paced_search(self, searcher: Any, request: Any, operation: str, package: str) -> Any:
        def call() -> Any:
            self._pacer.wait()
            return searcher.do_search(request, **self._opts())

        return self._read(operation, call, package)

    def _modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int, package: str
    ) -> list[HubSpotContact]:
        if limit < 1:
            raise ValueError("limit must be positive")
        props = list(dict.fromkeys([*properties, MODIFIED]))
        collected: list[HubSpotContact] = []
        seen: set[str] = set()
        operator, floor, after = "GT", epoch_ms(since), 0
        search = self._search if package == CONTACTS else partial(self._search_in, package)
        while True:
            page = search(props, operator, floor, after)
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
        return self._search_in(CONTACTS, props, operator, floor, after)

    def _search_in(self, package: str, props: list[str], operator: str, floor: int, after: int) -> Any:
        models: Any = importlib.import_module(package)
        request = models.PublicObjectSearchRequest(
            filter_groups=[
                models.FilterGroup(
                    filters=[models.Filter(property_name=MODIFIED, operator=operator, value=str(floor))]
                )
            ],
            sorts=[{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            properties=props,
            limit=SEARCH_PAGE,
            after=str(after) if after else None,
        )

        searcher = self._searcher() if package == CONTACTS else models.SearchApi(self._client(package))

        def call() -> Any:
            self._pacer.wait()
            return searcher.do_search(request, **self._opts())

        return self._read("search" if package == CONTACTS else "companies_search", call, package)


def _created_request(
    models: Any, fields: Sequence[str], names: list[str], since: dt.datetime, after: str | None
) -> Any:
    """The search of records created since ``since`` whose name (``fields[0]``) is one of ``names``
    (lower case: HubSpot compares string values of ``IN`` in lower case)."""
    filters = [
        models.Filter(property_name=CREATED, operator="GTE", value=str(epoch_ms(since))),
        models.Filter(property_name=fields[0], operator="IN", values=[n.lower() for n in names]),
    ]
    return models.PublicObjectSearchRequest(
        filter_groups=[models.FilterGroup(filters=filters)],
        sorts=[{"propertyName": CREATED, "direction": "ASCENDING"}],
        properties=[*fields, CREATED],
        limit=SEARCH_PAGE,
        after=after,
    )


def _created(obj: Any, fields: Sequence[str]) -> Created:
    props = obj.properties or {}
    created = props.get(CREATED) or obj.created_at
    return Created(str(obj.id), {f: props.get(f) for f in fields}, as_utc(created))


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
