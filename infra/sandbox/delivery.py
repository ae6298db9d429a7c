"""Background, in-order, at-least-once delivery of emulator events (Salesforce CDC, HubSpot webhooks).

Items are delivered in the order they were put, in batches of at most ``max_batch``. A batch that
fails (``send`` returns False or raises) is retried, with the same items first, after a back-off;
nothing behind it overtakes it. ``pending()`` counts queued (held included) and in-flight items so
a caller can wait until everything has been delivered.

``hold()`` stands in for delivery latency: new items queue up (a batch already in flight finishes)
until ``release()``, which lets them all go, in order, as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class Deliverer(Generic[T]):
    def __init__(
        self,
        name: str,
        send: Callable[[list[T]], bool],
        *,
        max_batch: int,
        retry_delays: Sequence[float] = (0.1, 0.25, 0.5, 1.0, 2.0),
        linger: float = 0.02,
    ) -> None:
        self.name = name
        self._send = send
        self.max_batch = max_batch
        self.retry_delays = tuple(retry_delays)
        self.linger = linger
        self._queue: deque[T] = deque()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stop = False
        self._held = False
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failed_attempts = 0

    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._run, name=f"deliver-{self.name}", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def put(self, item: T) -> None:
        with self._cond:
            self._queue.append(item)
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()

    def hold(self) -> int:
        """Stop delivering (items queue up) until :meth:`release`; the number queued now."""
        with self._cond:
            self._held = True
            return len(self._queue)

    def release(self) -> int:
        """Deliver again, starting with what queued while held; the number queued now."""
        with self._cond:
            self._held = False
            self._cond.notify_all()
            return len(self._queue)

    @property
    def held(self) -> bool:
        with self._cond:
            return self._held

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def _run(self) -> None:
        attempt = 0
        while True:
            with self._cond:
                while (not self._queue or self._held) and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
            if self.linger and attempt == 0:
                # let a burst of commits accumulate into one batch, as the real services do
                linger_until = time.monotonic() + self.linger
                with self._cond:
                    while (
                        not self._stop
                        and len(self._queue) < self.max_batch
                        and (remaining := linger_until - time.monotonic()) > 0
                    ):
                        self._cond.wait(remaining)
            with self._cond:
                if self._held:  # held while lingering: nothing leaves
                    continue
                batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                self._in_flight = len(batch)
            if not batch:
                continue
            try:
                ok = self._send(batch)
            except Exception:
                log.exception("delivery %s failed", self.name)
                ok = False
            with self._cond:
                self._in_flight = 0
                if ok:
                    self.delivered += len(batch)
                    attempt = 0
                    continue
                self.failed_attempts += 1
                self._queue.extendleft(reversed(batch))
                delay = self.retry_delays[min(attempt, len(self.retry_delays) - 1)]
                attempt += 1
                # new items notify the condition: keep waiting out the back-off unless stopped
                deadline = time.monotonic() + delay
                while not self._stop and (remaining := deadline - time.monotonic()) > 0:
                    self._cond.wait(remaining)
