"""The reconciliation poller: on its schedule, and on request (gap/overflow events, backfills)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from shared import wiring
from shared.models import ChangeEvent, System
from shared.observability import logger, metrics, tracer
from shared.pipeline.inbound import to_bodies
from shared.pipeline.poll import ALL_TARGETS, Poller, PollTarget
from shared.pipeline.sqs_batch import SqsBatch
from shared.queues import send_messages


class PollRequest(BaseModel):
    system: System
    object_type: str
    since: dt.datetime | None = None  # a backfill reads from here instead of the cursor
    reason: str = "requested"


def _poller() -> Poller:
    settings = wiring.settings()
    url = wiring.require(settings.changes_queue_url, "CHANGES_QUEUE_URL")

    def enqueue(events: Sequence[ChangeEvent]) -> None:
        send_messages(wiring.sqs(), url, to_bodies(events))

    return Poller(
        portal=settings.portal,
        org_id=os.environ.get("SALESFORCE_ORG_ID", ""),
        salesforce=wiring.salesforce(),
        hubspot=wiring.hubspot(),
        state=wiring.state(),
        enqueue=enqueue,
    )


def _requested(items: Sequence[tuple[str, PollRequest]]) -> set[str]:
    poller = _poller()
    for _message_id, request in items:
        result = poller.poll([PollTarget(request.system, request.object_type)], since=request.since)
        logger.info("poll request served", extra={"reason": request.reason, "queued": result.queued})
    return set()


def _no_dead_letter(body: str, reason: str) -> None:
    # a malformed poll request holds no record; it is logged and dropped from the queue
    logger.error("malformed poll request", extra={"body": body[:500], "reason": reason})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return SqsBatch(PollRequest, dead_letter=_no_dead_letter).handle(event, context, _requested)
    result = _poller().poll(ALL_TARGETS)
    queued = sum(result.queued.values())
    metrics.add_metric(name="PolledChanges", unit="Count", value=queued)
    logger.info("scheduled poll", extra={"queued": result.queued})
    return {"queued": result.queued}
