"""The poller with deal sync: deals and Opportunities reconciled from their cursors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from shared.models import OPPORTUNITY, ChangeEvent, ChangeType, System
from shared.pipeline.poll import DEAL_TARGETS, Poller
from shared.ports import HubSpotContact
from tests import fakes
from tests.fakes import ORG, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class FakeDealSearch:
    def __init__(self, changed: dict[str, dt.datetime]) -> None:
        self.changed = changed
        self.calls = 0

    def deals_modified_since(self, since: dt.datetime, properties: Sequence[str], limit: int) -> list[Any]:
        self.calls += 1
        return [HubSpotContact(d, {}, {}, at) for d, at in sorted(self.changed.items()) if at > since][:limit]


def test_deals_and_opportunities_are_polled_from_their_cursors_as_resync_events(monkeypatch):
    monkeypatch.setitem(fakes.PREFIX, OPPORTUNITY, "006")
    clock = Clock(T0)
    salesforce = FakeSalesforce(clock)
    opportunity = salesforce.add(OPPORTUNITY, Name="Polled", StageName="Prospecting")
    queued: list[ChangeEvent] = []
    deals = FakeDealSearch({"9000001": T0 + dt.timedelta(seconds=5)})
    poller = Poller(portal=PORTAL, org_id=ORG, salesforce=salesforce, hubspot=FakeHubSpot(clock),
                    state=MemoryState(clock=clock), enqueue=queued.extend, clock=clock,
                    deals=deals)  # type: ignore[arg-type]  # fmt: skip
    poller.poll(list(DEAL_TARGETS))
    assert {(e.system, e.object_type, e.record_id, e.change_type) for e in queued} == {
        (System.HUBSPOT, "deals", "9000001", ChangeType.RESYNC),
        (System.SALESFORCE, OPPORTUNITY, opportunity, ChangeType.RESYNC),
    }
    queued.clear()
    poller.poll(list(DEAL_TARGETS))  # nothing changed since the cursors
    assert queued == []
    assert deals.calls == 2
