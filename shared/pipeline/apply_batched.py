"""What the appliers of companies and deals share: one batched write call whose outcomes line up with
its writes, and the sync-health entry of a write that failed for good. (Contacts have their own,
older path in ``shared.pipeline.apply``.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from shared.errors import ApiFailure, ErrorCategory, TransientApiError
from shared.observability import logger
from shared.ports import HealthEntry, RecordWrite, WriteOutcome
from shared.state.keys import resync_command

NO_RESULT = ApiFailure(
    "hssync", "NO_RESULT", "the API returned no result for this record", ErrorCategory.OTHER
)


class Retried(Protocol):
    """A pair of records a plan writes: marked to be decided again after a transient failure."""

    transient: bool


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
