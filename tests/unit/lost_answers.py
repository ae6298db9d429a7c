"""Creates whose answer is lost, on the in-memory fakes (the unit tests of lost creates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shared.errors import ApiFailure, ErrorCategory
from shared.ports import RecordWrite, WriteOutcome

LOST = ApiFailure("hubspot", "AMBIGUOUS_CREATE", "no answer", ErrorCategory.OTHER, retryable=True)

HubSpotCreate = Callable[[Sequence[RecordWrite]], list[WriteOutcome]]


def lose_hubspot_answers(create: HubSpotCreate, times: int, *, lands: bool = True) -> HubSpotCreate:
    """A batch create whose next ``times`` calls are applied (when ``lands``), their answers lost."""
    left = [times]

    def lossy(writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        if left[0] <= 0:
            return create(writes)
        left[0] -= 1
        if lands:
            create(writes)
        return [WriteOutcome(w.key, None, LOST) for w in writes]

    return lossy


def lose_salesforce_answers(salesforce: Any, sobject: str, times: int) -> None:
    """The fake Salesforce's next ``times`` creates of ``sobject`` are applied, their answers lost."""
    create = salesforce.create
    left = [times]

    def lossy(name: str, writes: Sequence[RecordWrite], *, assign: bool | None = None) -> list[WriteOutcome]:
        outcomes: list[WriteOutcome] = create(name, writes, assign=assign)
        if name != sobject or left[0] <= 0:
            return outcomes
        left[0] -= 1
        return [WriteOutcome(w.key, None, LOST) for w in writes]

    salesforce.create = lossy
