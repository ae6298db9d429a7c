"""Per-field sync decisions: sync rules, echo suppression and conflict resolution (DESIGN §5).

For each mapped field of a linked pair the dedupe stage knows the current value on both sides, when
each side last changed it, and what hssync itself last wrote to (or read from) each side for that
field. A side *changed* only if its current value differs from that remembered value: a value we
wrote ourselves coming back is an echo, not a change, so a sync never ping-pongs, while a genuine
later edit of the same field still counts.

Values reach this module already converted to one comparable form (strings, blanks as ``None``);
type conversion lives with the field mappings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from shared.config import SyncRule


class Side(StrEnum):
    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"


@dataclass(frozen=True)
class FieldState:
    """One field of a linked pair as it is now."""

    hubspot: str | None
    salesforce: str | None
    hubspot_changed_at: dt.datetime | None = None
    salesforce_changed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Remembered:
    """What hssync last wrote to or read from each side for this field (from the link's state)."""

    hubspot: str | None
    salesforce: str | None


@dataclass(frozen=True)
class Write:
    to: Side
    value: str | None
    reason: str


def blank(value: str | None) -> str | None:
    """Blank strings are no value on either CRM."""
    if value is None:
        return None
    return value if value.strip() else None


def decide(rule: SyncRule, state: FieldState, remembered: Remembered | None) -> Write | None:
    """The write (at most one) that brings both sides of one field in line with ``rule``.

    ``remembered`` is ``None`` for a pair that has never synced this field: both sides then count
    as changed, and for two-way fields the change timestamps decide.
    """
    hs, sf = blank(state.hubspot), blank(state.salesforce)
    if rule is SyncRule.DONT_SYNC or hs == sf:
        return None
    hs_changed = remembered is None or hs != blank(remembered.hubspot)
    sf_changed = remembered is None or sf != blank(remembered.salesforce)

    if rule is SyncRule.ALWAYS_SALESFORCE:
        return Write(Side.HUBSPOT, sf, "always use Salesforce")

    if rule is SyncRule.PREFER_SALESFORCE_UNLESS_BLANK:
        if sf is None and not (sf_changed and remembered is not None):
            return Write(Side.SALESFORCE, hs, "Salesforce field is blank")
        return Write(Side.HUBSPOT, sf, "prefer Salesforce")

    # two-way. First sync of a pair: a blank is no edit, so the side with a value fills the other
    if remembered is None and (hs is None or sf is None):
        return (
            Write(Side.HUBSPOT, sf, "first sync") if hs is None else Write(Side.SALESFORCE, hs, "first sync")
        )
    # neither side changed since hssync last synced the field: the difference is a known one (the
    # Lead Company placeholder, or a write that failed for good and sits in sync health)
    if not hs_changed and not sf_changed:
        return None
    # the side that changed wins; both changed -> the newer change, ties to Salesforce
    if hs_changed and not sf_changed:
        return Write(Side.SALESFORCE, hs, "changed in HubSpot")
    if sf_changed and not hs_changed:
        return Write(Side.HUBSPOT, sf, "changed in Salesforce")
    if hubspot_is_newer(state.hubspot_changed_at, state.salesforce_changed_at):
        return Write(Side.SALESFORCE, hs, "changed in both; HubSpot's change is newer")
    return Write(Side.HUBSPOT, sf, "changed in both; Salesforce's change is newer or simultaneous")


def hubspot_is_newer(hubspot_at: dt.datetime | None, salesforce_at: dt.datetime | None) -> bool:
    """True only when HubSpot's change is strictly newer; unknown times lose to known ones."""
    if hubspot_at is None:
        return False
    if salesforce_at is None:
        return True
    return hubspot_at > salesforce_at


def decide_opt_out(*, hubspot_opted_out: bool, salesforce_opted_out: bool) -> Write | None:
    """The mandatory email opt-out mapping (S14), which no rule can change.

    An opt-out on either side opts out the other. Clearing ``HasOptedOutOfEmail`` in Salesforce
    never re-subscribes in HubSpot; HubSpot's opt-out is written back to Salesforce instead. Only
    linked pairs are decided here, so a record that has never synced carries nothing over until its
    first sync, where an opt-out on either side propagates (opting out is never lost).
    """
    if hubspot_opted_out and not salesforce_opted_out:
        return Write(Side.SALESFORCE, "true", "opted out in HubSpot (mandatory mapping)")
    if salesforce_opted_out and not hubspot_opted_out:
        return Write(Side.HUBSPOT, "true", "opted out in Salesforce (mandatory mapping)")
    return None
