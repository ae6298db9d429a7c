"""The SQS event source mapping: long-poll a queue, batch, invoke, delete what succeeded.

As Lambda does: up to 10 messages per ReceiveMessage, accumulated up to BatchSize within
MaximumBatchingWindowInSeconds; messages that do not match the FilterCriteria are deleted without an
invocation; after the invocation, every message is deleted on success, none on an error, and all but the
reported ``batchItemFailures`` with ReportBatchItemFailures (a malformed report fails the whole batch).
Failed messages come back after the queue's visibility timeout, and moto's redrive moves a message to
the dead-letter queue once its receive count reaches maxReceiveCount. Up to ``concurrency`` batches
are processed at once.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from infra.runtime.functions import FunctionPool
from infra.runtime.patterns import matches
from infra.runtime.template import SqsEventSpec

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 1  # short enough for a prompt stop; moto wakes a long poll as soon as a message lands


@dataclass
class PollerStats:
    batches: int = 0
    records: int = 0
    deleted: int = 0
    failed: int = 0
    filtered: int = 0

    def summary(self) -> dict[str, int]:
        return dict(self.__dict__)


def _message_attributes(raw: dict[str, Any]) -> dict[str, Any]:
    converted = {}
    for name, value in raw.items():
        item: dict[str, Any] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": None,
            "stringListValues": list(value.get("StringListValues") or []),
            "binaryListValues": list(value.get("BinaryListValues") or []),
            "dataType": value.get("DataType", "String"),
        }
        if "BinaryValue" in value:
            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
            item["stringValue"] = None
        converted[name] = item
    return converted


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS message in the shape Lambda's SQS event source hands to the function."""
    attributes = dict(message.get("Attributes") or {})
    for key in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"):
        attributes.setdefault(key, "")
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": _message_attributes(message.get("MessageAttributes") or {}),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message.get("Body", "").encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """What a FilterCriteria pattern sees: the record, with a JSON body parsed."""
    view = dict(record)
    with contextlib.suppress(ValueError):
        view["body"] = json.loads(record["body"])
    return view


def failed_message_ids(response: Any, batch_ids: list[str]) -> set[str] | None:
    """The ids a ReportBatchItemFailures response asks to retry; None means the whole batch failed."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        failed.add(identifier)
    return failed


class SqsPoller:
    """One SQS event source of one function."""

    def __init__(
        self,
        *,
        pool: FunctionPool,
        event: SqsEventSpec,
        queue_url: str,
        sqs: Any,
        region: str,
        concurrency: int,
    ) -> None:
        self.pool = pool
        self.event = event
        self.queue_url = queue_url
        self._sqs = sqs
        self.region = region
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._batches: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self.stats = PollerStats()

    @property
    def name(self) -> str:
        return f"{self.pool.spec.logical_id}.{self.event.name}"

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"sqs-{self.name}", daemon=True)
            self._thread.start()

    def request_stop(self) -> None:
        """Stop receiving (returns at once; :meth:`stop` waits for the batches in progress)."""
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            batches = list(self._batches)
        for thread in batches:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.2):
                continue
            try:
                batch = self._collect()
            except Exception:
                log.exception("polling %s failed", self.name)
                self._slots.release()
                self._stop.wait(0.5)
                continue
            if not batch:
                self._slots.release()
                continue
            thread = threading.Thread(
                target=self._process, args=(batch,), name=f"batch-{self.name}", daemon=True
            )
            with self._lock:
                self._batches.add(thread)
            thread.start()

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, count),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages") or []
        return messages

    def _collect(self) -> list[dict[str, Any]]:
        """One batch: a long poll, then more receives until BatchSize or the batching window ends."""
        batch = self._receive(self.event.batch_size, LONG_POLL_SECONDS)
        if not batch or self.event.batching_window <= 0:
            return batch
        window_end = time.monotonic() + self.event.batching_window
        while len(batch) < self.event.batch_size and not self._stop.is_set():
            remaining = window_end - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(self.event.batch_size - len(batch), 1 if remaining >= 1 else 0)
            if more:
                batch.extend(more)
            elif remaining < 1:
                self._stop.wait(min(remaining, 0.05))
        return batch

    def _process(self, messages: list[dict[str, Any]]) -> None:
        try:
            self._settle(messages)
        except Exception:
            log.exception("processing a batch of %s failed", self.name)
        finally:
            with self._lock:
                self._batches.discard(threading.current_thread())
            self._slots.release()

    def _settle(self, messages: list[dict[str, Any]]) -> None:
        records = [lambda_record(m, self.event.queue_arn, self.region) for m in messages]
        if self.event.filter_patterns:
            kept = [
                r for r in records if any(matches(p, _filter_view(r)) for p in self.event.filter_patterns)
            ]
            dropped = [r for r in records if r not in kept]
            self._delete(dropped)
            with self._lock:
                self.stats.filtered += len(dropped)
            records = kept
            if not records:
                return
        result = self.pool.invoke({"Records": records})
        ids = [r["messageId"] for r in records]
        if not result.ok:
            failed: set[str] | None = None
        elif self.event.report_batch_item_failures:
            failed = failed_message_ids(result.payload, ids)
        else:
            failed = set()
        succeeded = [] if failed is None else [r for r in records if r["messageId"] not in failed]
        self._delete(succeeded)
        with self._lock:
            self.stats.batches += 1
            self.stats.records += len(records)
            self.stats.deleted += len(succeeded)
            self.stats.failed += len(records) - len(succeeded)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)]
            response = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in response.get("Failed") or []:
                log.warning("%s: could not delete a message: %s", self.name, failure.get("Message"))
