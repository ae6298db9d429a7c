"""Lifecycle stages from opportunities (DESIGN S15), a pure rule.

When it applies: deal sync on, account sync on and ``lifecycle.automatic_transitions`` on.

- An open opportunity makes the HubSpot contacts of its contact roles "opportunity"; a Closed Won
  one makes them "customer"; a lost one changes nothing.
- With ``lifecycle.sync_to_company_contacts``, the same change applies to every contact associated
  with the opportunity's HubSpot company, but only when the opportunity has contact roles: an
  opportunity with an account and no contact roles changes nothing.
- Stages never move backwards: a contact whose stage is the target or beyond (customer, evangelist)
  keeps it; "other" and stages HubSpot does not order (a portal's own values) are never touched.
- A contact of several opportunities gets the furthest of their targets.

:func:`lifecycle_writes` groups the result per target stage, so that each transition is one batched
HubSpot write (never one call per contact).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from shared.config import SyncConfig

LIFECYCLE_PROPERTY = "lifecyclestage"
OPPORTUNITY_STAGE = "opportunity"
CUSTOMER_STAGE = "customer"
# HubSpot's default lifecycle stages in their order; "other" stands outside it
ORDER: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    OPPORTUNITY_STAGE,
    CUSTOMER_STAGE,
    "evangelist",
)


class DealState(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"

    @classmethod
    def of(cls, *, closed: bool, won: bool) -> DealState:
        """From an Opportunity's IsClosed and IsWon (or a pipeline stage's closed and won)."""
        if not closed:
            return cls.OPEN
        return cls.WON if won else cls.LOST


TARGET: dict[DealState, str | None] = {
    DealState.OPEN: OPPORTUNITY_STAGE,
    DealState.WON: CUSTOMER_STAGE,
    DealState.LOST: None,
}


@dataclass(frozen=True)
class OpportunityContacts:
    """An opportunity's state and the HubSpot contacts it reaches: those of its contact roles (linked
    contacts only), and those associated with its account's HubSpot company."""

    state: DealState
    role_contacts: tuple[str, ...]
    company_contacts: tuple[str, ...] = ()


def applies(config: SyncConfig) -> bool:
    """Whether lifecycle transitions from opportunities happen at all."""
    return config.deals.enabled and config.accounts.enabled and config.lifecycle.automatic_transitions


def _rank(stage: str | None) -> int | None:
    """A stage's place in the order; -1 for none; None for a stage never touched ("other", unknown)."""
    if not stage:
        return -1
    return ORDER.index(stage) if stage in ORDER else None


def moves_forward(current: str | None, target: str) -> bool:
    """Whether ``target`` is ahead of ``current`` (never backwards, never from an unordered stage)."""
    rank = _rank(current)
    return rank is not None and rank < ORDER.index(target)


def _reached(opportunity: OpportunityContacts, to_company: bool) -> Iterable[str]:
    if not opportunity.role_contacts:
        return ()  # an account and no contact roles: nothing (S15)
    if to_company:
        return (*opportunity.role_contacts, *opportunity.company_contacts)
    return opportunity.role_contacts


def targets(opportunities: Sequence[OpportunityContacts], *, to_company: bool) -> dict[str, str]:
    """Contact id -> the furthest stage its opportunities call for (before the current stages)."""
    out: dict[str, str] = {}
    for opportunity in opportunities:
        target = TARGET[opportunity.state]
        if target is None:
            continue
        for contact in _reached(opportunity, to_company):
            known = out.get(contact)
            if known is None or ORDER.index(target) > ORDER.index(known):
                out[contact] = target
    return out


def transitions(
    config: SyncConfig,
    opportunities: Sequence[OpportunityContacts],
    current: Mapping[str, str | None],
) -> dict[str, str]:
    """Contact id -> the stage it moves to; contacts missing from ``current`` (not read: archived or
    unknown) are left out. Empty unless :func:`applies`."""
    if not applies(config):
        return {}
    wanted = targets(opportunities, to_company=config.lifecycle.sync_to_company_contacts)
    return {
        contact: target
        for contact, target in wanted.items()
        if contact in current and moves_forward(current[contact], target)
    }


def lifecycle_writes(moves: Mapping[str, str]) -> dict[str, list[str]]:
    """Target stage -> its contacts (sorted): one batched write per transition."""
    grouped: dict[str, list[str]] = {}
    for contact, stage in moves.items():
        grouped.setdefault(stage, []).append(contact)
    return {
        stage: sorted(contacts)
        for stage, contacts in sorted(grouped.items(), key=lambda i: ORDER.index(i[0]))
    }


def contacts_to_read(opportunities: Sequence[OpportunityContacts], *, to_company: bool) -> Collection[str]:
    """The contacts whose current stage decides the transitions (one batched read)."""
    return sorted(targets(opportunities, to_company=to_company))
