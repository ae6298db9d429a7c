"""The owners function's stage, between dedupe and apply: decides the owners of a batch of plans
(``shared.owners.stage``) and passes the plans on to the writes queue; on its schedule, refreshes
the shared owner cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shared.guardrails.gate import REFUSALS, Guards, Hold, run_guarded
from shared.observability import logger, metrics
from shared.owners.directory import OwnerDirectory
from shared.owners.stage import OwnerResult
from shared.pipeline.lanes import LaneQueues, all_bulk
from shared.pipeline.plans import PlanBatch, SyncPlan, pack_sendable
from shared.pipeline.portal_counters import counted_by_portal
from shared.pipeline.sqs_batch import SqsBatch
from shared.pipeline.stages.base import RETRIED
from shared.queues import Queue

if TYPE_CHECKING:
    from shared.ports import StatePort


class Owners(Protocol):
    """``shared.owners.stage.OwnerStage``, or one per portal (``shared.pipeline.portals``)."""

    def process(self, plans: Sequence[SyncPlan]) -> OwnerResult: ...
    def refresh(self) -> OwnerDirectory: ...


class OwnersStage:
    def __init__(
        self,
        *,
        owners: Callable[[], Owners],
        state: StatePort,
        portal: str,
        writes: Queue,
        dead_letter: Callable[[str, str], None],
        guards: Guards | None = None,
        plans: Queue | None = None,
        bulk_writes: Queue | None = None,
        bulk_plans: Queue | None = None,
    ) -> None:
        """``guards``: the API allocation and suspension of the CRMs (``shared.guardrails``), None:
        none; ``plans``: the owners queue, where plans wait for a CRM (needed with ``guards``);
        ``bulk_writes``, ``bulk_plans``: the bulk lane's (``shared.pipeline.lanes``), None: the same."""
        self.owners = owners
        self.state = state
        self.portal = portal
        self.writes = writes
        self.dead_letter = dead_letter
        self.guards = guards
        self.plans = plans
        self.write_lanes = LaneQueues(writes, bulk_writes)
        self.bulk_plans = bulk_plans

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Plans from the owners queue, or the schedule (a refresh of the owner cache)."""
        if "Records" in event:
            batch = SqsBatch(PlanBatch, dead_letter=self.dead_letter, retry_on=RETRIED, name="owner")
            return batch.handle(
                event,
                context,
                lambda items: run_guarded(
                    self.guards, items, self.work, self.wait, portals=lambda item: item[1].portals
                ),
            )
        return self.refresh_guarded()

    def wait(self, items: Sequence[tuple[str, PlanBatch]], hold: Hold) -> None:
        """Plans wait for a CRM in a new, delayed owners message (their attempt unchanged)."""
        if self.plans is None:
            raise RuntimeError("the owners stage has guards but no queue for waiting plans")
        lanes = LaneQueues(self.plans, self.bulk_plans)
        for _message_id, batch in items:
            bodies, too_large = pack_sendable(list(batch.plans), attempt=batch.attempt, bulk=batch.bulk)
            lanes.send(bodies, bulk=batch.bulk, delay_seconds=hold.seconds)
            for body, reason in too_large:
                self.dead_letter(body, reason)
        metrics.add_metric(name="Waiting", unit="Count", value=sum(len(b.plans) for _, b in items))
        logger.info("owners wait for a CRM", extra={"messages": len(items), "system": hold.system})

    def refresh_guarded(self) -> dict[str, Any]:
        """The scheduled refresh, unless a CRM is paused or suspended (the cache is kept meanwhile)."""
        if self.guards is None:
            return self.refresh()
        self.guards.begin()
        try:
            hold = self.guards.hold()
            if hold is not None:
                logger.info("owner cache not refreshed: a CRM waits", extra={"system": hold.system})
                return {"waiting": hold.system}
            try:
                return self.refresh()
            except REFUSALS as exc:
                refused = self.guards.refused(exc)
                if refused is None:
                    raise
                return {"waiting": refused.system}
        finally:
            self.guards.observe()

    def work(self, items: Sequence[tuple[str, PlanBatch]]) -> set[str]:
        result = self.owners().process([plan for _, batch in items for plan in batch.plans])
        attempt = max(batch.attempt for _, batch in items)
        bulk = all_bulk(batch.bulk for _, batch in items)
        bodies, too_large = pack_sendable(result.plans, attempt=attempt, bulk=bulk)
        self.write_lanes.send(bodies, bulk=bulk)
        for body, reason in too_large:
            self.dead_letter(body, reason)
        for portal, counts in counted_by_portal(result.counters, result.portal_counters, self.portal).items():
            self.state.add_counters(portal, counts)
        logger.info(
            "owners",
            extra={"plans": len(result.plans), "counters": result.counters, "refreshed": result.refreshed},
        )
        return set()

    def refresh(self) -> dict[str, Any]:
        directory = self.owners().refresh()
        counts = {"salesforce": len(directory.salesforce), "hubspot": len(directory.hubspot)}
        logger.info("owner cache refreshed", extra=counts)
        return counts
