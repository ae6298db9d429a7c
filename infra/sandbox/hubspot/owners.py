"""HubSpot CRM owners v3: read-only through the API, managed through ``POST /_sandbox/owners``.

An owner is a HubSpot user who can own records. A deactivated user's owner is archived: it is only
listed with ``archived=true`` and loses its ``userId`` (``userIdIncludingInactive`` keeps it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import ApiError, json_response
from infra.sandbox.hubspot.errors import hs_error

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
FIRST_OWNER_ID = 41_000_001
FIRST_USER_ID = 7_100_001

# The demo owners: most match a Salesforce seed user by name and email; Nora Quinn has no Salesforce
# user, "Ravi S." differs from Salesforce's "Ravi Shah" by name only, Sara Lind is inactive in
# Salesforce but active here, and Olaf Berg left (archived).
DEMO_OWNERS: tuple[tuple[str, str, str, bool], ...] = (
    ("Mina", "Kato", "mina.kato@sandbox.example", False),
    ("Tom", "Baker", "tom.baker@sandbox.example", False),
    ("Sara", "Lind", "sara.lind@sandbox.example", False),
    ("Paul", "Otto", "paul.otto@sandbox.example", False),
    ("Nora", "Quinn", "nora.quinn@sandbox.example", False),
    ("Ravi", "S.", "ravi.shah@sandbox.example", False),
    ("Olaf", "Berg", "olaf.berg@sandbox.example", True),
)
DEMO_TEAMS = {
    "mina.kato@sandbox.example": ("Sales East", True),
    "tom.baker@sandbox.example": ("Sales East", True),
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Owner:
    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    teams: list[dict[str, Any]] = field(default_factory=list)
    type: str = "PERSON"

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "email": self.email,
            "type": self.type,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userIdIncludingInactive": self.user_id,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "archived": self.archived,
        }
        if not self.archived:
            body["userId"] = self.user_id
            body["teams"] = self.teams
        return body


def _error(status: int, message: str, category: str = "VALIDATION_ERROR") -> ApiError:
    return hs_error(status, message, category)


def _bool_arg(request: Request, name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise _error(400, f"Invalid value for {name}: {raw}", "VALIDATION_ERROR")
    return raw == "true"


class Owners:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self._owners: dict[str, Owner] = {}
        self._next_id = FIRST_OWNER_ID
        self._next_user_id = FIRST_USER_ID

    def register_routes(self) -> None:
        self.emulator.route("GET", "/crm/v3/owners", self._list)
        self.emulator.route("GET", "/crm/v3/owners/<ownerId>", self._get)
        self.emulator.control("POST", "owners", self._control_upsert)
        self.emulator.control("GET", "owners", self._control_list)

    def reset(self) -> None:
        self._owners.clear()
        self._next_id = FIRST_OWNER_ID
        self._next_user_id = FIRST_USER_ID

    # -- model -----------------------------------------------------------------------------------
    def upsert(
        self,
        email: str,
        first_name: str,
        last_name: str,
        *,
        archived: bool = False,
        teams: list[dict[str, Any]] | None = None,
        created_at: datetime | None = None,
    ) -> Owner:
        """Add an owner, or update the one with this email (emails are unique among owners)."""
        now = datetime.now(UTC)
        with self.emulator.lock:
            owner = self.by_email(email, include_archived=True)
            if owner is None:
                owner = Owner(
                    id=str(self._next_id),
                    email=email.strip().lower(),
                    first_name=first_name,
                    last_name=last_name,
                    user_id=self._next_user_id,
                    created_at=created_at or now,
                    updated_at=created_at or now,
                )
                self._next_id += 1
                self._next_user_id += 1
                self._owners[owner.id] = owner
            else:
                owner.first_name, owner.last_name, owner.updated_at = first_name, last_name, now
            owner.archived = archived
            if teams is not None:
                owner.teams = teams
            return owner

    def by_email(self, email: str, *, include_archived: bool = False) -> Owner | None:
        wanted = email.strip().lower()
        with self.emulator.lock:
            for owner in self._owners.values():
                if owner.email == wanted and (include_archived or not owner.archived):
                    return owner
        return None

    def get(self, owner_id: str) -> Owner | None:
        with self.emulator.lock:
            return self._owners.get(owner_id)

    def seed_demo(self) -> int:
        created = datetime.now(UTC) - timedelta(days=400)
        for index, (first, last, email, archived) in enumerate(DEMO_OWNERS):
            team = DEMO_TEAMS.get(email)
            teams = [{"id": "178588", "name": team[0], "primary": team[1]}] if team else []
            self.upsert(
                email, first, last, archived=archived, teams=teams, created_at=created + timedelta(days=index)
            )
        return len(DEMO_OWNERS)

    # -- API ---------------------------------------------------------------------------------------
    def _list(self, request: Request) -> Response:
        archived = _bool_arg(request, "archived")
        email = request.args.get("email")
        limit = self._limit(request)
        after = request.args.get("after")
        with self.emulator.lock:
            owners = sorted(
                (o for o in self._owners.values() if o.archived == archived),
                key=lambda o: int(o.id),
            )
            if email:
                owners = [o for o in owners if o.email == email.strip().lower()]
            if after:
                if not after.isdigit():
                    raise _error(400, f"Invalid paging cursor: {after}", "VALIDATION_ERROR")
                owners = [o for o in owners if int(o.id) > int(after)]
            page = owners[:limit]
            body: dict[str, Any] = {"results": [o.to_api() for o in page]}
        if len(owners) > limit:
            cursor = page[-1].id
            body["paging"] = {"next": {"after": cursor, "link": f"{request.base_url}?after={cursor}"}}
        return json_response(body)

    def _limit(self, request: Request) -> int:
        raw = request.args.get("limit")
        if raw is None:
            return DEFAULT_LIMIT
        if not raw.isdigit() or int(raw) < 1:
            raise _error(400, f"Invalid value for limit: {raw}", "VALIDATION_ERROR")
        return min(int(raw), MAX_LIMIT)

    def _get(self, request: Request, ownerId: str) -> Response:
        id_property = request.args.get("idProperty", "id")
        if id_property not in ("id", "userId"):
            raise _error(400, f"Invalid value for idProperty: {id_property}", "VALIDATION_ERROR")
        archived = _bool_arg(request, "archived")
        with self.emulator.lock:
            if id_property == "id":
                owner = self._owners.get(ownerId)
            else:
                owner = next((o for o in self._owners.values() if str(o.user_id) == ownerId), None)
            if owner is None or owner.archived != archived:
                raise _error(404, f"Owner with {id_property}={ownerId} not found", "OBJECT_NOT_FOUND")
            return json_response(owner.to_api())

    # -- control -----------------------------------------------------------------------------------
    def _control_upsert(self, request: Request) -> Response:
        """``{"owners": [{"email", "firstName", "lastName", "archived"?, "teams"?}]}`` (or one owner)."""
        try:
            body = json.loads(request.get_data() or b"{}")
            items = body.get("owners", [body]) if isinstance(body, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("email") for i in items):
                raise ValueError("expected {'owners': [{'email': ..., 'firstName': ..., 'lastName': ...}]}")
            owners = [
                self.upsert(
                    str(item["email"]),
                    str(item.get("firstName", "")),
                    str(item.get("lastName", "")),
                    archived=bool(item.get("archived", False)),
                    teams=item.get("teams"),
                )
                for item in items
            ]
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response({"owners": [o.to_api() for o in owners]})

    def _control_list(self, _request: Request) -> Response:
        with self.emulator.lock:
            owners = sorted(self._owners.values(), key=lambda o: int(o.id))
            return json_response({"owners": [o.to_api() for o in owners]})
