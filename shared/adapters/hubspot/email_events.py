"""The marketing email events API, v1: events in a time window (newest first, up to 1,000 per page,
``offset`` paging) and the campaigns they belong to (their names and subjects, cached in the shared
cache for a day: a campaign's subject does not change once it is sent)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from shared.adapters.hubspot.transport import CONTACTS, HubSpotTransport
from shared.adapters.retry import RequestRejected
from shared.email_events.tasks import Campaign
from shared.state.cache import SharedCache, cache_name

EVENTS_PATH = "/email/public/v1/events"
CAMPAIGN_PATH = "/email/public/v1/campaigns/{campaignId}"
EVENTS_PAGE = 1000  # the API's maximum limit
CAMPAIGN_TTL_SECONDS = 86_400
NOT_FOUND = 404


@dataclass(frozen=True)
class EventPage:
    events: list[Mapping[str, Any]]
    offset: str | None  # where the next page starts; None: this was the last one


class HubSpotEmailEvents(HubSpotTransport):
    cache: SharedCache | None

    def email_events_page(self, start_ms: int, end_ms: int, offset: str | None = None) -> EventPage:
        """One page of the events created in ``[start_ms, end_ms]`` (bots' filtered events left out)."""
        query = [
            ("startTimestamp", str(start_ms)),
            ("endTimestamp", str(end_ms)),
            ("limit", str(EVENTS_PAGE)),
            ("excludeFilteredEvents", "true"),
        ]
        if offset:
            query.append(("offset", offset))
        call = partial(self._raw, CONTACTS, "GET", EVENTS_PATH, query=query)
        answer = self._read("email_events", call) or {}
        events = [e for e in answer.get("events") or () if isinstance(e, Mapping)]
        more = bool(answer.get("hasMore")) and bool(answer.get("offset")) and bool(events)
        return EventPage(events, str(answer["offset"]) if more else None)

    def email_events(self, start_ms: int, end_ms: int) -> Iterator[list[Mapping[str, Any]]]:
        """Every page of the events created in ``[start_ms, end_ms]``."""
        offset: str | None = None
        while True:
            page = self.email_events_page(start_ms, end_ms, offset)
            yield page.events
            if page.offset is None:
                return
            offset = page.offset

    def email_campaign(self, campaign_id: int) -> Campaign | None:
        """The campaign's name and subject (from the shared cache when another read had it); None
        when HubSpot does not know it."""
        name = cache_name("email-campaign", str(campaign_id))
        cached = self.cache.get(name) if self.cache is not None else None
        if cached is None:
            call = partial(
                self._raw, CONTACTS, "GET", CAMPAIGN_PATH, path_params={"campaignId": str(campaign_id)}
            )
            try:
                answer = self._read("email_campaign", call) or {}
            except RequestRejected as exc:
                if exc.failure.http_status != NOT_FOUND:
                    raise
                return None
            cached = {"name": answer.get("name"), "subject": answer.get("subject")}
            if self.cache is not None:
                self.cache.put(name, cached, CAMPAIGN_TTL_SECONDS)
        return Campaign(campaign_id, _text(cached.get("name")), _text(cached.get("subject")))


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
