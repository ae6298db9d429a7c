"""HubSpot communication preferences (email subscriptions), v3 and the v4 status endpoints.

Each email address has a status per subscription type and may be unsubscribed from all email.
Unsubscribing from all (v4 ``unsubscribe-all``) is how a contact's ``hs_email_optout`` becomes
``"true"``: the emulator writes it through the CRM store, so it shows in property history and
webhooks. The API can never undo it: subscribing an address that opted out of all email is refused,
as HubSpot requires the contact to resubscribe themselves (``POST /_sandbox/comm-prefs/resubscribe``
plays that part). A contact whose ``hs_email_optout`` is already true (e.g. seeded) counts as opted
out of all email.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import ApiError, json_response, read_json
from infra.sandbox.hubspot.errors import hs_error, validation_error

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

LEGAL_BASES = (
    "LEGITIMATE_INTEREST_PQL",
    "LEGITIMATE_INTEREST_CLIENT",
    "PERFORMANCE_OF_CONTRACT",
    "CONSENT_WITH_NOTICE",
    "NON_GDPR",
    "PROCESS_AND_STORE",
    "LEGITIMATE_INTEREST_OTHER",
)
OPTOUT_PROPERTY = "hs_email_optout"
WRITE_SOURCE = "API"
STATUS_SOURCE = "Public API"


@dataclass(frozen=True)
class SubscriptionDefinition:
    id: str
    name: str
    description: str
    purpose: str
    is_default: bool
    is_internal: bool = False

    def to_api(self, created_at: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "purpose": self.purpose,
            "communicationMethod": "Email",
            "isActive": True,
            "isDefault": self.is_default,
            "isInternal": self.is_internal,
            "createdAt": _iso(created_at),
            "updatedAt": _iso(created_at),
        }


DEFINITIONS: tuple[SubscriptionDefinition, ...] = (
    SubscriptionDefinition(
        "6180531", "Marketing Information", "Marketing offers and updates.", "Marketing", is_default=True
    ),
    SubscriptionDefinition(
        "6180532",
        "One to One",
        "One to one emails from our team.",
        "Sales",
        is_default=True,
        is_internal=True,
    ),
    SubscriptionDefinition("6180533", "Newsletter", "The monthly newsletter.", "Marketing", is_default=False),
)
DEFINITIONS_BY_ID = {d.id: d for d in DEFINITIONS}


@dataclass
class SubscriptionStatus:
    subscribed: bool
    timestamp: datetime
    legal_basis: str | None = None
    legal_basis_explanation: str | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _bad_body(message: str) -> ApiError:
    return validation_error(f"Invalid input JSON on line 1, column 1: {message}")


class CommunicationPreferences:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self.created_at = datetime(2020, 1, 15, 9, 0, tzinfo=UTC)
        self._statuses: dict[str, dict[str, SubscriptionStatus]] = {}
        self._opted_out: dict[str, datetime] = {}

    def register_routes(self) -> None:
        e = self.emulator
        e.route("GET", "/communication-preferences/v3/definitions", self._definitions)
        e.route("GET", "/communication-preferences/v3/status/email/<emailAddress>", self._v3_status)
        e.route("POST", "/communication-preferences/v3/subscribe", self._v3_subscribe)
        e.route("POST", "/communication-preferences/v3/unsubscribe", self._v3_unsubscribe)
        v4 = "/communication-preferences/v4/statuses/<subscriberIdString>"
        e.route("GET", v4, self._v4_statuses)
        e.route("POST", v4, self._v4_update)
        e.route("GET", f"{v4}/unsubscribe-all", self._v4_unsubscribe_all_status)
        e.route("POST", f"{v4}/unsubscribe-all", self._v4_unsubscribe_all)
        e.control("POST", "comm-prefs/resubscribe", self._control_resubscribe)

    def reset(self) -> None:
        self._statuses.clear()
        self._opted_out.clear()

    # -- model (callers hold the lock) ------------------------------------------------------------
    def opted_out_since(self, email: str) -> datetime | None:
        """When the address unsubscribed from all email; None if it has not."""
        address = email.strip().lower()
        if address in self._opted_out:
            return self._opted_out[address]
        contact = self.emulator.store.contact_by_email(address)
        if contact is not None and (contact.properties.get(OPTOUT_PROPERTY) or "").lower() == "true":
            updated = getattr(contact, "updated_at", None)
            return updated if isinstance(updated, datetime) else self.created_at
        return None

    def unsubscribe_all(self, email: str, *, publish: bool = True) -> bool:
        """Opt the address out of all email; True if it changed. Sets the contact's hs_email_optout
        (``publish=False``, for seeding, sends no webhook for it)."""
        address = email.strip().lower()
        with self.emulator.lock:
            changed = self.opted_out_since(address) is None
            self._opted_out.setdefault(address, datetime.now(UTC))
            contact = self.emulator.store.contact_by_email(address)
            if contact is not None and contact.properties.get(OPTOUT_PROPERTY) != "true":
                self.emulator.store.set_system_properties(
                    "contacts", contact.id, {OPTOUT_PROPERTY: "true"}, source=WRITE_SOURCE, publish=publish
                )
        return changed

    def resubscribe(self, email: str) -> None:
        """The contact resubscribed themselves (from a preferences page): opt-out from all is lifted."""
        address = email.strip().lower()
        self._opted_out.pop(address, None)
        contact = self.emulator.store.contact_by_email(address)
        if contact is not None and contact.properties.get(OPTOUT_PROPERTY) == "true":
            self.emulator.store.set_system_properties(
                "contacts", contact.id, {OPTOUT_PROPERTY: "false"}, source="CONTACT"
            )

    def _set(
        self, email: str, definition: SubscriptionDefinition, subscribed: bool, body: dict[str, Any]
    ) -> bool:
        """Set one subscription's status; True if it changed. Refuses to subscribe an opted-out address."""
        address = email.strip().lower()
        if subscribed and self.opted_out_since(address) is not None:
            raise validation_error(
                f"{address} has unsubscribed from all email and cannot be resubscribed through the API. "
                "The contact must resubscribe through their subscription preferences page.",
                context={"emailAddress": [address]},
            )
        legal_basis = body.get("legalBasis")
        if legal_basis is not None and legal_basis not in LEGAL_BASES:
            raise validation_error(f"Invalid legalBasis: {legal_basis}")
        statuses = self._statuses.setdefault(address, {})
        current = statuses.get(definition.id)
        if current is not None and current.subscribed == subscribed:
            return False
        statuses[definition.id] = SubscriptionStatus(
            subscribed, datetime.now(UTC), legal_basis, body.get("legalBasisExplanation")
        )
        return True

    def _v3_entry(self, email: str, definition: SubscriptionDefinition) -> dict[str, Any]:
        status = self._statuses.get(email, {}).get(definition.id)
        opted_out = self.opted_out_since(email) is not None
        entry: dict[str, Any] = {
            "id": definition.id,
            "name": definition.name,
            "description": definition.description,
            "status": "SUBSCRIBED"
            if status is not None and status.subscribed and not opted_out
            else "NOT_SUBSCRIBED",
            "sourceOfStatus": "PORTAL_WIDE_STATUS" if opted_out else "SUBSCRIPTION_STATUS",
        }
        if status is not None and status.legal_basis:
            entry["legalBasis"] = status.legal_basis
        if status is not None and status.legal_basis_explanation:
            entry["legalBasisExplanation"] = status.legal_basis_explanation
        return entry

    def _v4_entry(
        self, email: str, definition: SubscriptionDefinition, reason: str | None = None
    ) -> dict[str, Any]:
        status = self._statuses.get(email, {}).get(definition.id)
        opted_out = self.opted_out_since(email)
        if opted_out is not None:
            state, moment = "UNSUBSCRIBED", opted_out
        elif status is not None:
            state, moment = ("SUBSCRIBED" if status.subscribed else "UNSUBSCRIBED"), status.timestamp
        else:
            state, moment = "NOT_SPECIFIED", self.created_at
        entry: dict[str, Any] = {
            "subscriberIdString": email,
            "subscriptionId": int(definition.id),
            "subscriptionName": definition.name,
            "channel": "EMAIL",
            "status": state,
            "source": STATUS_SOURCE,
            "timestamp": _iso(moment),
        }
        if status is not None and status.legal_basis:
            entry["legalBasis"] = status.legal_basis
        if status is not None and status.legal_basis_explanation:
            entry["legalBasisExplanation"] = status.legal_basis_explanation
        if reason is not None:
            entry["setStatusSuccessReason"] = reason
        return entry

    # -- v3 ------------------------------------------------------------------------------------------
    def _definitions(self, _request: Request) -> Response:
        return json_response({"subscriptionDefinitions": [d.to_api(self.created_at) for d in DEFINITIONS]})

    def _v3_status(self, _request: Request, emailAddress: str) -> Response:
        address = emailAddress.strip().lower()
        with self.emulator.lock:
            statuses = [self._v3_entry(address, d) for d in DEFINITIONS]
        return json_response({"recipient": address, "subscriptionStatuses": statuses})

    def _v3_change(self, request: Request, subscribed: bool) -> Response:
        body = read_json(request, error=_bad_body)
        if not isinstance(body, dict) or not body.get("emailAddress") or not body.get("subscriptionId"):
            raise validation_error("emailAddress and subscriptionId are required")
        definition = DEFINITIONS_BY_ID.get(str(body["subscriptionId"]))
        if definition is None:
            raise hs_error(404, f"Subscription {body['subscriptionId']} does not exist.", "OBJECT_NOT_FOUND")
        address = str(body["emailAddress"]).strip().lower()
        with self.emulator.lock:
            self._set(address, definition, subscribed, body)
            return json_response(self._v3_entry(address, definition))

    def _v3_subscribe(self, request: Request) -> Response:
        return self._v3_change(request, subscribed=True)

    def _v3_unsubscribe(self, request: Request) -> Response:
        return self._v3_change(request, subscribed=False)

    # -- v4 ------------------------------------------------------------------------------------------
    def _v4_statuses(self, request: Request, subscriberIdString: str) -> Response:
        started = _iso(datetime.now(UTC))
        _require_email_channel(request)
        address = subscriberIdString.strip().lower()
        with self.emulator.lock:
            results = [self._v4_entry(address, d) for d in DEFINITIONS]
        return _batch(results, started)

    def _v4_update(self, request: Request, subscriberIdString: str) -> Response:
        started = _iso(datetime.now(UTC))
        body = read_json(request, error=_bad_body)
        if not isinstance(body, dict) or body.get("channel") != "EMAIL":
            raise validation_error("channel must be EMAIL")
        state = body.get("statusState")
        if state not in ("SUBSCRIBED", "UNSUBSCRIBED"):
            raise validation_error("statusState must be SUBSCRIBED or UNSUBSCRIBED")
        definition = DEFINITIONS_BY_ID.get(str(body.get("subscriptionId")))
        if definition is None:
            raise hs_error(
                404, f"Subscription {body.get('subscriptionId')} does not exist.", "OBJECT_NOT_FOUND"
            )
        address = subscriberIdString.strip().lower()
        with self.emulator.lock:
            before = self._statuses.get(address, {}).get(definition.id)
            changed = self._set(address, definition, state == "SUBSCRIBED", body)
            if not changed:
                reason = "NO_STATUS_CHANGE"
            elif state == "SUBSCRIBED" and before is not None:
                reason = "RESUBSCRIBE_OCCURRED"
            else:
                reason = "REQUESTED_CHANGE_OCCURRED"
            return _batch([self._v4_entry(address, definition, reason)], started)

    def _v4_unsubscribe_all_status(self, request: Request, subscriberIdString: str) -> Response:
        started = _iso(datetime.now(UTC))
        _require_email_channel(request)
        address = subscriberIdString.strip().lower()
        with self.emulator.lock:
            since = self.opted_out_since(address)
        results = []
        if since is not None:
            results.append(
                {
                    "subscriberIdString": address,
                    "wideStatusType": "PORTAL_WIDE",
                    "status": "UNSUBSCRIBED",
                    "channel": "EMAIL",
                    "timestamp": _iso(since),
                }
            )
        return _batch(results, started)

    def _v4_unsubscribe_all(self, request: Request, subscriberIdString: str) -> Response:
        started = _iso(datetime.now(UTC))
        _require_email_channel(request)
        verbose = request.args.get("verbose", "false").lower() == "true"
        address = subscriberIdString.strip().lower()
        with self.emulator.lock:
            changed = self.unsubscribe_all(address)
            reason = "UNSUBSCRIBE_FROM_ALL_OCCURRED" if changed else "NO_STATUS_CHANGE"
            results = [self._v4_entry(address, d, reason) for d in DEFINITIONS] if verbose else []
        return _batch(results, started)

    # -- control -------------------------------------------------------------------------------------
    def _control_resubscribe(self, request: Request) -> Response:
        """``{"email": "..."}``: the contact resubscribes through their preferences page."""
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            return json_response({"error": str(exc)}, status=400)
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or not email:
            return json_response({"error": "expected {'email': ...}"}, status=400)
        with self.emulator.lock:
            self.resubscribe(email)
        return json_response({"email": email.strip().lower(), "optedOutOfAll": False})


def _require_email_channel(request: Request) -> None:
    channel = request.args.get("channel")
    if channel != "EMAIL":
        raise validation_error(
            f"Invalid value for channel: {channel}. The only supported channel is EMAIL.",
            context={"channel": [str(channel)]},
        )


def _batch(results: list[dict[str, Any]], started: str) -> Response:
    return json_response(
        {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _iso(datetime.now(UTC)),
        }
    )
