"""What the appliers of companies and deals share: one batched write call whose outcomes line up with
its writes, the sync-health entry of a write that failed for good, and the lost creates found
before creating again (``shared.accounts.creation_intents``). (Contacts have their own, older path
in ``shared.pipeline.apply``.)"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Protocol, TypeVar

from shared.accounts.creation_intents import Created, CreationIntent, look_for
from shared.errors import ApiFailure, ErrorCategory, TransientApiError
from shared.models import LinkKind
from shared.observability import logger
from shared.pipeline.plans import SyncPlan
from shared.ports import HealthEntry, Link, RecordWrite, StatePort, WriteOutcome
from shared.state.keys import resync_command

NO_RESULT = ApiFailure(
    "hssync", "NO_RESULT", "the API returned no result for this record", ErrorCategory.OTHER
)


class Retried(Protocol):
    """A pair of records a plan writes: marked to be decided again after a transient failure."""

    transient: bool


class Creating(Retried, Protocol):
    """A pair whose plan creates a record, with the creation intent its claim held (an earlier create
    of it whose outcome is unknown), if any."""

    plan: SyncPlan
    earlier: CreationIntent | None


P = TypeVar("P", bound=Creating)


def call_batched(
    call: Callable[[Sequence[RecordWrite]], list[WriteOutcome]],
    writes: Sequence[RecordWrite],
    items: Sequence[Retried],
    what: str,
) -> list[WriteOutcome] | None:
    """One outcome per write, in order (a write the API answered nothing for fails as NO_RESULT);
    None when the call failed transiently, with every item marked to be decided again."""
    try:
        outcomes = {o.key: o for o in call(writes)}
    except TransientApiError as exc:
        logger.warning("batched write of %d %s failed; decided again: %s", len(writes), what, exc)
        for item in items:
            item.transient = True
        return None
    return [outcomes.get(w.key) or WriteOutcome(w.key, None, NO_RESULT) for w in writes]


def failed_for_good(
    item: Retried, portal: str, system: str, record: str, outcome: WriteOutcome, at: dt.datetime
) -> HealthEntry | None:
    """The sync-health entry of a write that failed (``record``: the record it was about); None when
    it did not fail, or failed transiently (the item is then marked to be decided again)."""
    failure = outcome.failure
    if failure is None:
        return None
    if failure.retryable:
        item.transient = True
        return None
    return HealthEntry(
        portal, system, record, failure.category, failure.code, failure.message, at, resync_command(record)
    )


def lost_creates_found(
    pairs: Sequence[P],
    side: str,
    created_since: Callable[[list[str], dt.datetime], Sequence[Created]],
    linked_of: Callable[[list[str]], Collection[str]],
) -> list[tuple[P, str]]:
    """The pairs creating on ``side`` whose claim held an earlier create's intent, each with the
    record that create made (``creation_intents.look_for``: one query for them all, none without
    such a pair). A failed query marks them all to be decided again (none is created meanwhile)."""
    waiting = {p.plan.plan_id: p for p in pairs if p.plan.create == side and p.earlier is not None}
    intents = {key: p.earlier for key, p in waiting.items() if p.earlier is not None}
    try:
        found = look_for(intents, created_since, linked_of)
    except TransientApiError as exc:
        logger.warning("looking for %d lost creates failed; decided again: %s", len(waiting), exc)
        for pair in waiting.values():
            pair.transient = True
        return []
    return [(waiting[key], record_id) for key, record_id in found.items()]


def look_for_lost(
    pairs: Sequence[P],
    links: tuple[StatePort, str, LinkKind],
    created_since: Callable[[str, list[str], dt.datetime], Sequence[Created]],
    found: Callable[[P, str], None],
) -> Counter[str]:
    """Both sides' pairs whose claim held an earlier create's intent: the record that create may
    have made is looked for (one query a side) and, found and linked to nothing (``links``: the
    state store, the portal and the kind of link), handed to ``found`` instead of a second create.
    Returns how many were found on each side."""
    state, portal, kind = links
    counts: Counter[str] = Counter()
    for side in ("salesforce", "hubspot"):
        by = state.links_by_salesforce if side == "salesforce" else state.links_by_hubspot

        def linked(ids: list[str], by: Callable[..., Mapping[str, Link]] = by) -> set[str]:
            return set(by(portal, ids, kind=kind))

        for pair, record_id in lost_creates_found(pairs, side, partial(created_since, side), linked):
            found(pair, record_id)
            counts[side] += 1
    return counts
