"""Salesforce Change Data Capture events, delivered by Event Relay through EventBridge to an SQS
queue and consumed in batches: one change per record id; gap and overflow events ask the poller to
re-read instead of being trusted. Each message body is the EventBridge event, as the rule sent it."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.observability import logger, metrics, tracer
from shared.pipeline.inbound import receive_change_event, to_bodies
from shared.queues import dead_letter, send_messages

_idempotency: tuple[DynamoDBPersistenceLayer, IdempotencyConfig] | None = None


def _persistence() -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    global _idempotency
    if _idempotency is None:
        table = wiring.require(wiring.settings().idempotency_table, "IDEMPOTENCY_TABLE")
        _idempotency = (
            DynamoDBPersistenceLayer(table_name=table),
            IdempotencyConfig(event_key_jmespath="id"),
        )
    return _idempotency


def _relay(event: dict[str, Any]) -> dict[str, Any]:
    settings = wiring.settings()
    sqs = wiring.sqs()
    outcome = receive_change_event(event, org_id=os.environ.get("SALESFORCE_ORG_ID", ""))
    if outcome.malformed:
        dlq = wiring.require(settings.changes_dead_letter_queue_url, "CHANGES_DEAD_LETTER_QUEUE_URL")
        dead_letter(sqs, dlq, json.dumps(event), outcome.malformed, source="salesforce-change-event")
        metrics.add_metric(name="MalformedChangeEvents", unit="Count", value=1)
        return {"queued": 0, "dead_lettered": 1}
    if outcome.events:
        send_messages(
            sqs, wiring.require(settings.changes_queue_url, "CHANGES_QUEUE_URL"), to_bodies(outcome.events)
        )
    if outcome.poll_objects:
        url = wiring.require(settings.poll_requests_queue_url, "POLL_REQUESTS_QUEUE_URL")
        requests = [
            json.dumps({"system": "salesforce", "object_type": o, "reason": "GAP_OVERFLOW"})
            for o in outcome.poll_objects
        ]
        send_messages(sqs, url, requests)
        logger.warning("change event overflow: polling instead", extra={"objects": outcome.poll_objects})
    metrics.add_metric(name="SalesforceChanges", unit="Count", value=len(outcome.events))
    return {"queued": len(outcome.events), "poll_requests": len(outcome.poll_objects)}


def _record(record: SQSRecord) -> None:
    """One EventBridge event. A body that is not an event goes to the dead-letter queue with the
    reason; a failure to queue raises, so SQS delivers this message (only) again."""
    persistence, config = _persistence()
    try:
        event = json.loads(record.body)
    except ValueError as exc:
        event = None
        reason = f"message body is not JSON: {exc}"
    else:
        reason = "message body is not an EventBridge event (no id)"
    if not isinstance(event, dict) or not event.get("id"):
        dlq = wiring.require(wiring.settings().changes_dead_letter_queue_url, "CHANGES_DEAD_LETTER_QUEUE_URL")
        dead_letter(wiring.sqs(), dlq, record.body, reason, source="salesforce-change-event")
        metrics.add_metric(name="MalformedChangeEvents", unit="Count", value=1)
        return
    # EventBridge and SQS may each deliver an event more than once: its id keys the idempotency record
    idempotent_function(data_keyword_argument="event", persistence_store=persistence, config=config)(_relay)(
        event=event
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _persistence()[1].register_lambda_context(context)
    processor = BatchProcessor(event_type=EventType.SQS)
    response = process_partial_response(
        event=event, record_handler=_record, processor=processor, context=context
    )
    return {"batchItemFailures": list(response.get("batchItemFailures", []))}
