"""HubSpot webhook notifications -> ChangeEvents.

A request body is a JSON array of notifications (HubSpot sends at most 100; see the bounds
below), each validated strictly (``shared.inbound.notification``). Each names one object and one
change; HubSpot may repeat or reorder them, which is harmless downstream. Creating a contact with
six properties sends seven notifications: :func:`merge_notifications` folds the creations and
property changes of one object into one event, so one new contact is one record downstream.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from shared.inbound.errors import MalformedPayload, RequestTooLarge
from shared.inbound.notification import validate_notification
from shared.models import ChangeEvent, ChangeType, System
from shared.times import from_epoch_ms

# A request's bounds. HubSpot sends at most 100 notifications a request; ten times that leaves room
# and still queues in well under the function's timeout. No body can be larger than a Function URL
# passes on (AWS's 6 MB invocation payload); the function checks it too, whatever invokes it.
MAX_NOTIFICATIONS = 1_000
MAX_BODY_BYTES = 6 * 1024 * 1024


def parse_notification(raw: Any) -> ChangeEvent:
    """The change a notification reports; MalformedPayload (with the reason) if it is not a valid
    notification of a supported subscription (``shared.inbound.notification``)."""
    note = validate_notification(raw)
    change = note.change_type
    prop = note.property_name
    reported: dict[str, str | None] = {}
    if prop and change is ChangeType.UPDATE and "property_value" in note.model_fields_set:
        reported[prop] = note.property_value
    source_id = note.source_id
    return ChangeEvent(
        system=System.HUBSPOT,
        account=str(note.portal_id),
        object_type=note.object_type,
        record_id=str(note.record_id),
        change_type=change,
        occurred_at=from_epoch_ms(note.occurred_at),
        origin=note.change_source,
        origin_id=str(source_id) if source_id not in (None, "") else None,
        source_event_id=str(note.event_id),
        changed_fields=(prop,) if prop else (),
        related_ids=note.related_ids,
        related_type=note.related_type,
        association_removed=note.association_removed,
        reported=reported,
    )


_FOLDABLE = (ChangeType.CREATE, ChangeType.UPDATE)


def merge_notifications(events: Iterable[ChangeEvent]) -> list[ChangeEvent]:
    """One event per object for its creations and property changes; the others pass unchanged.

    The merged event is a creation if any notification was one; its changed fields are the union,
    each reported value the latest one (by ``occurredAt``, then event id); its time the latest; its
    origin kept only when every notification shares it. Its source event id is derived from all the
    notification ids, so HubSpot's redelivery of the same request yields the same id. A notification
    repeated within the request (the same event id about the same record) counts once.
    """
    out: list[ChangeEvent] = []
    groups: dict[tuple[str, str, str], list[ChangeEvent]] = {}
    seen: set[str] = set()
    for event in events:
        if event.change_id in seen:
            continue
        seen.add(event.change_id)
        if event.change_type in _FOLDABLE:
            key = (event.account, event.object_type, event.record_id)
            if key not in groups:
                groups[key] = []
                out.append(event)  # placeholder keeps the first-seen order
            groups[key].append(event)
        else:
            out.append(event)
    merged = {key: _merge(group) for key, group in groups.items()}
    return [merged[(e.account, e.object_type, e.record_id)] if e.change_type in _FOLDABLE else e for e in out]


def _merge(group: list[ChangeEvent]) -> ChangeEvent:
    if len(group) == 1:
        return group[0]
    ordered = sorted(group, key=lambda e: (e.occurred_at, _numeric(e.source_event_id)))
    reported: dict[str, str | None] = {}
    fields: dict[str, None] = {}
    for event in ordered:
        reported.update(event.reported)
        fields.update(dict.fromkeys(event.changed_fields))
    origins = {(e.origin, e.origin_id) for e in group}
    origin, origin_id = origins.pop() if len(origins) == 1 else (None, None)
    ids = sorted({e.source_event_id for e in group}, key=_numeric)
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]
    created = any(e.change_type is ChangeType.CREATE for e in group)
    return ordered[-1].model_copy(
        update={
            "change_type": ChangeType.CREATE if created else ChangeType.UPDATE,
            "changed_fields": tuple(fields),
            "reported": reported,
            "origin": origin,
            "origin_id": origin_id,
            "source_event_id": f"{ids[0]}+{len(ids) - 1}:{digest}",
        }
    )


def _numeric(event_id: str) -> tuple[int, str]:
    return (int(event_id), event_id) if event_id.isdigit() else (0, event_id)


def parse_webhook_body(body: str | bytes) -> list[Any]:
    """The notifications of one webhook request; RequestTooLarge beyond :data:`MAX_BODY_BYTES` or
    :data:`MAX_NOTIFICATIONS`, MalformedPayload for anything but a JSON array."""
    size = len(body.encode("utf-8")) if isinstance(body, str) else len(body)
    if size > MAX_BODY_BYTES:
        raise RequestTooLarge(f"request body of {size} bytes: more than the {MAX_BODY_BYTES} accepted")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedPayload(f"body is not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise MalformedPayload("body is not a JSON array of notifications")
    if len(data) > MAX_NOTIFICATIONS:
        raise RequestTooLarge(
            f"request of {len(data)} notifications: more than the {MAX_NOTIFICATIONS} accepted"
            " (HubSpot sends at most 100)"
        )
    return data
