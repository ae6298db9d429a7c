"""Following a request to its end: which phase the pipeline is in, what it has done so far (from
the state's counters) and whether it ended well (nothing dead-lettered, nothing failed).

``hssync backfill``/``resync`` and ``wait-idle`` read :class:`Snapshot` s of the stack (queue depths,
dead-letter depths, counters); everything here is plain arithmetic on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.operations.queues import QUEUES

OUTCOMES = ("created", "updated", "linked", "skipped", "failed")


@dataclass(frozen=True)
class Snapshot:
    depths: Mapping[str, int] = field(default_factory=dict)  # stage queue -> visible + in flight
    dead_letters: Mapping[str, int] = field(default_factory=dict)  # dead-letter queue -> depth
    counters: Mapping[str, int] = field(default_factory=dict)  # the state's counters (totals)

    @property
    def busy(self) -> bool:
        return any(self.depths.values())


def outcome_of(counter: str) -> str | None:
    """Which outcome a state counter counts (``hubspot_to_salesforce.created`` -> created)."""
    if counter == "errors":
        return "failed"
    if counter.startswith("skipped."):
        return "skipped"
    for outcome, suffix in (("created", ".created"), ("updated", ".updated"), ("linked", ".linked_by_email")):
        if counter.endswith(suffix):
            return outcome
    return None


def as_outcomes(counters: Mapping[str, int]) -> dict[str, int]:
    """The state's counters summed per outcome (every outcome, zeros included)."""
    done = dict.fromkeys(OUTCOMES, 0)
    for name, total in counters.items():
        outcome = outcome_of(name)
        if outcome is not None:
            done[outcome] += total
    return done


def outcomes(start: Snapshot, now: Snapshot) -> dict[str, int]:
    """What happened between two snapshots, per outcome (every outcome, zeros included)."""
    before, after = as_outcomes(start.counters), as_outcomes(now.counters)
    return {outcome: after[outcome] - before[outcome] for outcome in OUTCOMES}


def phase(now: Snapshot) -> str:
    """The earliest phase with work waiting (work flows from poll requests to writes); else done."""
    for pair in QUEUES:
        if pair.queue is not None and now.depths.get(pair.queue, 0):
            return pair.phase
    return "done"


def dead_lettered(start: Snapshot, now: Snapshot) -> dict[str, int]:
    """The dead-letter queues that received messages between the snapshots, and how many."""
    grown = {q: depth - start.dead_letters.get(q, 0) for q, depth in now.dead_letters.items()}
    return {q: n for q, n in grown.items() if n > 0}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reasons: tuple[str, ...]


def verdict(start: Snapshot, now: Snapshot, *, own_dead_letters: int = 0) -> Verdict:
    """Whether a followed request ended well: none of its messages dead-lettered, no dead-letter
    queue grew, no record failed."""
    reasons: list[str] = []
    if own_dead_letters:
        reasons.append(f"{own_dead_letters} of the requests dead-lettered (hssync dlq list poll-requests)")
    for queue, count in dead_lettered(start, now).items():
        reasons.append(f"{count} message(s) dead-lettered in {queue}")
    failed = outcomes(start, now)["failed"]
    if failed:
        reasons.append(f"{failed} record write(s) failed (hssync health)")
    return Verdict(not reasons, tuple(reasons))


def describe_progress(now_phase: str, done: Mapping[str, int]) -> str:
    counts = ", ".join(f"{done.get(o, 0)} {o}" for o in OUTCOMES)
    return f"{now_phase}: {counts}"
