"""Sleeps as long as it is told to (its Timeout is 1 s), or exits abruptly."""

from __future__ import annotations

import os
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    if event.get("exit"):
        os._exit(3)
    time.sleep(float(event.get("sleep", 0)))
    return {"pid": os.getpid(), "remaining_ms": context.get_remaining_time_in_millis()}
