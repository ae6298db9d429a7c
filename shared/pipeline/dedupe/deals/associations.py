"""A deal's association changes in HubSpot (``deal.associationChange``, and a contact's or a company's
``associationChange`` with a deal).

A company's association with a deal is the deal's: with deal sync on it is answered without a read
(it is not a contact <-> company association, which the accounts part would read the contact's
company for; a deal's company syncs with the deal's changes). A contact's association with a deal,
added or removed (either side's notification), is decided at once: the deal is decided as changed
(its contacts carried to the Opportunity's contact roles, ``shared.deals.contact_roles``), unless
every such change of the batch leaves the deal's contacts as its link remembers them agreed (hssync's
own association writes coming back, answered without a read), or the deal is not linked (its own
changes sync it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field

from shared.deals.contact_roles import remembered
from shared.models import COMPANIES, CONTACTS, DEALS, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.deals.tools import DealTools
from shared.pipeline.dedupe.echo import ECHO
from shared.pipeline.dedupe.outcome import Decision, Skip
from shared.state.keys import hubspot_deal_key

DEAL_ASSOCIATION = "association with a deal (synced with the deal's changes)"


def with_a_deal(event: ChangeEvent) -> bool:
    """Whether ``event`` is a contact's or a company's association change with a deal."""
    return (
        event.system is System.HUBSPOT
        and event.change_type is ChangeType.ASSOCIATION
        and event.object_type in (CONTACTS, COMPANIES)
        and event.related_type == DEALS
    )


def deal_and_contact(event: ChangeEvent) -> tuple[str, str] | None:
    """The deal and the contact of a deal <-> contact association change (from either side)."""
    if event.system is not System.HUBSPOT or event.change_type is not ChangeType.ASSOCIATION:
        return None
    if not event.related_ids:
        return None
    other = event.related_ids[0]
    if event.object_type == DEALS and event.related_type == CONTACTS:
        return event.record_id, other
    if event.object_type == CONTACTS and event.related_type == DEALS:
        return other, event.record_id
    return None


@dataclass
class DealContactChanges:
    """The deal <-> contact association changes of one batch, by deal."""

    changes: dict[str, list[tuple[str, ChangeEvent]]] = field(default_factory=dict)

    def note(self, deal: str, contact: str, event: ChangeEvent) -> None:
        self.changes.setdefault(deal, []).append((contact, event))

    def answer(
        self,
        tools: DealTools,
        changed: MutableMapping[str, ChangeEvent],
        gone: Mapping[str, ChangeEvent],
    ) -> Iterator[Decision]:
        """Skips the changes in sync with the links; the other deals join ``changed`` (the batch's
        changed deals) unless changed or deleted in it already."""
        pending = {d: c for d, c in self.changes.items() if d not in changed and d not in gone}
        links = tools.links_of_deals(sorted(pending))
        for deal, changes in pending.items():
            link = links.get(deal)
            if link is None:
                yield Skip(DEAL_ASSOCIATION, hubspot_deal_key(deal))  # not synced yet
                continue
            agreed = {h for h, _ in remembered(link.synced) or ()}
            if all((contact in agreed) != event.association_removed for contact, event in changes):
                yield Skip(ECHO, hubspot_deal_key(deal))
                continue
            changed[deal] = changes[-1][1]
