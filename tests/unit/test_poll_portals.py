"""The poller of several portals (shared.pipeline.poll_portals): Salesforce read once, HubSpot read
per portal with each portal's poller; requests routed by their portal."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.adapters.retry import RequestRejected
from shared.errors import ApiFailure, ErrorCategory
from shared.models import System
from shared.pipeline.poll import ACCOUNT_TARGETS, ALL_TARGETS, PollRequest, PollResult, PollTarget
from shared.pipeline.poll_portals import PortalPollers, UnknownPortal


class _Poller:
    """Records what a portal's poller was asked for."""

    def __init__(self, portal: str, calls: list[tuple[str, str, object]]) -> None:
        self.portal = portal
        self.calls = calls

    def poll(self, targets, *, since=None):
        self.calls.append((self.portal, "poll", tuple(t.cursor_name for t in targets)))
        return PollResult(queued={t.cursor_name: 1 for t in targets})

    def poll_list_joins(self, list_id):
        self.calls.append((self.portal, "list", list_id))
        if self.portal == "2":
            raise RequestRejected(ApiFailure("hubspot", "NOT_FOUND", "no such list", ErrorCategory.OTHER))
        return PollResult(queued={f"poll:hubspot:list:{list_id}": 1})

    def serve(self, request):
        self.calls.append((self.portal, "serve", request.kind))
        return PollResult(queued={"served": 1})


def pollers(portals=("1", "2")) -> tuple[PortalPollers, list[tuple[str, str, object]]]:
    calls: list[tuple[str, str, object]] = []
    return PortalPollers(list(portals), lambda portal: _Poller(portal, calls)), calls  # type: ignore[arg-type,return-value]


def test_the_schedule_reads_salesforce_once_and_hubspot_in_every_portal():
    poll, calls = pollers()
    result = poll.poll(ALL_TARGETS + ACCOUNT_TARGETS)
    salesforce = ("poll:salesforce:Lead", "poll:salesforce:Contact", "poll:salesforce:Account")
    hubspot = ("poll:hubspot:contacts", "poll:hubspot:companies")
    assert calls == [("1", "poll", salesforce), ("1", "poll", hubspot), ("2", "poll", hubspot)]
    assert result.queued["poll:salesforce:Lead"] == 1
    assert (
        result.queued["portal:1:poll:hubspot:contacts"]
        == result.queued["portal:2:poll:hubspot:contacts"]
        == 1
    )


def test_list_joins_are_read_in_every_portal_and_a_refusal_comes_after_the_others():
    poll, calls = pollers(("2", "1"))
    with pytest.raises(RequestRejected):
        poll.poll_list_joins("77")
    assert calls == [("2", "list", "77"), ("1", "list", "77")]


def test_requests_go_to_their_portal_salesforce_once_a_hubspot_backfill_to_every_portal():
    poll, calls = pollers()
    poll.serve(PollRequest(system=System.SALESFORCE, object_type="Lead", since=dt.datetime(2026, 1, 1)))
    poll.serve(PollRequest(system=System.HUBSPOT, object_type="contacts", ids=("5",), portal="2"))
    poll.serve(PollRequest(system=System.HUBSPOT, object_type="contacts", ids=("5",)))
    poll.serve(PollRequest(list_id="9"))
    backfill = poll.serve(
        PollRequest(system=System.HUBSPOT, object_type="contacts", since=dt.datetime(2026, 1, 1))
    )
    assert calls == [
        ("1", "serve", "poll"),
        ("2", "serve", "ids"),
        ("1", "serve", "ids"),
        ("1", "serve", "list"),
        ("1", "poll", ("poll:hubspot:contacts",)),
        ("2", "poll", ("poll:hubspot:contacts",)),
    ]
    assert set(backfill.queued) == {"portal:1:poll:hubspot:contacts", "portal:2:poll:hubspot:contacts"}


def test_a_request_for_a_portal_not_synced_is_refused():
    poll, calls = pollers()
    with pytest.raises(UnknownPortal, match="portal 3 is not synced"):
        poll.serve(PollRequest(system=System.HUBSPOT, object_type="contacts", ids=("5",), portal="3"))
    assert calls == []


def test_a_salesforce_request_names_no_portal():
    with pytest.raises(ValueError, match="names no portal"):
        PollRequest(system=System.SALESFORCE, object_type="Lead", ids=("00Q000000000001",), portal="2")
    assert PollTarget(System.HUBSPOT, "contacts").cursor_name == "poll:hubspot:contacts"
