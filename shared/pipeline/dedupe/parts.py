"""The seam between the coordinator and the kinds of synced objects.

Each kind (contacts and leads now; companies and accounts, deals and opportunities next) is an
:class:`ObjectPart`: the coordinator makes one per batch, offers it every change event, and then
takes its decisions. A new kind is a new part, not a new branch of the coordinator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from shared.config import SyncConfig
from shared.models import ChangeEvent
from shared.pipeline.dedupe.outcome import Decision
from shared.ports import HubSpotPort, SalesforcePort, StatePort


@dataclass(frozen=True)
class Batch:
    """What the decisions of one batch work with."""

    config: SyncConfig
    portal: str
    salesforce: SalesforcePort
    hubspot: HubSpotPort
    state: StatePort
    own_app_id: str | None  # hssync's HubSpot app: the sourceId of its own changes
    clock: Callable[[], dt.datetime]


class ObjectPart(Protocol):
    """One kind of synced object's share of a batch."""

    def take(self, event: ChangeEvent) -> Decision | bool:
        """True: the event is about this part's objects and is kept for :meth:`decide`; False: it
        is not (another part's, or nobody's); a decision: answered from the event alone (e.g. the
        echo of hssync's own write)."""
        ...

    def decide(self) -> Iterator[Decision]:
        """One decision per record taken, after batched reads of the records' current state, in the
        order their plans go to apply."""
        ...


PartFactory = Callable[[Batch], ObjectPart]
