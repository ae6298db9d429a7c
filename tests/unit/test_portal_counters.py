"""Several portals: counters and skip statuses recorded under their portal
(shared.pipeline.portal_counters, and the stages that record them)."""

from __future__ import annotations

from collections import Counter

from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.dedupe import DedupeResult
from shared.pipeline.portal_counters import counted_by_portal
from shared.pipeline.portals import UNKNOWN_PORTAL, PortalDedupers
from shared.times import EPOCH


def test_one_portal_counts_under_the_first_portal():
    assert counted_by_portal({"synced": 3}, {}, "1") == {"1": {"synced": 3}}
    assert counted_by_portal({}, {}, "1") == {}


def test_each_portals_counts_under_it_and_the_rest_under_the_first():
    total = {"skipped": 4, "synced": 2}
    parts = {"2": {"skipped": 1, "synced": 2}, "1": {}}
    assert counted_by_portal(total, parts, "1") == {"2": {"skipped": 1, "synced": 2}, "1": {"skipped": 3}}


class _Skips:
    def __init__(self, portal: str) -> None:
        self.portal = portal

    def process(self, events):
        result = DedupeResult()
        result.skipped[f"in {self.portal}"] += len(events)
        result.statuses[f"hubspot:contacts:{self.portal}"] = "skipped"
        return result


def test_portal_dedupers_keep_each_portals_part():
    def change(account: str, system: System = System.HUBSPOT) -> ChangeEvent:
        return ChangeEvent(
            system=system,
            account=account,
            object_type="contacts" if system is System.HUBSPOT else "Lead",
            record_id="1" if system is System.HUBSPOT else "00Q000000000001AAA",
            change_type=ChangeType.UPDATE,
            occurred_at=EPOCH,
            source_event_id=f"e-{account}",
        )

    dedupers = PortalDedupers(["1", "2"], _Skips)
    result = dedupers.process([change("2"), change("9"), change("org", System.SALESFORCE)])
    assert result.portal_parts["1"].skipped == Counter({"in 1": 1})
    assert result.portal_parts["2"].skipped == Counter({"in 2": 2})
    assert result.portal_parts["2"].statuses == {"hubspot:contacts:2": "skipped"}
    recorded = counted_by_portal(result.skipped, {p: r.skipped for p, r in result.portal_parts.items()}, "1")
    assert recorded == {"1": {"in 1": 1, UNKNOWN_PORTAL: 1}, "2": {"in 2": 2}}
