"""The inbound webhook function's stage: HubSpot webhooks behind a Lambda Function URL. Verify
signature v3, queue one change per notification, answer fast. Invalid signature or stale
timestamp: 401 and nothing queued; a notification that cannot be synced: the dead-letter queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent

from shared.observability import logger, metrics
from shared.pipeline.inbound import receive_webhook, request_url, to_bodies
from shared.queues import Queue


def answer(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message}),
    }


def now_ms() -> int:
    return int(time.time() * 1000)


class WebhookStage:
    def __init__(
        self,
        *,
        portal: str,
        client_secret: Callable[[], str],
        changes: Queue,
        dead_letter: Callable[[str, str], None],
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        """``client_secret``: the HubSpot app's, read when a request comes (it signs them)."""
        self.portal = portal
        self.client_secret = client_secret
        self.changes = changes
        self.dead_letter = dead_letter
        self.clock_ms = clock_ms

    def handle(self, event: LambdaFunctionUrlEvent) -> dict[str, Any]:
        headers = dict(event.headers)
        outcome = receive_webhook(
            method=event.request_context.http.method,
            url=request_url(headers, event.raw_path, event.raw_query_string),
            body=event.decoded_body or "",
            headers=headers,
            client_secret=self.client_secret(),
            now_ms=self.clock_ms(),
            portal=self.portal,
        )
        if outcome.status != 200:
            logger.warning("webhook refused", extra={"status": outcome.status, "reason": outcome.message})
            metrics.add_metric(name="WebhooksRefused", unit="Count", value=1)
            return answer(outcome.status, outcome.message)
        if outcome.events:
            self.changes.send(to_bodies(outcome.events))
        for raw, reason in outcome.malformed:
            self.dead_letter(raw, reason)
        metrics.add_metric(name="WebhookNotifications", unit="Count", value=len(outcome.events))
        return answer(200, outcome.message)
