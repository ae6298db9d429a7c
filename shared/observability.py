"""One place for Powertools' logger, tracer and metrics, shared by every function.

Logs are JSON (CloudWatch Logs Insights friendly) with email addresses masked (``shared.masking``): a
log line may name a record, never a person's address. Every line a function writes is masked:

- the Powertools logger's: every string of the record (message, ``extra`` fields, the exception's
  traceback), whatever the JSON encoder makes of other values, then the serialized line as a whole;
- other loggers' (a library's, printed as they are by Lambda's root handler): the handlers of the
  root logger get a masking filter when the handler is first invoked;
- an exception that escapes the handler, which the Lambda runtime prints with its traceback: its
  message (and those of its causes) is masked on its way out. Only what ``str`` of an exception
  derives from its arguments can be masked this way.

Metrics carry a ``stage`` dimension (the function they come from, read from the function's name,
which holds its logical id: ``<stack>-ApplyFunction-...``), as the stack's dashboard reads them.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord

from shared.masking import mask_emails as mask_emails  # re-exported: the one masking function

H = TypeVar("H", bound=Callable[..., Any])


def masked(value: Any) -> Any:
    """``value`` with every string in it (dict keys and values, list and tuple items) masked."""
    if isinstance(value, str):
        return mask_emails(value)
    if isinstance(value, dict):
        return {masked(k): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


class MaskingFormatter(LambdaPowertoolsFormatter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(json_default=lambda value: mask_emails(str(value)), **kwargs)

    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return mask_emails(super().serialize(masked(log)))


class MaskingFilter(logging.Filter):
    """Masks a stdlib log record in place: its message, arguments applied, and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_emails(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_emails(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_emails(record.stack_info)
        return True


ROOT_FILTER = MaskingFilter()


def mask_root_handlers() -> None:
    """Every handler of the root logger masks what it prints (Lambda's own handler included)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(ROOT_FILTER)  # once: a filter already there is not added again


def mask_exception(exc: BaseException) -> None:
    """Masks the string arguments and notes of ``exc``, its causes, contexts and grouped exceptions."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(masked(a) if isinstance(a, str) else a for a in current.args)
        notes = getattr(current, "__notes__", None)
        if isinstance(notes, list):
            notes[:] = [masked(n) for n in notes]
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        if isinstance(current, BaseExceptionGroup):
            todo += list(current.exceptions)


def masking_errors(handler: H) -> H:
    """``handler``, with the root logger's handlers masked and an escaping exception masked."""

    @functools.wraps(handler)
    def masked_handler(*args: Any, **kwargs: Any) -> Any:
        mask_root_handlers()
        try:
            return handler(*args, **kwargs)
        except BaseException as exc:
            mask_exception(exc)
            raise

    return masked_handler  # type: ignore[return-value]


class MaskingLogger(Logger):
    """Powertools' logger whose ``inject_lambda_context`` also applies :func:`masking_errors`."""

    @overload
    def inject_lambda_context(
        self,
        lambda_handler: H,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> H: ...

    @overload
    def inject_lambda_context(
        self,
        lambda_handler: None = None,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> Callable[[H], H]: ...

    def inject_lambda_context(
        self,
        lambda_handler: H | None = None,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> Any:
        options: dict[str, Any] = {
            "log_event": log_event,
            "correlation_id_path": correlation_id_path,
            "clear_state": clear_state,
            "flush_buffer_on_uncaught_error": flush_buffer_on_uncaught_error,
        }
        if lambda_handler is None:
            return functools.partial(self.inject_lambda_context, **options)
        return super().inject_lambda_context(masking_errors(lambda_handler), **options)


class LazyTracer:
    """Powertools' ``Tracer``, built on a handler's first invocation rather than at import.

    Building a ``Tracer`` imports the X-Ray SDK (and botocore's session with it): about half of a
    handler's import time, paid even with tracing disabled. Here nothing of it is imported unless
    tracing is on (``POWERTOOLS_TRACE_DISABLED`` not true: the template's ``Tracing`` parameter),
    and then only when the function is first invoked.
    """

    def __init__(self) -> None:
        self._tracer: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def enabled() -> bool:
        return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() not in {
            "1",
            "true",
            "yes",
            "on",
        }

    def tracer(self) -> Any:
        """The Powertools ``Tracer`` (built once, on first use)."""
        with self._lock:
            if self._tracer is None:
                from aws_lambda_powertools import Tracer

                self._tracer = Tracer()
            return self._tracer

    def capture_lambda_handler(self, handler: H) -> H:
        traced: list[Callable[..., Any]] = []

        @functools.wraps(handler)
        def handle(*args: Any, **kwargs: Any) -> Any:
            if not LazyTracer.enabled():
                return handler(*args, **kwargs)
            if not traced:
                traced.append(self.tracer().capture_lambda_handler(handler))
            return traced[0](*args, **kwargs)

        return handle  # type: ignore[return-value]


logger = MaskingLogger(logger_formatter=MaskingFormatter())
tracer = LazyTracer()
metrics = Metrics()

# each function's logical id in template.yaml -> the stage its metrics are counted under
STAGES = {
    "InboundWebhookFunction": "webhook",
    "InboundEventsFunction": "salesforce-events",
    "PollFunction": "poll",
    "EmailEventsFunction": "email-events",
    "DedupeFunction": "dedupe",
    "OwnersFunction": "owners",
    "ApplyFunction": "apply",
}
HEALTH_METRIC_PREFIX = "HealthEntries_"  # + the category: sync-health entries recorded, per category
SUSPENDED_METRIC = "CrmSuspended"  # 1 when a CRM is suspended (CrmSuspendedAlarm watches it)


def stage_of(function_name: str) -> str | None:
    """The stage of a Lambda function, from its name (None: not one of the stack's functions)."""
    for logical_id, stage in STAGES.items():
        if logical_id in function_name:
            return stage
    return None


def metric_name(counter: str) -> str:
    """The metric a state counter is also counted in (``hubspot_to_salesforce.created`` ->
    ``hubspot_to_salesforce_created``)."""
    return counter.replace(".", "_").replace(" ", "_")


def health_metric(category: str) -> str:
    return HEALTH_METRIC_PREFIX + category


def count_suspension() -> None:
    """Put the metric ``CrmSuspendedAlarm`` watches: the service dimension only, whichever stage
    suspended a CRM (the guardrails call it when they store a suspended ``CrmState``)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "hssync")
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "hssync")
    with single_metric(
        name=SUSPENDED_METRIC, unit=MetricUnit.Count, value=1, namespace=namespace, default_dimensions={}
    ) as metric:
        metric.service = service  # the one dimension (Powertools adds it as it flushes)


_stage = stage_of(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))
if _stage is not None:
    metrics.set_default_dimensions(stage=_stage)
