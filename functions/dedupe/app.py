"""Dedupe: a batch of change events -> sync plans on the writes queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.errors import SuspendedError, TransientApiError
from shared.models import ChangeEvent
from shared.observability import logger, metrics, tracer
from shared.pipeline.dedupe import Deduper
from shared.pipeline.plans import pack
from shared.pipeline.sqs_batch import SqsBatch
from shared.queues import json_body, send_messages

RETRY_DELAY_SECONDS = 2
# a change waits for a creation claim held by another change, or for hssync's write to its pair to
# be recorded (shared.intents); the pause doubles every 5 deferrals up to 64 s, so 30 deferrals wait
# about 10 minutes: longer than a write lease (apply's timeout plus a margin), as long as a claim
MAX_DEFERRALS = 30
MAX_DELAY_SECONDS = 64


def deferral_delay(attempt: int) -> int:
    """Seconds before a deferred change is looked at again (its ``attempt``-th deferral, from 0)."""
    delay: int = RETRY_DELAY_SECONDS * 2 ** (attempt // 5)
    return min(MAX_DELAY_SECONDS, delay)


_dead_letter = wiring.dead_letter_sink("changes_dead_letter_queue_url", source="dedupe")


def _work(items: Sequence[tuple[str, ChangeEvent]]) -> set[str]:
    settings = wiring.settings()
    deduper = Deduper(
        config=wiring.sync_config(),
        portal=settings.portal,
        salesforce=wiring.salesforce(),
        hubspot=wiring.hubspot(),
        state=wiring.state(),
        own_app_id=wiring.hubspot_app_id(),
    )
    try:
        result = deduper.process([event for _, event in items])
    except (TransientApiError, SuspendedError) as exc:
        logger.warning("dedupe batch will be retried", extra={"error": str(exc), "events": len(items)})
        return {message_id for message_id, _ in items}
    sqs = wiring.sqs()
    if result.plans:
        # to the owners stage, which passes them on to apply
        target = settings.owners_queue_url or wiring.require(settings.writes_queue_url, "WRITES_QUEUE_URL")
        send_messages(sqs, target, pack(result.plans))
    if result.retry:
        _defer(result.retry)
    if result.held:
        # a part of a bulk load, held back to fill the next batch's API calls (once per event)
        changes = wiring.require(settings.changes_queue_url, "CHANGES_QUEUE_URL")
        send_messages(sqs, changes, [json_body(e) for e in result.held])
        metrics.add_metric(name="Held", unit="Count", value=len(result.held))
    if result.skipped:
        wiring.state().add_counters(settings.portal, {f"skipped.{k}": v for k, v in result.skipped.items()})
    if result.statuses:
        wiring.state().set_statuses(settings.portal, result.statuses)
    metrics.add_metric(name="Plans", unit="Count", value=len(result.plans))
    metrics.add_metric(name="Skipped", unit="Count", value=sum(result.skipped.values()))
    logger.info(
        "dedupe",
        extra={
            "events": len(items),
            "plans": len(result.plans),
            "held": len(result.held),
            "skipped": dict(result.skipped),
        },
    )
    return set()


def _defer(events: Sequence[ChangeEvent]) -> None:
    """Another change holds the creation claim, or hssync is writing to the pair: look again
    shortly, when the record exists or the write is recorded."""
    for given_up in (e for e in events if e.attempt >= MAX_DEFERRALS):
        _dead_letter(given_up.model_dump_json(), "waited too long for a creation claim or a write in flight")
    by_delay: dict[int, list[str]] = {}
    for event in events:
        if event.attempt < MAX_DEFERRALS:
            later = event.model_copy(update={"attempt": event.attempt + 1})
            by_delay.setdefault(deferral_delay(event.attempt), []).append(json_body(later))
    changes = wiring.require(wiring.settings().changes_queue_url, "CHANGES_QUEUE_URL")
    for delay, bodies in by_delay.items():
        send_messages(wiring.sqs(), changes, bodies, delay_seconds=delay)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return SqsBatch(ChangeEvent, dead_letter=_dead_letter).handle(event, context, _work)
