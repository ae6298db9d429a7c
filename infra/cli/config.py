"""``hssync config validate|schema``: the sync configuration file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _config_validate(args: argparse.Namespace) -> int:
    from shared.config import ConfigError, parse_config

    try:
        config = parse_config(args.file.read_text())
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    for warning in config.warnings():
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    portals = ", ".join(str(p) for p in config.portals)
    mappings = f"{len(config.contact_mappings)} contact mappings + the opt-out mapping"
    print(f"{args.file}: valid ({mappings}; portals {portals})")
    return 0


def _config_schema(_args: argparse.Namespace) -> int:
    import json

    from shared.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def add_config(commands: Commands) -> None:
    config = commands.add_parser("config", help="the sync configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    validate = config_commands.add_parser(
        "validate", help="check a sync configuration file; warn about risks"
    )
    validate.add_argument("file", type=Path)
    validate.set_defaults(func=_config_validate)
    schema = config_commands.add_parser("schema", help="print the configuration's JSON Schema")
    schema.set_defaults(func=_config_schema)
