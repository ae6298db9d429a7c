"""Dead letters as an operator reads them: the message, why it is there (the ``reason`` attribute
the stages set, or SQS's own redrive after too many receives), where it came from, and the redrive
of chosen ones back to their stage's queue once the cause is fixed.

A dead letter too large for one message was sent in parts (``shared.queues``): they are listed as
one, and redriven whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.queues import MAX_BYTES, message_bytes

SQS_REDRIVE_REASON = "received too often without success (the queue's maxReceiveCount)"
PEEK_VISIBILITY = 30  # seconds a listed message stays hidden while the listing runs


@dataclass(frozen=True)
class DeadLetter:
    id: str  # the dead-letter-id the stage gave it, else the SQS message id
    body: str
    reason: str
    source: str  # the stage that dead-lettered it ("sqs" for a redrive by the queue itself)
    sent_at: dt.datetime | None
    receipts: tuple[str, ...]  # of every part
    parts: int = 1

    @property
    def redrivable(self) -> bool:
        """Whole (every part listed) and small enough to be one message again."""
        return self.parts > 0 and message_bytes(self.body) <= MAX_BYTES

    def summary(self, width: int = 100) -> str:
        body = self.body if len(self.body) <= width else self.body[: width - 3] + "..."
        return body.replace("\n", " ")


def _text(attributes: Mapping[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    return str(value["StringValue"]) if value and "StringValue" in value else None


def _sent_at(message: Mapping[str, Any]) -> dt.datetime | None:
    stamp = message.get("Attributes", {}).get("SentTimestamp")
    return dt.datetime.fromtimestamp(int(stamp) / 1000, dt.UTC) if stamp else None


def assemble(messages: Iterable[Mapping[str, Any]]) -> list[DeadLetter]:
    """SQS messages (as ``receive_message`` returns them) as dead letters, parts joined, in the order
    they were sent."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for message in messages:
        attributes = message.get("MessageAttributes", {})
        key = _text(attributes, "dead-letter-id") or str(message["MessageId"])
        groups.setdefault(key, []).append(message)
    letters = [_letter(key, group) for key, group in groups.items()]
    letters.sort(key=lambda letter: (letter.sent_at or dt.datetime.min.replace(tzinfo=dt.UTC), letter.id))
    return letters


def _part_number(message: Mapping[str, Any]) -> int:
    part = _text(message.get("MessageAttributes", {}), "part") or "1/1"
    return int(part.split("/")[0])


def _letter(key: str, group: Sequence[Mapping[str, Any]]) -> DeadLetter:
    ordered = sorted(group, key=_part_number)
    attributes = ordered[0].get("MessageAttributes", {})
    expected = int((_text(attributes, "part") or "1/1").split("/")[1])
    return DeadLetter(
        id=key,
        body="".join(str(m["Body"]) for m in ordered),
        reason=_text(attributes, "reason") or SQS_REDRIVE_REASON,
        source=_text(attributes, "source") or "sqs",
        sent_at=_sent_at(ordered[0]),
        receipts=tuple(str(m["ReceiptHandle"]) for m in ordered),
        parts=expected if len(ordered) == expected else -len(ordered),  # negative: parts missing
    )


def reasons(letters: Sequence[DeadLetter]) -> dict[str, int]:
    """How many letters per reason, the most frequent first."""
    counts: dict[str, int] = {}
    for letter in letters:
        counts[letter.reason] = counts.get(letter.reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class DeadLetterQueueReader:
    """Reads and redrives one dead-letter queue (``sqs``: a boto3 SQS client)."""

    def __init__(self, sqs: Any, url: str) -> None:
        self.sqs = sqs
        self.url = url

    def depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def receive_all(self, limit: int = 1000) -> list[DeadLetter]:
        """Every letter (up to ``limit`` messages); they stay hidden until :meth:`release`."""
        messages: list[Mapping[str, Any]] = []
        while len(messages) < limit:
            page = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=PEEK_VISIBILITY,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if not page:
                break
            messages += page
        return assemble(messages)

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Make listed letters visible again at once (a listing leaves the queue as it was)."""
        for letter in letters:
            for receipt in letter.receipts:
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=receipt, VisibilityTimeout=0
                )

    def peek(self) -> list[DeadLetter]:
        letters = self.receive_all()
        self.release(letters)
        return letters

    def redrive(
        self, to_url: str, wanted: Sequence[str] | None = None
    ) -> tuple[list[DeadLetter], list[DeadLetter]]:
        """Send the letters (all, or those whose id is in ``wanted``) back to ``to_url``, then delete
        them here; returns the letters sent and the letters left (released)."""
        letters = self.receive_all()
        chosen = [
            letter for letter in letters if (wanted is None or letter.id in wanted) and letter.redrivable
        ]
        kept = [letter for letter in letters if letter not in chosen]
        for letter in chosen:
            self.sqs.send_message(QueueUrl=to_url, MessageBody=letter.body)
            for receipt in letter.receipts:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
        self.release(kept)
        return chosen, kept
