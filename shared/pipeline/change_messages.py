"""Changes as messages on the changes queue: each one fits an SQS message.

A change whose reported values make it too large (long text properties: a HubSpot value may hold
65,536 characters, a Salesforce long text area 131,072) travels with its ids only: no reported
values, no changed fields. Dedupe then reads the record and syncs whatever differs, as it does for
any change it cannot answer from the link, so nothing is lost but the shortcut.

The budget leaves :data:`HEADROOM` bytes under the SQS limit: dedupe and apply send a change back
with a counter raised (``attempt``, ``redecided``, ``held``), and that copy must fit too.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.models import ChangeEvent
from shared.queues import MAX_BYTES, message_bytes

HEADROOM = 64  # bytes: room for the counters a change is sent back with
MAX_CHANGE_BYTES = MAX_BYTES - HEADROOM


class ChangeTooLarge(ValueError):
    """A change too large for a message even with its ids only."""


def ids_only(event: ChangeEvent) -> ChangeEvent:
    """The change without what it reported: dedupe reads the record instead."""
    return event.model_copy(update={"reported": {}, "changed_fields": ()})


def change_body(event: ChangeEvent) -> str:
    """The message body of a change: whole if it fits, else with its ids only (ChangeTooLarge if
    even that does not fit: thousands of merged ids, which a validated notification cannot carry)."""
    body = event.model_dump_json()
    if message_bytes(body) <= MAX_CHANGE_BYTES:
        return body
    body = ids_only(event).model_dump_json()
    if message_bytes(body) <= MAX_CHANGE_BYTES:
        return body
    raise ChangeTooLarge(
        f"change {event.change_id[:200]} is {message_bytes(body)} bytes with its ids only, "
        f"more than a message holds ({MAX_CHANGE_BYTES})"
    )


def change_bodies(events: Sequence[ChangeEvent]) -> tuple[list[str], list[tuple[str, str]]]:
    """The message bodies of ``events``, and the (change JSON, reason) of those too large to send,
    for the dead-letter queue."""
    bodies: list[str] = []
    unsendable: list[tuple[str, str]] = []
    for event in events:
        try:
            bodies.append(change_body(event))
        except ChangeTooLarge as exc:
            unsendable.append((event.model_dump_json(), str(exc)))
    return bodies, unsendable
