"""Inbound: what arrives (webhooks, change events) becomes ChangeEvent messages. Nothing is fetched
here; a request is verified, split into events and queued, and answered quickly."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.inbound.errors import MalformedPayload, RequestTooLarge
from shared.inbound.hubspot import merge_notifications, parse_notification, parse_webhook_body
from shared.inbound.salesforce import parse_change_event
from shared.models import ChangeEvent
from shared.pipeline.change_messages import change_body
from shared.webhook_signature import SignatureError, SignedRequest, verify_v3


@dataclass
class WebhookOutcome:
    """What to answer, what to queue and what to dead-letter (body, reason)."""

    status: int
    message: str
    events: list[ChangeEvent] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)  # (notification JSON, reason)
    refused: str | None = None  # a signed request refused whole (400, 413): its body, dead-lettered


def request_url(headers: Mapping[str, str], raw_path: str, raw_query: str) -> str:
    """The URL HubSpot called, as it signed it (a Function URL sits behind TLS termination)."""
    lower = {k.lower(): v for k, v in headers.items()}
    scheme = lower.get("x-forwarded-proto", "https")
    host = lower.get("host", "")
    return f"{scheme}://{host}{raw_path}" + (f"?{raw_query}" if raw_query else "")


def receive_webhook(
    *,
    method: str,
    url: str,
    body: str,
    headers: Mapping[str, str],
    client_secret: str,
    now_ms: int,
    portals: Collection[str],
) -> WebhookOutcome:
    """Verify and split one HubSpot webhook request. 401: not from HubSpot (or replayed, or stale):
    nothing else happens. A signed request that is not a JSON array (400) or beyond the bounds (413)
    is refused whole, and dead-lettered. Otherwise 200, with the changes of the notifications that
    validate, while the ones that do not (or belong to a portal not in ``portals``) are returned for the
    dead-letter queue with their reason: HubSpot would retry an error, and they never succeed."""
    try:
        verify_v3(SignedRequest(method, url, body, headers), client_secret, now_ms=now_ms)
    except SignatureError as exc:
        return WebhookOutcome(401, f"invalid signature: {exc.reason}")
    try:
        notifications = parse_webhook_body(body)
    except RequestTooLarge as exc:
        return WebhookOutcome(413, str(exc), refused=body)
    except MalformedPayload as exc:
        return WebhookOutcome(400, str(exc), refused=body)
    return accept_notifications(notifications, portals=portals)


def accept_notifications(notifications: Sequence[Any], *, portals: Collection[str]) -> WebhookOutcome:
    """The changes of the valid notifications of the synced ``portals`` (the configuration's
    ``portals``); the others with their reason."""
    outcome = WebhookOutcome(200, "accepted")
    for raw in notifications:
        try:
            event = parse_notification(raw)
        except MalformedPayload as exc:
            outcome.malformed.append((json.dumps(raw), str(exc)))
            continue
        if event.account not in portals:
            outcome.malformed.append((json.dumps(raw), f"portal {event.account} is not synced by this stack"))
            continue
        outcome.events.append(event)
    received = len(outcome.events)
    outcome.events = merge_notifications(outcome.events)
    outcome.message = f"accepted {received} notifications as {len(outcome.events)} changes"
    return outcome


@dataclass
class RelayOutcome:
    events: list[ChangeEvent] = field(default_factory=list)
    poll_objects: list[str] = field(default_factory=list)
    malformed: str | None = None


def receive_change_event(event: dict[str, Any], *, org_id: str) -> RelayOutcome:
    try:
        parsed = parse_change_event(event, org_id=org_id)
    except MalformedPayload as exc:
        return RelayOutcome(malformed=str(exc))
    return RelayOutcome(events=parsed.events, poll_objects=parsed.poll_objects)


@dataclass
class RelayBatch:
    message_ids: list[str] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    poll_objects: list[str] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)  # (message body, reason)


def relay_batch(records: Sequence[Mapping[str, Any]], *, org_id: str) -> RelayBatch:
    """The changes in a batch of SQS messages whose bodies are EventBridge events (Event Relay's
    change events). A body that is not one is returned with its reason for the dead-letter queue."""
    out = RelayBatch()
    for record in records:
        out.message_ids.append(str(record.get("messageId", "")))
        body = str(record.get("body", ""))
        try:
            event = json.loads(body)
        except ValueError as exc:
            out.malformed.append((body, f"message body is not JSON: {exc}"))
            continue
        if not isinstance(event, dict):
            out.malformed.append((body, "message body is not an EventBridge event"))
            continue
        outcome = receive_change_event(event, org_id=org_id)
        if outcome.malformed:
            out.malformed.append((body, outcome.malformed))
            continue
        out.events += outcome.events
        out.poll_objects += outcome.poll_objects
    return out


def to_bodies(events: Sequence[ChangeEvent]) -> list[str]:
    """The changes' message bodies, each fitting a message (``shared.pipeline.change_messages``)."""
    return [change_body(e) for e in events]
