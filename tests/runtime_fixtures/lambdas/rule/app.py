"""Target of an EventBridge rule: counts deliveries per event id; fails when the event asks to."""

from __future__ import annotations

from typing import Any

from lambdas.common import count_attempt, record


def handler(event: dict[str, Any], context: Any) -> None:
    count_attempt(f"rule#{event['id']}")
    if event["detail"].get("fail"):
        raise ValueError(f"event {event['id']} asked to fail")
    record(f"rule#{event['id']}", "event", event=event)
