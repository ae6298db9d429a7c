"""Salesforce Change Data Capture events (as Event Relay puts them on EventBridge) -> ChangeEvents.

Event Relay delivers each event with ``detail-type`` = the event name and ``detail.payload`` = the
record fields plus ``ChangeEventHeader``. The envelope is parsed tolerantly (a bare payload works
too). One event may name several records; each becomes its own ChangeEvent. Gap events
(``GAP_*``, ``GAP_OVERFLOW``) carry no trustworthy data: they become RESYNC events for their records,
or, for an overflow without ids, a request to poll the object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shared.inbound.errors import MalformedPayload
from shared.inbound.times import parse_epoch_ms
from shared.models import ChangeEvent, ChangeType, System

_CHANGES = {
    "CREATE": ChangeType.CREATE,
    "UPDATE": ChangeType.UPDATE,
    "DELETE": ChangeType.DELETE,
    "UNDELETE": ChangeType.UNDELETE,
}


@dataclass
class ParsedChangeEvent:
    events: list[ChangeEvent] = field(default_factory=list)
    poll_objects: list[str] = field(default_factory=list)  # GAP_OVERFLOW: re-read these objects by poll


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail", event)
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError as exc:
            raise MalformedPayload(f"detail is not JSON: {exc}") from exc
    if not isinstance(detail, dict):
        raise MalformedPayload("event detail is not an object")
    payload = detail.get("payload", detail)
    if not isinstance(payload, dict) or not isinstance(payload.get("ChangeEventHeader"), dict):
        raise MalformedPayload("no ChangeEventHeader in the event payload")
    return payload


def _org_id(event: dict[str, Any], default: str) -> str:
    # source: aws.partner/salesforce.com/<orgId>/<relayId>
    parts = str(event.get("source", "")).split("/")
    if len(parts) >= 3 and parts[0] == "aws.partner" and parts[1] == "salesforce.com" and parts[2]:
        return parts[2]
    return default


def _event_key(event: dict[str, Any], header: dict[str, Any]) -> str:
    """The event's own id: its replay id (Event Relay's envelope), else transaction key:sequence."""
    replay = (
        (event.get("detail") or {}).get("event", {}).get("replayId")
        if isinstance(event.get("detail"), dict)
        else None
    )
    return str(
        replay if replay is not None else f"{header.get('transactionKey')}:{header.get('sequenceNumber')}"
    )


def _transaction_records(header: dict[str, Any], named: int) -> int:
    """How many records the event's transaction wrote, at least: the records the event names, and
    its sequence number (events of one transaction are numbered from 1). A deletion counts the
    records it names only: a merge deletes its losers after it updates the master, in one
    transaction, and the two must travel in one lane (``shared.pipeline.lanes``)."""
    if header.get("changeType") == "DELETE":
        return max(1, named)
    sequence = header.get("sequenceNumber")
    position = sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else 1
    return max(1, named, position)


def parse_change_event(event: dict[str, Any], *, org_id: str) -> ParsedChangeEvent:
    payload = _payload(event)
    header = payload["ChangeEventHeader"]
    entity = header.get("entityName")
    change_name = str(header.get("changeType", ""))
    record_ids = header.get("recordIds") or []
    commit_ms = header.get("commitTimestamp")
    if not entity or not change_name or not isinstance(record_ids, list) or commit_ms is None:
        raise MalformedPayload("ChangeEventHeader lacks entityName, changeType, recordIds or commitTimestamp")
    occurred_at = parse_epoch_ms(commit_ms, "commitTimestamp")

    org = _org_id(event, org_id)
    result = ParsedChangeEvent()
    if change_name == "GAP_OVERFLOW" or (change_name.startswith("GAP_") and not record_ids):
        result.poll_objects.append(str(entity))
        return result
    change = ChangeType.RESYNC if change_name.startswith("GAP_") else _CHANGES.get(change_name)
    if change is None:
        raise MalformedPayload(f"unsupported changeType {change_name!r}")
    if not record_ids:
        raise MalformedPayload("change event without recordIds")

    origin = header.get("changeOrigin") or None
    event_key = _event_key(event, header)
    changed = tuple(str(f) for f in header.get("changedFields") or ())
    # the owner Salesforce gave a record (its assignment rules on a create): the only payload value
    # hssync keeps, so that its own creations need no read to learn it
    reported: dict[str, str | None] = {"OwnerId": str(payload["OwnerId"])} if payload.get("OwnerId") else {}
    for record_id in record_ids:
        result.events.append(
            ChangeEvent(
                system=System.SALESFORCE,
                account=org,
                object_type=str(entity),
                record_id=str(record_id),
                change_type=change,
                occurred_at=occurred_at,
                origin=origin,
                source_event_id=event_key,
                transaction_records=_transaction_records(header, len(record_ids)),
                changed_fields=changed,
                reported=reported if len(record_ids) == 1 else {},
            )
        )
    return result
