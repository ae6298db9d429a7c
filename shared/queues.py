"""Sending to SQS: batched (10 messages a call, the API's maximum) and dead-lettering with a reason."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10
MAX_BYTES = 256 * 1024


class QueueSendError(Exception):
    """Some messages could not be queued even after a retry."""


def send_messages(sqs: SQSClient, queue_url: str, bodies: Sequence[str], *, delay_seconds: int = 0) -> int:
    """Queue every body; returns the number of SendMessageBatch calls made."""
    calls = 0
    pending = list(bodies)
    for attempt in range(2):
        failed: list[str] = []
        for start in range(0, len(pending), MAX_BATCH):
            chunk = pending[start : start + MAX_BATCH]
            entries = [
                {"Id": str(i), "MessageBody": body, "DelaySeconds": delay_seconds}
                for i, body in enumerate(chunk)
            ]
            answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
            calls += 1
            failed.extend(chunk[int(f["Id"])] for f in answer.get("Failed", []))
        if not failed:
            return calls
        pending = failed
        if attempt == 1:
            raise QueueSendError(f"{len(failed)} messages could not be sent to {queue_url}")
    return calls


def dead_letter(sqs: SQSClient, queue_url: str, body: str, reason: str, *, source: str) -> None:
    """Put a message that can never be processed on a dead-letter queue, saying why."""
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=body if body else json.dumps({"empty": True}),
        MessageAttributes={
            "reason": {"DataType": "String", "StringValue": reason[:1000] or "unknown"},
            "source": {"DataType": "String", "StringValue": source},
            "dead-letter-id": {"DataType": "String", "StringValue": str(uuid.uuid4())},
        },
    )


def json_body(model: Any) -> str:
    """A pydantic model as a compact JSON message body."""
    return str(model.model_dump_json())


@dataclass(frozen=True)
class Queue:
    """A queue a stage sends to."""

    sqs: SQSClient
    url: str

    def send(self, bodies: Sequence[str], *, delay_seconds: int = 0) -> None:
        send_messages(self.sqs, self.url, bodies, delay_seconds=delay_seconds)


@dataclass(frozen=True)
class DeadLetterQueue:
    """Where a stage puts what it can never process, with the reason (``source``: the stage), and
    the metric it counts each one in (None: none)."""

    sqs: SQSClient
    url: str
    source: str
    metric: str | None = "DeadLettered"

    def __call__(self, body: str, reason: str) -> None:
        dead_letter(self.sqs, self.url, body, reason, source=self.source)
        if self.metric is not None:
            from shared.observability import metrics

            metrics.add_metric(name=self.metric, unit="Count", value=1)
