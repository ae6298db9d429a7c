"""The apply function's stage: batches of sync plans -> the fewest batched writes, links, sync
health. A writes message is applied once however often SQS delivers it (``shared.pipeline.once``);
plans that failed transiently go round again, a bounded number of times, then to the dead-letter
queue with the reason."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shared.guardrails.gate import Guards, Hold, run_guarded
from shared.guardrails.waiting import hand_over
from shared.models import ChangeEvent
from shared.observability import health_metric, logger, metric_name, metrics
from shared.pipeline.apply import APPLY_TIMEOUT, ApplyResult
from shared.pipeline.lanes import LaneQueues, all_bulk
from shared.pipeline.once import Admission, OncePort
from shared.pipeline.plans import PlanBatch, SyncPlan, pack_sendable
from shared.pipeline.portal_counters import counted_by_portal
from shared.pipeline.sqs_batch import SqsBatch
from shared.pipeline.stages.base import RETRIED
from shared.queues import Queue, json_body
from shared.times import utc_now

if TYPE_CHECKING:
    from shared.ports import StatePort

RETRY_DELAY_SECONDS = 10
MAX_ATTEMPTS = 8  # then the plans go to the dead-letter queue with the reason

Admitted = tuple[str, PlanBatch, dict[str, Any]]  # (messageId, batch, its idempotency payload)


class Applies(Protocol):
    def apply(self, plans: Sequence[SyncPlan]) -> ApplyResult: ...


class ApplyStage:
    def __init__(
        self,
        *,
        applier: Callable[[dt.timedelta], Applies],
        once: Callable[[], OncePort],
        state: StatePort,
        portal: str,
        writes: Queue,
        changes: Queue,
        dead_letter: Callable[[str, str], None],
        guards: Guards | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        bulk_writes: Queue | None = None,
        bulk_changes: Queue | None = None,
    ) -> None:
        """``applier``: a new one per batch, given how long the invocation may still run (a write
        lease outlives it); ``once``: the idempotency records, built on first use; ``guards``: the
        API allocation and suspension of the CRMs (``shared.guardrails``), None: no guardrails;
        ``bulk_writes``, ``bulk_changes``: the bulk lane's queues (``shared.pipeline.lanes``)."""
        self.applier = applier
        self.once = once
        self.state = state
        self.portal = portal
        self.writes = writes
        self.changes = changes
        self.dead_letter = dead_letter
        self.guards = guards
        self.clock = clock
        self.write_lanes = LaneQueues(writes, bulk_writes)
        self.change_lanes = LaneQueues(changes, bulk_changes)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        batch = SqsBatch(PlanBatch, dead_letter=self.dead_letter)
        return batch.handle(
            event,
            context,
            lambda items: run_guarded(
                self.guards,
                items,
                lambda i: self.work(i, context),
                self.wait,
                portals=lambda item: item[1].portals,
            ),
        )

    def wait(self, items: Sequence[tuple[str, PlanBatch]], hold: Hold) -> None:
        """Plans wait for a CRM in a new, delayed writes message (their attempt unchanged: waiting is
        not failing); a plan that would create a record hands its creation claim over to dedupe."""
        for _message_id, batch in items:
            keep, again = hand_over(batch.plans, self.state, self.clock())
            bodies, too_large = pack_sendable(keep, attempt=batch.attempt, bulk=batch.bulk)
            self.write_lanes.send(bodies, bulk=batch.bulk, delay_seconds=hold.seconds)
            for body, reason in too_large:
                self.dead_letter(body, reason)
            if again:
                bodies = [json_body(c.model_copy(update={"bulk": batch.bulk})) for c in again]
                self.change_lanes.send(bodies, bulk=batch.bulk, delay_seconds=hold.seconds)
        plans = sum(len(batch.plans) for _, batch in items)
        metrics.add_metric(name="Waiting", unit="Count", value=plans)
        logger.info("apply waits for a CRM", extra={"plans": plans, "system": hold.system})

    def work(self, items: Sequence[tuple[str, PlanBatch]], context: Any) -> set[str]:
        """Takes each message's idempotency record, applies the new ones together, then marks them
        complete (or frees them, when they are to be delivered again)."""
        once = self.once()
        remaining = context.get_remaining_time_in_millis() if context is not None else None
        fresh, retry = self._admit(once, items, remaining)
        if not fresh:
            return retry
        try:
            retry |= self._apply([(message_id, batch) for message_id, batch, _ in fresh], remaining)
        except Exception as exc:
            for _, _, body in fresh:
                once.release(body, exc)
            raise
        for message_id, batch, body in fresh:
            if message_id in retry:
                once.release(body, RuntimeError("delivered again"))
            else:
                once.complete(body, {"plans": len(batch.plans)})
        return retry

    @staticmethod
    def _admit(
        once: OncePort, items: Sequence[tuple[str, PlanBatch]], remaining: int | None
    ) -> tuple[list[Admitted], set[str]]:
        """The messages to apply now, and the ones another invocation is applying (back to SQS)."""
        fresh: list[Admitted] = []
        busy: set[str] = set()
        for message_id, batch in items:
            body = batch.model_dump(mode="json")
            admission = once.begin(body, remaining)
            if admission is Admission.NEW:
                fresh.append((message_id, batch, body))
            elif admission is Admission.BUSY:
                busy.add(message_id)  # another invocation is applying it
            else:
                metrics.add_metric(name="DuplicateWrites", unit="Count", value=1)
                logger.info("writes message applied before: skipped", extra={"plans": len(batch.plans)})
        return fresh, busy

    def _apply(self, items: Sequence[tuple[str, PlanBatch]], remaining_ms: int | None) -> set[str]:
        # a write lease outlives the invocation that holds it
        running_for = dt.timedelta(milliseconds=remaining_ms) if remaining_ms is not None else APPLY_TIMEOUT
        applier = self.applier(running_for)
        plans = [plan for _, batch in items for plan in batch.plans]
        try:
            result = applier.apply(plans)
        except RETRIED as exc:
            logger.warning("apply batch will be retried", extra={"error": str(exc), "plans": len(plans)})
            return {message_id for message_id, _ in items}
        if result.refused is not None and self.guards is None:
            if not isinstance(result.refused, RETRIED):
                raise result.refused
            logger.warning(
                "apply batch will be retried", extra={"error": str(result.refused), "plans": len(plans)}
            )
            return {message_id for message_id, _ in items}  # what was written is recorded
        self._retry_failed(items, result.retry_plan_ids)
        # read again now (a link that changed, a resync); writes that failed: after a pause
        bulk = all_bulk(batch.bulk for _, batch in items)
        self.decide_again(result.followups, delay_seconds=0, bulk=bulk)
        self.decide_again(result.redecide, delay_seconds=self._redecide_delay(result), bulk=bulk)
        self._report(result, len(plans))
        return set()

    def _redecide_delay(self, result: ApplyResult) -> int:
        """After a CRM refused (the pairs it stopped wait for it), or after transient failures."""
        hold = self.guards.refused(result.refused) if self.guards and result.refused else None
        return hold.seconds if hold is not None else RETRY_DELAY_SECONDS

    def _retry_failed(self, items: Sequence[tuple[str, PlanBatch]], failed: set[str]) -> None:
        """Only the plans that failed transiently go round again, in a message of their own."""
        for _message_id, batch in items:
            again = [p for p in batch.plans if p.plan_id in failed]
            if not again:
                continue
            if batch.attempt + 1 >= MAX_ATTEMPTS:
                body = PlanBatch(plans=tuple(again), attempt=batch.attempt + 1).model_dump_json()
                self.dead_letter(
                    body, f"still failing after {MAX_ATTEMPTS} attempts (API errors that may pass)"
                )
                continue
            bodies, too_large = pack_sendable(again, attempt=batch.attempt + 1, bulk=batch.bulk)
            self.write_lanes.send(bodies, bulk=batch.bulk, delay_seconds=RETRY_DELAY_SECONDS)
            for body, reason in too_large:
                self.dead_letter(body, reason)

    def decide_again(self, changes: Sequence[ChangeEvent], *, delay_seconds: int, bulk: bool = False) -> None:
        """Pairs to decide again go back to dedupe (in the lane their plans came in), a bounded number
        of times (``redecided``); then to the dead-letter queue with the reason."""
        if not changes:
            return
        again = [c for c in changes if c.redecided < MAX_ATTEMPTS]
        for given_up in (c for c in changes if c.redecided >= MAX_ATTEMPTS):
            self.dead_letter(
                given_up.model_dump_json(), f"not written after being decided {MAX_ATTEMPTS} times"
            )
        if again:
            bodies = [json_body(c if c.bulk == bulk else c.model_copy(update={"bulk": bulk})) for c in again]
            self.change_lanes.send(bodies, bulk=bulk, delay_seconds=delay_seconds)

    def _report(self, result: ApplyResult, plans: int) -> None:
        for entry in result.health:
            logger.warning(
                "sync health",
                extra={
                    "record": entry.record,
                    "category": entry.category.value,
                    "code": entry.code,
                    "reason": entry.message,
                },
            )
        for portal, counts in counted_by_portal(result.counters, result.portal_counters, self.portal).items():
            self.state.add_counters(portal, counts)
        for name, value in result.counters.items():
            metrics.add_metric(name=metric_name(name), unit="Count", value=value)
        for category, count in Counter(entry.category.value for entry in result.health).items():
            metrics.add_metric(name=health_metric(category), unit="Count", value=count)
        logger.info(
            "apply",
            extra={"plans": plans, "counters": dict(result.counters), "retry": len(result.retry_plan_ids)},
        )
