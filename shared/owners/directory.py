"""Who can own a record on each side, and how owners match across the two CRMs (S16, S17).

Salesforce owners are Users of type Standard, PowerPartner and Guest, and Queues. HubSpot owners
come from the (read-only) owners API. A Salesforce owner becomes a HubSpot owner when a HubSpot owner
has the same email (case-insensitive); a HubSpot owner becomes a Salesforce owner only when an
*active* Salesforce user has the same email *and* the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from shared.matching import normalize_email

OWNER_USER_TYPES = ("Standard", "PowerPartner", "Guest")


@dataclass(frozen=True)
class SalesforceOwner:
    id: str
    kind: Literal["User", "Queue"]
    name: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    user_type: str | None = None  # Users: Standard, PowerPartner, Guest
    active: bool = True

    def describe(self) -> str:
        if self.kind == "Queue":
            return f"queue {self.name} ({self.id})"
        return f"user {self.name} <{self.email or 'no email'}> ({self.id})"


@dataclass(frozen=True)
class HubSpotOwner:
    id: str
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    user_id: str | None = None
    archived: bool = False

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.email or self.id)


def _name_key(first: str | None, last: str | None) -> str:
    return " ".join(" ".join(p.split()) for p in (first or "", last or "") if p.strip()).casefold()


@dataclass(frozen=True)
class Match:
    owner_id: str | None  # the other side's owner, or None: no match
    reason: str | None = None  # why not, for sync health


class OwnerDirectory:
    def __init__(self, salesforce: Iterable[SalesforceOwner], hubspot: Iterable[HubSpotOwner]) -> None:
        self.salesforce = {o.id: o for o in salesforce}
        self.hubspot = {o.id: o for o in hubspot}
        self._hs_by_email: dict[str, HubSpotOwner] = {}
        for hs in sorted(self.hubspot.values(), key=lambda o: (o.archived, o.id)):
            email = normalize_email(hs.email)
            if email and not hs.archived:
                self._hs_by_email.setdefault(email, hs)
        self._sf_users_by_email: dict[str, list[SalesforceOwner]] = {}
        for sf in self.salesforce.values():
            email = normalize_email(sf.email)
            if sf.kind == "User" and email:
                self._sf_users_by_email.setdefault(email, []).append(sf)

    def knows(self, salesforce_ids: Iterable[str] = (), hubspot_ids: Iterable[str] = ()) -> bool:
        return all(i in self.salesforce for i in salesforce_ids) and all(
            i in self.hubspot for i in hubspot_ids
        )

    def hubspot_for(self, salesforce_owner_id: str) -> Match:
        """The HubSpot owner of a record owned by this Salesforce user or queue (S17)."""
        owner = self.salesforce.get(salesforce_owner_id)
        if owner is None:
            return Match(None, f"Salesforce owner {salesforce_owner_id} is not a known user or queue")
        if owner.kind == "Queue":
            return Match(None, f"owner not in HubSpot: {owner.describe()} is a queue")
        match = self._hs_by_email.get(normalize_email(owner.email) or "")
        if match is None:
            return Match(None, f"owner not in HubSpot: no HubSpot owner has the email of {owner.describe()}")
        return Match(match.id)

    def salesforce_for(self, hubspot_owner_id: str) -> Match:
        """The Salesforce user a HubSpot owner may be written as: an active user with the same email
        and name (S17)."""
        owner = self.hubspot.get(hubspot_owner_id)
        if owner is None:
            return Match(None, f"HubSpot owner {hubspot_owner_id} is unknown")
        if owner.archived:
            return Match(None, f"HubSpot owner {owner.name} ({owner.id}) is archived")
        users = self._sf_users_by_email.get(normalize_email(owner.email) or "", [])
        named = [
            u
            for u in users
            if _name_key(u.first_name, u.last_name) == _name_key(owner.first_name, owner.last_name)
        ]
        active = [u for u in named if u.active and u.user_type in OWNER_USER_TYPES]
        if active:
            return Match(sorted(active, key=lambda u: u.id)[0].id)
        if named:
            return Match(
                None, f"HubSpot owner {owner.name} <{owner.email}> matches only an inactive Salesforce user"
            )
        if users:
            return Match(
                None,
                f"HubSpot owner {owner.name} <{owner.email}>: the Salesforce user with this email has "
                "another name",
            )
        return Match(None, f"HubSpot owner {owner.name} <{owner.email}> matches no Salesforce user")

    # -- persistence (the shared cache) -------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "salesforce": [asdict(o) for o in self.salesforce.values()],
            "hubspot": [asdict(o) for o in self.hubspot.values()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OwnerDirectory:
        return cls(
            (SalesforceOwner(**o) for o in data.get("salesforce", [])),
            (HubSpotOwner(**o) for o in data.get("hubspot", [])),
        )
