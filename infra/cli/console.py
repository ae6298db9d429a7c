"""``hssync console``: serve the console page for a stack (local or ``--stack NAME``) until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING

from infra.cli.target import Unavailable, add_target, resolve

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def console(args: argparse.Namespace) -> int:
    from infra.console.app import Console

    try:
        target = resolve(args)
        target.require_state()
    except Unavailable as exc:
        print(f"hssync console: {exc}", file=sys.stderr)
        return 1
    page = Console(target)
    url = page.start(args.host, args.port)
    print(f"console of {target.where}: {url}  (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        page.stop()
    return 0


def add_console(commands: Commands) -> None:
    parser = commands.add_parser(
        "console", help="a local page: sync health with resync buttons, API usage, backlog, dead letters"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    add_target(parser)
    parser.set_defaults(func=console)
