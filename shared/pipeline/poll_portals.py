"""The poller of several portals, one org (S3): what the poll function reads once and what it reads per
portal.

- Salesforce (Leads, Contacts, Accounts; polls, backfills, resyncs of ids or of an owner's records):
  read ONCE, by the first portal's poller (its cursors, as with one portal); the changes it queues
  name the org, and dedupe fans each out to every portal. Its reconciler compares a record with the
  link of every portal (``shared.pipeline.poll_reconcile``).
- HubSpot (contacts, companies, the inclusion list's joins): read per portal, each with its own
  adapter and cursor; the changes name their portal.
- A HubSpot request naming a ``portal`` is served by that portal; without one, a poll (a backfill, a
  gap) is served by every portal, and ids or a list by the stack's first portal (as before).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence

from shared.adapters.retry import RequestRejected
from shared.guardrails.gate import refusals_of
from shared.models import System
from shared.pipeline.poll import Poller, PollRequest, PollResult, PollTarget


class UnknownPortal(ValueError):
    """A request names a portal that is not in the configuration's ``portals``."""


def _named(portal: str, result: PollResult) -> PollResult:
    """A portal's result, its counts and cursors named ``portal:<id>:<name>`` (portals never collide)."""
    return PollResult(
        queued={f"portal:{portal}:{name}": count for name, count in result.queued.items()},
        cursors={f"portal:{portal}:{name}": value for name, value in result.cursors.items()},
        unchanged={f"portal:{portal}:{name}": count for name, count in result.unchanged.items()},
    )


class PortalPollers:
    """The poller's interface over every portal (``poller(portal)`` builds one portal's poller; the
    first of ``portals`` is the stack's first portal, whose poller reads Salesforce)."""

    def __init__(self, portals: Sequence[str], poller: Callable[[str], Poller]) -> None:
        if not portals:
            raise ValueError("no portal to poll")
        self.portals = list(portals)
        self.poller = poller
        self._pollers: dict[str, Poller] = {}
        self.waiting: set[str] = set()

    def leaving_out(self, portals: Collection[str]) -> PortalPollers:
        """These pollers without ``portals``' HubSpot reads (they wait); Salesforce is still read."""
        self.waiting = set(portals)
        return self

    def _of(self, portal: str) -> Poller:
        if portal not in self._pollers:
            self._pollers[portal] = self.poller(portal)
        return self._pollers[portal]

    def poll(self, targets: Sequence[PollTarget], *, since: dt.datetime | None = None) -> PollResult:
        """Salesforce targets once, HubSpot targets in every portal."""
        return self._poll(targets, self.portals, since=since)

    def _poll(
        self, targets: Sequence[PollTarget], portals: Sequence[str], *, since: dt.datetime | None
    ) -> PollResult:
        result = PollResult()
        salesforce = [t for t in targets if t.system is System.SALESFORCE]
        hubspot = [t for t in targets if t.system is System.HUBSPOT]
        if salesforce:
            result.merge(self._of(self.portals[0]).poll(salesforce, since=since))
        for portal in [p for p in portals if p not in self.waiting] if hubspot else ():
            with refusals_of(portal):
                result.merge(_named(portal, self._of(portal).poll(hubspot, since=since)))
        return result

    def poll_list_joins(self, list_id: str) -> PollResult:
        """The list's joins in every portal; a portal whose list cannot be read does not stop the
        others (its refusal is raised after them)."""
        result = PollResult()
        rejected: RequestRejected | None = None
        for portal in [p for p in self.portals if p not in self.waiting]:
            try:
                with refusals_of(portal):
                    result.merge(_named(portal, self._of(portal).poll_list_joins(list_id)))
            except RequestRejected as exc:
                rejected = rejected or exc
        if rejected is not None:
            raise rejected
        return result

    def serve(self, request: PollRequest) -> PollResult:
        """What one poll request asks for (see the module's docstring)."""
        if request.portal is not None and request.portal not in self.portals:
            raise UnknownPortal(f"portal {request.portal} is not synced by this stack")
        if request.system is System.SALESFORCE:
            return self._of(self.portals[0]).serve(request)
        if request.portal is not None:
            with refusals_of(request.portal):
                return _named(request.portal, self._of(request.portal).serve(request))
        if request.kind == "poll" and request.system is not None and request.object_type is not None:
            target = PollTarget(request.system, request.object_type)
            return self._poll([target], self.portals, since=request.since)
        with refusals_of(self.portals[0]):  # ids or a list: the stack's first portal
            return self._of(self.portals[0]).serve(request)
