"""HubSpot webhooks behind a Lambda Function URL: verify signature v3, queue one change per
notification, answer fast. Invalid signature or stale timestamp: 401 and nothing queued."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.observability import logger, metrics, tracer
from shared.pipeline.inbound import receive_webhook, request_url, to_bodies
from shared.queues import dead_letter, send_messages


def _answer(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message}),
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=LambdaFunctionUrlEvent)
def handler(event: LambdaFunctionUrlEvent, context: LambdaContext) -> dict[str, Any]:
    settings = wiring.settings()
    headers = dict(event.headers)
    outcome = receive_webhook(
        method=event.request_context.http.method,
        url=request_url(headers, event.raw_path, event.raw_query_string),
        body=event.decoded_body or "",
        headers=headers,
        client_secret=wiring.hubspot_client_secret(),
        now_ms=int(time.time() * 1000),
        portal=settings.portal,
    )
    if outcome.status != 200:
        logger.warning("webhook refused", extra={"status": outcome.status, "reason": outcome.message})
        metrics.add_metric(name="WebhooksRefused", unit="Count", value=1)
        return _answer(outcome.status, outcome.message)
    sqs = wiring.sqs()
    if outcome.events:
        send_messages(
            sqs, wiring.require(settings.changes_queue_url, "CHANGES_QUEUE_URL"), to_bodies(outcome.events)
        )
    for raw, reason in outcome.malformed:
        dlq = wiring.require(settings.changes_dead_letter_queue_url, "CHANGES_DEAD_LETTER_QUEUE_URL")
        dead_letter(sqs, dlq, raw, reason, source="hubspot-webhook")
    metrics.add_metric(name="WebhookNotifications", unit="Count", value=len(outcome.events))
    return _answer(200, outcome.message)
