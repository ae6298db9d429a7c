"""HubSpot webhook notifications -> ChangeEvents.

A request body is a JSON array of notifications (fewer than 100). Each names one object and one
change; HubSpot may repeat or reorder them, which is harmless downstream. Creating a contact with
six properties sends seven notifications: :func:`merge_notifications` folds the creations and
property changes of one object into one event, so one new contact is one record downstream.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from shared.inbound.errors import MalformedPayload
from shared.inbound.times import parse_epoch_ms
from shared.models import ChangeEvent, ChangeType, System

_OBJECTS = {"contact": "contacts", "company": "companies", "deal": "deals"}
_CHANGES = {
    "creation": ChangeType.CREATE,
    "propertyChange": ChangeType.UPDATE,
    "deletion": ChangeType.DELETE,
    "privacyDeletion": ChangeType.DELETE,
    "restore": ChangeType.UNDELETE,
    "merge": ChangeType.MERGE,
    "associationChange": ChangeType.ASSOCIATION,
}


def _require(event: dict[str, Any], key: str) -> Any:
    value = event.get(key)
    if value is None or value == "":
        raise MalformedPayload(f"notification without {key}: {json.dumps(event)[:200]}")
    return value


def parse_notification(event: Any) -> ChangeEvent:
    if not isinstance(event, dict):
        raise MalformedPayload(f"notification is not an object: {str(event)[:200]}")
    subscription_type = str(_require(event, "subscriptionType"))
    object_name, _, change_name = subscription_type.partition(".")
    object_type = _OBJECTS.get(object_name)
    change = _CHANGES.get(change_name)
    if object_type is None or change is None:
        raise MalformedPayload(f"unsupported subscriptionType {subscription_type!r}")
    occurred_at = parse_epoch_ms(_require(event, "occurredAt"), "occurredAt")

    related: tuple[str, ...] = ()
    record_id = event.get("objectId")
    if change is ChangeType.MERGE:
        # the surviving record; the others are merged into it
        record_id = event.get("newObjectId") or event.get("primaryObjectId") or record_id
        related = tuple(str(i) for i in event.get("mergedObjectIds") or ())
    elif change is ChangeType.ASSOCIATION:
        record_id = event.get("fromObjectId") or record_id
        if event.get("toObjectId") is not None:
            related = (str(event["toObjectId"]),)
    if record_id is None:
        raise MalformedPayload(f"notification without objectId: {json.dumps(event)[:200]}")
    prop = event.get("propertyName")
    reported: dict[str, str | None] = {}
    if prop and change is ChangeType.UPDATE and "propertyValue" in event:
        value = event["propertyValue"]
        reported[str(prop)] = None if value is None else str(value)
    source_id = event.get("sourceId")
    return ChangeEvent(
        system=System.HUBSPOT,
        account=str(_require(event, "portalId")),
        object_type=object_type,
        record_id=str(record_id),
        change_type=change,
        occurred_at=occurred_at,
        origin=event.get("changeSource"),
        origin_id=str(source_id) if source_id not in (None, "") else None,
        source_event_id=str(_require(event, "eventId")),
        changed_fields=(str(prop),) if prop else (),
        related_ids=related,
        reported=reported,
    )


_FOLDABLE = (ChangeType.CREATE, ChangeType.UPDATE)


def merge_notifications(events: Iterable[ChangeEvent]) -> list[ChangeEvent]:
    """One event per object for its creations and property changes; the others pass unchanged.

    The merged event is a creation if any notification was one; its changed fields are the union,
    each reported value the latest one (by ``occurredAt``, then event id); its time the latest; its
    origin kept only when every notification shares it. Its source event id is derived from all the
    notification ids, so HubSpot's redelivery of the same request yields the same id.
    """
    out: list[ChangeEvent] = []
    groups: dict[tuple[str, str, str], list[ChangeEvent]] = {}
    for event in events:
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
    """The notifications of one webhook request; raises MalformedPayload for anything but a JSON array."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedPayload(f"body is not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise MalformedPayload("body is not a JSON array of notifications")
    return data
