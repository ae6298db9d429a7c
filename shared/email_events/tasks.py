"""The Salesforce Task of an email event: one per event, never merged.

``Subject`` says what happened and to which email ("Marketing email opened: <subject>", "Clicked
<url> in <subject>"); ``WhoId`` is the recipient's Lead or Contact and ``OwnerId`` that record's
owner; ``ActivityDate`` the event's day (UTC); ``Status`` Completed, ``Priority`` Normal;
``TaskSubtype`` and ``Type`` Email; the description holds the campaign, the time, the link clicked,
the device, client and location when HubSpot reports them, and the event id. With an external-id
field on Task (``email_events.event_id_field``) the event id goes there too, and tasks are upserted
by it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared.email_events.events import EmailEvent
from shared.email_events.resolve import Target
from shared.times import from_epoch_ms

SUBJECT_LENGTH = 255
DESCRIPTION_LENGTH = 32000
FORWARD_NOTE = (
    "After the email was forwarded: HubSpot reports the opens and clicks of whoever received a "
    "forward with the original recipient, so this may be the forwardee's."
)
_VERBS = {
    "OPEN": "Marketing email opened",
    "FORWARD": "Marketing email forwarded",
    "BOUNCE": "Marketing email bounced",
    "SPAMREPORT": "Marketing email reported as spam",
    "UNSUBSCRIBED": "Unsubscribed from marketing email",
}
# fields an org may lack (TaskSubtype needs Enhanced Email-style activities): dropped if so
OPTIONAL_FIELDS = ("TaskSubtype", "Type")


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str | None
    subject: str | None

    @property
    def title(self) -> str:
        return self.subject or self.name or f"campaign {self.id}"


def subject(event: EmailEvent, campaign: Campaign | None) -> str:
    title = campaign.title if campaign is not None else "a marketing email"
    if event.kind == "CLICK":
        text = f"Clicked {event.url or 'a link'} in {title}"
    else:
        text = f"{_VERBS.get(event.kind, event.kind.title())}: {title}"
    return text if len(text) <= SUBJECT_LENGTH else text[: SUBJECT_LENGTH - 1] + "…"


def description(event: EmailEvent, campaign: Campaign | None) -> str:
    at = from_epoch_ms(event.created).isoformat(timespec="seconds").replace("+00:00", "Z")
    lines = [f"HubSpot marketing email event: {event.kind}"]
    if campaign is not None:
        lines.append(f"Campaign: {campaign.name or campaign.title} ({campaign.id})")
        if campaign.subject:
            lines.append(f"Email subject: {campaign.subject}")
    lines.append(f"Time: {at}")
    for label, value in (
        ("Link clicked", event.url if event.kind == "CLICK" else None),
        ("Device", event.device),
        ("Client", event.browser),
        ("Location", event.location),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if event.after_forward:
        lines.append(FORWARD_NOTE)
    lines.append(f"Event id: {event.id}")
    return "\n".join(lines)[:DESCRIPTION_LENGTH]


def task_fields(
    event: EmailEvent,
    campaign: Campaign | None,
    target: Target,
    *,
    owner_id: str | None,
    event_id_field: str | None,
) -> dict[str, Any]:
    """The Task's fields (before the org's describe drops any it lacks)."""
    fields: dict[str, Any] = {
        "Subject": subject(event, campaign),
        "WhoId": target.sf_id,
        "ActivityDate": from_epoch_ms(event.created).astimezone(dt.UTC).date().isoformat(),
        "Status": "Completed",
        "Priority": "Normal",
        "TaskSubtype": "Email",
        "Type": "Email",
        "Description": description(event, campaign),
    }
    if owner_id:
        fields["OwnerId"] = owner_id
    if event_id_field:
        fields[event_id_field] = event.id
    return fields


def task_owner(owner_id: Any) -> str | None:
    """The owner a task takes from its record: a user (``005``); a queue or anything else cannot own a
    task, so the task is left to its default owner (the integration user)."""
    return owner_id if isinstance(owner_id, str) and owner_id.startswith("005") else None
