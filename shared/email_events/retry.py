"""How long an event whose recipient is not synced yet is tried again: a contact outside the
inclusion list stays unsynced, one being created is linked within minutes. An event is kept (in the
state table) from when it was first skipped until ``window`` has passed; then it is dropped and
counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.times import epoch_ms


@dataclass(frozen=True)
class WaitingEvent:
    """An event kept for another try: the API's event (JSON), when it was first skipped, and why."""

    event_id: str
    raw: str
    first_skipped_ms: int
    reason: str


def retrying(first_skipped_ms: int, now: dt.datetime, window: dt.timedelta) -> bool:
    """Whether an event first skipped at ``first_skipped_ms`` is still tried again at ``now``."""
    return epoch_ms(now) - first_skipped_ms <= window.total_seconds() * 1000
