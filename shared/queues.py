"""Sending to SQS: batched within SQS's limits, and dead-lettering with a reason.

SQS takes at most 10 messages in a ``SendMessageBatch`` call and at most 256 KiB (262,144 bytes)
both per message and per call (the sum of its messages). A message's size is its body's UTF-8
bytes plus, for each message attribute, the bytes of its name, data type and value. Batches are
cut by count and by size; a body larger than a message holds is refused before anything is sent
(:class:`MessageTooLarge`): the senders keep their messages under the limit (``shared.pipeline.
change_messages`` for changes, ``shared.pipeline.plans.pack`` for plans). A dead letter too large
for one message is sent in parts that share its ``dead-letter-id`` and say which ``part`` they are.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shared.chunking import weighed_chunks

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10
MAX_BYTES = 256 * 1024  # one message, and the sum of the messages of one SendMessageBatch call
MAX_REASON_CHARS = 1000

Attributes = Mapping[str, Mapping[str, str]]


class QueueSendError(Exception):
    """Some messages could not be queued even after a retry."""


class MessageTooLarge(ValueError):
    """A message body larger than SQS accepts (nothing was sent)."""


def message_bytes(body: str, attributes: Attributes | None = None) -> int:
    """What SQS counts against :data:`MAX_BYTES` for one message."""
    size = len(body.encode("utf-8"))
    for name, value in (attributes or {}).items():
        size += len(name.encode("utf-8")) + len(value["DataType"].encode("utf-8"))
        size += len(value["StringValue"].encode("utf-8"))
    return size


@dataclass(frozen=True)
class Message:
    body: str
    attributes: Attributes = field(default_factory=dict)

    @property
    def size(self) -> int:
        return message_bytes(self.body, self.attributes)


def batches(messages: Sequence[Message]) -> list[Sequence[Message]]:
    """``messages`` in SendMessageBatch-sized pieces (by count and by bytes), in order."""
    sizes = [m.size for m in messages]
    for size in sizes:
        if size > MAX_BYTES:
            raise MessageTooLarge(f"a message of {size} bytes is larger than SQS accepts ({MAX_BYTES})")
    return weighed_chunks(messages, sizes, max_count=MAX_BATCH, max_weight=MAX_BYTES)


def send_batched(
    sqs: SQSClient, queue_url: str, messages: Sequence[Message], *, delay_seconds: int = 0
) -> int:
    """Queue every message (failed entries are retried once); returns the number of calls made."""
    calls = 0
    pending = list(messages)
    for attempt in range(2):
        failed: list[Message] = []
        for chunk in batches(pending):
            entries: list[dict[str, Any]] = []
            for i, message in enumerate(chunk):
                entry: dict[str, Any] = {
                    "Id": str(i),
                    "MessageBody": message.body,
                    "DelaySeconds": delay_seconds,
                }
                if message.attributes:
                    entry["MessageAttributes"] = {k: dict(v) for k, v in message.attributes.items()}
                entries.append(entry)
            answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
            calls += 1
            failed.extend(chunk[int(f["Id"])] for f in answer.get("Failed", []))
        if not failed:
            return calls
        pending = failed
        if attempt == 1:
            raise QueueSendError(f"{len(failed)} messages could not be sent to {queue_url}")
    return calls


def send_messages(sqs: SQSClient, queue_url: str, bodies: Sequence[str], *, delay_seconds: int = 0) -> int:
    """Queue every body; returns the number of SendMessageBatch calls made."""
    return send_batched(sqs, queue_url, [Message(body) for body in bodies], delay_seconds=delay_seconds)


def split_utf8(text: str, max_bytes: int) -> list[str]:
    """``text`` in consecutive pieces of at most ``max_bytes`` UTF-8 bytes, never inside a character."""
    if max_bytes < 4:
        raise ValueError("a piece must hold any character (4 bytes)")
    data = text.encode("utf-8")
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + max_bytes, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: back off
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces or [""]


def _attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def dead_letter_messages(body: str, reason: str, *, source: str) -> list[Message]:
    """The message(s) of one dead letter: its body, with the reason, the source and an id as
    attributes; a body too large for one message is cut into parts (``part``: "2/5")."""
    attributes = {
        "reason": _attribute(reason[:MAX_REASON_CHARS] or "unknown"),
        "source": _attribute(source),
        "dead-letter-id": _attribute(str(uuid.uuid4())),
    }
    body = body if body else json.dumps({"empty": True})
    if message_bytes(body, attributes) <= MAX_BYTES:
        return [Message(body, attributes)]
    room = MAX_BYTES - message_bytes("", {**attributes, "part": _attribute("9999999/9999999")})
    parts = split_utf8(body, room)
    return [
        Message(part, {**attributes, "part": _attribute(f"{i}/{len(parts)}")})
        for i, part in enumerate(parts, start=1)
    ]


def dead_letter(sqs: SQSClient, queue_url: str, body: str, reason: str, *, source: str) -> None:
    """Put a message that can never be processed on a dead-letter queue, saying why."""
    messages = dead_letter_messages(body, reason, source=source)
    if len(messages) > 1:
        send_batched(sqs, queue_url, messages)
        return
    (message,) = messages
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=message.body,
        MessageAttributes={k: dict(v) for k, v in message.attributes.items()},  # type: ignore[misc]
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


class DeadLetters(Protocol):
    """Where a stage puts what it can never process, with the reason: one at a time, or many
    (batched: a request of many bad notifications costs a call per ten, not one each)."""

    def __call__(self, body: str, reason: str) -> None: ...

    def many(self, items: Sequence[tuple[str, str]]) -> None: ...


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
        self._count(1)

    def many(self, items: Sequence[tuple[str, str]]) -> None:
        """Dead-letter every (body, reason), in as few calls as SQS allows."""
        messages = [
            m for body, reason in items for m in dead_letter_messages(body, reason, source=self.source)
        ]
        if messages:
            send_batched(self.sqs, self.url, messages)
            self._count(len(items))

    def _count(self, n: int) -> None:
        if self.metric is not None:
            from shared.observability import metrics

            metrics.add_metric(name=self.metric, unit="Count", value=n)
