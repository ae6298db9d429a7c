"""Following what a command asked the stack for until the pipeline is idle again: progress by phase
with counts of records created, updated, linked, skipped and failed (``rich``, on stderr), then the
outcome, which is the command's exit code (non-zero when a request dead-lettered or a write failed).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from infra.cli.target import Target
from shared.operations.dead_letters import DeadLetterQueueReader
from shared.operations.progress import Snapshot, describe_progress, outcomes, phase, verdict
from shared.operations.queues import QUEUES

CALM_CHECKS = 3  # the local stack idle this many checks in a row: done (its runtime knows exactly)
# SQS's approximate counts lag by up to a minute: a deployed stack is done after a quiet minute
DEPLOYED_CALM_SECONDS = 60.0


def snapshot(target: Target) -> Snapshot:
    stats = target.queue_stats
    depths = {p.queue: stats.total(p.queue) for p in QUEUES if p.queue and p.queue in target.queues}
    dead = {p.dead_letter: stats.total(p.dead_letter) for p in QUEUES if p.dead_letter in target.queues}
    counters = target.state.counters(target.portal) if target.state_table and target.portal else {}
    return Snapshot(depths=depths, dead_letters=dead, counters=counters)


def local_idle(target: Target) -> bool:
    """The local runtime's own view: nothing in flight or pending, no delivery pending in the CRMs."""
    import requests

    info = target.sandbox
    if info is None:
        return True
    idle = requests.get(f"{info.runtime['url']}/_runtime/idle", timeout=5).json().get("idle") is True
    pending = (
        requests.get(
            f"{info.salesforce['url']}/_sandbox/pending", verify=info.salesforce["ca_bundle"], timeout=5
        ).json()["pending"]
        + requests.get(f"{info.hubspot['url']}/_sandbox/pending", timeout=5).json()["pending"]
    )
    return idle and pending == 0


def calm_checks(target: Target, interval: float) -> int:
    """How many quiet checks in a row mean the pipeline is idle."""
    return CALM_CHECKS if target.local else max(CALM_CHECKS, int(DEPLOYED_CALM_SECONDS / interval))


def wait_until_idle(target: Target, start: Snapshot, timeout: float, interval: float) -> Snapshot | None:
    """The snapshot once idle (None on timeout), reporting each new phase on stderr."""
    from rich.console import Console

    console = Console(stderr=True)
    deadline = time.monotonic() + timeout
    needed = calm_checks(target, interval)
    calm, shown = 0, ""
    with console.status("following the request ...") as status:
        while time.monotonic() < deadline:
            now = snapshot(target)
            line = describe_progress(phase(now), outcomes(start, now))
            status.update(line)
            if line != shown and not console.is_terminal:
                console.print(line, highlight=False)
            shown = line
            calm = calm + 1 if not now.busy and local_idle(target) else 0
            if calm >= needed:
                return now
            time.sleep(interval)
    return None


def own_dead_letters(target: Target, bodies: Sequence[str]) -> int:
    url = target.queues.get("PollRequestsDeadLetterQueue")
    if url is None or not bodies:
        return 0
    wanted = set(bodies)
    return sum(
        1 for letter in DeadLetterQueueReader(target.client("sqs"), url).peek() if letter.body in wanted
    )


def follow(target: Target, start: Snapshot, bodies: Sequence[str], *, timeout: float, command: str) -> int:
    """Wait for the requests (``bodies``) to be done; print the outcome; 0 when all went well."""
    interval = 0.2 if target.local else 2.0
    end = wait_until_idle(target, start, timeout, interval)
    if end is None:
        print(f"hssync {command}: still busy after {timeout:.0f} s (follow it with: hssync status)")
        return 1
    done = outcomes(start, end)
    print("done: " + ", ".join(f"{n} {outcome}" for outcome, n in done.items()))
    result = verdict(start, end, own_dead_letters=own_dead_letters(target, bodies))
    for reason in result.reasons:
        print(f"hssync {command}: {reason}")
    return 0 if result.ok else 1
