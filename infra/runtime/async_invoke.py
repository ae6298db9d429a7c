"""Lambda's asynchronous invocation (what EventBridge rules and schedules use).

An accepted event is invoked in the background; on an error it is retried up to MaximumRetryAttempts
(default 2) after a delay (1 and 2 minutes in AWS; shortened locally), unless it is older than
MaximumEventAgeInSeconds. Then the invocation record goes to the OnSuccess/OnFailure destination
(SQS queue or another function of the stack) and a failed event to the function's DeadLetterQueue,
when the template declares them; as Lambda does, it sends to a queue with the function's execution
role (``sqs_of``: the SQS client of a function).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from infra.runtime.functions import Activity, FunctionPool, InvocationResult
from infra.runtime.template import Destination

log = logging.getLogger(__name__)

QueueUrlOf = Callable[[str], str | None]


@dataclass
class AsyncStats:
    accepted: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    dropped_by_age: int = 0
    destinations: int = 0

    def summary(self) -> dict[str, int]:
        return dict(self.__dict__)


class AsyncInvoker:
    def __init__(
        self,
        *,
        activity: Activity,
        sqs_of: Callable[[FunctionPool], Any],
        queue_url_of: QueueUrlOf,
        pool_of_arn: Callable[[str], FunctionPool | None],
        retry_delays: Sequence[float] = (1.0, 2.0),
        max_workers: int = 16,
    ) -> None:
        self._activity = activity
        self._sqs_of = sqs_of
        self._queue_url_of = queue_url_of
        self._pool_of_arn = pool_of_arn
        self.retry_delays = tuple(retry_delays) or (1.0,)
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="async-invoke")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.stats: dict[str, AsyncStats] = {}

    def _stats(self, function: str) -> AsyncStats:
        with self._lock:
            return self.stats.setdefault(function, AsyncStats())

    def submit(self, pool: FunctionPool, event: Any) -> str:
        """Accept an event (like Invoke with InvocationType=Event); return the request id."""
        request_id = str(uuid.uuid4())
        self._activity.async_accepted()
        stats = self._stats(pool.spec.logical_id)
        with self._lock:
            stats.accepted += 1
        try:
            self._executor.submit(self._run, pool, event, request_id, time.monotonic())
        except RuntimeError:
            self._activity.async_done()
            raise
        return request_id

    def _run(self, pool: FunctionPool, event: Any, request_id: str, accepted_at: float) -> None:
        try:
            self._deliver(pool, event, request_id, accepted_at)
        except Exception:
            log.exception("asynchronous invocation of %s failed", pool.spec.logical_id)
        finally:
            self._activity.async_done()

    def _deliver(self, pool: FunctionPool, event: Any, request_id: str, accepted_at: float) -> None:
        config = pool.spec.async_config
        stats = self._stats(pool.spec.logical_id)
        attempts = 0
        condition = "RetriesExhausted"
        result: InvocationResult | None = None
        while not self._stop.is_set():
            result = pool.invoke(event, request_id)
            attempts += 1
            if result.ok:
                break
            if attempts > config.maximum_retry_attempts:
                break
            delay = self.retry_delays[min(attempts - 1, len(self.retry_delays) - 1)]
            if time.monotonic() + delay - accepted_at > config.maximum_event_age:
                condition = "EventAgeExceeded"
                with self._lock:
                    stats.dropped_by_age += 1
                break
            with self._lock:
                stats.retries += 1
            if self._stop.wait(delay):
                return
        if result is None:
            return
        with self._lock:
            if result.ok:
                stats.succeeded += 1
            else:
                stats.failed += 1
        destination = config.on_success if result.ok else config.on_failure
        if destination is not None:
            record = _destination_record(pool, event, result, attempts, "Success" if result.ok else condition)
            self._send(pool, destination, record)
            with self._lock:
                stats.destinations += 1
        if not result.ok and config.dead_letter is not None:
            self._send(pool, config.dead_letter, event)

    def _send(self, pool: FunctionPool, destination: Destination, payload: Any) -> None:
        if destination.type == "SQS":
            url = self._queue_url_of(destination.arn)
            if url is None:
                log.warning("destination queue %s is not part of the local stack", destination.arn)
                return
            self._sqs_of(pool).send_message(QueueUrl=url, MessageBody=json.dumps(payload))
        elif destination.type == "Lambda":
            target = self._pool_of_arn(destination.arn)
            if target is None:
                log.warning("destination function %s is not part of the local stack", destination.arn)
                return
            self.submit(target, payload)
        else:
            log.warning("%s destinations are not delivered locally (%s)", destination.type, destination.arn)

    def stop(self) -> None:
        self._stop.set()
        self._executor.shutdown(wait=True, cancel_futures=True)


def _destination_record(
    pool: FunctionPool, event: Any, result: InvocationResult, attempts: int, condition: str
) -> dict[str, Any]:
    """The invocation record Lambda sends to an asynchronous invocation destination."""
    now = dt.datetime.now(dt.UTC)
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not result.ok:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{pool.spec.arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": result.payload,
    }
