"""The reconciliation poller: on its schedule (with the inclusion list's new members), and on request
(gap/overflow events, backfills, resyncs of records or of a HubSpot list)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.adapters.retry import RequestRejected
from shared.errors import SuspendedError, TransientApiError
from shared.models import ChangeEvent
from shared.observability import logger, metrics, tracer
from shared.pipeline.inbound import to_bodies
from shared.pipeline.poll import ALL_TARGETS, Poller, PollRequest
from shared.pipeline.sqs_batch import SqsBatch
from shared.queues import send_messages

__all__ = ["PollRequest", "handler"]


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


_send_to_dead_letter_queue = wiring.dead_letter_sink("poll_requests_dead_letter_queue_url", source="poll")


def _dead_letter(body: str, reason: str) -> None:
    _send_to_dead_letter_queue(body, reason)
    logger.error("poll request dead-lettered", extra={"body": body[:500], "reason": reason})


def _requested(items: Sequence[tuple[str, PollRequest]]) -> set[str]:
    """Serve each request on its own: a failure retries (or dead-letters) that request only."""
    poller = _poller()
    retry: set[str] = set()
    for message_id, request in items:
        try:
            result = poller.serve(request)
        except RequestRejected as exc:  # e.g. a list that does not exist: asking again cannot help
            failure = exc.failure
            _dead_letter(request.model_dump_json(exclude_none=True), f"{failure.code}: {failure.message}")
            continue
        except (TransientApiError, SuspendedError) as exc:
            logger.warning(
                "poll request will be retried", extra={"reason": request.reason, "error": str(exc)}
            )
            retry.add(message_id)
            continue
        except Exception:  # SQS delivers it again; after maxReceiveCount its redrive dead-letters it
            logger.exception("poll request failed", extra={"reason": request.reason, "kind": request.kind})
            retry.add(message_id)
            continue
        queued = sum(result.queued.values())
        metrics.add_metric(name="PolledChanges", unit="Count", value=queued)
        logger.info(
            "poll request served",
            extra={"reason": request.reason, "kind": request.kind, "queued": result.queued},
        )
    return retry


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return SqsBatch(PollRequest, dead_letter=_dead_letter).handle(event, context, _requested)
    list_id = wiring.sync_config().inclusion.list_id
    poller = _poller()
    result = poller.poll(ALL_TARGETS)
    if list_id:
        try:
            result.merge(poller.poll_list_joins(list_id))
        except RequestRejected as exc:  # e.g. the list was deleted: the other polls still ran
            logger.error(
                "the inclusion list cannot be read",
                extra={"list_id": list_id, "code": exc.failure.code, "error": exc.failure.message},
            )
            metrics.add_metric(name="InclusionListUnreadable", unit="Count", value=1)
    queued = sum(result.queued.values())
    metrics.add_metric(name="PolledChanges", unit="Count", value=queued)
    logger.info("scheduled poll", extra={"queued": result.queued})
    return {"queued": result.queued}
