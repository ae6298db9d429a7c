"""Timestamps in what the CRMs send: epoch milliseconds (HubSpot's ``occurredAt``, Salesforce's
``commitTimestamp``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.inbound.errors import MalformedPayload
from shared.times import from_epoch_ms


def parse_epoch_ms(value: Any, name: str) -> dt.datetime:
    """The UTC instant of an epoch-milliseconds timestamp; MalformedPayload naming ``name`` otherwise."""
    try:
        return from_epoch_ms(int(value))
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedPayload(f"{name} is not epoch milliseconds: {value!r}") from exc
