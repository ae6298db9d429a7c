"""The poll function's stage: on its schedule, poll both CRMs (and the inclusion list's new
members); on request (gap/overflow events, backfills, resyncs of records or of a HubSpot list),
serve each request on its own."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Sequence
from typing import Any

from shared.adapters.retry import RequestRejected
from shared.guardrails.allocation import Lane
from shared.guardrails.gate import REFUSALS, Accounts, Guards, Hold, run_guarded
from shared.guardrails.probe import Probes, probe
from shared.models import ChangeEvent, System
from shared.observability import logger, metrics
from shared.pipeline.change_messages import change_body
from shared.pipeline.lanes import LaneQueues, classify
from shared.pipeline.poll import ACCOUNT_TARGETS, ALL_TARGETS, DEAL_TARGETS, Poller, PollRequest, PollResult
from shared.pipeline.poll_portals import PortalPollers, UnknownPortal
from shared.pipeline.sqs_batch import SqsBatch
from shared.pipeline.stages.base import RETRIED
from shared.queues import Queue

Enqueue = Callable[[Sequence[ChangeEvent]], object]
BULK_REASONS = ("backfill", "resync")  # requests of hssync backfill / resync; others: missed changes


class PollStage:
    def __init__(
        self,
        *,
        poller: Callable[[Enqueue], Poller | PortalPollers],
        inclusion_list: Callable[[], str | None],
        changes: Queue,
        dead_letter: Callable[[str, str], None],
        accounts_enabled: Callable[[], bool] = lambda: False,
        deals_enabled: Callable[[], bool] = lambda: False,
        guards: Guards | None = None,
        probes: Probes | None = None,
        requests: Queue | None = None,
        bulk_changes: Queue | None = None,
    ) -> None:
        """``poller``: a poller queuing its changes with the given function; ``inclusion_list``: the
        configuration's HubSpot list, if any; ``accounts_enabled``: whether account sync is on (the
        schedule then polls companies and Accounts too); ``guards``: the API allocation and suspension
        of the CRMs (``shared.guardrails``), None: none; ``probes``: each CRM's (or CRM account's)
        cheap call, made on the schedule while it is paused or suspended; ``requests``: the poll
        requests queue, where requests wait for a CRM (needed with ``guards``); ``bulk_changes``: the
        bulk lane's changes queue, where the poller's changes go (``shared.pipeline.lanes``)."""
        self.accounts_enabled = accounts_enabled
        self.deals_enabled = deals_enabled  # deal sync on: deals and Opportunities are polled too
        self.poller = poller
        self.inclusion_list = inclusion_list
        self.changes = changes
        self.dead_letter_queue = dead_letter
        self.guards = guards
        self.probes = probes or {}
        self.requests = requests
        self.lanes = LaneQueues(changes, bulk_changes)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Requests from the poll requests queue, or the schedule."""
        if "Records" in event:
            batch = SqsBatch(PollRequest, dead_letter=self.dead_letter)
            return batch.handle(event, context, self.requested_guarded)
        if self.guards is None:
            return {"queued": self.scheduled().queued}
        return self.scheduled_guarded(self.guards)

    def scheduled_guarded(self, guards: Guards) -> dict[str, Any]:
        """The probe of the CRMs that wait, then the poll if the org may be called: of every portal
        that may be called (several portals: a portal that waits is left out, the others polled)."""
        guards.begin()
        try:
            probed = probe(guards, self.probes)
            portals = guards.portals()
            held = {p for p in portals if guards.hold(portals=[p]) is not None}
            hold = guards.hold(portals=()) or (guards.hold() if len(held) == len(portals) else None)
            if hold is not None:
                logger.info("scheduled poll skipped: a CRM waits", extra={"system": hold.system})
                return {"queued": {}, "probed": probed, "waiting": hold.system}
            try:
                answer = {"queued": self.scheduled(held).queued, "probed": probed}
                return answer | ({"waiting_portals": sorted(held)} if held else {})
            except REFUSALS as exc:
                refused = guards.refused(exc)
                if refused is None:
                    raise
                return {"queued": {}, "probed": probed, "waiting": refused.system}
        finally:
            guards.observe()

    def requested_guarded(self, items: Sequence[tuple[str, PollRequest]]) -> set[str]:
        """Backfills and resyncs are bulk work: they wait first when the allocation is near."""

        def lane(item: tuple[str, PollRequest]) -> Lane:
            return Lane.BULK if item[1].reason in BULK_REASONS else Lane.LIVE

        def portals(item: tuple[str, PollRequest]) -> Accounts:
            """A Salesforce request calls no portal; a HubSpot one its portal, or every portal."""
            request = item[1]
            if request.system is System.SALESFORCE:
                return ()
            return None if request.portal is None else (request.portal,)

        return run_guarded(self.guards, items, self.requested, self.wait, lane=lane, portals=portals)

    def wait(self, items: Sequence[tuple[str, PollRequest]], hold: Hold) -> None:
        if self.requests is None:
            raise RuntimeError("the poll stage has guards but no queue for waiting requests")
        bodies = [request.model_dump_json(exclude_none=True) for _, request in items]
        self.requests.send(bodies, delay_seconds=hold.seconds)
        logger.info("poll requests wait for a CRM", extra={"requests": len(items), "system": hold.system})

    def _enqueue(self, events: Sequence[ChangeEvent]) -> None:
        self.lanes.send_changes(classify(events, bulk_source=True), change_body)

    def dead_letter(self, body: str, reason: str) -> None:
        self.dead_letter_queue(body, reason)
        logger.error("poll request dead-lettered", extra={"body": body[:500], "reason": reason})

    def requested(self, items: Sequence[tuple[str, PollRequest]]) -> set[str]:
        """Serve each request on its own: a failure retries (or dead-letters) that request only."""
        poller = self.poller(self._enqueue)
        retry: set[str] = set()
        for message_id, request in items:
            if not self._serve(poller, request):
                retry.add(message_id)
        return retry

    def _serve(self, poller: Poller | PortalPollers, request: PollRequest) -> bool:
        """False: the request is to be delivered again."""
        try:
            result = poller.serve(request)
        except RequestRejected as exc:  # e.g. a list that does not exist: asking again cannot help
            failure = exc.failure
            self.dead_letter(request.model_dump_json(exclude_none=True), f"{failure.code}: {failure.message}")
            return True
        except UnknownPortal as exc:  # nor for a portal the stack does not sync
            self.dead_letter(request.model_dump_json(exclude_none=True), str(exc))
            return True
        except REFUSALS:
            if self.guards is not None:
                raise  # the CRM refuses: it is suspended and the requests wait (run_guarded)
            return self._unserved(request)
        except Exception:
            return self._unserved(request)
        queued = sum(result.queued.values())
        metrics.add_metric(name="PolledChanges", unit="Count", value=queued)
        logger.info(
            "poll request served",
            extra={"reason": request.reason, "kind": request.kind, "queued": result.queued},
        )
        return True

    @staticmethod
    def _unserved(request: PollRequest) -> bool:
        """A request that failed (the exception being handled): SQS delivers it again; after
        maxReceiveCount its redrive dead-letters it."""
        exc = sys.exc_info()[1]
        if isinstance(exc, RETRIED):
            logger.warning(
                "poll request will be retried", extra={"reason": request.reason, "error": str(exc)}
            )
        else:
            logger.exception("poll request failed", extra={"reason": request.reason, "kind": request.kind})
        return False

    def scheduled(self, waiting: Collection[str] = ()) -> PollResult:
        """``waiting``: the portals left out (several portals: they are paused or suspended)."""
        list_id = self.inclusion_list()
        poller = self.poller(self._enqueue)
        if isinstance(poller, PortalPollers):
            poller = poller.leaving_out(waiting)
        targets = ALL_TARGETS + (ACCOUNT_TARGETS if self.accounts_enabled() else ())
        result = poller.poll(targets + (DEAL_TARGETS if self.deals_enabled() else ()))
        if list_id:
            try:
                result.merge(poller.poll_list_joins(list_id))
            except RequestRejected as exc:  # e.g. the list was deleted: the other polls still ran
                logger.error(
                    "the inclusion list cannot be read",
                    extra={"list_id": list_id, "code": exc.failure.code, "error": exc.failure.message},
                )
                metrics.add_metric(name="InclusionListUnreadable", unit="Count", value=1)
        queued = sum(result.queued.values())
        metrics.add_metric(name="PolledChanges", unit="Count", value=queued)
        # read but not queued: they held what hssync last synced (shared.pipeline.poll_reconcile)
        metrics.add_metric(name="PolledUnchanged", unit="Count", value=sum(result.unchanged.values()))
        logger.info("scheduled poll", extra={"queued": result.queued, "unchanged": result.unchanged})
        return result
