"""The pipeline under load: bulk syncs of new records and single live edits, on the local stack.

Every run gets a fresh world (sandbox + moto + the SAM stack in the local runtime, no schedules), so
only the event path works: HubSpot webhooks for new contacts, Salesforce change events for new leads.
The records are created in-process through the emulators' stores, publishing webhooks / change events
exactly as their API handlers do, so that creating them costs no API call: every call counted by the
emulators is the pipeline's. Progress and results are observed in-process too.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from bench.cost import Cost, Usage, per_million, per_record
from bench.report import percentile, table
from infra.local_stack import LocalStack
from infra.sandbox.hubspot.store import WriteSource
from infra.sandbox.runner import Sandbox
from infra.sandbox.salesforce.settings import LARGE_ORG_DAILY_API_LIMIT
from infra.sandbox.salesforce.store import Actor

Direction = Literal["hubspot_to_salesforce", "salesforce_to_hubspot"]
LABELS: dict[Direction, str] = {
    "hubspot_to_salesforce": "HubSpot -> Salesforce",
    "salesforce_to_hubspot": "Salesforce -> HubSpot",
}

# issue 3's targets
TARGET_SALESFORCE_PER_1000 = 12
TARGET_HUBSPOT_PER_1000 = 25
TARGET_EDIT_P95_SECONDS = 2.0

# the batch limits the floors are computed from (DESIGN.md §4)
SF_COLLECTION_WRITE = 200  # sObject Collections create/update
SF_COLLECTION_RETRIEVE = 2000  # sObject Collections retrieve
HS_BATCH = 100  # batch read / create / update
HS_BATCH_WITH_HISTORY = 50  # batch read with propertiesWithHistory

SF_IMPORT_TRANSACTION = 200  # leads per transaction, as an import tool writes them (one collection call)
LIVE_EDITS = 200
TARGET_POLL_CALLS = 3  # issue 17: a scheduled poll after a 1,000-record load, per CRM
TARGET_COST_NEW_RECORDS = 2.0  # issue 17: modelled AWS cost per million new records, USD
EDIT_TIMEOUT = 30.0
PROGRESS_EVERY = 10.0
# ``schedule_period=None`` keeps the template's own expression (the poller's rate(5 minutes)), which
# would re-read every record mid-run; a period of a year keeps the run on the event path alone
NO_SCHEDULE = 365 * 24 * 3600.0


def _per_1000(calls: int, records: int) -> float:
    return calls * 1000 / records


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Floor:
    salesforce: int
    hubspot: int
    basis: str


def floor_for(direction: Direction, records: int) -> Floor:
    """The fewest calls the APIs' batch limits allow for ``records`` new records in ``direction``.

    HubSpot -> Salesforce: read the contacts (batch read with history, 50 per call), look the emails up
    in Salesforce (Lead and Contact SOQL: one Composite call can carry them), create (200 per call).
    Salesforce -> HubSpot: retrieve the leads (2,000 per call), look the emails up in HubSpot (batch
    read by email, 100 per call), create (100 per call).
    """
    if direction == "hubspot_to_salesforce":
        return Floor(
            salesforce=1 + _ceil_div(records, SF_COLLECTION_WRITE),
            hubspot=_ceil_div(records, HS_BATCH_WITH_HISTORY),
            basis="SF: 1 composite lookup + creates/200; HS: reads/50 (with history)",
        )
    return Floor(
        salesforce=_ceil_div(records, SF_COLLECTION_RETRIEVE),
        hubspot=2 * _ceil_div(records, HS_BATCH),
        basis="SF: retrieves/2000; HS: email lookups/100 + creates/100",
    )


@dataclass
class SyncRun:
    direction: Direction
    records: int
    create_seconds: float  # creating the records in the emulator (publishing their events)
    synced_seconds: float  # until every record exists on the other side
    idle_seconds: float  # until the pipeline is idle (echo events handled too)
    complete: bool
    created_on_other_side: int
    linked: int
    salesforce_calls: int
    hubspot_calls: int
    salesforce_breakdown: dict[str, int]
    hubspot_breakdown: dict[str, int]
    counters: dict[str, int]
    invocations: dict[str, int]
    function_failures: dict[str, int]  # invocations that errored or timed out, per function
    dead_letters: dict[str, int]
    health_entries: int
    # calls of the one record each way that brought the fresh stack to its steady state (see warm_up)
    warm_up_calls: dict[str, int] = field(default_factory=dict)
    # one scheduled poll once the load had synced: its calls per CRM and what it queued again
    poll_after: dict[str, int] = field(default_factory=dict)
    aws: Usage | None = None  # what the load asked of AWS (bench.cost)
    floor: Floor = field(init=False)

    def __post_init__(self) -> None:
        self.floor = floor_for(self.direction, self.records)

    @property
    def records_per_second(self) -> float:
        return self.records / self.idle_seconds if self.idle_seconds else 0.0

    @property
    def cost(self) -> Cost | None:
        """Modelled AWS cost per million records like these (bench.cost)."""
        return per_million(self.aws, self.records) if self.aws is not None else None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body.update(
            aws_cost_per_million=self.cost.to_json() if self.cost else None,
            aws_per_record=per_record(self.aws, self.records) if self.aws else None,
            records_per_second=self.records_per_second,
            salesforce_calls_per_1000=_per_1000(self.salesforce_calls, self.records),
            hubspot_calls_per_1000=_per_1000(self.hubspot_calls, self.records),
            salesforce_floor_per_1000=_per_1000(self.floor.salesforce, self.records),
            hubspot_floor_per_1000=_per_1000(self.floor.hubspot, self.records),
        )
        return body


@dataclass
class EditRun:
    latencies: list[float]  # seconds, in edit order (even: HubSpot user, odd: Salesforce user)
    salesforce_calls: int
    hubspot_calls: int
    salesforce_breakdown: dict[str, int]
    hubspot_breakdown: dict[str, int]
    writes: int  # updates the pipeline made for the edits (echo writes = writes - edits)
    # the owners stage during the edits (its cache warmed by the initial sync): its API calls (both
    # systems' owner reads) and its invocations' mean duration
    owner_refreshes: int = 0  # each: one Salesforce Composite call + the HubSpot owners pages
    hubspot_owner_calls: int = 0
    owner_stage_mean_ms: float | None = None

    def stats(self, side: int | None = None) -> dict[str, float]:
        picked = [s for n, s in enumerate(self.latencies) if side is None or n % 2 == side]
        return {
            "n": len(picked),
            "p50_s": percentile(picked, 50),
            "p95_s": percentile(picked, 95),
            "max_s": max(picked),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "all": self.stats(),
            "hubspot_user_edits": self.stats(0),
            "salesforce_user_edits": self.stats(1),
            "target_p95_s": TARGET_EDIT_P95_SECONDS,
        }


# -- the world -----------------------------------------------------------------------------------
@contextmanager
def fresh_world(
    log_dir: Path | None = None, salesforce_daily_api_limit: int = LARGE_ORG_DAILY_API_LIMIT
) -> Iterator[tuple[Sandbox, LocalStack]]:
    """An empty sandbox and the stack connected to it; no scheduled poll (events only). The org's
    daily limit sets the budget of hssync's adaptive batching (``shared.pacing``): a large org's by
    default, as the bench measures the pipeline, not the rationing of a small org's calls."""
    with tempfile.TemporaryDirectory(prefix="hssync-bench-") as tmp:
        state = Path(tmp)
        with (
            Sandbox(
                salesforce_port=0,
                hubspot_port=0,
                state_dir=state,
                seed="none",
                salesforce_daily_api_limit=salesforce_daily_api_limit,
            ) as sandbox,
            LocalStack(
                sandbox, aws_port=0, schedule_period=NO_SCHEDULE, log_dir=log_dir or state / "logs"
            ) as stack,
        ):
            try:
                yield sandbox, stack
            finally:
                # moto's backends are module state shared by every moto server of this process:
                # without a reset the next world would start with this one's tables and queues
                # (and, the emulators' ids being deterministic, with links to records it never made)
                stack.runtime.stop()
                stack.runtime = None
                stack.moto.reset()


def api_calls(sandbox: Sandbox) -> tuple[Counter[str], Counter[str]]:
    sf = sandbox.salesforce.stats.snapshot()["calls"]
    hs = sandbox.hubspot.stats.snapshot()["calls"]
    return Counter(sf), Counter(hs)


def _since(after: Counter[str], before: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in sorted((after - before).items(), key=lambda kv: -kv[1]) if v}


def _invocations(stack: LocalStack) -> dict[str, int]:
    functions = stack.runtime.stats()["functions"]
    return {name: int(s.get("invocations", 0)) for name, s in sorted(functions.items())}


def _failures(stack: LocalStack) -> dict[str, int]:
    functions = stack.runtime.stats()["functions"]
    return {
        name: int(s.get("errors", 0)) + int(s.get("timeouts", 0))
        for name, s in sorted(functions.items())
        if s.get("errors") or s.get("timeouts")
    }


def dead_letters_by_queue(stack: LocalStack) -> dict[str, int]:
    sqs = stack._boto("sqs")
    out = {}
    for name, url in stack.info.queues.items():
        if "DeadLetter" in name:
            depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            out[name] = int(depth["Attributes"]["ApproximateNumberOfMessages"])
    return out


# -- creating records as users do (no API call) ----------------------------------------------------
def _person(tag: str, n: int) -> dict[str, str]:
    return {
        "first": f"Bench{n}",
        "last": f"Person{tag}{n}",
        "email": f"bench.{tag}.{n}@load.example",
        "company": f"Load Co {n % 97}",
        "title": "Buyer",
        "phone": f"+1 555 {n:07d}",
        "city": "Springfield",
    }


def create_hubspot_contacts(sandbox: Sandbox, count: int, tag: str) -> list[str]:
    """New contacts, as an import into the portal makes them: webhooks published per contact."""
    store = sandbox.hubspot.store
    source = WriteSource("IMPORT")
    ids = []
    for n in range(count):
        p = _person(tag, n)
        record = store.create(
            "contacts",
            {
                "email": p["email"],
                "firstname": p["first"],
                "lastname": p["last"],
                "company": p["company"],
                "jobtitle": p["title"],
                "phone": p["phone"],
                "city": p["city"],
            },
            source=source,
        )
        ids.append(record.id)
    return ids


def create_salesforce_leads(sandbox: Sandbox, count: int, tag: str) -> list[str]:
    """New leads, as an import tool writes them through the REST API (one transaction per 200):
    committed in the emulator's store, so change events are published as for an API write."""
    emulator = sandbox.salesforce
    actor = Actor(emulator.integration_user_id, "59.0", None)  # another API client: not hssync
    ids: list[str] = []
    for start in range(0, count, SF_IMPORT_TRANSACTION):
        with emulator.lock, emulator.store.transaction(actor):
            for n in range(start, min(count, start + SF_IMPORT_TRANSACTION)):
                p = _person(tag, n)
                values = {
                    "FirstName": p["first"],
                    "LastName": p["last"],
                    "Email": p["email"],
                    "Company": p["company"],
                    "Title": p["title"],
                    "Phone": p["phone"],
                    "City": p["city"],
                }
                ids.append(emulator.store.create("Lead", values))
    return ids


def _salesforce_emails(sandbox: Sandbox, sobject: str) -> set[str]:
    emulator = sandbox.salesforce
    with emulator.lock:
        rows = emulator.store.rows(sobject, include_deleted=False)
        return {str(r["Email"]).lower() for r in rows if r.get("Email")}


def _hubspot_emails(sandbox: Sandbox) -> set[str]:
    return {
        str(r.properties["email"]).lower()
        for r in sandbox.hubspot.store.records("contacts")
        if r.properties.get("email")
    }


# -- bulk sync -------------------------------------------------------------------------------------
def print_progress(line: str) -> None:
    sys.stderr.write(f"    {line}\n")
    sys.stderr.flush()


def sync_run(
    direction: Direction, records: int, *, timeout: float, progress: Callable[[str], None] = print_progress
) -> SyncRun:
    with fresh_world() as (sandbox, stack):
        return _sync(sandbox, stack, direction, records, timeout=timeout, progress=progress)


def _sync(
    sandbox: Sandbox,
    stack: LocalStack,
    direction: Direction,
    records: int,
    *,
    timeout: float,
    progress: Callable[[str], None],
) -> SyncRun:
    tag = f"{'h' if direction == 'hubspot_to_salesforce' else 's'}{records}"
    wanted = {_person(tag, n)["email"] for n in range(records)}
    warm_calls = warm_up(sandbox, stack, tag)
    stack.runtime.reset_stats()
    stack.moto.metered(reset=True)
    events_before = sandbox.salesforce.cdc.describe()["last_replay_id"]
    sf_before, hs_before = api_calls(sandbox)
    counters_before = Counter(stack.counters())

    started = time.monotonic()
    created, arrived = _create(sandbox, direction, records, tag, wanted)
    create_seconds = time.monotonic() - started
    label = f"{LABELS[direction]} {records:,}"
    done, synced_seconds, idle_seconds = _await_sync(
        stack, arrived, records, started, timeout, label, progress
    )
    complete = done == records and idle_seconds == idle_seconds  # not NaN
    if not complete:
        progress(f"{label}: timed out after {timeout:.0f} s with {done:,} synced")
        idle_seconds = time.monotonic() - started

    sf_after, hs_after = api_calls(sandbox)
    links = _links(sandbox, stack, direction, created)
    counters = Counter(stack.counters())
    counters.subtract(counters_before)
    events = sandbox.salesforce.cdc.describe()["last_replay_id"] - events_before
    aws = Usage.counted(stack.moto.metered(), stack.runtime.stats()["functions"], events)
    poll_after = poll_once(sandbox, stack) if complete else {}
    return SyncRun(
        direction=direction,
        records=records,
        create_seconds=create_seconds,
        synced_seconds=synced_seconds,
        idle_seconds=idle_seconds,
        complete=complete,
        created_on_other_side=done,
        linked=links,
        salesforce_calls=sum((sf_after - sf_before).values()),
        hubspot_calls=sum((hs_after - hs_before).values()),
        salesforce_breakdown=_since(sf_after, sf_before),
        hubspot_breakdown=_since(hs_after, hs_before),
        counters={k: v for k, v in sorted(counters.items()) if v},
        invocations=_invocations(stack),
        function_failures=_failures(stack),
        dead_letters=dead_letters_by_queue(stack),
        health_entries=len(stack.health()),
        warm_up_calls=warm_calls,
        poll_after=poll_after,
        aws=aws,
    )


def poll_once(sandbox: Sandbox, stack: LocalStack) -> dict[str, int]:
    """One scheduled poll (the reconciliation that runs every few minutes): the calls it makes on
    each CRM, and the records it queues again, once the stack is idle after it."""
    sf_before, hs_before = api_calls(sandbox)
    answer = stack.runtime.invoke_schedule("PollFunction")
    if not answer.ok:
        raise RuntimeError(f"the scheduled poll failed: {answer.payload}")
    stack.wait_idle(120.0)
    sf_after, hs_after = api_calls(sandbox)
    return {
        "salesforce_calls": sum((sf_after - sf_before).values()),
        "hubspot_calls": sum((hs_after - hs_before).values()),
        "queued": sum(answer.payload.get("queued", {}).values()),
    }


def _create(
    sandbox: Sandbox, direction: Direction, records: int, tag: str, wanted: set[str]
) -> tuple[list[str], Callable[[], int]]:
    """Create the records on the source side: their ids, and how many of ``wanted`` (their emails)
    have arrived on the other side."""
    if direction == "hubspot_to_salesforce":
        created = create_hubspot_contacts(sandbox, records, tag)

        def arrived() -> int:
            return len(wanted & _salesforce_emails(sandbox, "Lead"))
    else:
        created = create_salesforce_leads(sandbox, records, tag)

        def arrived() -> int:
            return len(wanted & _hubspot_emails(sandbox))

    return created, arrived


def _await_sync(
    stack: LocalStack,
    arrived: Callable[[], int],
    records: int,
    started: float,
    timeout: float,
    label: str,
    progress: Callable[[str], None],
) -> tuple[int, float, float]:
    """Poll until every record arrived and the stack stayed idle for 3 polls, or the timeout:
    (records arrived, seconds until the last arrived, seconds until idle), NaN for what did not happen."""
    deadline = started + timeout
    synced_seconds = idle_seconds = float("nan")
    done = 0
    calm = 0
    last_report = started
    while time.monotonic() < deadline:
        now = time.monotonic()
        if done < records:
            done = arrived()
            if done == records:
                synced_seconds = now - started
        if done == records:
            calm = calm + 1 if stack.is_idle() else 0
            if calm >= 3:
                idle_seconds = time.monotonic() - started
                break
        if now - last_report >= PROGRESS_EVERY:
            progress(f"{label}: {done:,} synced after {now - started:5.0f} s")
            last_report = now
        time.sleep(0.25)
    return done, synced_seconds, idle_seconds


def _links(sandbox: Sandbox, stack: LocalStack, direction: Direction, created: list[str]) -> int:
    portal = str(sandbox.hs_creds.portal_id)
    if direction == "hubspot_to_salesforce":
        return _count_links(lambda chunk: stack.state.links_by_hubspot(portal, chunk), created)
    return _count_links(lambda chunk: stack.state.links_by_salesforce(portal, chunk), created)


def warm_up(sandbox: Sandbox, stack: LocalStack, tag: str) -> dict[str, int]:
    """One record each way through a fresh stack, so that the measured run sees a stack in its
    steady state. What it costs is what any stack pays once per cache period: the Salesforce token
    and describe, the HubSpot property definitions and the owners of both sides (all shared between
    containers through the state table). Returned per system, and reported on its own."""
    sf_before, hs_before = api_calls(sandbox)
    create_hubspot_contacts(sandbox, 1, f"warm-{tag}")
    create_salesforce_leads(sandbox, 1, f"warm-{tag}")
    if not stack.wait_idle(120):
        raise TimeoutError("the warm-up did not settle")
    sf_after, hs_after = api_calls(sandbox)
    return {
        "salesforce": sum((sf_after - sf_before).values()),
        "hubspot": sum((hs_after - hs_before).values()),
    }


def _count_links(lookup: Callable[[list[str]], dict[str, Any]], ids: list[str]) -> int:
    found = 0
    for start in range(0, len(ids), 100):
        found += len(lookup(ids[start : start + 100]))
    return found


# -- live edits ------------------------------------------------------------------------------------
def edit_run(edits: int = LIVE_EDITS, progress: Callable[[str], None] = print_progress) -> EditRun:
    """``edits`` single edits, alternating a HubSpot user and a Salesforce user, one at a time, each
    timed from the user's save until the value shows on the other side, on ``edits`` linked pairs."""
    with fresh_world() as (sandbox, stack):
        ids = create_hubspot_contacts(sandbox, edits, "edit")
        if not stack.wait_idle(300):
            raise TimeoutError("the linked pairs for the live edits did not sync")
        portal = str(sandbox.hs_creds.portal_id)
        links = stack.state.links_by_hubspot(portal, ids)
        pairs = [(cid, links[cid].sf_object, links[cid].sf_id) for cid in ids if cid in links]
        if len(pairs) < edits:
            raise RuntimeError(f"only {len(pairs)} of {edits} contacts were linked")
        sf_before, hs_before = api_calls(sandbox)
        counters_before = Counter(stack.counters())
        stack.runtime.reset_stats()
        latencies: list[float] = []
        for n, (contact_id, sobject, sf_id) in enumerate(pairs):
            title = f"Edit {n}"
            if n % 2 == 0:
                started = time.monotonic()
                hubspot_user_edit(sandbox, contact_id, {"jobtitle": title})
                _until(partial(_salesforce_has, sandbox, sobject, sf_id, "Title", title))
            else:
                started = time.monotonic()
                salesforce_user_edit(sandbox, sobject, sf_id, {"Title": title})
                _until(partial(_hubspot_has, sandbox, contact_id, "jobtitle", title))
            latencies.append(time.monotonic() - started)
            if (n + 1) % 50 == 0:
                progress(f"live edits: {n + 1}/{edits}, last {latencies[-1] * 1000:.0f} ms")
        stack.wait_idle(EDIT_TIMEOUT)
        sf_after, hs_after = api_calls(sandbox)
        counters = Counter(stack.counters())
        counters.subtract(counters_before)
        writes = counters["hubspot_to_salesforce.updated"] + counters["salesforce_to_hubspot.updated"]
        owners = stack.runtime.stats()["functions"].get("OwnersFunction", {})
        return EditRun(
            latencies=latencies,
            salesforce_calls=sum((sf_after - sf_before).values()),
            hubspot_calls=sum((hs_after - hs_before).values()),
            salesforce_breakdown=_since(sf_after, sf_before),
            hubspot_breakdown=_since(hs_after, hs_before),
            writes=writes,
            owner_refreshes=counters["owners.refreshed"],
            hubspot_owner_calls=(hs_after - hs_before).get("GET /crm/v3/owners", 0),
            owner_stage_mean_ms=(owners.get("duration_ms") or {}).get("mean"),
        )


def hubspot_user_edit(sandbox: Sandbox, contact_id: str, properties: dict[str, str]) -> None:
    """As ``/_sandbox/crm-ui-edit`` does: a user's edit in the HubSpot UI (webhooks say CRM_UI)."""
    emulator = sandbox.hubspot
    with emulator.lock:
        record = emulator.store.resolve("contacts", contact_id)
        if record is None:
            raise LookupError(f"contact {contact_id} is gone")
        emulator.store.update("contacts", record, properties, source=WriteSource("CRM_UI", None, 1))


def salesforce_user_edit(
    sandbox: Sandbox, sobject: str, record_id: str, values: dict[str, str]
) -> dict[str, Any]:
    """A user's save in the Salesforce UI (change events carry an empty changeOrigin); the saved row."""
    emulator = sandbox.salesforce
    with emulator.lock, emulator.store.transaction(Actor(emulator.integration_user_id)):
        return emulator.store.update(sobject, record_id, values)


def _salesforce_has(sandbox: Sandbox, sobject: str, record_id: str, name: str, value: str) -> bool:
    with sandbox.salesforce.lock:
        row = sandbox.salesforce.store.get(sobject, record_id, include_deleted=False)
        return row is not None and row.get(name) == value


def _hubspot_has(sandbox: Sandbox, contact_id: str, name: str, value: str) -> bool:
    record = sandbox.hubspot.store.get("contacts", contact_id)
    return record is not None and record.properties.get(name) == value


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + EDIT_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("a live edit did not reach the other side in time")
        time.sleep(0.002)


# -- rendering -------------------------------------------------------------------------------------
def render_sync(runs: list[SyncRun]) -> str:
    rows = []
    for r in runs:
        rows.append(
            (
                LABELS[r.direction],
                r.records,
                "yes" if r.complete else "NO",
                r.synced_seconds,
                r.idle_seconds,
                r.records_per_second,
                _per_1000(r.salesforce_calls, r.records),
                _per_1000(r.floor.salesforce, r.records),
                _per_1000(r.hubspot_calls, r.records),
                _per_1000(r.floor.hubspot, r.records),
            )
        )
    headers = [
        "direction", "records", "complete", "synced s", "idle s", "records/s",
        "SF calls/1k", "SF floor/1k", "HS calls/1k", "HS floor/1k",
    ]  # fmt: skip
    lines = [table(headers, rows)]
    lines.append(
        f"  targets: <= {TARGET_SALESFORCE_PER_1000} Salesforce and <= {TARGET_HUBSPOT_PER_1000} HubSpot "
        "calls per 1,000 records synced"
    )
    warm = runs[0].warm_up_calls if runs else {}
    lines.append(
        "  measured on a stack in its steady state: bringing a fresh stack there (one record each way) "
        f"took {warm.get('salesforce', 0)} Salesforce and {warm.get('hubspot', 0)} HubSpot calls (token, "
        "describe, property definitions, owners: once per cache period, shared by all containers)"
    )
    for r in runs:
        if r.poll_after:
            p = r.poll_after
            lines.append(
                f"  one scheduled poll after {LABELS[r.direction]} {r.records:,}: {p['salesforce_calls']} "
                f"Salesforce and {p['hubspot_calls']} HubSpot calls, {p['queued']} records queued again "
                f"(target <= {TARGET_POLL_CALLS} calls each)"
            )
    lines.append("  synced s: until every record exists on the other side; idle s: until the echo events")
    lines.append("  are handled too (records/s uses idle s). Floors: " + "; ".join(
        sorted({f"{LABELS[r.direction]}: {r.floor.basis}" for r in runs})
    ))  # fmt: skip
    return "\n".join(lines)


def render_cost(runs: list[SyncRun]) -> str:
    """Modelled AWS cost per million records of each run (bench.cost), with the counts behind it."""
    rows = []
    for r in runs:
        cost, aws = r.cost, r.aws
        if cost is None or aws is None:
            continue
        each = per_record(aws, r.records)
        rows.append(
            (
                f"{LABELS[r.direction]} {r.records:,}",
                cost.lambda_usd,
                cost.sqs_usd,
                cost.dynamodb_usd,
                cost.eventbridge_usd,
                cost.total,
                each["function_ms"],
                each["sqs_requests"],
                each["dynamodb_write_units"],
                each["dynamodb_read_units"],
            )
        )
    headers = [
        "run", "Lambda $", "SQS $", "DynamoDB $", "EventBridge $", "total $/1M",
        "fn ms/rec", "SQS req/rec", "DDB WRU/rec", "DDB RRU/rec",
    ]  # fmt: skip
    return "\n".join(
        [
            "  Modelled AWS cost per million new records (us-east-1 list prices; bench/cost.py):",
            table(headers, rows),
            f"  target: <= ${TARGET_COST_NEW_RECORDS:.0f} per million new records; function time on this",
            "  machine's 2 shared cores (a proxy); CloudWatch Logs and storage not modelled",
        ]
    )


def render_breakdown(run: SyncRun) -> str:
    rows: list[tuple[str, str, int, float]] = []
    for system, breakdown in (("Salesforce", run.salesforce_breakdown), ("HubSpot", run.hubspot_breakdown)):
        for template, calls in breakdown.items():
            rows.append((system, template, calls, _per_1000(calls, run.records)))
    title = f"  {LABELS[run.direction]}, {run.records:,} records: API calls by path"
    invocations = ", ".join(f"{k} {v:,}" for k, v in run.invocations.items() if v)
    counters = ", ".join(f"{k} {v:,}" for k, v in run.counters.items())
    return "\n".join(
        [
            title,
            table(["system", "method and path", "calls", "per 1k"], rows),
            f"  invocations: {invocations}",
            f"  counters: {counters}",
            f"  links: {run.linked:,}; dead letters: {sum(run.dead_letters.values())}; "
            f"health entries: {run.health_entries}; "
            f"failed invocations: {sum(run.function_failures.values())}",
        ]
    )


def render_edits(run: EditRun) -> str:
    rows = []
    for label, side in (("all", None), ("HubSpot user edits", 0), ("Salesforce user edits", 1)):
        s = run.stats(side)
        rows.append((label, int(s["n"]), s["p50_s"] * 1000, s["p95_s"] * 1000, s["max_s"] * 1000))
    edits = len(run.latencies)
    return "\n".join(
        [
            table(["live edits", "n", "p50 ms", "p95 ms", "max ms"], rows),
            f"  target: p95 < {TARGET_EDIT_P95_SECONDS * 1000:.0f} ms; writes made {run.writes} for {edits} "
            f"edits (echo writes: {run.writes - edits}); API calls per edit: Salesforce "
            f"{run.salesforce_calls / edits:.2f}, HubSpot {run.hubspot_calls / edits:.2f}",
            f"  owners stage (warm cache): {run.owner_refreshes} owner refreshes, "
            f"{run.hubspot_owner_calls} owners API calls for {edits} edits; "
            + (
                f"{run.owner_stage_mean_ms:.0f} ms per invocation = "
                f"{run.owner_stage_mean_ms / 10 / run.stats()['p50_s']:.1f}% of the p50 edit latency"
                if run.owner_stage_mean_ms
                else "not invoked"
            ),
        ]
    )


def quiet_logs() -> None:
    for name in ("werkzeug", "infra.runtime", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
