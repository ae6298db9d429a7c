"""The HubSpot v1 email events the function turns into tasks.

An event's kind is its ``type``, except a subscription change to "unsubscribed" (``STATUSCHANGE``
with ``portalSubscriptionStatus`` UNSUBSCRIBED), which is ``UNSUBSCRIBED``. Every event of one
message (one email sent to one recipient) names the message by ``sentBy.id``. HubSpot reports the
opens and clicks of whoever received a forward with the original recipient; an open or click of a
message that was forwarded before it is marked ``after_forward``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from shared.matching import normalize_email

EventKind = Literal["OPEN", "CLICK", "FORWARD", "BOUNCE", "SPAMREPORT", "UNSUBSCRIBED"]
KINDS: tuple[EventKind, ...] = get_args(EventKind)
DEFAULT_KINDS: tuple[EventKind, ...] = ("OPEN", "CLICK")
UNSUBSCRIBED = "UNSUBSCRIBED"


@dataclass(frozen=True)
class EmailEvent:
    id: str
    created: int  # epoch milliseconds
    kind: str
    recipient: str  # normalised (trimmed, lower-case)
    campaign_id: int | None
    message_id: str | None  # the id of the message's SENT event (``sentBy.id``)
    url: str | None = None
    device: str | None = None
    browser: str | None = None
    location: str | None = None
    after_forward: bool = False


def kind_of(raw: Mapping[str, Any]) -> str:
    kind = str(raw.get("type") or "")
    if kind == "STATUSCHANGE" and raw.get("portalSubscriptionStatus") == "UNSUBSCRIBED":
        return UNSUBSCRIBED
    return kind


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _location(raw: Any) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    parts = [_text(raw.get(name)) for name in ("city", "state", "country")]
    shown = ", ".join(p.title() if p.isupper() or p.islower() else p for p in parts if p)
    return shown or None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_event(raw: Mapping[str, Any]) -> EmailEvent | None:
    """The event, or None when it lacks an id, a time or a recipient."""
    event_id, created = _text(raw.get("id")), _int(raw.get("created"))
    recipient = normalize_email(raw.get("recipient")) if isinstance(raw.get("recipient"), str) else None
    if event_id is None or created is None or recipient is None:
        return None
    sent_by = raw.get("sentBy")
    browser = raw.get("browser")
    return EmailEvent(
        id=event_id,
        created=created,
        kind=kind_of(raw),
        recipient=recipient,
        campaign_id=_int(raw.get("emailCampaignId")),
        message_id=_text(sent_by.get("id")) if isinstance(sent_by, Mapping) else None,
        url=_text(raw.get("url")),
        device=_text(raw.get("deviceType")),
        browser=_text(browser.get("name")) if isinstance(browser, Mapping) else None,
        location=_location(raw.get("location")),
    )


def forwards(events: Iterable[EmailEvent]) -> dict[str, int]:
    """Message id -> when it was first forwarded, from the FORWARD events among ``events``."""
    first: dict[str, int] = {}
    for event in events:
        if event.kind == "FORWARD" and event.message_id is not None:
            first[event.message_id] = min(event.created, first.get(event.message_id, event.created))
    return first


def wanted(
    events: Sequence[EmailEvent], kinds: Iterable[str], forwarded: Mapping[str, int]
) -> list[EmailEvent]:
    """The events of the chosen kinds, oldest first, each once, opens and clicks after a forward of
    their message marked so (``forwarded``: message id -> first forward)."""
    chosen = set(kinds)
    seen: set[str] = set()
    out: list[EmailEvent] = []
    for event in sorted(events, key=lambda e: (e.created, e.id)):
        if event.kind not in chosen or event.id in seen:
            continue
        seen.add(event.id)
        at = forwarded.get(event.message_id or "")
        if event.kind in ("OPEN", "CLICK") and at is not None and event.created >= at:
            event = replace(event, after_forward=True)
        out.append(event)
    return out
