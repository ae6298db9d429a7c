"""What dedupe decides for each record of a batch, and the batch's result.

Each record gets one decision: a plan for apply (:class:`Planned`), a reason to leave it
(:class:`Skip`), or a later look (:class:`Retry`); ``None`` when another record of the batch
already decided for it. The coordinator gathers the decisions into a :class:`DedupeResult`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.models import ChangeEvent
from shared.pipeline.plans import SyncPlan


@dataclass(frozen=True)
class Planned:
    """A plan for apply; ``status``: what the changed record shows its operator meanwhile
    (``record`` -> text), e.g. a record linked to a contact outside the inclusion list (S5)."""

    plan: SyncPlan
    status: tuple[str, str] | None = None


@dataclass(frozen=True)
class Skip:
    """Nothing to sync: counted under ``reason`` (``count`` events), and shown as the status of
    ``record`` ("system:object:id") when an operator should see why."""

    reason: str
    record: str | None = None
    count: int = 1


@dataclass(frozen=True)
class Retry:
    """Decide this change again shortly: a creation claimed by another change, a write in flight to
    the pair, or hssync's own new record whose link is not recorded yet."""

    event: ChangeEvent
    # the record's other changes of the batch, which wait with it: an echo of hssync's write must
    # never stand in for a person's edit beside it (answered from the link, it would hide the edit)
    others: tuple[ChangeEvent, ...] = ()

    @classmethod
    def all_of(cls, events: Sequence[ChangeEvent]) -> Retry:
        """Every one of a record's changes, decided again together."""
        return cls(events[-1], tuple(events[:-1]))

    @property
    def events(self) -> tuple[ChangeEvent, ...]:
        return (*self.others, self.event)


Decision = Planned | Skip | Retry | None


@dataclass
class DedupeResult:
    plans: list[SyncPlan] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    retry: list[ChangeEvent] = field(default_factory=list)  # try again later (creation claimed elsewhere)
    held: list[ChangeEvent] = field(default_factory=list)  # for the next batch, to fill whole API calls
    statuses: dict[str, str] = field(default_factory=dict)  # "system:object:id" -> why it was skipped
    # several portals: each portal's own result (its skips and statuses are recorded under it)
    portal_parts: dict[str, DedupeResult] = field(default_factory=dict)

    def record(self, decision: Decision) -> None:
        """Adds one decision, in the order decided (plans reach apply in that order)."""
        if isinstance(decision, Planned):
            self.plans.append(decision.plan)
            if decision.status is not None:
                record, status = decision.status
                self.statuses[record] = status
        elif isinstance(decision, Skip):
            self.skipped[decision.reason] += decision.count
            if decision.record is not None:
                self.statuses[decision.record] = decision.reason
        elif isinstance(decision, Retry):
            self.retry.extend(decision.events)
