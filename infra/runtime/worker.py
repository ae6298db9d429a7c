"""The process that hosts one Lambda function, like a warm execution environment.

Started by the runtime as ``python -m infra.runtime.worker '<json config>'`` with the function's
environment. It imports the handler once (the init phase), then serves invocations: one JSON request
per line on its stdin, one JSON response per line on its stdout. Before importing anything of the
function, it moves the protocol onto private descriptors and points descriptors 0/1 at /dev/null and
stderr, so whatever the handler prints (or a library writes at the C level) lands in the function's
log and can never corrupt the protocol.

Messages to the runtime: ``{"type": "ready"}`` or ``{"type": "init_error", "error": {...}}`` once, then
``{"type": "result", "id": ..., "ok": bool, "payload": ...}`` per request. Requests:
``{"id": request_id, "event": ..., "deadline_ms": epoch_ms, "trace_id": ..., "invoked_function_arn": ...}``.

Keep this module's imports to the standard library: it runs before (and next to) the function's code.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any


class LambdaContext:
    """The context object of the Lambda Python runtime (same attributes, same types)."""

    def __init__(
        self,
        *,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
    ) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # the Python runtime passes the environment's string through unchanged
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = invoked_function_arn
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        sys.stderr.write(message)
        sys.stderr.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _Encoder(json.JSONEncoder):
    """The Lambda Python runtime's response marshaller: Decimals become numbers."""

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _error(
    exc: BaseException, request_id: str | None = None, error_type: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }
    if request_id is not None:
        payload["requestId"] = request_id
    return payload


def _peak_memory_mb() -> int:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's over exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


class Worker:
    def __init__(self, config: dict[str, Any], channel_in: IO[str], channel_out: IO[str]) -> None:
        self.config = config
        self._in = channel_in
        self._out = channel_out
        self._handler: Callable[[Any, Any], Any] | None = None
        self._log_filter = _RequestIdFilter()

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message, cls=_Encoder) + "\n")
        self._out.flush()

    def init(self) -> bool:
        for path in reversed(self.config["import_roots"]):
            if path not in sys.path:
                sys.path.insert(0, path)
        handler_root = logging.StreamHandler(sys.stderr)
        handler_root.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
        handler_root.addFilter(self._log_filter)
        logging.Formatter.converter = time.gmtime
        logging.getLogger().addHandler(handler_root)
        module_name, attribute = self.config["module"], self.config["attribute"]
        started = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            message = f"Unable to import module '{module_name}': {exc}"
            self._init_failed(ImportError(message), "Runtime.ImportModuleError")
            return False
        except Exception as exc:
            self._init_failed(exc, None)
            return False
        handler = getattr(module, attribute, None)
        if not callable(handler):
            message = f"Handler '{attribute}' missing on module '{module_name}'"
            self._init_failed(AttributeError(message), "Runtime.HandlerNotFound")
            return False
        self._handler = handler
        self.send({"type": "ready", "init_ms": round((time.perf_counter() - started) * 1000, 3)})
        return True

    def _init_failed(self, exc: BaseException, error_type: str | None) -> None:
        error = _error(exc, error_type=error_type)
        sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n")
        traceback.print_exception(exc, file=sys.stderr)
        self.send({"type": "init_error", "error": error})

    def serve(self) -> None:
        for line in self._in:
            if line.strip():
                self.invoke(json.loads(line))

    def invoke(self, request: dict[str, Any]) -> None:
        assert self._handler is not None
        request_id = str(request["id"])
        os.environ["_X_AMZN_TRACE_ID"] = str(request.get("trace_id", ""))
        self._log_filter.request_id = request_id
        context = LambdaContext(
            request_id=request_id,
            deadline_ms=int(request["deadline_ms"]),
            invoked_function_arn=str(request.get("invoked_function_arn", "")),
        )
        sys.stderr.write(f"START RequestId: {request_id} Version: {context.function_version}\n")
        started = time.perf_counter()
        try:
            result = self._handler(request["event"], context)
            try:
                body = json.dumps(
                    {"type": "result", "id": request_id, "ok": True, "payload": result}, cls=_Encoder
                )
            except (TypeError, ValueError) as exc:
                message = f"Unable to marshal response: {exc}"
                error = _error(TypeError(message), request_id, "Runtime.MarshalError")
                body = json.dumps({"type": "result", "id": request_id, "ok": False, "payload": error})
        except Exception as exc:
            error = _error(exc, request_id)
            sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n")
            traceback.print_exception(exc, file=sys.stderr)
            body = json.dumps(
                {"type": "result", "id": request_id, "ok": False, "payload": error}, cls=_Encoder
            )
        duration = (time.perf_counter() - started) * 1000
        memory = self.config.get("memory_size", 128)
        max_rss_mb = _peak_memory_mb()
        sys.stderr.write(
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {int(duration) + 1} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {max_rss_mb} MB\n"
        )
        sys.stderr.flush()
        self._out.write(body + "\n")
        self._out.flush()


def main() -> int:
    config = json.loads(sys.argv[1])
    sys.argv = sys.argv[:1]
    # the protocol gets private descriptors; fd 0 reads nothing and fd 1 is the log, as in Lambda
    channel_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    channel_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    worker = Worker(config, channel_in, channel_out)
    if not worker.init():
        return 1
    worker.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
