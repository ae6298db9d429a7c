"""HubSpot webhook notifications -> ChangeEvents.

A request body is a JSON array of notifications (fewer than 100). Each names one object and one
change; HubSpot may repeat or reorder them, which is harmless downstream.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from shared.inbound.errors import MalformedPayload
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
    occurred_ms = _require(event, "occurredAt")
    try:
        occurred_at = dt.datetime.fromtimestamp(int(occurred_ms) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedPayload(f"occurredAt is not epoch milliseconds: {occurred_ms!r}") from exc

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
    return ChangeEvent(
        system=System.HUBSPOT,
        account=str(_require(event, "portalId")),
        object_type=object_type,
        record_id=str(record_id),
        change_type=change,
        occurred_at=occurred_at,
        origin=event.get("changeSource"),
        source_event_id=str(_require(event, "eventId")),
        changed_fields=(str(prop),) if prop else (),
        related_ids=related,
    )


def parse_webhook_body(body: str | bytes) -> list[Any]:
    """The notifications of one webhook request; raises MalformedPayload for anything but a JSON array."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedPayload(f"body is not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise MalformedPayload("body is not a JSON array of notifications")
    return data
