"""The inbound events function's stage: Salesforce Change Data Capture events, delivered by Event
Relay through EventBridge to an SQS queue and consumed in batches: one change per record id; gap
and overflow events ask the poller to re-read instead of being trusted. Each message body is the
EventBridge event, as the rule sent it.

A batch is relayed with one ``SendMessageBatch`` per ten changes. There is no per-event idempotency
record: a change delivered twice costs nothing downstream (dedupe keys a batch by record id and
reads the record's current state; apply's writes are keyed on the change), while a DynamoDB
idempotency record would cost two writes per event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shared.observability import logger, metrics
from shared.pipeline.change_messages import change_body
from shared.pipeline.inbound import RelayBatch, relay_batch
from shared.pipeline.lanes import LaneQueues, classify
from shared.queues import Queue


class ChangeEventStage:
    def __init__(
        self,
        *,
        org_id: str,
        changes: Queue,
        poll_requests: Queue,
        dead_letter: Callable[[str, str], None],
        bulk_changes: Queue | None = None,
    ) -> None:
        """``org_id``: the org a change is of when its event's source does not name one;
        ``bulk_changes``: the bulk lane's changes queue (``shared.pipeline.lanes``), None: the same."""
        self.org_id = org_id
        self.changes = changes
        self.poll_requests = poll_requests
        self.dead_letter = dead_letter
        self.lanes = LaneQueues(changes, bulk_changes)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        batch = relay_batch(event.get("Records", []), org_id=self.org_id)
        for body, reason in batch.malformed:
            self.dead_letter(body, reason)
        try:
            self._relay(batch)
        except Exception:
            # nothing is lost: every message of the batch comes back (a repeated change is harmless)
            logger.exception("relaying the batch failed; SQS delivers it again")
            return {"batchItemFailures": [{"itemIdentifier": m} for m in batch.message_ids]}
        metrics.add_metric(name="SalesforceChanges", unit="Count", value=len(batch.events))
        logger.info("relayed", extra={"messages": len(batch.message_ids), "changes": len(batch.events)})
        return {"batchItemFailures": []}

    def _relay(self, batch: RelayBatch) -> None:
        if batch.events:
            self.lanes.send_changes(classify(batch.events), change_body)
        if batch.poll_objects:
            requests = [
                json.dumps({"system": "salesforce", "object_type": o, "reason": "GAP_OVERFLOW"})
                for o in sorted(set(batch.poll_objects))
            ]
            self.poll_requests.send(requests)
            logger.warning("change event overflow: polling instead", extra={"objects": batch.poll_objects})
