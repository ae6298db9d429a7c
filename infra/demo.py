"""``make demo``: the product end to end on one machine.

1. Start the seeded sandbox (Salesforce and HubSpot emulators) and the SAM stack in the local runtime
   (moto for SQS/DynamoDB/Secrets Manager/SSM, the functions of template.yaml unchanged).
2. Backfill: the initial sync of every existing record, through the pipeline.
3. Live edits on both sides, as users make them, each timed until it shows on the other side.
4. Marketing email events: the seeded opens and clicks become Salesforce Tasks (one run of the
   email events function).
5. A summary: per direction created / updated / linked by email / skipped / errors, sync health by
   category (what ``hssync health`` shows), the companies, Accounts, person accounts and associations
   synced (account sync is on in the demo), the deals created and the contacts that became customers
   (deal sync is on: the deals and Opportunities are read once their contacts and companies are
   synced), API calls per system, echo writes, the latency of the
   live edits, and the tasks made from email events.

The emulators' state is observed in-process (never through their APIs) so that the API-call counts
are the pipeline's alone.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import requests

from infra.local_stack import DEMO_CONFIG, LocalStack
from infra.sandbox.runner import Sandbox, SandboxInfo
from infra.sandbox.salesforce.settings import LARGE_ORG_DAILY_API_LIMIT
from shared.operations.health import CategoryCount, category_counts, health_rows
from shared.operations.progress import Snapshot as PipelineSnapshot
from shared.operations.progress import phase
from shared.operations.queues import QUEUES
from shared.pipeline.dedupe import included

LIVE_EDITS_PER_SIDE = 10
BACKFILL_TIMEOUT = 300.0
EDIT_TIMEOUT = 30.0


def salesforce_client(info: SandboxInfo) -> Any:
    """A user's simple-salesforce session (no hssync call options: its edits are genuine)."""
    from simple_salesforce.api import Salesforce

    session = requests.Session()
    session.verify = info.salesforce["ca_bundle"]
    session.trust_env = False  # an environment CA bundle would override verify (requests' precedence)
    token = session.post(
        info.salesforce["token_url"],
        data={
            "grant_type": "password",
            "client_id": info.salesforce["client_id"],
            "client_secret": info.salesforce["client_secret"],
            "username": info.salesforce["username"],
            "password": info.salesforce["password"],
        },
        timeout=10,
    )
    token.raise_for_status()
    body = token.json()
    return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=session)


@dataclass
class Snapshot:
    salesforce_calls: int
    hubspot_calls: int
    counters: dict[str, int] = field(default_factory=dict)


class Demo:
    def __init__(self, sandbox: Sandbox, stack: LocalStack, out: Callable[[str], None] = print) -> None:
        self.sandbox = sandbox
        self.stack = stack
        self.out = out
        self.portal = str(sandbox.hs_creds.portal_id)

    # -- observation (in-process, costs no API call) ------------------------------------------
    def snapshot(self) -> Snapshot:
        return Snapshot(
            salesforce_calls=self.sandbox.salesforce.stats.snapshot()["api_calls_total"],
            hubspot_calls=self.sandbox.hubspot.stats.snapshot()["api_calls_total"],
            counters=self.stack.counters(),
        )

    def hubspot_value(self, contact_id: str, prop: str) -> str | None:
        record = self.sandbox.hubspot.store.get("contacts", contact_id)
        return None if record is None else record.properties.get(prop)

    def salesforce_value(self, sobject: str, record_id: str, field_name: str) -> Any:
        row = self.sandbox.salesforce.store.get(sobject, record_id, include_deleted=False)
        return None if row is None else row.get(field_name)

    def _salesforce_has(self, sobject: str, record_id: str, field_name: str, value: str) -> bool:
        return bool(self.salesforce_value(sobject, record_id, field_name) == value)

    def _hubspot_has(self, contact_id: str, prop: str, value: str) -> bool:
        return self.hubspot_value(contact_id, prop) == value

    def phase(self) -> str:
        """Where the pipeline's work waits: the earliest stage queue holding messages."""
        from shared.operations.sqs_stats import SqsQueueStats

        stats = SqsQueueStats(self.stack._boto("sqs"), self.stack.info.queues)
        depths = {pair.queue: stats.total(pair.queue) for pair in QUEUES if pair.queue is not None}
        return phase(PipelineSnapshot(depths=depths))

    def health(self) -> list[CategoryCount]:
        """Sync health by category, as ``hssync health`` shows it."""
        return category_counts(health_rows(self.stack.state, self.portal))

    def wait_with_progress(self, label: str, timeout: float) -> float:
        """Wait until the pipeline is idle, showing progress and the phase (in place on a terminal)."""
        start = time.monotonic()
        deadline = start + timeout
        calm = 0
        last_line = 0.0
        interactive = sys.stdout.isatty()
        while time.monotonic() < deadline:
            now = time.monotonic()
            if interactive or now - last_line >= 2.0:
                counters = self.stack.counters()
                done = sum(v for k, v in counters.items() if k.endswith((".created", ".linked_by_email")))
                line = f"  {label}: {self.phase():<15} {done} records created or linked, {now - start:5.1f} s"
                sys.stdout.write(f"\r{line}" if interactive else f"{line}\n")
                sys.stdout.flush()
                last_line = now
            calm = calm + 1 if self.stack.is_idle() else 0
            if calm >= 3:
                if interactive:
                    sys.stdout.write("\n")
                return time.monotonic() - start
            time.sleep(0.2)
        raise TimeoutError(f"{label} did not finish within {timeout:.0f} s")

    # -- the steps -----------------------------------------------------------------------------
    def backfill(self) -> tuple[Snapshot, Snapshot, float]:
        before = self.snapshot()
        self.stack.backfill()
        seconds = self.wait_with_progress("initial sync", BACKFILL_TIMEOUT)
        if self.stack.config.deals.enabled:  # deals once their contacts and companies are synced
            self.stack.backfill(deals=True)
            seconds += self.wait_with_progress("deals", BACKFILL_TIMEOUT)
        return before, self.snapshot(), seconds

    def live_edits(self) -> tuple[list[float], Snapshot, Snapshot]:
        links = self._linked_pairs(LIVE_EDITS_PER_SIDE * 2)
        user = salesforce_client(self.sandbox.info)
        before = self.snapshot()
        latencies: list[float] = []
        for n, (contact_id, sobject, record_id) in enumerate(links):
            if n % 2 == 0:
                title = f"Director {n}"
                started = time.monotonic()
                self._hubspot_user_edit(contact_id, {"jobtitle": title})
                self._until(partial(self._salesforce_has, sobject, record_id, "Title", title))
            else:
                title = f"Principal {n}"
                started = time.monotonic()
                getattr(user, sobject).update(record_id, {"Title": title})
                self._until(partial(self._hubspot_has, contact_id, "jobtitle", title))
            latencies.append(time.monotonic() - started)
            self.out(f"  live edit {n + 1:>2}/{len(links)} ({'HubSpot' if n % 2 == 0 else 'Salesforce'}) "
                     f"synced in {latencies[-1] * 1000:6.0f} ms")  # fmt: skip
        self.stack.wait_idle(EDIT_TIMEOUT)
        return latencies, before, self.snapshot()

    def email_events(self) -> tuple[dict[str, Any], Snapshot, Snapshot, int]:
        """One run of the email events function over the seeded events; the Tasks now in the org."""
        before = self.snapshot()
        result = self.stack.run_email_events()
        after = self.snapshot()
        tasks = len(list(self.sandbox.salesforce.store.rows("Task", include_deleted=False)))
        return result, before, after, tasks

    def _linked_pairs(self, count: int) -> list[tuple[str, str, str]]:
        """Linked pairs whose HubSpot contact is in the inclusion list (only those sync both ways);
        not the persons of person accounts (they sync from Salesforce only, S9)."""
        contacts = self.sandbox.hubspot.store.records("contacts")
        ids = [c.id for c in contacts if included(self.stack.config, c.properties)]
        links = self.stack.state.links_by_hubspot(self.portal, ids)
        store = self.sandbox.salesforce.store
        pairs = [
            (cid, link.sf_object, link.sf_id)
            for cid, link in links.items()
            if not (store.get(link.sf_object, link.sf_id, include_deleted=False) or {}).get("IsPersonAccount")
        ]
        return pairs[:count]

    def _hubspot_user_edit(self, contact_id: str, properties: dict[str, str]) -> None:
        response = requests.post(
            f"{self.sandbox.hubspot_url}/_sandbox/crm-ui-edit",
            json={"objectType": "contacts", "id": contact_id, "properties": properties},
            timeout=10,
        )
        response.raise_for_status()

    @staticmethod
    def _until(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + EDIT_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("a live edit did not reach the other side in time")
            time.sleep(0.01)


def _delta(after: Snapshot, before: Snapshot) -> dict[str, int]:
    keys = set(after.counters) | set(before.counters)
    return {k: after.counters.get(k, 0) - before.counters.get(k, 0) for k in keys}


def render_health(health: list[CategoryCount]) -> list[str]:
    """Sync health by category: what each number is, and where to look at the records."""
    found = [c for c in health if c.errors]
    if not found:
        return ["  sync health: no entries"]
    lines = [f"  sync health ({sum(c.records for c in found)} records; details: hssync health):"]
    lines += [f"    {c.label:<16}{c.errors:>5} occurrences, {c.records:>4} records" for c in found]
    return lines


def render_summary(
    backfill: tuple[Snapshot, Snapshot, float],
    live: tuple[list[float], Snapshot, Snapshot],
    health: list[CategoryCount],
) -> str:
    b_before, b_after, seconds = backfill
    latencies, l_before, l_after = live
    bf = _delta(b_after, b_before)
    lines = ["", "Initial sync (hssync backfill)", f"  took {seconds:.1f} s", ""]
    header = f"  {'':<24}{'created':>9}{'updated':>9}{'linked':>9}"
    lines.append(header)
    for direction, label in (("hubspot_to_salesforce", "HubSpot -> Salesforce"),
                             ("salesforce_to_hubspot", "Salesforce -> HubSpot")):  # fmt: skip
        lines.append(
            f"  {label:<24}{bf.get(f'{direction}.created', 0):>9}{bf.get(f'{direction}.updated', 0):>9}"
            f"{bf.get(f'{direction}.linked_by_email', 0):>9}"
        )
    accounts = [
        ("companies created from Accounts", bf.get("salesforce_to_hubspot.companies_created", 0)),
        ("Accounts created from companies", bf.get("hubspot_to_salesforce.accounts_created", 0)),
        ("person accounts' contacts", bf.get("salesforce_to_hubspot.persons_created", 0)
         + bf.get("salesforce_to_hubspot.persons_linked_by_email", 0)),
        ("contacts associated with companies", bf.get("salesforce_to_hubspot.contacts_associated", 0)),
        ("Contacts moved to Accounts", bf.get("hubspot_to_salesforce.contacts_moved", 0)),
    ]  # fmt: skip
    if any(n for _, n in accounts):
        lines.append("  accounts: " + "; ".join(f"{label}: {n}" for label, n in accounts))
    lines += _deal_lines(bf)
    skipped = {k.removeprefix("skipped."): v for k, v in bf.items() if k.startswith("skipped.") and v}
    lines.append(
        f"  skipped: {sum(skipped.values())} ({', '.join(f'{k}: {v}' for k, v in sorted(skipped.items()))})"
    )
    lines.append(f"  errors (writes a CRM refused): {bf.get('errors', 0)}")
    lines += render_health(health)
    lines.append(
        f"  API calls: Salesforce {b_after.salesforce_calls - b_before.salesforce_calls}, "
        f"HubSpot {b_after.hubspot_calls - b_before.hubspot_calls}"
    )
    live_delta = _delta(l_after, l_before)
    updates = live_delta.get("hubspot_to_salesforce.updated", 0) + live_delta.get(
        "salesforce_to_hubspot.updated", 0
    )
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    lines += [
        "",
        f"Live edits ({len(latencies)}, alternating HubSpot and Salesforce users)",
        f"  latency p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
        f"  writes made: {updates} for {len(latencies)} edits -> echo writes: {updates - len(latencies)}",
        f"  API calls: Salesforce {l_after.salesforce_calls - l_before.salesforce_calls}, "
        f"HubSpot {l_after.hubspot_calls - l_before.hubspot_calls}",
    ]
    return "\n".join(lines)


def _deal_lines(bf: dict[str, int]) -> list[str]:
    """What deal sync did in the backfill (deal sync is on in the demo)."""
    deals = [
        ("deals created from Opportunities", bf.get("salesforce_to_hubspot.deals_created", 0)),
        ("Opportunities created from deals", bf.get("hubspot_to_salesforce.opportunities_created", 0)),
        ("contact roles -> deal contacts", bf.get("salesforce_to_hubspot.deal_contacts_set", 0)),
        ("deal contacts -> contact roles", bf.get("hubspot_to_salesforce.contact_roles_created", 0)),
        ("contacts that became customers", bf.get("lifecycle.customer", 0)),
        ("contacts that became opportunities", bf.get("lifecycle.opportunity", 0)),
    ]
    return (
        ["  deals: " + "; ".join(f"{label}: {n}" for label, n in deals)] if any(n for _, n in deals) else []
    )


def render_email_events(run: tuple[dict[str, Any], Snapshot, Snapshot, int]) -> str:
    result, before, after, tasks = run
    skipped = result.get("skipped") or {}
    return "\n".join(
        [
            "",
            "Marketing email events -> Salesforce Tasks (one run of the email events function)",
            f"  events read: {result.get('read', 0)}; tasks created: {result.get('tasks', 0)} "
            f"(Tasks in the org: {tasks})",
            f"  skipped: {sum(skipped.values())} "
            f"({', '.join(f'{k}: {v}' for k, v in sorted(skipped.items())) or 'none'}); "
            f"kept for another try: {result.get('waiting', 0)}",
            f"  API calls: Salesforce {after.salesforce_calls - before.salesforce_calls}, "
            f"HubSpot {after.hubspot_calls - before.hubspot_calls}",
        ]
    )


def run_demo(state_dir: Path, config_file: Path = DEMO_CONFIG) -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print("starting the sandbox (seeded) and the hssync stack in the local runtime ...", flush=True)
    with Sandbox(
        salesforce_port=0,
        hubspot_port=0,
        state_dir=state_dir,
        seed="demo",
        salesforce_daily_api_limit=LARGE_ORG_DAILY_API_LIMIT,
    ) as sandbox:
        seeded = ", ".join(f"{n} {k}" for system in sandbox.seeded.values() for k, n in system.items() if n)
        print(f"  seeded: {seeded}")
        logs = state_dir / "logs"
        with LocalStack(
            sandbox, config_file=config_file, aws_port=0, schedule_period=None, log_dir=logs
        ) as stack:
            print(f"  runtime ready: webhooks -> {stack.info.webhook_url}; function logs in {logs}")
            demo = Demo(sandbox, stack)
            backfill = demo.backfill()
            live = demo.live_edits()
            health = demo.health()
            emails = demo.email_events()
            print(render_summary(backfill, live, health))
            print(render_email_events(emails))
            latencies, before, after = live
            echo = _delta(after, before)
            updates = echo.get("hubspot_to_salesforce.updated", 0) + echo.get(
                "salesforce_to_hubspot.updated", 0
            )
            if updates != len(latencies):
                print(f"\nunexpected: {updates} writes for {len(latencies)} edits")
                return 1
    return 0
