"""What every stage shares: the errors after which a batch is tried again, and the slot through
which a handler reaches its stage."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from shared.errors import SuspendedError, TransientApiError

# an API that may answer later, a CRM suspended for now: the batch is delivered again
RETRIED: tuple[type[Exception], ...] = (TransientApiError, SuspendedError)

S = TypeVar("S")


class StageSlot(Generic[S]):
    """The stage a function's handler delegates to: built on the first invocation (the cold start:
    nothing at import time), then kept for the execution environment; or given (``use``)."""

    def __init__(self, build: Callable[[], S]) -> None:
        self._build = build
        self._stage: S | None = None
        self._lock = threading.Lock()

    def __call__(self) -> S:
        with self._lock:
            if self._stage is None:
                self._stage = self._build()
            return self._stage

    def use(self, stage: S | None) -> None:
        """Delegate to ``stage`` from now on (None: build one again on the next invocation)."""
        with self._lock:
            self._stage = stage
