"""The soak, short (bench/soak.py; ``make bench`` runs the long one): new records on both sides and
live user edits under injected faults, then nothing may be lost, duplicated, diverged or overwritten,
and no write may follow idle. The soak code is the bench's, run on the e2e stack."""

from __future__ import annotations

import pytest

from bench.soak import SoakRun, render_soak, soak_on
from infra.local_stack import LocalStack

RECORDS = 60  # half HubSpot contacts, half Salesforce leads
UPDATES = 40  # user edits, at RATE per second while the records may still be syncing
RATE = 10.0
FAULT_RATE = 0.1
IDLE_TIMEOUT = 120.0
QUIET_SECONDS = 2.0


def _report(run: SoakRun, progress: list[str]) -> str:
    samples = "\n".join(f"  {sample}" for sample in run.samples)
    return "\n".join([*progress, render_soak([run]), samples, f"  health: {run.health}"])


@pytest.mark.slow
@pytest.mark.timeout(IDLE_TIMEOUT + 60)
@pytest.mark.parametrize("seed", [1, 2])
def test_a_short_soak_loses_no_record_and_no_users_edit(stack: LocalStack, seed: int) -> None:
    progress: list[str] = []
    run = soak_on(
        stack.sandbox,
        stack,
        seed=seed,
        records=RECORDS,
        updates=UPDATES,
        rate=RATE,
        fault_rate=FAULT_RATE,
        progress=progress.append,
        idle_timeout=IDLE_TIMEOUT,
        quiet_seconds=QUIET_SECONDS,
    )
    report = _report(run, progress)
    print(report)  # shown with -s (or -rP): the numbers of a passing run too
    assert run.updates == UPDATES, report
    assert run.idle, report
    outcome = {
        "lost": run.lost,
        "duplicated": run.duplicated,
        "diverged": run.diverged,
        "lost updates": run.lost_updates,
        "writes after idle": run.writes_after_idle,
    }
    assert outcome == dict.fromkeys(outcome, 0), report
