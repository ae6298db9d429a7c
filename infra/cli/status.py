"""``hssync status``: is hssync running against each CRM, how much API it used, the backlog, the
dead letters and the poller's lag. Exit 1 when something needs attention (so it can gate scripts),
2 when the stack cannot be reached."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

from infra.cli.target import Target, Unavailable, add_target, resolve
from shared.operations.status import StatusReport, gather

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def report_of(target: Target) -> StatusReport:
    return gather(
        crm_store=target.crm_store,
        accounts=target.accounts(),
        queues=target.queue_stats,
        activity=target.state,
        synced=target.synced_counts,
        portal=str(target.portal),
        now=target.now(),
    )


def _lag(value: dt.timedelta | None) -> str:
    if value is None:
        return "never polled"
    minutes = value.total_seconds() / 60
    return f"{minutes:.0f} min behind" if minutes < 120 else f"{minutes / 60:.1f} h behind"


def status_document(report: StatusReport) -> dict[str, Any]:
    return {
        "at": report.at.isoformat(),
        "needs_attention": report.needs_attention,
        "attention": report.attention,
        "crms": [
            {
                "system": line.state.system.value,
                "account": line.state.account,
                "status": line.state.status.value,
                "reason": line.state.reason,
                "message": line.state.message,
                "used": line.used,
                "limit": line.limit,
                "allocation": line.allocation,
                "usage": [{"hour": s.hour.isoformat(), "used": s.used, "limit": s.limit} for s in line.usage],
            }
            for line in report.crms
        ],
        "queues": [
            {
                "name": q.name,
                "visible": q.depth.visible,
                "in_flight": q.depth.in_flight,
                "delayed": q.depth.delayed,
                "oldest_age_seconds": q.depth.oldest_age,
            }
            for q in report.queues
        ],
        "dead_letters": [
            {"name": d.name, "depth": d.depth, "reasons": d.reasons, "redrivable": d.source_queue is not None}
            for d in report.dead_letters
        ],
        "cursors": {name: (lag.total_seconds() if lag else None) for name, lag in report.cursors.items()},
        "last_seen": {source: (at.isoformat() if at else None) for source, at in report.last_seen.items()},
        "synced": {"last_hour": report.last_hour, "last_day": report.last_day},
    }


def _print(report: StatusReport) -> None:
    for line in report.crms:
        state = line.state
        why = f" ({state.reason}: {state.message or ''})" if state.reason else ""
        usage = ""
        if line.used is not None:
            allocation = f", allocation {line.allocation}" if line.allocation is not None else ""
            usage = f"; API calls in the last 24 h: {line.used} of {line.limit}{allocation}"
        print(f"{state.system.value:<10} {state.account:<20} {state.status.value}{why}{usage}")
    print("queues:")
    for queue in report.queues:
        age = f", oldest {queue.depth.oldest_age:.0f} s" if queue.depth.oldest_age is not None else ""
        depth = queue.depth
        print(
            f"  {queue.name:<18} {depth.visible} waiting, {depth.delayed} delayed,"
            f" {depth.in_flight} in flight{age}"
        )
    print("dead letters:")
    for dlq in report.dead_letters:
        print(f"  {dlq.name:<18} {dlq.depth}")
        for reason, count in dlq.reasons.items():
            print(f"    {count} x {reason}")
    print("poller:")
    for name, lag in report.cursors.items():
        print(f"  {name:<28} {_lag(lag)}")
    print("last change seen:")
    for source, at in report.last_seen.items():
        print(f"  {source:<28} {at.isoformat() if at else 'none yet'}")
    for label, done in (("last hour", report.last_hour), ("last day", report.last_day)):
        counts = (
            ", ".join(f"{n} {outcome}" for outcome, n in done.items())
            if done
            else "not known (the local stack keeps no metrics)"
        )
        print(f"synced in the {label}: {counts}")
    if report.attention:
        print("needs attention:")
        for item in report.attention:
            print(f"  - {item}")
    else:
        print("all well")


def status(args: argparse.Namespace) -> int:
    try:
        target = resolve(args)
        target.require_state()
        report = report_of(target)
    except Unavailable as exc:
        print(f"hssync status: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(status_document(report), indent=2))
    else:
        _print(report)
    return 1 if report.needs_attention else 0


def add_status(commands: Commands) -> None:
    parser = commands.add_parser(
        "status",
        help="CRM states, API usage, backlog, dead letters; exit 1 when something needs attention",
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")
    add_target(parser)
    parser.set_defaults(func=status)
