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
MAX_DEFERRALS = 30  # about a minute: longer than any apply batch, shorter than the claim's TTL


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
        # another event holds the creation claim: look again shortly, when the record exists
        again = [
            e.model_copy(update={"attempt": e.attempt + 1}) for e in result.retry if e.attempt < MAX_DEFERRALS
        ]
        for given_up in (e for e in result.retry if e.attempt >= MAX_DEFERRALS):
            _dead_letter(given_up.model_dump_json(), "creation claim held by another event for too long")
        if again:
            changes = wiring.require(settings.changes_queue_url, "CHANGES_QUEUE_URL")
            send_messages(sqs, changes, [json_body(e) for e in again], delay_seconds=RETRY_DELAY_SECONDS)
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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return SqsBatch(ChangeEvent, dead_letter=_dead_letter).handle(event, context, _work)
