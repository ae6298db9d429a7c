"""Records hssync created in Salesforce, coming back with the owner Salesforce gave them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from shared.ids import salesforce_id18
from shared.models import ChangeEvent
from shared.pipeline.dedupe import echo
from shared.pipeline.dedupe.creation import assigned_owner
from shared.pipeline.dedupe.outcome import Decision, Retry
from shared.pipeline.dedupe.parts import Batch


def assigned_owners(batch: Batch, events: Sequence[ChangeEvent]) -> Iterator[Decision]:
    """The owners Salesforce gave the records hssync created (``events``: their creations, as
    reported by their change events): one look at their links, no read of the records. A creation
    whose link apply has not recorded yet (its event overtook the write's answer) waits for it, as
    long as any change waits for hssync's own link: learnt now, the owner never needs a read later
    (a reconciling poll would otherwise find it unknown). With several portals the record may be
    another portal's, whose link never comes here: then only briefly."""
    by_id = {salesforce_id18(e.record_id): e for e in events}
    links = batch.state.links_by_salesforce(batch.portal, list(by_id))
    busy, links, retries = echo.hold_writes_in_flight(links, by_id, batch.clock)
    yield from retries
    for sf_id, event in by_id.items():
        if sf_id in busy:
            continue
        if sf_id not in links and event.attempt < _link_waits(batch):
            yield Retry(event)
        else:
            yield assigned_owner(batch.portal, sf_id, event, links.get(sf_id))


# deferrals (2 s each) an assigned owner waits for its creation's link with one portal: about 10 s,
# enough for apply to record it under load; a creation whose link never comes (made by another
# path) then passes as an echo without holding the stack for a minute (LINK_WAIT_DEFERRALS)
ASSIGNED_OWNER_LINK_WAITS = 5


def _link_waits(batch: Batch) -> int:
    """Deferrals a creation waits for its link: with one portal the link is this portal's, surely."""
    return ASSIGNED_OWNER_LINK_WAITS if len(batch.config.portals) == 1 else echo.OWN_CREATION_DEFERRALS
