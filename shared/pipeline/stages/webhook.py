"""The inbound webhook function's stage: HubSpot webhooks behind a Lambda Function URL. Verify
signature v3, queue one change per notification, answer fast. Invalid signature or stale
timestamp: 401 and nothing queued. A signed request that is not a JSON array (400) or beyond the
bounds (413, ``shared.inbound.hubspot``): dead-lettered whole, nothing queued. A notification that
cannot be synced (invalid, or of a portal that is not in the configuration's ``portals``): the
dead-letter queue with its reason, while the request's valid ones are queued and the answer is 200
(HubSpot would retry an error in vain).

An unknown portal's notification goes to the dead-letter queue, not to sync health: it names no
record of a synced portal (sync health is kept per portal), the operator sees the dead letters and
their reasons (``hssync status``, ``hssync dead-letters``), and once the portal is added to
``portals`` the very notification can be replayed from there."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from typing import Any

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent

from shared.observability import logger, metrics
from shared.pipeline.change_messages import change_bodies
from shared.pipeline.inbound import WebhookOutcome, receive_webhook, request_url
from shared.pipeline.lanes import LaneQueues, classify
from shared.ports import RequestLog
from shared.queues import DeadLetters, Queue
from shared.webhook_signature import receipt

UNAUTHORIZED = 401  # the signature did not verify: nothing about the request can be trusted


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
        dead_letter: DeadLetters,
        received: RequestLog | None = None,
        clock_ms: Callable[[], int] = now_ms,
        portals: Callable[[], Collection[str]] | None = None,
        bulk_changes: Queue | None = None,
    ) -> None:
        """``client_secret``: the HubSpot app's, read when a request comes (it signs them).
        ``received``: the signed requests already received (a copy of one queues nothing).
        ``portals``: the portals synced (the configuration's); by default ``portal`` alone.
        ``bulk_changes``: the bulk lane's changes queue (``shared.pipeline.lanes``), None: the same."""
        self.portal = portal
        self.portals = portals or (lambda: (portal,))
        self.client_secret = client_secret
        self.changes = changes
        self.dead_letter = dead_letter
        self.received = received
        self.clock_ms = clock_ms
        self.lanes = LaneQueues(changes, bulk_changes)

    def handle(self, event: LambdaFunctionUrlEvent) -> dict[str, Any]:
        headers = dict(event.headers)
        outcome = receive_webhook(
            method=event.request_context.http.method,
            url=request_url(headers, event.raw_path, event.raw_query_string),
            body=event.decoded_body or "",
            headers=headers,
            client_secret=self.client_secret(),
            now_ms=self.clock_ms(),
            portals=self.portals(),
        )
        if outcome.status != UNAUTHORIZED and self.replayed(headers):
            return answer(200, "already received")
        if outcome.status != 200:
            return self.refuse(outcome)
        unsendable: list[tuple[str, str]] = []
        for queue, events in self.lanes.by_queue(classify(outcome.events)):
            bodies, too_large = change_bodies(events)
            if bodies:
                queue.send(bodies)
            unsendable += too_large
        dead = outcome.malformed + unsendable
        if dead:
            self.dead_letter.many(dead)
            logger.warning("notifications dead-lettered", extra={"count": len(dead), "reason": dead[0][1]})
        metrics.add_metric(name="WebhookNotifications", unit="Count", value=len(outcome.events))
        return answer(200, outcome.message)

    def replayed(self, headers: dict[str, str]) -> bool:
        """Whether this signed request was received before: a replay within the signature's time
        window (HubSpot's own retries are signed anew, so they are never taken for one)."""
        if self.received is None:
            return False
        seen = receipt(headers)
        if self.received.first_receipt(self.portal, seen.fingerprint, seen.expires_at):
            return False
        logger.warning("webhook request received before: nothing queued")
        metrics.add_metric(name="WebhookReplays", unit="Count", value=1)
        return True

    def refuse(self, outcome: WebhookOutcome) -> dict[str, Any]:
        """Not from HubSpot (401): nothing is kept. A signed request refused whole (400, 413): its
        body goes to the dead-letter queue with the reason."""
        logger.warning("webhook refused", extra={"status": outcome.status, "reason": outcome.message})
        metrics.add_metric(name="WebhooksRefused", unit="Count", value=1)
        if outcome.refused is not None:
            self.dead_letter(outcome.refused, outcome.message)
        return answer(outcome.status, outcome.message)
