"""Every line a function writes goes through the one masking rule: the Powertools logger's (message,
``extra`` fields, exception tracebacks, values the encoder turns into text), other loggers' through
the root handlers, and an exception that escapes the handler. And the code logs through nothing else."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from shared.observability import (
    ROOT_FILTER,
    MaskingFormatter,
    MaskingLogger,
    mask_emails,
    mask_exception,
    masking_errors,
)
from tests.unit.handler_kit import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "o'brien\\61540@example.com"
UNICODE = "jörg.müller@bücher.example"
QUOTED = '"john doe"@example.com'
LEFT = ("brien", "61540", "örg", "müller", "john doe", "ohn")  # nothing of the local parts but a letter


def _leaks(text: str) -> list[str]:
    return [part for part in LEFT if part in text]


class Shown:
    """An object the JSON encoder can only turn into text."""

    def __str__(self) -> str:
        return f"<contact {UNICODE}>"


@pytest.fixture
def lines() -> tuple[MaskingLogger, io.StringIO]:
    """A logger of its own (Powertools configures one per service name once) writing to a stream."""
    stream = io.StringIO()
    log = MaskingLogger(
        service=f"masking-test-{uuid.uuid4().hex}",
        logger_formatter=MaskingFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )
    return log, stream


def test_a_powertools_line_masks_its_message_extra_fields_and_traceback(lines):
    log, stream = lines
    try:
        raise ValueError(f"could not create {QUOTED}")
    except ValueError:
        log.exception(
            "sync health %s",
            ADDRESS,
            extra={
                "reason": f"Email: invalid email address: {ADDRESS}",
                "emails": [UNICODE, QUOTED],
                UNICODE: Shown(),
                "n": 3,
            },
        )
    line = stream.getvalue()
    assert not _leaks(line), line
    record = json.loads(line)  # still one JSON object
    assert record["message"] == "sync health o***@example.com"
    assert record["reason"] == "Email: invalid email address: o***@example.com"
    assert record["emails"] == ["j***@bücher.example", '"***@example.com']
    assert record["j***@bücher.example"] == "<contact j***@bücher.example>"
    assert record["n"] == 3
    assert record["exception_name"] == "ValueError"
    assert 'ValueError: could not create "***@example.com' in record["exception"]


def test_the_serialized_line_is_masked_as_a_whole():
    # what a serializer adds after the record's strings were masked still goes through the rule
    formatter = MaskingFormatter(json_serializer=lambda log: json.dumps({**log, "added": UNICODE}))
    line = formatter.format(logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None))
    assert json.loads(line)["added"] == "j***@bücher.example"


def test_other_loggers_are_masked_by_the_root_handlers_filter():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(ROOT_FILTER)
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    try:
        library.warning("retrying GET /contacts/%s?idProperty=email", "ada%40example.com")
        try:
            raise RuntimeError(f"refused {UNICODE}")
        except RuntimeError:
            library.exception("call failed for %s", QUOTED)
    finally:
        library.removeHandler(handler)
    text = stream.getvalue()
    assert "GET /***%40example.com?idProperty=email" in text  # the whole run before the at-sign
    assert 'call failed for "***@example.com' in text
    assert "RuntimeError: refused j***@bücher.example" in text
    assert not _leaks(text)
    assert "ada%40" not in text


def test_the_root_handlers_are_masked_when_a_handler_is_invoked():
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        masking_errors(lambda event, context: None)({}, None)
        masking_errors(lambda event, context: None)({}, None)
        assert handler.filters == [ROOT_FILTER]
    finally:
        root.removeHandler(handler)


def test_an_exception_escaping_a_handler_is_masked_with_its_causes():
    def handler(event: Any, context: Any) -> None:
        try:
            raise KeyError(UNICODE)
        except KeyError as exc:
            error = RuntimeError(f"creating {ADDRESS}", 42)
            error.add_note(f"first seen for {QUOTED}")
            raise error from exc

    with pytest.raises(RuntimeError) as raised:
        masking_errors(handler)({}, None)
    assert raised.value.args == ("creating o***@example.com", 42)
    assert raised.value.__notes__ == ['first seen for "***@example.com']
    assert raised.value.__cause__ is not None
    assert raised.value.__cause__.args == ("j***@bücher.example",)


def test_exception_groups_and_cycles_are_masked_once():
    inner = ValueError(ADDRESS)
    group = ExceptionGroup("batch", [inner, TypeError(UNICODE)])
    inner.__context__ = group  # a cycle
    mask_exception(group)
    assert [e.args for e in group.exceptions] == [("o***@example.com",), ("j***@bücher.example",)]


def test_the_loggers_lambda_decorator_masks_with_or_without_options(lines):
    log, stream = lines

    def failing(event: Any, context: Any) -> None:
        log.info("invoked", extra={"email": UNICODE})
        raise RuntimeError(f"refused {ADDRESS}")

    context = LambdaContext()
    for decorated in (
        log.inject_lambda_context(failing),
        log.inject_lambda_context(clear_state=True)(failing),
    ):
        with pytest.raises(RuntimeError, match=re.escape("refused o***@example.com")):
            decorated({}, context)
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["email"] for r in logged] == ["j***@bücher.example"] * 2
    assert all(r["function_request_id"] == context.aws_request_id for r in logged)


def test_shared_and_functions_log_only_through_the_powertools_logger():
    """No stdlib logger, print or warning of their own: the one logger is shared.observability's."""
    offenders = []
    for path in [*(ROOT / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        if path == ROOT / "shared" / "observability.py":
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(
            r"^\s*(import logging|from logging\b)|\bgetLogger\(|\bprint\(|\bwarnings\.warn\(", source, re.M
        ):
            offenders.append(str(path.relative_to(ROOT)))
        if re.search(r"\bLogger\(", source):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_mask_emails_is_the_masking_rule():
    assert mask_emails(ADDRESS) == "o***@example.com"


def test_metrics_are_counted_per_stage_from_the_function_name():
    from shared.observability import STAGES, stage_of

    assert stage_of("hssync-prod-ApplyFunction-AbC123") == "apply"
    assert stage_of("hssync-InboundEventsFunction-x") == "salesforce-events"
    assert stage_of("hssync-EmailEventsFunction-x") == "email-events"
    assert stage_of("something-else") is None
    assert len(set(STAGES.values())) == len(STAGES)


def test_a_suspension_is_one_metric_with_the_service_dimension_only(capsys):
    import json

    from shared.observability import SUSPENDED_METRIC, count_suspension

    count_suspension()
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if SUSPENDED_METRIC in x]
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"]]
    assert line[SUSPENDED_METRIC] in (1, [1.0])
