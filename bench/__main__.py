"""``make bench``: measured, never asserted. Prints tables; the README carries the latest numbers.

1. Bulk syncs of new records through the event path, each on a fresh stack: 1,000 and 10,000 new
   HubSpot contacts to Salesforce, 1,000 and 10,000 new Salesforce leads to HubSpot (``--quick``:
   the 1,000-record runs only). Wall time, records/s, API calls per 1,000 records next to the floor
   the batch limits allow, and where the calls go.
2. 200 single live edits, alternating a HubSpot user and a Salesforce user: latency p50/p95.
3. Cold start: each handler module imported in a fresh interpreter.
4. The sandbox itself: each emulator's latency for a simple request.
5. Email events (bench/email_events.py): 10,000 opens and clicks of 2,000 synced contacts become
   Salesforce Tasks in one run of the email events function: API calls on each side, tasks/s.
6. Accounts (bench/accounts.py): with account sync on, 1,000 new Accounts with 3,000 Contacts from
   Salesforce, and 1,000 new companies with 3,000 contacts from HubSpot: API calls per 1,000 records
   (associations included) next to the floors.
6b. Deals (bench/deals.py): with account and deal sync on, 1,000 new Opportunities with 2 contact
   roles each from Salesforce (Closed Won), and 1,000 new deals from HubSpot: API calls per 1,000
   records (lifecycle updates included) next to the floors.
7. Several portals (bench/portals.py): two portals, one org: 1,000 new Salesforce leads, then
   1,000 lead updates, each reaching both portals: Salesforce calls and reads per 1,000 records
   (a change is read once for every portal), each portal's HubSpot calls.
7b. Edits during a bulk load (bench/fast_lane.py, issue 17's fast lane): users edit linked pairs at
   2 per second while 10,000 new Salesforce leads sync (``--quick``: 1,000): p50/p95 edit->visible
   of the edits, next to the figures before the fast lane, and the load's own duration.
8. A steady trickle (bench/trickle.py): edits at 1, 5, 20 and 100 a second, then 100,000 a day
   (1.16 a second) for ten minutes, on an org whose daily limit is 100,000: calls per 1,000 edits,
   p50/p95 edit->visible, the projected Salesforce calls a day next to a 15-minute poller's.
9. The soak (bench/soak.py): per seed, on a fresh stack, 1,000 new records and 300 live user edits
   at 10/s under injected faults; lost, duplicated, diverged records, lost updates, writes after idle
   (``--soak-seeds N``, default 10; ``--quick``: 3).

Results also go to ``.hssync/bench.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.accounts import accounts_run, render_accounts
from bench.deals import deals_run, render_deals
from bench.email_events import email_events_runs, render_email_events
from bench.emulators import measure_emulators
from bench.fast_lane import FULL_LOAD, MAX_EDITS, QUICK_LOAD, QUICK_MAX_EDITS, lane_run, render_lane
from bench.imports import TARGET_MS, measure_imports
from bench.pipeline import (
    LABELS,
    TARGET_EDIT_P95_SECONDS,
    TARGET_HUBSPOT_PER_1000,
    TARGET_SALESFORCE_PER_1000,
    Direction,
    SyncRun,
    edit_run,
    quiet_logs,
    render_breakdown,
    render_cost,
    render_edits,
    render_sync,
    sync_run,
)
from bench.portals import portals_runs, render_portals
from bench.soak import SoakRun, render_soak, soak_run
from bench.trickle import render_trickle, trickle_runs
from infra.runtime import moto_speedups

OUTPUT = Path(".hssync") / "bench.json"
FULL_SIZES = (1_000, 10_000)
QUICK_SIZES = (1_000,)
DIRECTIONS: tuple[Direction, ...] = ("hubspot_to_salesforce", "salesforce_to_hubspot")
SECONDS_PER_RECORD_ALLOWED = 0.3  # a run that has not finished by then is reported as incomplete
SOAK_SEEDS = 10
QUICK_SOAK_SEEDS = 3


def _heading(text: str) -> None:
    print(f"\n{text}\n{'=' * len(text)}", flush=True)


def _note(text: str) -> None:
    sys.stderr.write(f"  {text}\n")
    sys.stderr.flush()


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _soak(seeds: int) -> dict[str, Any]:
    _heading(f"Soak: new records and live edits under injected faults ({seeds} seeds, fresh stack each)")
    runs: list[SoakRun] = []
    for seed in range(1, seeds + 1):
        _note(f"soak seed {seed} of {seeds} ...")
        run = soak_run(seed)
        runs.append(run)
        _note(f"  seed {seed}: {'clean' if run.clean else 'PROBLEMS'} in {run.wall_seconds:.0f} s")
        print(render_soak([run]), flush=True)
    if len(runs) > 1:
        print("\n  all seeds:")
        print(render_soak(runs))
    totals = {
        name: sum(getattr(r, name) for r in runs)
        for name in ("lost", "duplicated", "diverged", "lost_updates", "writes_after_idle",
                     "salesforce_calls", "hubspot_calls", "faults_total", "wall_seconds")
    }  # fmt: skip
    return {"runs": [r.to_json() for r in runs], "totals": totals, "clean": all(r.clean for r in runs)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 1,000-record sync runs")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"JSON results (default {OUTPUT})")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=[
            "sync",
            "edits",
            "imports",
            "emulators",
            "email_events",
            "accounts",
            "deals",
            "portals",
            "trickle",
            "lane",
            "soak",
        ],
        help="leave a section out (repeatable)",
    )
    parser.add_argument(
        "--soak-seeds",
        type=int,
        default=None,
        help=f"soak runs, seeds 1..N (default {SOAK_SEEDS}; --quick: {QUICK_SOAK_SEEDS})",
    )
    return parser


def _header(quick: bool, patched: list[str]) -> dict[str, Any]:
    return {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "quick": quick,
        "targets": {
            "salesforce_calls_per_1000": TARGET_SALESFORCE_PER_1000,
            "hubspot_calls_per_1000": TARGET_HUBSPOT_PER_1000,
            "edit_p95_seconds": TARGET_EDIT_P95_SECONDS,
            "handler_import_ms": TARGET_MS,
        },
        "moto_speedups": patched,
    }


def _sync(sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    _heading("Bulk sync of new records (event path, fresh stack per run)")
    runs: list[SyncRun] = []
    for size in sizes:
        for direction in DIRECTIONS:
            _note(f"{LABELS[direction]}: {size:,} new records ...")
            run = sync_run(direction, size, timeout=max(300.0, size * SECONDS_PER_RECORD_ALLOWED))
            runs.append(run)
            _note(f"  done in {run.idle_seconds:.1f} s (complete: {run.complete})")
    print(render_sync(runs))
    print()
    print(render_cost(runs))
    for run in runs:
        if run.records == min(sizes):
            print()
            print(render_breakdown(run))
    return [r.to_json() for r in runs]


def _edits() -> dict[str, Any]:
    _heading("Single live edits (one at a time, alternating HubSpot and Salesforce users)")
    edits = edit_run()
    print(render_edits(edits))
    return edits.to_json()


def _imports() -> dict[str, Any]:
    _heading("Cold start: handler module import in a fresh interpreter (best of 3)")
    imports = measure_imports()
    print(imports.render())
    return imports.to_json()


def _emulators() -> dict[str, Any]:
    _heading("The sandbox itself: emulator latency")
    emulators = measure_emulators()
    print(emulators.render())
    return emulators.to_json()


def _email_events() -> dict[str, Any]:
    _heading("Email events -> Salesforce Tasks (10,000 events, 2,000 synced contacts, fresh stack)")
    runs = email_events_runs()
    print(render_email_events(runs))
    return {"runs": [run.to_json() for run in runs]}


def _accounts() -> list[dict[str, Any]]:
    _heading("Accounts: companies <-> Accounts with their contacts (1,000 + 3,000 each way, fresh stack)")
    runs = [accounts_run(direction) for direction in ("salesforce_to_hubspot", "hubspot_to_salesforce")]
    print(render_accounts(runs))
    return [r.to_json() for r in runs]


def _deals() -> list[dict[str, Any]]:
    _heading("Deals: Opportunities (2 contact roles each) <-> deals (1,000 each way, fresh stack)")
    runs = [deals_run(direction) for direction in ("salesforce_to_hubspot", "hubspot_to_salesforce")]
    print(render_deals(runs))
    return [r.to_json() for r in runs]


def _portals() -> list[dict[str, Any]]:
    _heading("Several portals, one org: Salesforce changes fanned out to two portals (fresh stack)")
    runs = portals_runs()
    print(render_portals(runs))
    return [r.to_json() for r in runs]


def _trickle(quick: bool) -> list[dict[str, Any]]:
    _heading("A steady trickle of edits: adaptive batching's calls and latency (org limit 100,000)")
    runs = trickle_runs(quick)
    print(render_trickle(runs))
    return [r.to_json() for r in runs]


def _lane(quick: bool) -> dict[str, Any]:
    records, edits = (QUICK_LOAD, QUICK_MAX_EDITS) if quick else (FULL_LOAD, MAX_EDITS)
    _heading(f"Edits during a bulk load: users' edits at 2/s while {records:,} new leads sync (fresh stack)")
    run = lane_run(records, edits, timeout=max(300.0, records * SECONDS_PER_RECORD_ALLOWED))
    print(render_lane(run))
    return run.to_json()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet_logs()
    patched = list(moto_speedups.PATCHES)  # applied in the moto server process
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    results = _header(args.quick, patched)
    began = time.monotonic()
    if "sync" not in args.skip:
        results["sync"] = _sync(sizes)
    if "edits" not in args.skip:
        results["edits"] = _edits()
    if "imports" not in args.skip:
        results["imports"] = _imports()
    if "emulators" not in args.skip:
        results["emulators"] = _emulators()
    if "email_events" not in args.skip:
        results["email_events"] = _email_events()
    if "accounts" not in args.skip:
        results["accounts"] = _accounts()
    if "deals" not in args.skip:
        results["deals"] = _deals()
    if "portals" not in args.skip:
        results["portals"] = _portals()
    if "trickle" not in args.skip:
        results["trickle"] = _trickle(args.quick)
    if "lane" not in args.skip:
        results["lane"] = _lane(args.quick)
    if "soak" not in args.skip:
        seeds = args.soak_seeds or (QUICK_SOAK_SEEDS if args.quick else SOAK_SEEDS)
        results["soak"] = _soak(seeds)
    results["total_seconds"] = time.monotonic() - began
    print(f"\n  moto runs in its own process, with {len(patched)} SQS hot spots patched (same answers)")
    print("  (infra/runtime/moto_speedups.py: moto's SQS model is quadratic in the queue depth)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(_json_safe(results), indent=2, sort_keys=True) + "\n")
    print(f"  total {results['total_seconds']:.0f} s; results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
