"""HubSpot marketing email events, v1 (``/email/public/v1/events``).

Each marketing email sent to a recipient is a message of a campaign; its events (SENT, DELIVERED,
OPEN, CLICK, FORWARD, ...) all carry that recipient and ``sentBy``, the id and time of the
message's SENT event. When a recipient forwards an email, the opens and clicks of whoever received
the forward are still reported with the original recipient: HubSpot cannot tell them apart.

Events are listed newest first. The ``offset`` paging token is opaque; it points just past the last
event returned, so events added meanwhile (always newer) do not shift later pages.
``GET /email/public/v1/campaigns/{id}`` describes a campaign (name, subject, counters).
``POST /_sandbox/email-events`` adds events for a recipient, creating the message's SENT and
DELIVERED events first when they are missing.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import json_response
from infra.sandbox.hubspot.errors import not_found, validation_error

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator
    from infra.sandbox.hubspot.store import CrmRecord

EVENT_TYPES = (
    "SENT",
    "PROCESSED",
    "DELIVERED",
    "DEFERRED",
    "DROPPED",
    "BOUNCE",
    "OPEN",
    "CLICK",
    "FORWARD",
    "PRINT",
    "SPAMREPORT",
    "STATUSCHANGE",
)
# Types that mean the recipient received the email (so SENT and DELIVERED precede them).
ENGAGEMENT_TYPES = {"OPEN", "CLICK", "FORWARD", "PRINT", "SPAMREPORT", "STATUSCHANGE"}
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
MARKETING_APP_ID = 113
MARKETING_APP_NAME = "Batch"
FIRST_CAMPAIGN_ID = 2_150_000_001
MINUTE_MS = 60_000
DAY_MS = 86_400_000

# Fields a control request may set on an event (everything else is derived).
OVERRIDABLE = (
    "created",
    "url",
    "userAgent",
    "browser",
    "location",
    "deviceType",
    "filteredEvent",
    "referer",
    "linkId",
    "duration",
    "response",
    "category",
    "status",
    "dropReason",
    "dropMessage",
    "subject",
    "from",
    "subscriptions",
    "portalSubscriptionStatus",
    "source",
)

BROWSERS = (
    {
        "name": "Microsoft Outlook 16",
        "family": "Microsoft Outlook",
        "producer": "Microsoft Corporation.",
        "producerUrl": "https://www.microsoft.com/",
        "type": "Email client",
        "url": "https://products.office.com/outlook",
        "version": ["16.0"],
    },
    {
        "name": "Chrome 120.0",
        "family": "Chrome",
        "producer": "Google Inc.",
        "producerUrl": "https://www.google.com/about/company/",
        "type": "Browser",
        "url": "https://www.google.com/chrome/",
        "version": ["120.0"],
    },
    {
        "name": "Apple Mail",
        "family": "Apple Mail",
        "producer": "Apple Inc.",
        "producerUrl": "https://www.apple.com/",
        "type": "Email client",
        "url": "https://www.apple.com/mail/",
        "version": [],
    },
)
USER_AGENTS = (
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148",
)
LOCATIONS = (
    {"country": "UNITED STATES", "state": "texas", "city": "austin", "latitude": 30.27, "longitude": -97.74},
    {"country": "JAPAN", "state": "tokyo", "city": "tokyo", "latitude": 35.68, "longitude": 139.69},
    {"country": "GERMANY", "state": "berlin", "city": "berlin", "latitude": 52.52, "longitude": 13.40},
)
DEMO_CAMPAIGNS = (
    ("Spring product launch", 34),
    ("Customer newsletter", 20),
    ("Webinar invitation", 6),
)


@dataclass
class Campaign:
    id: int
    group_id: int
    subject: str
    name: str | None = None


@dataclass
class EmailEvent:
    id: str
    created: int
    type: str
    recipient: str
    campaign: Campaign
    seq: int
    sent_by: tuple[str, int] | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def to_api(self, portal_id: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "created": self.created,
            "type": self.type,
            "recipient": self.recipient,
            "portalId": portal_id,
            "appId": MARKETING_APP_ID,
            "appName": MARKETING_APP_NAME,
            "emailCampaignId": self.campaign.id,
            "emailCampaignGroupId": self.campaign.group_id,
        }
        if self.sent_by is not None:
            body["sentBy"] = {"id": self.sent_by[0], "created": self.sent_by[1]}
        body.update(self.fields)
        return body

    @property
    def key(self) -> tuple[int, int]:
        """Sort key, newest last; ``seq`` breaks ties between events of the same millisecond."""
        return (self.created, self.seq)


class EmailEvents:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self._events: list[EmailEvent] = []
        self._campaigns: dict[int, Campaign] = {}
        self._seq = itertools.count(1)
        self._rng = random.Random(7)

    def register_routes(self) -> None:
        self.emulator.route("GET", "/email/public/v1/events", self._list)
        self.emulator.route("GET", "/email/public/v1/events/<int:created>/<eventId>", self._get)
        self.emulator.route("GET", "/email/public/v1/campaigns/<int:campaignId>", self._campaign)
        self.emulator.control("POST", "email-events", self._control_add)

    def reset(self) -> None:
        self._events.clear()
        self._campaigns.clear()
        self._seq = itertools.count(1)
        self._rng = random.Random(7)

    # -- model (callers hold the lock) --------------------------------------------------------------
    def campaign(self, campaign_id: int | None = None, subject: str | None = None) -> Campaign:
        """The campaign with this id (created on first use); a new campaign when no id is given."""
        if campaign_id is None:
            campaign_id = max(self._campaigns, default=FIRST_CAMPAIGN_ID - 1) + 1
        found = self._campaigns.get(campaign_id)
        if found is None:
            found = Campaign(campaign_id, campaign_id + 10_000_000, subject or f"Campaign {campaign_id}")
            self._campaigns[campaign_id] = found
        return found

    def add_message_events(
        self,
        recipient: str,
        campaign: Campaign,
        specs: Sequence[dict[str, Any]],
        *,
        now_ms: int | None = None,
    ) -> list[EmailEvent]:
        """Add events to the message ``campaign`` sent ``recipient``; returns every event created,
        including the SENT/DELIVERED (and FORWARD) events generated before engagement events."""
        address = recipient.strip().lower()
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        created: list[EmailEvent] = []
        for spec in specs:
            kind = spec.get("type")
            if kind not in EVENT_TYPES:
                raise ValueError(f"unknown event type {kind!r}; expected one of {', '.join(EVENT_TYPES)}")
            at = int(spec.get("created", now))
            if kind != "SENT" and self._message_event(address, campaign, "SENT") is None:
                self._new(address, campaign, "SENT", at - 2 * MINUTE_MS, {}, created)
            if kind in ENGAGEMENT_TYPES and self._message_event(address, campaign, "DELIVERED") is None:
                self._new(address, campaign, "DELIVERED", at - MINUTE_MS, {}, created)
            forwardee = spec.get("forwardedTo")
            if kind in ("OPEN", "CLICK") and forwardee:
                if self._message_event(address, campaign, "FORWARD") is None:
                    self._new(address, campaign, "FORWARD", at - MINUTE_MS // 2, {}, created)
                spec = {**spec, **self._client(str(forwardee))}
            overrides = {k: spec[k] for k in OVERRIDABLE if k in spec and k != "created"}
            self._new(address, campaign, str(kind), at, overrides, created)
        return created

    def _message_event(self, recipient: str, campaign: Campaign, kind: str) -> EmailEvent | None:
        for event in self._events:
            if event.recipient == recipient and event.campaign.id == campaign.id and event.type == kind:
                return event
        return None

    def _new(
        self,
        recipient: str,
        campaign: Campaign,
        kind: str,
        created: int,
        overrides: dict[str, Any],
        out: list[EmailEvent],
    ) -> EmailEvent:
        sent = self._message_event(recipient, campaign, "SENT")
        event = EmailEvent(
            id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            created=created,
            type=kind,
            recipient=recipient,
            campaign=campaign,
            seq=next(self._seq),
            sent_by=(sent.id, sent.created) if sent is not None and kind != "SENT" else None,
            fields={**self._default_fields(kind, campaign, recipient), **overrides},
        )
        self._events.append(event)
        out.append(event)
        return event

    def _client(self, who: str) -> dict[str, Any]:
        """A reader's mail client and whereabouts, stable per address."""
        pick = random.Random(who.strip().lower()).randrange(len(BROWSERS))
        return {
            "browser": BROWSERS[pick],
            "userAgent": USER_AGENTS[pick],
            "location": LOCATIONS[pick],
            "deviceType": "MOBILE" if pick == 2 else "COMPUTER",
        }

    def _default_fields(self, kind: str, campaign: Campaign, recipient: str) -> dict[str, Any]:
        if kind == "SENT":
            return {"subject": campaign.subject, "from": "Sandbox Marketing <marketing@sandbox.example>"}
        if kind == "DELIVERED":
            return {"response": "250 2.0.0 OK", "smtpId": f"<{campaign.id}.{recipient}@sandbox.example>"}
        if kind in ("OPEN", "CLICK", "FORWARD", "PRINT"):
            fields: dict[str, Any] = {**self._client(recipient), "filteredEvent": False}
            if kind == "OPEN":
                fields["duration"] = 4000
            if kind == "CLICK":
                fields["url"] = f"https://www.sandbox.example/campaigns/{campaign.id}"
                fields["referer"] = ""
            return fields
        if kind == "BOUNCE":
            return {"category": "HARD_BOUNCE", "response": "550 5.1.1 User unknown", "status": "5.1.1"}
        if kind == "DEFERRED":
            return {"response": "421 4.7.0 Try again later", "attempt": 1}
        if kind == "DROPPED":
            return {"dropReason": "PREVIOUSLY_BOUNCED", "dropMessage": "The address bounced before."}
        if kind == "SPAMREPORT":
            return {"userAgent": USER_AGENTS[0]}
        if kind == "STATUSCHANGE":
            return {
                "source": "SOURCE_RECIPIENT",
                "portalSubscriptionStatus": "UNSUBSCRIBED",
                "subscriptions": [],
            }
        return {}

    def seed_demo(self, contacts: Sequence[CrmRecord]) -> int:
        """Three campaigns over the last five weeks to about 40 of ``contacts``: every message is sent
        and delivered, most are opened, some clicked, a few forwarded and then opened/clicked by the
        forwardee, one bounced. Returns the number of events."""
        rng = random.Random(20261128)
        now = int(time.time() * 1000)
        emails = [str(c.properties.get("email") or "") for c in contacts]
        recipients = [e for e in emails if e][:40]
        total = 0
        with self.emulator.lock:
            for index, (subject, days_ago) in enumerate(DEMO_CAMPAIGNS):
                campaign = self.campaign(FIRST_CAMPAIGN_ID + index, subject)
                campaign.name = subject
                sent_at = now - days_ago * DAY_MS
                for position, email in enumerate(recipients):
                    if (position + index) % 3 == 2 and index > 0:
                        continue
                    at = sent_at + position * 1000
                    specs = self._demo_engagement(rng, email, at, bounced=index == 0 and position == 7)
                    total += len(self.add_message_events(email, campaign, specs, now_ms=at))
        return total

    def _demo_engagement(
        self, rng: random.Random, email: str, at: int, *, bounced: bool
    ) -> list[dict[str, Any]]:
        if bounced:
            return [{"type": "SENT", "created": at}, {"type": "BOUNCE", "created": at + MINUTE_MS}]
        specs: list[dict[str, Any]] = [
            {"type": "SENT", "created": at},
            {"type": "DELIVERED", "created": at + 5000},
        ]
        roll = rng.random()
        if roll < 0.65:
            specs.append({"type": "OPEN", "created": at + 3 * 3_600_000})
        if roll < 0.3:
            specs.append({"type": "CLICK", "created": at + 3 * 3_600_000 + MINUTE_MS})
        if roll < 0.08:
            forwardee = f"colleague.of.{email.split('@')[0]}@example.net"
            specs.append({"type": "FORWARD", "created": at + DAY_MS})
            specs.append({"type": "OPEN", "created": at + DAY_MS + 3_600_000, "forwardedTo": forwardee})
            specs.append({"type": "CLICK", "created": at + DAY_MS + 3_700_000, "forwardedTo": forwardee})
        return specs

    # -- API ------------------------------------------------------------------------------------------
    def _list(self, request: Request) -> Response:
        args = request.args
        limit = _int_arg(args.get("limit"), "limit")
        limit = DEFAULT_LIMIT if limit is None else limit
        if not 1 <= limit <= MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        start = _int_arg(args.get("startTimestamp"), "startTimestamp")
        end = _int_arg(args.get("endTimestamp"), "endTimestamp")
        campaign_id = _int_arg(args.get("campaignId"), "campaignId")
        app_id = _int_arg(args.get("appId"), "appId")
        recipient = (args.get("recipient") or "").strip().lower() or None
        event_type = args.get("eventType")
        exclude_filtered = args.get("excludeFilteredEvents", "false").lower() == "true"
        before = _decode_offset(args["offset"]) if args.get("offset") else None
        with self.emulator.lock:
            matching = [
                e
                for e in self._events
                if (recipient is None or e.recipient == recipient)
                and (event_type is None or e.type == event_type)
                and (start is None or e.created >= start)
                and (end is None or e.created <= end)
                and (campaign_id is None or e.campaign.id == campaign_id)
                and (app_id is None or app_id == MARKETING_APP_ID)
                and not (exclude_filtered and e.fields.get("filteredEvent") is True)
                and (before is None or e.key < before)
            ]
            matching.sort(key=lambda e: e.key, reverse=True)
            page = matching[:limit]
            portal_id = self.emulator.credentials.portal_id
            events = [e.to_api(portal_id) for e in page]
        last = page[-1].key if page else before
        return json_response(
            {
                "events": events,
                "hasMore": len(matching) > limit,
                "offset": _encode_offset(last) if last is not None else "",
            }
        )

    def _get(self, _request: Request, created: int, eventId: str) -> Response:
        with self.emulator.lock:
            for event in self._events:
                if event.id == eventId and event.created == created:
                    return json_response(event.to_api(self.emulator.credentials.portal_id))
        raise not_found(f"Email event {created}/{eventId} not found")

    def _campaign(self, _request: Request, campaignId: int) -> Response:
        """A campaign as the v1 campaigns API describes it (its counters from the events so far)."""
        with self.emulator.lock:
            campaign = self._campaigns.get(campaignId)
            if campaign is None:
                raise not_found(f"Email campaign {campaignId} not found")
            counters: dict[str, int] = {}
            for event in self._events:
                if event.campaign.id == campaignId:
                    name = event.type.lower()
                    counters[name] = counters.get(name, 0) + 1
            return json_response(
                {
                    "id": campaign.id,
                    "appId": MARKETING_APP_ID,
                    "appName": MARKETING_APP_NAME,
                    "contentId": campaign.group_id,
                    "name": campaign.name or campaign.subject,
                    "subject": campaign.subject,
                    "type": "BATCH_EMAIL",
                    "subType": "batch",
                    "numIncluded": counters.get("sent", 0),
                    "numQueued": 0,
                    "counters": counters,
                    "lastUpdatedTime": max(
                        (e.created for e in self._events if e.campaign.id == campaignId), default=0
                    ),
                }
            )

    # -- control --------------------------------------------------------------------------------------
    def _control_add(self, request: Request) -> Response:
        """``{"recipient": ..., "campaignId"?: ..., "events": [{"type": "OPEN", ...}]}``."""
        try:
            body = json.loads(request.get_data() or b"{}")
            if not isinstance(body, dict) or not isinstance(body.get("recipient"), str):
                raise ValueError("expected {'recipient': ..., 'events': [{'type': ...}]}")
            specs = body.get("events")
            if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
                raise ValueError("'events' must be a list of objects with a 'type'")
            campaign_id = body.get("campaignId")
            with self.emulator.lock:
                campaign = self.campaign(
                    int(campaign_id) if campaign_id is not None else None, body.get("subject")
                )
                events = self.add_message_events(body["recipient"], campaign, specs)
                portal_id = self.emulator.credentials.portal_id
                return json_response({"events": [e.to_api(portal_id) for e in events]})
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)


def _int_arg(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise validation_error(f"Invalid value for {name}: {raw}") from exc


def _encode_offset(key: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}:{key[1]}".encode()).decode().rstrip("=")


def _decode_offset(token: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        created, seq = raw.split(":")
        return (int(created), int(seq))
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation_error(f"Invalid offset: {token}") from exc
