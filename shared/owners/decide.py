"""What to write when the owners of a linked pair differ (S17). Owner mapping is always two-way.

- The side that changed since the last sync wins; both changed: the newer change, ties to Salesforce.
- Salesforce wins: its owner becomes the HubSpot owner when a HubSpot owner has its email; a queue or
  a user unknown to HubSpot leaves the HubSpot owner as it is (sync health: owner not in HubSpot).
- HubSpot wins: its owner is written to Salesforce only when it matches an active Salesforce user by
  name and email; otherwise Salesforce keeps its owner and the HubSpot owner is reset to the one that
  matches the Salesforce owner (sync health says why). The reset is remembered as synced, so its
  webhook is an echo.
- A Lead created from HubSpot without a valid owner gets none from hssync: Salesforce's assignment
  rules choose (``Sforce-Auto-Assign``), never the integration user by default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.owners.directory import OwnerDirectory
from shared.rules import hubspot_is_newer

OWNER_PROPERTY = "hubspot_owner_id"
OWNER_FIELD = "OwnerId"

# sync health codes (category "owners")
OWNER_NOT_IN_SALESFORCE = "OWNER_NOT_IN_SALESFORCE"
OWNER_NOT_IN_HUBSPOT = "OWNER_NOT_IN_HUBSPOT"
OWNER_REJECTED = "OWNER_REJECTED"

Winner = Literal["hubspot", "salesforce"]


class OwnerState(BaseModel):
    """The owners of one pair as dedupe read them, carried in the plan to the owners stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hubspot: str | None = None
    salesforce: str | None = None
    remembered: tuple[str | None, str | None] | None = None  # (HubSpot, Salesforce) at the last sync
    hubspot_changed_at: dt.datetime | None = None
    salesforce_changed_at: dt.datetime | None = None
    creating: Literal["salesforce", "hubspot"] | None = None  # the plan creates this side


@dataclass(frozen=True)
class OwnerOutcome:
    write_salesforce: str | None = None  # OwnerId to write
    write_hubspot: str | None = None  # hubspot_owner_id to write
    synced: tuple[str | None, str | None] = (None, None)  # what to remember as synced
    code: str | None = None  # sync health, when the owners could not be brought in line
    message: str | None = None


def _blank(value: str | None) -> str | None:
    return value if value else None


def resolve(state: OwnerState, directory: OwnerDirectory) -> OwnerOutcome:
    """What to write so that the owners of one pair agree, and what to remember as synced."""
    hs, sf = _blank(state.hubspot), _blank(state.salesforce)
    if state.creating == "salesforce":
        return owner_of_new_salesforce_record(hs, directory)
    if state.creating == "hubspot":
        return follow_salesforce(None, sf, directory)  # a new contact has no owner yet
    side = winner(state, hs, sf)
    if side is None:
        return OwnerOutcome(synced=(hs, sf))
    return follow_hubspot(hs, sf, directory) if side == "hubspot" else follow_salesforce(hs, sf, directory)


def winner(state: OwnerState, hs: str | None, sf: str | None) -> Winner | None:
    """The side whose owner the pair takes: the side that changed since the last sync; both changed:
    the newer change, ties to Salesforce; a first sync: Salesforce. None: neither changed."""
    remembered = state.remembered
    hs_changed = remembered is None or hs != _blank(remembered[0])
    sf_changed = remembered is None or sf != _blank(remembered[1])
    if not hs_changed and not sf_changed:
        return None
    if remembered is None:
        return "salesforce"  # a first sync: Salesforce's owner is the reference
    if hs_changed and sf_changed:
        newer = hubspot_is_newer(state.hubspot_changed_at, state.salesforce_changed_at)
        return "hubspot" if newer else "salesforce"
    return "hubspot" if hs_changed else "salesforce"


def owner_of_new_salesforce_record(hs: str | None, directory: OwnerDirectory) -> OwnerOutcome:
    """A record created from HubSpot takes the HubSpot owner's Salesforce user, or none: then
    Salesforce's assignment rules choose (never the integration user by default)."""
    if hs is None:
        return OwnerOutcome(synced=(None, None))
    match = directory.salesforce_for(hs)
    if match.owner_id is not None:
        return OwnerOutcome(write_salesforce=match.owner_id, synced=(hs, match.owner_id))
    return OwnerOutcome(
        synced=(hs, None),
        code=OWNER_NOT_IN_SALESFORCE,
        message=f"{match.reason}; Salesforce's assignment rules chose the owner",
    )


def follow_salesforce(hs: str | None, sf: str | None, directory: OwnerDirectory) -> OwnerOutcome:
    """Salesforce wins: its owner becomes the HubSpot owner with the same email; a queue or a user
    unknown to HubSpot leaves the HubSpot owner as it is (sync health says why)."""
    if sf is None:
        return OwnerOutcome(synced=(hs, sf))
    match = directory.hubspot_for(sf)
    if match.owner_id is None:
        return OwnerOutcome(synced=(hs, sf), code=OWNER_NOT_IN_HUBSPOT, message=match.reason)
    if match.owner_id == hs:
        return OwnerOutcome(synced=(hs, sf))
    return OwnerOutcome(write_hubspot=match.owner_id, synced=(match.owner_id, sf))


def follow_hubspot(hs: str | None, sf: str | None, directory: OwnerDirectory) -> OwnerOutcome:
    """HubSpot wins: its owner is written to Salesforce only as an active Salesforce user with its
    name and email; otherwise Salesforce keeps its owner (:func:`reject_hubspot_owner`)."""
    wanted = directory.salesforce_for(hs) if hs is not None else None
    if wanted is None or wanted.owner_id is None:
        why = wanted.reason if wanted is not None else "the HubSpot owner was cleared"
        return reject_hubspot_owner(hs, sf, str(why), directory)
    if wanted.owner_id == sf:
        return OwnerOutcome(synced=(hs, sf))
    return OwnerOutcome(write_salesforce=wanted.owner_id, synced=(hs, wanted.owner_id))


def reject_hubspot_owner(hs: str | None, sf: str | None, why: str, directory: OwnerDirectory) -> OwnerOutcome:
    """Salesforce keeps its owner and the HubSpot owner is reset to the one that matches it (when one
    does); the reset is remembered as synced, so its webhook is an echo."""
    reset = directory.hubspot_for(sf) if sf is not None else None
    if reset is not None and reset.owner_id is not None:
        return OwnerOutcome(
            write_hubspot=reset.owner_id if reset.owner_id != hs else None,
            synced=(reset.owner_id, sf),
            code=OWNER_REJECTED,
            message=f"{why}: Salesforce keeps its owner and the HubSpot owner was reset to it",
        )
    return OwnerOutcome(
        synced=(hs, sf),
        code=OWNER_REJECTED,
        message=f"{why}: Salesforce keeps its owner ({reset.reason if reset else 'none'})",
    )
