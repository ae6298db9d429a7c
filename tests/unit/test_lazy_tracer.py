"""The handlers' tracer (``shared.observability.LazyTracer``): X-Ray only when tracing is on, built on
the first invocation, never at import."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from shared.observability import LazyTracer


class FakeTracer:
    def __init__(self) -> None:
        self.wrapped: list[Callable[..., Any]] = []

    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        self.wrapped.append(handler)
        return lambda *args: ("traced", handler(*args))


def test_no_handler_import_loads_the_xray_sdk() -> None:
    handlers = ", ".join(
        f"functions.{name}.app"
        for name in ("inbound_webhook", "inbound_events", "dedupe", "owners", "apply", "poll", "email_events")
    )
    code = f"import sys, {handlers}; print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_with_tracing_on_the_tracer_is_built_once_on_the_first_invocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    fake = FakeTracer()
    built: list[int] = []
    lazy = LazyTracer()

    def build() -> FakeTracer:
        built.append(1)
        return fake

    monkeypatch.setattr(lazy, "tracer", build)
    handler = lazy.capture_lambda_handler(lambda event, context: event["n"] * 2)
    assert built == []
    assert handler({"n": 2}, None) == ("traced", 4)
    assert handler({"n": 3}, None) == ("traced", 6)
    assert built == [1]
    assert len(fake.wrapped) == 1


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_with_tracing_off_the_handler_runs_untraced(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", value)
    lazy = LazyTracer()
    monkeypatch.setattr(lazy, "tracer", lambda: pytest.fail("the tracer was built with tracing off"))
    handler = lazy.capture_lambda_handler(lambda event, context: event["n"] * 2)
    assert handler({"n": 2}, None) == 4


def test_the_real_tracer_is_powertools_own() -> None:
    from aws_lambda_powertools import Tracer

    assert isinstance(LazyTracer().tracer(), Tracer)
