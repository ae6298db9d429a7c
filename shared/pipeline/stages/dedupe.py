"""The dedupe function's stage: a batch of change events -> sync plans on the owners queue; changes
that must wait go back to the changes queue, a bounded number of times."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shared.guardrails.allocation import lane_of
from shared.guardrails.gate import Accounts, Guards, Hold, run_guarded
from shared.models import ChangeEvent
from shared.observability import logger, metrics
from shared.pipeline.activity import latest_by_source, seen_cursor
from shared.pipeline.dedupe import DedupeResult
from shared.pipeline.lanes import LaneQueues, all_bulk
from shared.pipeline.plans import pack_sendable
from shared.pipeline.portal_counters import counted_by_portal
from shared.pipeline.portals import portal_changes
from shared.pipeline.sqs_batch import SqsBatch
from shared.pipeline.stages.base import RETRIED
from shared.queues import Queue, json_body

if TYPE_CHECKING:
    from shared.pacing import Pacing
    from shared.pipeline.window_pacing import WindowPacer
    from shared.ports import StatePort

RETRY_DELAY_SECONDS = 2
# a change waits for a creation claim held by another change, or for hssync's write to its pair to
# be recorded (shared.intents); the pause doubles every 5 deferrals up to 64 s, so 30 deferrals wait
# about 10 minutes: longer than a write lease (apply's timeout plus a margin), as long as a claim
MAX_DEFERRALS = 30
MAX_DELAY_SECONDS = 64
MAX_LOGGED = 20  # deferred changes named in a window's log line


def deferral_delay(attempt: int) -> int:
    """Seconds before a deferred change is looked at again (its ``attempt``-th deferral, from 0)."""
    delay: int = RETRY_DELAY_SECONDS * 2 ** (attempt // 5)
    return min(MAX_DELAY_SECONDS, delay)


class Dedupes(Protocol):
    def process(self, events: Sequence[ChangeEvent]) -> DedupeResult: ...


class DedupeStage:
    def __init__(
        self,
        *,
        deduper: Callable[[], Dedupes],
        state: StatePort,
        portal: str,
        plans: Queue,
        changes: Queue,
        dead_letter: Callable[[str, str], None],
        guards: Guards | None = None,
        pacer: WindowPacer | None = None,
        bulk_plans: Queue | None = None,
        bulk_changes: Queue | None = None,
        paced_changes: Queue | None = None,
    ) -> None:
        """``deduper``: a new one per batch (it reads the configuration of the moment); ``plans``:
        the queue of the owners stage, which passes them on to apply; ``guards``: the API allocation
        and suspension of the CRMs (``shared.guardrails``), None: no guardrails; ``pacer``: whether a
        window goes now or waits for more changes to share its calls (``shared.pacing``), None: always
        at once; ``bulk_plans``, ``bulk_changes``: the bulk lane's queues (``shared.pipeline.lanes``),
        None: the same; ``paced_changes``: where a window that waits for the budget goes (a queue
        with a batching window, which gathers the windows that come back together into one batch),
        None: the queue of each change's lane."""
        self.deduper = deduper
        self.state = state
        self.portal = portal
        self.plans = plans
        self.changes = changes
        self.dead_letter = dead_letter
        self.guards = guards
        self.pacer = pacer
        self.plan_lanes = LaneQueues(plans, bulk_plans)
        self.change_lanes = LaneQueues(changes, bulk_changes)
        self.paced_changes = paced_changes

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        batch = SqsBatch(ChangeEvent, dead_letter=self.dead_letter, retry_on=RETRIED, name="dedupe")
        return batch.handle(event, context, self.guarded)

    def guarded(self, items: Sequence[tuple[str, ChangeEvent]]) -> set[str]:
        """The changes the CRMs' guardrails let through now; the others wait in the changes queue.
        Several portals: a change waits for its portal only, and a Salesforce change of the org is
        handed to each portal as its own change (``portal_changes``), so that a portal that waits
        holds its copy only (the copies of one batch still share one Salesforce read)."""
        portals = self.guards.portals() if self.guards is not None else []
        if len(portals) > 1:
            items = [(message_id, e) for message_id, event in items for e in portal_changes(event, portals)]

        def waits_for(item: tuple[str, ChangeEvent]) -> Accounts:
            return (item[1].account,) if item[1].account in portals else None

        return run_guarded(
            self.guards,
            items,
            self.work,
            self.wait,
            lane=lambda item: lane_of(item[1].origin),
            portals=waits_for,
        )

    def wait(self, items: Sequence[tuple[str, ChangeEvent]], hold: Hold) -> None:
        """Back to the changes queue of its lane, unchanged (a wait is no deferral), after the hold."""
        self.send_back([event for _, event in items], delay_seconds=hold.seconds)
        metrics.add_metric(name="Waiting", unit="Count", value=len(items))
        logger.info("dedupe waits for a CRM", extra={"events": len(items), "system": hold.system})

    def work(self, items: Sequence[tuple[str, ChangeEvent]]) -> set[str]:
        events = [event for _, event in items]
        if self.paced(events):
            return set()
        result = self.deduper().process(events)
        for system, at in latest_by_source(events).items():  # what hssync status shows
            self.state.set_cursor(self.portal, seen_cursor(system), at.isoformat())
        if result.plans:
            bulk = all_bulk(event.bulk for event in events)
            bodies, too_large = pack_sendable(result.plans, bulk=bulk)
            self.plan_lanes.send(bodies, bulk=bulk)
            for body, reason in too_large:
                self.dead_letter(body, reason)
        if result.retry:
            self.defer(result.retry)
        if result.held:
            # a part of a bulk load, held back to fill the next batch's API calls (once per event)
            self.send_back(result.held)
            metrics.add_metric(name="Held", unit="Count", value=len(result.held))
        self._record(result)
        metrics.add_metric(name="Plans", unit="Count", value=len(result.plans))
        metrics.add_metric(name="Skipped", unit="Count", value=sum(result.skipped.values()))
        logger.info(
            "dedupe",
            extra={
                "events": len(items),
                "plans": len(result.plans),
                "held": len(result.held),
                "skipped": dict(result.skipped),
                # what waits (a creation claim, a write in flight, a merge's deletion): ids, no values
                "deferred": [f"{e.object_type}:{e.record_id}#{e.attempt}" for e in result.retry[:MAX_LOGGED]],
            },
        )
        return set()

    def paced(self, events: Sequence[ChangeEvent]) -> bool:
        """Whether the window waits for more changes to share its calls: its changes go back to the
        paced changes queue, unchanged, until the wait the budget requires has passed."""
        pacing = self.pacer.pace(events) if self.pacer is not None else None
        if pacing is None:
            return False
        _report(pacing, len(events))
        if pacing.go:
            return False
        delay = int(pacing.wait_seconds)
        if self.paced_changes is None:
            self.send_back(events, delay_seconds=delay)
        else:
            # SQS delays are whole seconds, so the windows due together come back up to a second
            # apart: the paced queue's batching window gathers them again into one batch
            self.paced_changes.send([json_body(event) for event in events], delay_seconds=delay)
        return True

    def _record(self, result: DedupeResult) -> None:
        """The skips and skip statuses, under the portal they belong to (several portals: each part's)."""
        parts = result.portal_parts
        skipped = counted_by_portal(
            result.skipped, {p: part.skipped for p, part in parts.items()}, self.portal
        )
        for portal, counts in skipped.items():
            self.state.add_counters(portal, {f"skipped.{k}": v for k, v in counts.items()})
        statuses = (
            {p: part.statuses for p, part in parts.items()} if parts else {self.portal: result.statuses}
        )
        for portal, mine in statuses.items():
            if mine:
                self.state.set_statuses(portal, mine)

    def defer(self, events: Sequence[ChangeEvent]) -> None:
        """Another change holds the creation claim, or hssync is writing to the pair: look again
        shortly, when the record exists or the write is recorded."""
        for given_up in (e for e in events if e.attempt >= MAX_DEFERRALS):
            self.dead_letter(
                given_up.model_dump_json(), "waited too long for a creation claim or a write in flight"
            )
        by_delay: dict[int, list[ChangeEvent]] = {}
        for event in events:
            if event.attempt < MAX_DEFERRALS:
                later = event.model_copy(update={"attempt": event.attempt + 1})
                by_delay.setdefault(deferral_delay(event.attempt), []).append(later)
        for delay, later_events in by_delay.items():
            self.send_back(later_events, delay_seconds=delay)

    def send_back(self, events: Sequence[ChangeEvent], *, delay_seconds: int = 0) -> None:
        """Changes back to the changes queue, each in its lane."""
        self.change_lanes.send_changes(events, json_body, delay_seconds=delay_seconds)


def _report(pacing: Pacing, changes: int) -> None:
    """What the pacing decided, as metrics (window size, wait, why) and a log line."""
    metrics.add_metric(name=f"Window_{pacing.why.value}", unit="Count", value=1)
    metrics.add_metric(name="WindowChanges", unit="Count", value=changes)
    if not pacing.go:
        metrics.add_metric(name="WindowWaitSeconds", unit="Seconds", value=pacing.wait_seconds)
    logger.info(
        "dedupe window paced",
        extra={"go": pacing.go, "why": pacing.why.value, "changes": changes, "wait": pacing.wait_seconds},
    )
