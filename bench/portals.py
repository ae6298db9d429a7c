"""Several portals, one org (issue 15, S3): what a Salesforce change costs with two portals.

A fresh stack serves two HubSpot portals from one org (``hubspot_portals=2``; Salesforce->HubSpot
creation on, so each new lead becomes a contact in both portals). Two runs on the event path:
1,000 new Salesforce leads (each created in both portals), then an update of those 1,000 leads
(each updates its contact in both portals). Reported: Salesforce calls per 1,000 records, the
Salesforce reads among them (shared: a change is read once for every portal), and each portal's
HubSpot calls. Created in-process as bench/pipeline.py does, so every counted call is the pipeline's.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.pipeline import NO_SCHEDULE, SF_IMPORT_TRANSACTION, create_salesforce_leads, dead_letters_by_queue
from bench.report import table
from infra.local_stack import LocalStack
from infra.sandbox.runner import Sandbox
from infra.sandbox.salesforce.settings import LARGE_ORG_DAILY_API_LIMIT
from infra.sandbox.salesforce.store import Actor

PORTALS = 2
RECORDS = 1_000
TIMEOUT = 300.0
TAG = "portals"
EMAILS = f"bench.{TAG}."  # bench.pipeline's emails of the tag
# the Salesforce calls that read records (REST retrieve, SOQL, composite batches of them)
SALESFORCE_READS = ("GET /services/data/", "POST /services/data/{version}/composite")


@dataclass
class PortalsRun:
    label: str
    records: int
    seconds: float
    complete: bool
    salesforce_calls: int
    salesforce_reads: int
    hubspot_calls: list[int]  # per portal
    salesforce_breakdown: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)

    def per_1000(self, calls: int) -> float:
        return calls * 1000 / self.records

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def two_portals() -> Iterator[tuple[Sandbox, LocalStack]]:
    with tempfile.TemporaryDirectory(prefix="hssync-bench-portals-") as tmp:
        state = Path(tmp)
        with Sandbox(
            salesforce_port=0,
            hubspot_port=0,
            state_dir=state,
            hubspot_portals=PORTALS,
            salesforce_daily_api_limit=LARGE_ORG_DAILY_API_LIMIT,
        ) as sandbox:
            ids = ", ".join(str(p["portal_id"]) for p in sandbox.info.hubspot["portals"])
            config = state / "sync.yaml"
            config.write_text(f"version: 1\nportals: [{ids}]\n")  # leads create contacts in each portal
            with LocalStack(
                sandbox, config_file=config, aws_port=0, schedule_period=NO_SCHEDULE, log_dir=state / "logs"
            ) as stack:
                try:
                    yield sandbox, stack
                finally:  # as bench.pipeline.fresh_world: moto's backends are shared module state
                    stack.runtime.stop()
                    stack.runtime = None
                    stack.moto.reset()


def _calls(sandbox: Sandbox) -> tuple[Counter[str], list[int]]:
    salesforce = Counter(sandbox.salesforce.stats.snapshot()["calls"])
    hubspot = [int(p.stats.snapshot()["api_calls_total"]) for p in sandbox.hubspot_portals]
    return salesforce, hubspot


def _contacts(sandbox: Sandbox, prefix: str, value: str | None = None) -> int:
    """Contacts of every portal whose email starts with ``prefix`` (and whose job title is ``value``)."""
    total = 0
    for portal in sandbox.hubspot_portals:
        with portal.lock:
            for record in portal.store.records("contacts"):
                props = record.properties
                if str(props.get("email") or "").startswith(prefix) and (
                    value is None or props.get("jobtitle") == value
                ):
                    total += 1
    return total


def _update_leads(sandbox: Sandbox, ids: list[str], title: str) -> None:
    """A mass update by another API client (an import tool), 200 leads per transaction."""
    emulator = sandbox.salesforce
    actor = Actor(emulator.integration_user_id, "59.0", None)
    for start in range(0, len(ids), SF_IMPORT_TRANSACTION):
        with emulator.lock, emulator.store.transaction(actor):
            for lead in ids[start : start + SF_IMPORT_TRANSACTION]:
                emulator.store.update("Lead", lead, {"Title": title})


def _measure(sandbox: Sandbox, stack: LocalStack, label: str, act: Any, done: Any) -> PortalsRun:
    sf_before, hs_before = _calls(sandbox)
    started = time.monotonic()
    act()
    complete = False
    while time.monotonic() - started < TIMEOUT:
        if done() and stack.wait_idle(30):
            complete = True
            break
        time.sleep(0.5)
    seconds = time.monotonic() - started
    sf_after, hs_after = _calls(sandbox)
    spent = sf_after - sf_before
    return PortalsRun(
        label=label,
        records=RECORDS,
        seconds=seconds,
        complete=complete,
        salesforce_calls=sum(spent.values()),
        salesforce_reads=sum(n for key, n in spent.items() if key.startswith(SALESFORCE_READS)),
        hubspot_calls=[after - before for after, before in zip(hs_after, hs_before, strict=True)],
        salesforce_breakdown=dict(spent.most_common()),
        dead_letters=dead_letters_by_queue(stack),
    )


def portals_runs() -> list[PortalsRun]:
    with two_portals() as (sandbox, stack):
        create_salesforce_leads(sandbox, 1, "warm-portals")  # token, describe, owners: once per stack
        if not stack.wait_idle(120):
            raise TimeoutError("the warm-up did not settle")
        leads: list[str] = []

        def create() -> None:
            leads.extend(create_salesforce_leads(sandbox, RECORDS, TAG))

        created = _measure(
            sandbox,
            stack,
            "1,000 new leads -> a contact in each portal",
            create,
            lambda: _contacts(sandbox, EMAILS) >= RECORDS * PORTALS,
        )
        updated = _measure(
            sandbox,
            stack,
            "1,000 lead updates -> each portal's contact",
            lambda: _update_leads(sandbox, leads, "Bench title"),
            lambda: _contacts(sandbox, EMAILS, "Bench title") >= RECORDS * PORTALS,
        )
        return [created, updated]


def render_portals(runs: list[PortalsRun]) -> str:
    rows = [
        (
            run.label,
            f"{run.seconds:.0f} s" + ("" if run.complete else " (incomplete)"),
            f"{run.per_1000(run.salesforce_calls):.1f}",
            f"{run.per_1000(run.salesforce_reads):.1f}",
            " / ".join(f"{run.per_1000(n):.1f}" for n in run.hubspot_calls),
            sum(run.dead_letters.values()),
        )
        for run in runs
    ]
    headers = (
        "two portals, one org",
        "time",
        "SF calls/1k",
        "SF reads/1k (shared)",
        "HS calls/1k per portal",
        "DLQ",
    )
    return table(headers, rows)
