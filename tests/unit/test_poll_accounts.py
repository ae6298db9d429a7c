"""The poller with account sync: companies and Accounts reconciled on the schedule (only when account
sync is on), poll requests for them, and no resync of their ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.poll import ACCOUNT_TARGETS, ALL_TARGETS, Poller, PollRequest
from shared.pipeline.stages.poll import PollStage
from shared.ports import HubSpotContact
from tests.fakes import ORG, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class FakeCompanies:
    """The companies search of the account port: companies changed since a moment."""

    def __init__(self, changed: dict[str, dt.datetime]) -> None:
        self.changed = changed
        self.calls = 0

    def companies_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[Any]:
        self.calls += 1
        return [
            HubSpotContact(cid, {"name": cid}, {}, at)
            for cid, at in sorted(self.changed.items())
            if at > since
        ][:limit]


def poller(companies: FakeCompanies | None, queued: list[ChangeEvent]) -> Poller:
    clock = Clock(T0)
    return Poller(
        portal=PORTAL,
        org_id=ORG,
        salesforce=FakeSalesforce(clock),
        hubspot=FakeHubSpot(clock),
        state=MemoryState(clock=clock),
        enqueue=queued.extend,
        clock=clock,
        companies=companies,  # type: ignore[arg-type]
    )


def test_companies_are_polled_from_their_cursor_as_resync_events():
    queued: list[ChangeEvent] = []
    companies = FakeCompanies({"11": T0 + dt.timedelta(seconds=1), "12": T0 + dt.timedelta(seconds=2)})
    p = poller(companies, queued)
    result = p.poll([ACCOUNT_TARGETS[0]])
    assert [(e.object_type, e.record_id, e.change_type) for e in queued] == [
        ("companies", "11", ChangeType.RESYNC),
        ("companies", "12", ChangeType.RESYNC),
    ]
    assert result.queued == {"poll:hubspot:companies": 2}
    queued.clear()
    p.poll([ACCOUNT_TARGETS[0]])  # from the cursor: nothing new
    assert queued == []


def test_polling_companies_without_the_port_is_refused():
    with pytest.raises(ValueError, match="companies port"):
        poller(None, []).poll([ACCOUNT_TARGETS[0]])


def test_poll_requests_take_companies_and_accounts_and_their_ids_but_not_their_owners():
    assert PollRequest(system=System.HUBSPOT, object_type="companies").kind == "poll"
    assert PollRequest(system=System.SALESFORCE, object_type="Account").kind == "poll"
    assert PollRequest(system=System.HUBSPOT, object_type="companies", ids=("5",)).kind == "ids"
    assert (
        PollRequest(system=System.SALESFORCE, object_type="Account", ids=("0015g00000AbCdE",)).kind == "ids"
    )
    with pytest.raises(ValidationError, match="must be"):
        PollRequest(system=System.SALESFORCE, object_type="Account", owner_id="0055g00000AbCdE")
    with pytest.raises(ValidationError, match="must be"):  # deals are taken with deal sync (issue 14)
        PollRequest(system=System.HUBSPOT, object_type="tickets")


@pytest.mark.parametrize(
    ("enabled", "targets"), [(False, ALL_TARGETS), (True, ALL_TARGETS + ACCOUNT_TARGETS)]
)
def test_the_schedule_polls_companies_and_accounts_only_with_account_sync_on(enabled, targets):
    polled: list[Any] = []

    class Recording:
        def poll(self, targets: Sequence[Any]) -> Any:
            from shared.pipeline.poll import PollResult

            polled.extend(targets)
            return PollResult()

    stage = PollStage(
        poller=lambda _enqueue: Recording(),  # type: ignore[arg-type,return-value]
        inclusion_list=lambda: None,
        changes=None,  # type: ignore[arg-type]
        dead_letter=lambda _body, _reason: None,
        accounts_enabled=lambda: enabled,
    )
    stage.scheduled()
    assert tuple(polled) == targets


def test_a_backfill_with_accounts_polls_companies_and_accounts_after_the_contacts():
    from shared.pipeline.resync import backfill_requests

    plain = backfill_requests()
    with_accounts = backfill_requests(accounts=True)
    assert [(r.system, r.object_type) for r in with_accounts[: len(plain)]] == [
        (r.system, r.object_type) for r in plain
    ]
    assert [(r.system.value, r.object_type) for r in with_accounts[len(plain) :]] == [  # type: ignore[union-attr]
        ("hubspot", "companies"),
        ("salesforce", "Account"),
    ]
