"""Runs on schedules: stores the event it was given."""

from __future__ import annotations

from typing import Any

from lambdas.common import record


def handler(event: Any, context: Any) -> dict[str, str]:
    record("sched", context.aws_request_id, event=event)
    return {"request_id": context.aws_request_id}
