"""Reading HubSpot's answers, pure: contacts, error bodies, the ids and properties they name."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.ports import HubSpotContact
from shared.times import as_utc

MODIFIED = "hs_lastmodifieddate"

_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)", re.IGNORECASE)
_INVALID_PREFIX = "Property values were not valid:"


def to_contact(obj: Any, requested: Iterable[str]) -> HubSpotContact:
    """A ``SimplePublicObject`` as a :class:`HubSpotContact`. ``property_changed_at`` is the newest
    history timestamp of each requested property; ``updatedAt`` when HubSpot gives no history."""
    updated = as_utc(obj.updated_at)
    history = obj.properties_with_history or {}
    changed: dict[str, dt.datetime] = {}
    for name in requested:
        stamps = [as_utc(entry.timestamp) for entry in history.get(name) or () if entry.timestamp]
        changed[name] = max(stamps) if stamps else updated
    return HubSpotContact(
        id=str(obj.id),
        properties=dict(obj.properties or {}),
        property_changed_at=changed,
        updated_at=updated,
        archived=bool(obj.archived),
    )


def modified(contact: HubSpotContact) -> dt.datetime:
    """When the contact last changed: ``hs_lastmodifieddate``, else its ``updatedAt``."""
    raw = contact.properties.get(MODIFIED)
    return as_utc(raw) if raw else contact.updated_at


def json_body(raw: Any) -> dict[str, Any]:
    """An error answer's body as a JSON object (``{"message": ...}`` when it is not JSON)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        body = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {"message": str(raw)[:500]}
    return body if isinstance(body, dict) else {}


def parse_existing_id(message: str | None, context: Mapping[str, Any] | None = None) -> str | None:
    """The contact id of HubSpot's 409 ("Contact already exists. Existing ID: 123")."""
    values = (context or {}).get("existingId")
    if isinstance(values, list) and values:
        return str(values[0])
    match = _EXISTING_ID.search(message or "")
    return match[1] if match else None


@dataclass(frozen=True)
class PropertyIssue:
    name: str
    code: str
    message: str


def parse_property_issues(body: Mapping[str, Any]) -> list[PropertyIssue]:
    """The invalid properties of a 400: from ``errors[].context.propertyName``, or else from the
    JSON list in the historical ``"Property values were not valid: [...]"`` message."""
    issues = []
    for error in body.get("errors") or ():
        names = ((error or {}).get("context") or {}).get("propertyName") or ()
        for name in names:
            issues.append(
                PropertyIssue(str(name), str(error.get("code") or ""), str(error.get("message") or ""))
            )
    if issues:
        return issues
    return _listed_issues(str(body.get("message") or ""))


def _listed_issues(message: str) -> list[PropertyIssue]:
    if not message.startswith(_INVALID_PREFIX):
        return []
    try:
        listed = json.loads(message[len(_INVALID_PREFIX) :].strip())
    except ValueError:
        return []
    return [
        PropertyIssue(str(item["name"]), str(item.get("error") or ""), str(item.get("message") or ""))
        for item in (listed if isinstance(listed, list) else ())
        if isinstance(item, Mapping) and item.get("name")
    ]


def mentions(message: str, value: str) -> bool:
    """True when ``value`` appears in ``message`` as a whole token (not inside a longer word)."""
    if not value:
        return False
    pattern = r"(?<![\w@.\-])" + re.escape(value) + r"(?![\w@\-]|\.\w)"
    return re.search(pattern, message) is not None


def already_opted_out(message: str) -> bool:
    """HubSpot's refusal to change an address that is already unsubscribed (v3 answers
    "... is already unsubscribed from subscription ..."), which for an opt-out is a success."""
    text = message.lower()
    return "already" in text and ("unsubscribed" in text or "opted out" in text)


def parse_daily_usage(headers: Mapping[str, str] | None) -> tuple[int, int] | None:
    """(used, daily limit) from ``X-HubSpot-RateLimit-Daily`` and ``...-Daily-Remaining``."""
    if not headers:
        return None
    lowered = {str(k).lower(): v for k, v in headers.items()}
    try:
        limit = int(lowered["x-hubspot-ratelimit-daily"])
        remaining = int(lowered["x-hubspot-ratelimit-daily-remaining"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(0, limit - remaining), limit
