"""Run a function's invocations in long-lived worker processes (warm execution environments).

Each function has a pool of up to ``concurrency`` workers, started on first use (or eagerly) and
replaced when one dies or times out. An invocation that exceeds the function's Timeout kills its worker
and fails with ``Sandbox.Timedout``, as Lambda does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.runtime.template import FunctionSpec

log = logging.getLogger(__name__)

# the directory that holds the ``infra`` package, so ``python -m infra.runtime.worker`` finds it
_INFRA_PARENT = Path(__file__).resolve().parents[2]
INIT_TIMEOUT = 10.0  # Lambda's init phase limit for on-demand functions

LogSink = Callable[[str, str], None]


@dataclass(frozen=True)
class InvocationResult:
    """The outcome of one invocation: the handler's return value, or the Lambda error payload."""

    function: str
    request_id: str
    ok: bool
    payload: Any
    duration_ms: float
    error_kind: str | None = None  # None, "Unhandled" (handler raised), "Timeout", "Runtime" (init/crash)

    @property
    def error_type(self) -> str | None:
        if self.ok or not isinstance(self.payload, dict):
            return None
        value = self.payload.get("errorType")
        return None if value is None else str(value)


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    cold_starts: int = 0
    durations_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.durations_ms)

        def percentile(share: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)

        return {
            "invocations": self.invocations,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "cold_starts": self.cold_starts,
            "duration_ms": {
                "total": round(sum(ordered), 3),
                "mean": round(sum(ordered) / len(ordered), 3) if ordered else None,
                "p50": percentile(0.50),
                "p95": percentile(0.95),
                "max": round(ordered[-1], 3) if ordered else None,
            },
        }


class Activity:
    """What the runtime is busy with: invocations in flight, accepted async events, and a generation
    counter that moves on every change (so an idle check can tell nothing happened while it looked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.pending_async = 0
        self.generation = 0

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.generation += 1

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self.generation += 1

    def async_accepted(self) -> None:
        with self._lock:
            self.pending_async += 1
            self.generation += 1

    def async_done(self) -> None:
        with self._lock:
            self.pending_async -= 1
            self.generation += 1

    def snapshot(self) -> tuple[int, int, int]:
        with self._lock:
            return self.in_flight, self.pending_async, self.generation


def trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


class WorkerProcess:
    """One worker subprocess and the threads that read its protocol and log streams."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], log_sink: LogSink) -> None:
        self.spec = spec
        config = {
            "module": spec.module,
            "attribute": spec.attribute,
            "import_roots": [str(path) for path in spec.import_roots],
            "memory_size": spec.memory_size,
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "infra.runtime.worker", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=str(spec.code_dir),
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._log_sink = log_sink
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        threading.Thread(target=self._read_protocol, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._read_log, args=(self.process.stderr,), daemon=True).start()
        self.ready = False
        self.init_error: dict[str, Any] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def _read_protocol(self, stream: IO[str]) -> None:
        """Each reader owns its stream: it reads to the end (the worker's exit) and closes it."""
        with stream:
            for line in stream:
                try:
                    self._messages.put(json.loads(line))
                except ValueError:
                    self._log_sink(self.spec.logical_id, f"(unreadable protocol line) {line.rstrip()}")
        self._messages.put(None)

    def _read_log(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self._log_sink(self.spec.logical_id, line.rstrip("\n"))

    def wait_ready(self, timeout: float = INIT_TIMEOUT) -> dict[str, Any] | None:
        """Wait for the init phase; return the init error payload if it failed."""
        try:
            message = self._messages.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            return {"errorType": "Runtime.InitTimeout", "errorMessage": f"init did not finish in {timeout}s"}
        if message is None:
            self.process.wait()
            return {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"Runtime exited during init with status {self.process.returncode}",
            }
        if message.get("type") == "init_error":
            self.kill()
            error: dict[str, Any] = message["error"]
            return error
        self.ready = True
        return None

    def invoke(self, request_id: str, event: Any, timeout: float) -> tuple[bool, Any, str | None]:
        """Run one invocation; returns (ok, payload, error kind)."""
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        request = {
            "id": request_id,
            "event": event,
            "deadline_ms": deadline_ms,
            "trace_id": trace_id(),
            "invoked_function_arn": self.spec.arn,
        }
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False, self._exit_error(request_id), "Runtime"
        end = time.monotonic() + timeout
        while True:
            remaining = end - time.monotonic()
            try:
                message = self._messages.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                self.kill()
                stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                payload = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds",
                }
                self._log_sink(
                    self.spec.logical_id, f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds"
                )
                return False, payload, "Timeout"
            if message is None:
                self.process.wait()
                return False, self._exit_error(request_id), "Runtime"
            if message.get("id") == request_id:
                ok = bool(message.get("ok"))
                return ok, message.get("payload"), None if ok else "Unhandled"

    def _exit_error(self, request_id: str) -> dict[str, Any]:
        code = self.process.poll()
        return {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
        }

    def kill(self) -> None:
        """End the worker and anything the handler started (the worker leads its own process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def close(self, grace: float = 1.0) -> None:
        """Let the worker finish (end of input), then make sure it is gone."""
        if self.process.poll() is None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        self.kill()


class FunctionPool:
    """The warm workers of one function and its invocation statistics."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: Mapping[str, str],
        *,
        concurrency: int,
        activity: Activity,
        log_sink: LogSink,
    ) -> None:
        self.spec = spec
        self.env = dict(env)
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._idle: list[WorkerProcess] = []
        self._all: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._activity = activity
        self._log_sink = log_sink
        self.stats = FunctionStats()
        self._closed = False

    def _new_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self.spec, self.env, self._log_sink)
        with self._lock:
            self._all.add(worker)
            self.stats.cold_starts += 1
        return worker

    def warm(self) -> dict[str, Any] | None:
        """Start one worker now (eager start); return its init error, if any."""
        with self._slots:
            worker = self._new_worker()
            error = worker.wait_ready()
            self._release(worker)
            return error

    def _acquire(self) -> WorkerProcess:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                self._all.discard(worker)
        return self._new_worker()

    def _release(self, worker: WorkerProcess) -> None:
        with self._lock:
            if worker.ready and worker.alive() and not self._closed:
                self._idle.append(worker)
                return
            self._all.discard(worker)
        worker.kill()

    def invoke(self, event: Any, request_id: str | None = None) -> InvocationResult:
        request_id = request_id or str(uuid.uuid4())
        self._activity.begin()
        try:
            with self._slots:
                if self._closed:
                    payload = {
                        "errorType": "Runtime.Stopped",
                        "errorMessage": "the local runtime is stopping",
                    }
                    return InvocationResult(self.spec.logical_id, request_id, False, payload, 0.0, "Runtime")
                started = time.perf_counter()
                kind: str | None
                worker = self._acquire()
                try:
                    if not worker.ready:
                        init_error = worker.wait_ready()
                        if init_error is not None:
                            ok, payload, kind = False, init_error, "Runtime"
                        else:
                            ok, payload, kind = worker.invoke(request_id, event, self.spec.timeout)
                    else:
                        ok, payload, kind = worker.invoke(request_id, event, self.spec.timeout)
                finally:
                    self._release(worker)
                duration = (time.perf_counter() - started) * 1000
            with self._lock:
                self.stats.invocations += 1
                self.stats.durations_ms.append(duration)
                if not ok:
                    self.stats.errors += 1
                if kind == "Timeout":
                    self.stats.timeouts += 1
            return InvocationResult(self.spec.logical_id, request_id, ok, payload, duration, kind)
        finally:
            self._activity.end()

    def retire_idle(self) -> int:
        """End the idle warm workers: the next invocation cold-starts (as a recycled Lambda
        execution environment would). Returns how many ended."""
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
            self._all.difference_update(idle)
        for worker in idle:
            worker.close()
        return len(idle)

    def pids(self) -> list[int]:
        with self._lock:
            return [worker.pid for worker in self._all if worker.alive()]

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = FunctionStats()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
        for worker in workers:
            worker.close()
        with self._lock:
            self._all.clear()
