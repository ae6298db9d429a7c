"""When a change from each CRM's users was last seen: dedupe records it as a state cursor per source,
and ``hssync status`` (``shared.operations.status``) shows it. A runtime module of its own so the
dedupe function does not import the operator's view to write it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from shared.models import ChangeEvent, System


def seen_cursor(system: System) -> str:
    """The state cursor holding when a change from this CRM's users was last seen (by dedupe)."""
    return f"seen:{system.value}"


def latest_by_source(events: Sequence[ChangeEvent]) -> dict[System, dt.datetime]:
    """The newest change of each CRM made by its users (hssync's own polls and resyncs left out)."""
    latest: dict[System, dt.datetime] = {}
    for event in events:
        if (event.origin or "").startswith("hssync:"):
            continue
        if event.system not in latest or event.occurred_at > latest[event.system]:
            latest[event.system] = event.occurred_at
    return latest
