"""Bulk loads of Accounts fill dedupe's batches when account sync is on (their companies are read
and created 100 a call), as Leads and Contacts do; with account sync off they are never held."""

from __future__ import annotations

import datetime as dt

from shared.config import parse_config
from shared.models import ACCOUNT, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe import Deduper, fill_batches
from shared.pipeline.dedupe.records import SF_OBJECTS
from tests.fakes import PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _accounts(n: int, start: int = 0) -> list[ChangeEvent]:
    return [
        ChangeEvent(
            system=System.SALESFORCE,
            account="00D000000000001AAA",
            object_type=ACCOUNT,
            record_id=f"001{i:012d}AAA",
            change_type=ChangeType.CREATE,
            occurred_at=NOW,
            source_event_id=f"a{i}",
        )
        for i in range(start, start + n)
    ]


def test_a_bulk_load_of_accounts_is_cut_to_whole_chunks_when_accounts_are_among_the_objects() -> None:
    events = _accounts(250)
    now, held = fill_batches(events, objects=(*SF_OBJECTS, ACCOUNT))
    assert [e.record_id for e in now] == [e.record_id for e in events[:200]]
    assert [e.record_id for e in held] == [e.record_id for e in events[200:]]
    assert all(e.held for e in held)


def test_accounts_are_never_held_by_default() -> None:
    events = _accounts(250)
    assert fill_batches(events) == (events, [])


def test_the_deduper_fills_account_batches_only_with_account_sync_on() -> None:
    clock = Clock()
    state = MemoryState()

    def deduper(text: str) -> Deduper:
        return Deduper(
            config=parse_config(text),
            portal=PORTAL,
            salesforce=FakeSalesforce(clock),
            hubspot=FakeHubSpot(clock),
            state=state,
            companies=object(),  # type: ignore[arg-type]  # not called: only which objects fill
            accounts=object(),  # type: ignore[arg-type]
        )

    on = deduper(f"portals: [{PORTAL}]\naccounts: {{enabled: true}}\n")
    off = deduper(f"portals: [{PORTAL}]\n")
    assert on.bulk_objects == (*SF_OBJECTS, ACCOUNT)
    assert off.bulk_objects == SF_OBJECTS
