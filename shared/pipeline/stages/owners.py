"""The owners function's stage, between dedupe and apply: decides the owners of a batch of plans
(``shared.owners.stage``) and passes the plans on to the writes queue; on its schedule, refreshes
the shared owner cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from shared.observability import logger
from shared.owners.stage import OwnerStage
from shared.pipeline.plans import PlanBatch, pack_sendable
from shared.pipeline.sqs_batch import SqsBatch
from shared.pipeline.stages.base import RETRIED
from shared.queues import Queue

if TYPE_CHECKING:
    from shared.ports import StatePort


class OwnersStage:
    def __init__(
        self,
        *,
        owners: Callable[[], OwnerStage],
        state: StatePort,
        portal: str,
        writes: Queue,
        dead_letter: Callable[[str, str], None],
    ) -> None:
        self.owners = owners
        self.state = state
        self.portal = portal
        self.writes = writes
        self.dead_letter = dead_letter

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Plans from the owners queue, or the schedule (a refresh of the owner cache)."""
        if "Records" in event:
            batch = SqsBatch(PlanBatch, dead_letter=self.dead_letter, retry_on=RETRIED, name="owner")
            return batch.handle(event, context, self.work)
        return self.refresh()

    def work(self, items: Sequence[tuple[str, PlanBatch]]) -> set[str]:
        result = self.owners().process([plan for _, batch in items for plan in batch.plans])
        attempt = max(batch.attempt for _, batch in items)
        bodies, too_large = pack_sendable(result.plans, attempt=attempt)
        self.writes.send(bodies)
        for body, reason in too_large:
            self.dead_letter(body, reason)
        if result.counters:
            self.state.add_counters(self.portal, result.counters)
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
