"""The stack's queues as an operator sees them: each stage's queue and the dead-letter queue behind
it (where a redrive sends messages back to), in the order work flows through the pipeline.

The names are the logical ids of ``template.yaml``; the template outputs each one's URL as
``<logical id>Url`` (:func:`output_key`), which is how ``--stack NAME`` finds them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueuePair:
    name: str  # how the commands name it: hssync dlq list changes
    queue: str | None  # the stage's queue (None: a scheduled function's failed runs)
    dead_letter: str
    phase: str  # what the pipeline does while messages wait in the queue


QUEUES: tuple[QueuePair, ...] = (
    QueuePair("poll-requests", "PollRequestsQueue", "PollRequestsDeadLetterQueue", "reading"),
    QueuePair("salesforce-events", "SalesforceEventsQueue", "SalesforceEventsDeadLetterQueue", "receiving"),
    # each stage has two lanes (shared.pipeline.lanes): people's edits, and bulk loads (imports,
    # backfills, resyncs, the poller's changes)
    QueuePair("changes", "ChangesQueue", "ChangesDeadLetterQueue", "deciding"),
    QueuePair("bulk-changes", "BulkChangesQueue", "BulkChangesDeadLetterQueue", "deciding"),
    # dedupe's windows that wait for the API budget (shared.pacing), gathered again as one
    QueuePair("paced-changes", "PacedChangesQueue", "PacedChangesDeadLetterQueue", "deciding"),
    QueuePair("owners", "OwnersQueue", "OwnersDeadLetterQueue", "matching owners"),
    QueuePair("bulk-owners", "BulkOwnersQueue", "BulkOwnersDeadLetterQueue", "matching owners"),
    QueuePair("writes", "WritesQueue", "WritesDeadLetterQueue", "writing"),
    QueuePair("bulk-writes", "BulkWritesQueue", "BulkWritesDeadLetterQueue", "writing"),
    QueuePair("email-events", None, "EmailEventsDeadLetterQueue", "email events"),
)


def output_key(logical_id: str) -> str:
    """The template output holding a queue's URL."""
    return f"{logical_id}Url"


def logical_ids() -> list[str]:
    """Every queue of the stack (stage queues and dead-letter queues)."""
    return [q for pair in QUEUES for q in (pair.queue, pair.dead_letter) if q is not None]


def by_name(name: str) -> QueuePair:
    """A queue pair by its command-line name, or by either logical id."""
    for pair in QUEUES:
        if name in (pair.name, pair.queue, pair.dead_letter):
            return pair
    known = ", ".join(pair.name for pair in QUEUES)
    raise KeyError(f"no queue {name!r} (the queues: {known})")
