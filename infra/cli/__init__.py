"""The ``hssync`` command line: the local sandbox, the sync's operations (backfill, resync) and the
operator's view of a stack, local or deployed (health, status, dead letters, the console page)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.cli.config import add_config
from infra.cli.console import add_console
from infra.cli.dlq import add_dlq
from infra.cli.health import add_health
from infra.cli.sandbox import add_sandbox
from infra.cli.status import add_status
from infra.cli.sync import add_backfill, add_resync


def _demo(args: argparse.Namespace) -> int:
    from infra.demo import run_demo

    return run_demo(state_dir=args.state_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hssync", description="HubSpot <-> Salesforce sync connector")
    parser.add_argument("-v", "--verbose", action="store_true", help="log emulator requests")
    commands = parser.add_subparsers(dest="command", required=True)
    add_sandbox(commands)
    add_backfill(commands)
    add_resync(commands)
    add_health(commands)
    add_status(commands)
    add_dlq(commands)
    add_console(commands)
    add_config(commands)
    demo = commands.add_parser("demo", help="start the seeded sandbox, show what is in it, stop")
    demo.add_argument("--state-dir", type=Path, default=Path(".hssync/demo"))
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
