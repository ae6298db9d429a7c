"""Owners: the stage between dedupe and apply. Decides the owners of a batch of plans from the
shared owner cache (no API call when warm) and passes the plans on to the writes queue; on its
schedule, refreshes the owner cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.errors import SuspendedError, TransientApiError
from shared.observability import logger, metrics, tracer
from shared.owners.stage import OwnerStage
from shared.pipeline.plans import PlanBatch, pack
from shared.pipeline.sqs_batch import SqsBatch
from shared.queues import send_messages


def _stage() -> OwnerStage:
    from shared.state.cache import DynamoCache

    settings = wiring.settings()
    return OwnerStage(
        portal=settings.portal,
        salesforce=wiring.salesforce(),
        hubspot=wiring.hubspot(),
        cache=DynamoCache(settings.state_table),
    )


_dead_letter = wiring.dead_letter_sink("owners_dead_letter_queue_url", source="owners")


def _work(items: Sequence[tuple[str, PlanBatch]]) -> set[str]:
    settings = wiring.settings()
    try:
        result = _stage().process([plan for _, batch in items for plan in batch.plans])
    except (TransientApiError, SuspendedError) as exc:
        logger.warning("owner batch will be retried", extra={"error": str(exc), "messages": len(items)})
        return {message_id for message_id, _ in items}
    attempt = max(batch.attempt for _, batch in items)
    send_messages(
        wiring.sqs(),
        wiring.require(settings.writes_queue_url, "WRITES_QUEUE_URL"),
        pack(result.plans, attempt=attempt),
    )
    if result.counters:
        wiring.state().add_counters(settings.portal, result.counters)
    logger.info(
        "owners",
        extra={"plans": len(result.plans), "counters": result.counters, "refreshed": result.refreshed},
    )
    return set()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return SqsBatch(PlanBatch, dead_letter=_dead_letter).handle(event, context, _work)
    directory = _stage().refresh()  # the schedule
    counts = {"salesforce": len(directory.salesforce), "hubspot": len(directory.hubspot)}
    logger.info("owner cache refreshed", extra=counts)
    return counts
