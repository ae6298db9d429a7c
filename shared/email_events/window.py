"""The cursor of the email events reader: which time window the next read covers.

Events arrive late and out of order (HubSpot reports an open when the mail client fetches its
pixel, which may be long after the open happened), so a read never starts where the last one ended:
it starts ``overlap`` before it and relies on idempotency (one task per event id). A read that did
not finish leaves the cursor where it was, so the next read covers its window again. The first read
starts at the configured start (``shared.email_events.start``), never at the beginning of time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.email_events.start import start_at
from shared.times import epoch_ms, from_epoch_ms

CURSOR_NAME = "email-events"


@dataclass(frozen=True)
class Window:
    """Events created in ``[start, end]`` (epoch milliseconds, both ends included)."""

    start: int
    end: int


def next_window(cursor: str | None, *, start: str, overlap: dt.timedelta, now: dt.datetime) -> Window:
    """The window of the next read: from the cursor (the end of the last complete read) less the
    overlap, or from the configured start on the first read; to ``now``."""
    end = epoch_ms(now)
    if cursor is None:
        return Window(min(epoch_ms(start_at(start, now)), end), end)
    last_end = from_epoch_ms(int(cursor))
    return Window(min(epoch_ms(last_end - overlap), end), end)


def cursor_after(window: Window) -> str:
    """The cursor once every event of ``window`` was handled."""
    return str(window.end)
