"""``hssync health``: sync health by category (counts of errors and affected records), the entries
of a category with their message, first and last seen and the command that syncs them again;
``--format json|csv`` for scripts and the export."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from infra.cli.sync import aware_datetime
from infra.cli.target import Unavailable, add_target, resolve
from shared.operations.health import CategoryCount, HealthCategory, HealthFilter, HealthRow

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _table(counts: list[CategoryCount], rows: list[HealthRow], where: HealthFilter) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200 if not sys.stdout.isatty() else None)
    cards = Table(title="Sync health", show_lines=False)
    for column in ("category", "errors", "records"):
        cards.add_column(column, justify="left" if column == "category" else "right")
    for count in counts:
        if count.errors or where.category is count.category:
            cards.add_row(count.label, str(count.errors), str(count.records))
    if not any(c.errors for c in counts):
        cards.add_row("(no entries)", "0", "0")
    console.print(cards)
    if not rows:
        return
    entries = Table(title="Entries", show_lines=False)
    for column in ("category", "record", "code", "message", "count", "first seen", "last seen", "resync"):
        entries.add_column(column, overflow="fold")
    for row in rows:
        entries.add_row(
            row.category.label,
            row.record,
            row.code,
            row.message,
            str(row.count),
            row.first_seen.strftime("%Y-%m-%d %H:%M:%S"),
            row.last_seen.strftime("%Y-%m-%d %H:%M:%S"),
            row.resync,
        )
    console.print(entries)


def health(args: argparse.Namespace) -> int:
    from shared.operations.export import health_csv, health_json
    from shared.operations.health import category_counts, health_rows

    where = HealthFilter(
        category=HealthCategory(args.category) if args.category else None,
        object_type=args.object,
        since=args.since,
    )
    try:
        target = resolve(args)
        target.require_state()
        rows = health_rows(target.state, str(target.portal), where, target.crm_store.crm_states())
    except Unavailable as exc:
        print(f"hssync health: {exc}", file=sys.stderr)
        return 1
    counts = category_counts(rows)
    if args.format == "json":
        print(health_json(counts, rows))
    elif args.format == "csv":
        sys.stdout.write(health_csv(rows))
    else:
        _table(counts, rows, where)
    return 0


def add_health(commands: Commands) -> None:
    parser = commands.add_parser(
        "health",
        help="sync health: entries by category, the records affected, and how to resync them",
        description="What did not sync and why, grouped as the native connector's Sync Health tab."
        " Entries clear when their record next syncs cleanly.",
    )
    parser.add_argument("--category", choices=[c.value for c in HealthCategory], default=None)
    parser.add_argument(
        "--object", default=None, metavar="OBJECT", help="Lead, Contact, contacts (HubSpot), User or Group"
    )
    parser.add_argument("--since", type=aware_datetime, default=None, help="last seen since (ISO 8601)")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    add_target(parser)
    parser.set_defaults(func=health)
