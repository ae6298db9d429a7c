"""Apply: batches of sync plans -> the fewest batched writes, links, sync health.

A writes message is applied once however often SQS delivers it (``shared.pipeline.once``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.errors import SuspendedError, TransientApiError
from shared.models import ChangeEvent
from shared.observability import logger, metrics, tracer
from shared.pipeline.apply import APPLY_TIMEOUT, Applier
from shared.pipeline.once import Admission
from shared.pipeline.plans import PlanBatch, pack
from shared.pipeline.sqs_batch import SqsBatch
from shared.queues import json_body, send_messages

RETRY_DELAY_SECONDS = 10
MAX_ATTEMPTS = 8  # then the plans go to the dead-letter queue with the reason


_dead_letter = wiring.dead_letter_sink("writes_dead_letter_queue_url", source="apply")


def _work(items: Sequence[tuple[str, PlanBatch]], context: Any) -> set[str]:
    """Takes each message's idempotency record, applies the new ones together, then marks them
    complete (or frees them, when they are to be delivered again)."""
    once = wiring.once()
    remaining = context.get_remaining_time_in_millis() if context is not None else None
    fresh: list[tuple[str, PlanBatch, dict[str, Any]]] = []
    retry: set[str] = set()
    for message_id, batch in items:
        body = batch.model_dump(mode="json")
        admission = once.begin(body, remaining)
        if admission is Admission.NEW:
            fresh.append((message_id, batch, body))
        elif admission is Admission.BUSY:
            retry.add(message_id)  # another invocation is applying it
        else:
            metrics.add_metric(name="DuplicateWrites", unit="Count", value=1)
            logger.info("writes message applied before: skipped", extra={"plans": len(batch.plans)})
    if not fresh:
        return retry
    try:
        retry |= _apply([(message_id, batch) for message_id, batch, _ in fresh], remaining)
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


def _apply(items: Sequence[tuple[str, PlanBatch]], remaining_ms: int | None = None) -> set[str]:
    settings = wiring.settings()
    applier = Applier(
        salesforce=wiring.salesforce(),
        hubspot=wiring.hubspot(),
        state=wiring.state(),
        assignment_rules=wiring.sync_config().creation.assignment_rules,
        # a write lease outlives the invocation that holds it
        running_for=dt.timedelta(milliseconds=remaining_ms) if remaining_ms is not None else APPLY_TIMEOUT,
    )
    plans = [plan for _, batch in items for plan in batch.plans]
    try:
        result = applier.apply(plans)
    except (TransientApiError, SuspendedError) as exc:
        logger.warning("apply batch will be retried", extra={"error": str(exc), "plans": len(plans)})
        return {message_id for message_id, _ in items}
    sqs = wiring.sqs()
    # only the plans that failed transiently go round again, in a message of their own
    for _message_id, batch in items:
        again = [p for p in batch.plans if p.plan_id in result.retry_plan_ids]
        if not again:
            continue
        if batch.attempt + 1 >= MAX_ATTEMPTS:
            body = PlanBatch(plans=tuple(again), attempt=batch.attempt + 1).model_dump_json()
            _dead_letter(body, f"still failing after {MAX_ATTEMPTS} attempts (API errors that may pass)")
            continue
        url = wiring.require(settings.writes_queue_url, "WRITES_QUEUE_URL")
        send_messages(sqs, url, pack(again, attempt=batch.attempt + 1), delay_seconds=RETRY_DELAY_SECONDS)
    _decide_again(result.followups, delay_seconds=0)  # read again now (a link that changed, a resync)
    _decide_again(result.redecide, delay_seconds=RETRY_DELAY_SECONDS)  # writes that failed: after a pause
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
    if result.counters:
        wiring.state().add_counters(settings.portal, dict(result.counters))
    for name, value in result.counters.items():
        metrics.add_metric(name=name.replace(".", "_").replace(" ", "_"), unit="Count", value=value)
    logger.info(
        "apply",
        extra={"plans": len(plans), "counters": dict(result.counters), "retry": len(result.retry_plan_ids)},
    )
    return set()


def _decide_again(changes: Sequence[ChangeEvent], *, delay_seconds: int) -> None:
    """Pairs to decide again go back to dedupe, a bounded number of times (``redecided``); then to
    the dead-letter queue with the reason."""
    if not changes:
        return
    again = [c for c in changes if c.redecided < MAX_ATTEMPTS]
    for given_up in (c for c in changes if c.redecided >= MAX_ATTEMPTS):
        _dead_letter(given_up.model_dump_json(), f"not written after being decided {MAX_ATTEMPTS} times")
    if again:
        url = wiring.require(wiring.settings().changes_queue_url, "CHANGES_QUEUE_URL")
        send_messages(wiring.sqs(), url, [json_body(c) for c in again], delay_seconds=delay_seconds)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return SqsBatch(PlanBatch, dead_letter=_dead_letter).handle(
        event, context, lambda items: _work(items, context)
    )
