"""Apply: a batch of sync plans -> the fewest batched writes, links, sync health."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.errors import SuspendedError, TransientApiError
from shared.observability import logger, metrics, tracer
from shared.pipeline.apply import Applier
from shared.pipeline.plans import SyncPlan
from shared.pipeline.sqs_batch import SqsBatch
from shared.queues import dead_letter, json_body, send_messages


def _dead_letter(body: str, reason: str) -> None:
    url = wiring.require(wiring.settings().writes_dead_letter_queue_url, "WRITES_DEAD_LETTER_QUEUE_URL")
    dead_letter(wiring.sqs(), url, body, reason, source="apply")
    metrics.add_metric(name="DeadLettered", unit="Count", value=1)


def _work(items: Sequence[tuple[str, SyncPlan]]) -> set[str]:
    settings = wiring.settings()
    applier = Applier(salesforce=wiring.salesforce(), hubspot=wiring.hubspot(), state=wiring.state())
    try:
        result = applier.apply([plan for _, plan in items])
    except (TransientApiError, SuspendedError) as exc:
        logger.warning("apply batch will be retried", extra={"error": str(exc), "plans": len(items)})
        return {message_id for message_id, _ in items}
    if result.followups:
        url = wiring.require(settings.changes_queue_url, "CHANGES_QUEUE_URL")
        send_messages(wiring.sqs(), url, [json_body(e) for e in result.followups])
    if result.counters:
        wiring.state().add_counters(settings.portal, dict(result.counters))
    for name, value in result.counters.items():
        metrics.add_metric(name=name.replace(".", "_"), unit="Count", value=value)
    logger.info(
        "apply",
        extra={"plans": len(items), "counters": dict(result.counters), "retry": len(result.retry_plan_ids)},
    )
    return {message_id for message_id, plan in items if plan.plan_id in result.retry_plan_ids}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return SqsBatch(SyncPlan, dead_letter=_dead_letter).handle(event, context, _work)
