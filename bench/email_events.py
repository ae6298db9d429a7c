"""The email events bench: 10,000 marketing email events (opens and clicks) of 2,000 synced
contacts, on a fresh stack, turned into Salesforce Tasks by one run of the email events function.
Reports the API calls of the run on each side (next to the floor: 50 collection calls of 200 tasks;
10 pages of 1,000 events plus one call per campaign) and the tasks created per second."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.pipeline import api_calls, create_salesforce_leads, fresh_world, print_progress
from bench.report import table
from infra.sandbox.hubspot.email_events import MINUTE_MS
from infra.sandbox.runner import Sandbox

CONTACTS = 2_000
EVENTS_PER_CONTACT = 5  # OPEN, CLICK, OPEN, CLICK, OPEN
CAMPAIGNS = 4
FLOOR_SALESFORCE = 50  # 10,000 tasks / 200 per collection call
FLOOR_HUBSPOT = 10 + CAMPAIGNS  # 10,000 events / 1,000 per page, and each campaign once
TARGET_SALESFORCE = 60
TARGET_HUBSPOT = 15
HOUR_MS = 3_600_000
SYNC_TIMEOUT = 600.0
RUNS = 3
# the sent and delivered events of each message lie before the window the run reads
SETTINGS = "email_events: {start: PT6H, types: [OPEN, CLICK]}\n"


@dataclass
class EmailEventsRun:
    contacts: int
    events: int
    tasks: int = 0
    run_seconds: float = float("nan")
    salesforce_calls: dict[str, int] = field(default_factory=dict)
    hubspot_calls: dict[str, int] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def tasks_per_second(self) -> float:
        return self.tasks / self.run_seconds if self.run_seconds > 0 else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tasks_per_second": self.tasks_per_second}


def _add_events(sandbox: Sandbox, emails: list[str]) -> int:
    """Five engagement events per recipient within the last hours (their message sent a day ago)."""
    events = sandbox.hubspot.email_events
    now = int(time.time() * 1000)
    added = 0
    with sandbox.hubspot.lock:
        campaigns = [events.campaign(2_150_100_001 + i, f"Bench campaign {i}") for i in range(CAMPAIGNS)]
        for n, email in enumerate(emails):
            sent = now - 24 * HOUR_MS
            specs: list[dict[str, Any]] = [
                {"type": "SENT", "created": sent},
                {"type": "DELIVERED", "created": sent},
            ]
            at = now - 3 * HOUR_MS + (n % 120) * MINUTE_MS
            kinds = ("OPEN", "CLICK", "OPEN", "CLICK", "OPEN")
            specs += [{"type": kind, "created": at + i * 1000} for i, kind in enumerate(kinds)]
            made = events.add_message_events(email, campaigns[n % CAMPAIGNS], specs, now_ms=at)
            added += sum(1 for e in made if e.type in ("OPEN", "CLICK"))
    return added


def email_events_run(progress: Callable[[str], None] = print_progress) -> EmailEventsRun:
    with fresh_world() as (sandbox, stack):
        portal = str(sandbox.hs_creds.portal_id)
        stack.set_config(f"version: 1\nportals: [{portal}]\n{SETTINGS}")
        create_salesforce_leads(sandbox, CONTACTS, "mail")
        if not stack.wait_idle(SYNC_TIMEOUT):
            raise TimeoutError("the 2,000 leads did not sync in time")
        emails = [f"bench.mail.{n}@load.example" for n in range(CONTACTS)]
        linked = stack.state.links_by_email(portal, emails)
        progress(f"email events: {len(linked):,} of {CONTACTS:,} contacts synced; adding events ...")
        run = EmailEventsRun(contacts=len(linked), events=_add_events(sandbox, emails))
        sf_before, hs_before = api_calls(sandbox)
        invocation = stack.runtime.invoke_schedule("EmailEventsFunction")
        sf_after, hs_after = api_calls(sandbox)
        if not invocation.ok:
            raise RuntimeError(f"the email events run failed: {invocation.payload}")
        run.result = dict(invocation.payload)
        run.tasks = int(run.result.get("tasks", 0))
        run.run_seconds = invocation.duration_ms / 1000
        run.salesforce_calls = {k: v for k, v in (sf_after - sf_before).items() if v}
        run.hubspot_calls = {k: v for k, v in (hs_after - hs_before).items() if v}
        return run


def email_events_runs(
    count: int = RUNS, progress: Callable[[str], None] = print_progress
) -> list[EmailEventsRun]:
    """``count`` runs, each on a fresh stack (the spread is what a rerun may give)."""
    runs = []
    for number in range(1, count + 1):
        progress(f"email events: run {number} of {count}")
        runs.append(email_events_run(progress))
    return runs


def _spread(values: list[float], fmt: str) -> str:
    low, high = min(values), max(values)
    return format(low, fmt) if low == high else f"{low:{fmt}}-{high:{fmt}}"


def render_email_events(runs: list[EmailEventsRun]) -> str:
    salesforce = [float(sum(run.salesforce_calls.values())) for run in runs]
    hubspot = [float(sum(run.hubspot_calls.values())) for run in runs]
    rows = [
        ["Salesforce", _spread(salesforce, ".0f"), str(FLOOR_SALESFORCE), f"<= {TARGET_SALESFORCE}"],
        ["HubSpot", _spread(hubspot, ".0f"), str(FLOOR_HUBSPOT), f"<= {TARGET_HUBSPOT}"],
    ]
    lines = [f"  {len(runs)} runs, each on a fresh stack; ranges over the runs", ""]
    for number, run in enumerate(runs, 1):
        lines.append(
            f"  run {number}: {run.events:,} events of {run.contacts:,} synced contacts"
            f" -> {run.tasks:,} tasks in {run.run_seconds:.1f} s ({run.tasks_per_second:,.0f} tasks/s)"
        )
    lines += ["", table(["API calls", f"{len(runs)} runs", "floor", "target"], rows), ""]
    last = runs[-1]
    lines.append(
        "  Salesforce (last run): " + ", ".join(f"{k} {v}" for k, v in sorted(last.salesforce_calls.items()))
    )
    lines.append(
        "  HubSpot (last run): " + ", ".join(f"{k} {v}" for k, v in sorted(last.hubspot_calls.items()))
    )
    return "\n".join(lines)
