"""Sending to SQS within its limits (shared/queues.py): 10 messages and 256 KiB per message and per
SendMessageBatch call, counted in UTF-8 bytes with the message attributes; dead letters too large
for one message go in parts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.queues import (
    MAX_BATCH,
    MAX_BYTES,
    DeadLetterQueue,
    Message,
    MessageTooLarge,
    QueueSendError,
    dead_letter,
    dead_letter_messages,
    message_bytes,
    send_messages,
    split_utf8,
)


class StrictSqs:
    """Records calls and refuses what SQS refuses (too many entries, too many bytes)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[list[Message]] = []
        self.fail_first = fail_first  # the first n entries sent fail once

    def _check(self, messages: list[Message]) -> None:
        if len(messages) > MAX_BATCH:
            raise AssertionError("TooManyEntriesInBatchRequest")
        if any(m.size > MAX_BYTES for m in messages):
            raise AssertionError("InvalidParameterValue: message too long")
        if sum(m.size for m in messages) > MAX_BYTES:
            raise AssertionError("BatchRequestTooLong")

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        messages = [Message(e["MessageBody"], e.get("MessageAttributes") or {}) for e in Entries]
        self._check(messages)
        failed = []
        for entry in Entries:
            if self.fail_first > 0:
                self.fail_first -= 1
                failed.append({"Id": entry["Id"], "Code": "InternalError", "SenderFault": False})
        self.calls.append([m for m, e in zip(messages, Entries, strict=True) if e["Id"] not in
                           {f["Id"] for f in failed}])  # fmt: skip
        return {"Successful": [], "Failed": failed}

    def send_message(
        self, *, QueueUrl: str, MessageBody: str, MessageAttributes: Any = None
    ) -> dict[str, Any]:
        message = Message(MessageBody, MessageAttributes or {})
        self._check([message])
        self.calls.append([message])
        return {"MessageId": "x"}

    @property
    def bodies(self) -> list[str]:
        return [m.body for call in self.calls for m in call]


def test_message_size_counts_utf8_bytes_and_attributes():
    assert message_bytes("abc") == 3
    assert message_bytes("é€😀") == 2 + 3 + 4
    attributes = {"reason": {"DataType": "String", "StringValue": "né"}}
    assert message_bytes("x", attributes) == 1 + len("reason") + len("String") + 3


def test_batches_are_cut_by_count_and_by_bytes():
    sqs = StrictSqs()
    small = [f"m{i}" for i in range(25)]
    assert send_messages(sqs, "q", small) == 3  # type: ignore[arg-type]
    assert [len(c) for c in sqs.calls] == [10, 10, 5]

    sqs = StrictSqs()
    big = [("é" * 50_000) + str(i) for i in range(7)]  # ~100 KB each in UTF-8, 50,001 characters
    calls = send_messages(sqs, "q", big)  # type: ignore[arg-type]
    assert sqs.bodies == big  # every body, in order
    assert calls == len(sqs.calls) == 4  # two per call: a third would pass 256 KiB
    assert all(sum(m.size for m in call) <= MAX_BYTES for call in sqs.calls)


def test_a_body_of_exactly_the_limit_goes_alone_and_one_byte_more_is_refused_before_sending():
    sqs = StrictSqs()
    send_messages(sqs, "q", ["a", "x" * MAX_BYTES, "b"])  # type: ignore[arg-type]
    assert [len(c) for c in sqs.calls] == [1, 1, 1]
    sqs = StrictSqs()
    with pytest.raises(MessageTooLarge, match="262145 bytes"):
        send_messages(sqs, "q", ["a", "x" * (MAX_BYTES + 1)])  # type: ignore[arg-type]
    assert sqs.calls == []


def test_failed_entries_are_retried_once_then_reported():
    sqs = StrictSqs(fail_first=2)
    send_messages(sqs, "q", ["a", "b", "c"])  # type: ignore[arg-type]
    assert sorted(sqs.bodies) == ["a", "b", "c"]
    sqs = StrictSqs(fail_first=10)
    with pytest.raises(QueueSendError, match="2 messages"):
        send_messages(sqs, "q", ["a", "b"])  # type: ignore[arg-type]


def test_utf8_pieces_never_split_a_character():
    text = "a€😀" * 1000
    pieces = split_utf8(text, 10)
    assert "".join(pieces) == text
    assert all(len(p.encode()) <= 10 for p in pieces)
    assert split_utf8("", 10) == [""]


def test_a_dead_letter_that_fits_is_one_message_with_its_reason():
    sqs = StrictSqs()
    dead_letter(sqs, "dlq", '{"objectId": null}', "notification without objectId", source="s")  # type: ignore[arg-type]
    ((message,),) = sqs.calls
    assert message.body == '{"objectId": null}'
    assert message.attributes["reason"]["StringValue"] == "notification without objectId"
    assert "part" not in message.attributes


def test_a_dead_letter_too_large_for_a_message_goes_in_parts_that_share_its_id():
    body = json.dumps([{"objectId": i, "propertyValue": "ü" * 500} for i in range(700)], ensure_ascii=False)
    sqs = StrictSqs()
    dead_letter(sqs, "dlq", body, "request of 700 notifications", source="hubspot-webhook")  # type: ignore[arg-type]
    parts = [m for call in sqs.calls for m in call]
    assert len(parts) == 3
    assert "".join(p.body for p in parts) == body
    assert [p.attributes["part"]["StringValue"] for p in parts] == ["1/3", "2/3", "3/3"]
    assert len({p.attributes["dead-letter-id"]["StringValue"] for p in parts}) == 1
    assert {p.attributes["reason"]["StringValue"] for p in parts} == {"request of 700 notifications"}
    assert all(p.size <= MAX_BYTES for p in parts)


def test_a_long_reason_is_cut_and_an_empty_body_is_marked():
    (message,) = dead_letter_messages("", "r" * 5000, source="s")
    assert message.attributes["reason"]["StringValue"] == "r" * 1000
    assert json.loads(message.body) == {"empty": True}


def test_many_dead_letters_are_batched():
    sqs = StrictSqs()
    queue = DeadLetterQueue(sqs, "dlq", "hubspot-webhook", metric=None)  # type: ignore[arg-type]
    queue.many([(json.dumps({"eventId": i}), f"reason {i}") for i in range(25)])
    assert [len(c) for c in sqs.calls] == [10, 10, 5]
    reasons = [m.attributes["reason"]["StringValue"] for call in sqs.calls for m in call]
    assert reasons == [f"reason {i}" for i in range(25)]
    queue.many([])
    assert len(sqs.calls) == 3
