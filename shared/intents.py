"""Write intents: how hssync recognises its own writes whatever the timing (DESIGN §5).

The invariant: **a value hssync wrote is never taken for a person's change.** Echo suppression
compares each side's current value with what hssync last synced (the link's ``synced`` pair). A
write lands in the CRM before apply can record it, so that comparison alone has a window: a read in
it sees hssync's own value as an edit, and "both changed, the newer wins" can then let hssync's
older value beat a person's newer edit. Three rules close the window:

1. **Write-ahead.** Before apply writes to a linked pair it records a :class:`WriteIntent` on the
   link: for each property it writes, which side and the pair both sides will hold afterwards.
   Recording it is conditional: the link must still be at the revision the plan was decided on
   (``Link.rev``) and hold no other plan's live intent. A plan decided on older bookkeeping is
   never written; its pair is decided again from fresh reads.
2. **A lease.** While the intent's lease runs (the apply invocation's remaining time plus a margin:
   a Lambda cannot outlive its timeout), the pair is not decided: its changes wait. Apply then
   records the link (a new revision, no intent), conditional on the same revision, and the lease
   ends.
3. **Recognition.** An intent that outlived its lease (an answer lost, an invocation that died)
   keeps counting: where the written side holds the intended value, the write landed and the
   intended pair is what hssync last synced (:func:`remembered`); where it does not, the write did
   not land (or a person overwrote it since) and the link's own pair counts.

Apply never repeats a write whose outcome it does not know: the pair is decided again instead, so
a person's edit made meanwhile is weighed, not overwritten by a retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

WrittenSide = Literal["hubspot", "salesforce"]
SyncedPair = tuple[str | None, str | None]

# past the invocation's own remaining time, before a pair whose write never settled is decided again
LEASE_MARGIN = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class IntendedValue:
    """One property a plan writes: to which side, and the pair both sides hold once it landed."""

    side: WrittenSide
    hubspot: str | None
    salesforce: str | None

    @property
    def written(self) -> str | None:
        return self.hubspot if self.side == "hubspot" else self.salesforce


@dataclass(frozen=True)
class WriteIntent:
    """What one plan is writing to a linked pair, recorded on the link before the write."""

    plan_id: str
    lease_until: dt.datetime
    values: Mapping[str, IntendedValue]

    def in_flight(self, now: dt.datetime) -> bool:
        """Whether the apply invocation that recorded it may still be writing."""
        return now < self.lease_until


def intent_for(
    plan_id: str,
    written: Mapping[str, WrittenSide],
    synced_after: Mapping[str, SyncedPair],
    lease_until: dt.datetime,
) -> WriteIntent | None:
    """The intent of a plan that writes ``written`` (property -> side); None when it writes nothing
    the link remembers."""
    values = {
        prop: IntendedValue(side, *synced_after[prop])
        for prop, side in written.items()
        if prop in synced_after
    }
    return WriteIntent(plan_id, lease_until, values) if values else None


def remembered(
    prop: str,
    synced: Mapping[str, SyncedPair] | None,
    intent: WriteIntent | None,
    *,
    hubspot: str | None,
    salesforce: str | None,
) -> SyncedPair | None:
    """What counts as hssync's last synced pair for ``prop``, given both sides' current values.

    With an unsettled intent for the property: if the written side holds the intended value, the
    write landed and its pair counts; otherwise the link's pair does (the write did not land, or a
    person changed the value since, which then counts as their change)."""
    before = (synced or {}).get(prop)
    intended = intent.values.get(prop) if intent is not None else None
    if intended is None:
        return before
    current = hubspot if intended.side == "hubspot" else salesforce
    if _blank(current) == _blank(intended.written):
        return (intended.hubspot, intended.salesforce)
    return before


def _blank(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None
