"""Salesforce Change Data Capture events, delivered by Event Relay through EventBridge to an SQS
queue and consumed in batches: one change per record id; gap and overflow events ask the poller to
re-read instead of being trusted. Each message body is the EventBridge event, as the rule sent it.

A batch is relayed with one ``SendMessageBatch`` per ten changes. There is no per-event idempotency
record: a change delivered twice costs nothing downstream (dedupe keys a batch by record id and
reads the record's current state; apply's writes are keyed on the change), while a DynamoDB
idempotency record would cost two writes per event.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.observability import logger, metrics, tracer
from shared.pipeline.inbound import relay_batch, to_bodies
from shared.queues import dead_letter, send_messages


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = wiring.settings()
    sqs = wiring.sqs()
    batch = relay_batch(event.get("Records", []), org_id=os.environ.get("SALESFORCE_ORG_ID", ""))
    for body, reason in batch.malformed:
        dlq = wiring.require(settings.changes_dead_letter_queue_url, "CHANGES_DEAD_LETTER_QUEUE_URL")
        dead_letter(sqs, dlq, body, reason, source="salesforce-change-event")
        metrics.add_metric(name="MalformedChangeEvents", unit="Count", value=1)
    try:
        if batch.events:
            url = wiring.require(settings.changes_queue_url, "CHANGES_QUEUE_URL")
            send_messages(sqs, url, to_bodies(batch.events))
        if batch.poll_objects:
            url = wiring.require(settings.poll_requests_queue_url, "POLL_REQUESTS_QUEUE_URL")
            requests = [
                json.dumps({"system": "salesforce", "object_type": o, "reason": "GAP_OVERFLOW"})
                for o in sorted(set(batch.poll_objects))
            ]
            send_messages(sqs, url, requests)
            logger.warning("change event overflow: polling instead", extra={"objects": batch.poll_objects})
    except Exception:
        # nothing is lost: every message of the batch comes back (a repeated change is harmless)
        logger.exception("relaying the batch failed; SQS delivers it again")
        return {"batchItemFailures": [{"itemIdentifier": m} for m in batch.message_ids]}
    metrics.add_metric(name="SalesforceChanges", unit="Count", value=len(batch.events))
    logger.info("relayed", extra={"messages": len(batch.message_ids), "changes": len(batch.events)})
    return {"batchItemFailures": []}
