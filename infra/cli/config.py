"""``hssync config validate|schema``: the sync configuration file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from infra.cli.target import Unavailable, add_target, resolve

if TYPE_CHECKING:
    from shared.config import SyncConfig

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _parsed(file: Path) -> tuple[SyncConfig | None, int]:
    """The configuration (and 0), or None and the exit code after saying what is wrong."""
    from shared.config import ConfigError, parse_config

    try:
        config = parse_config(file.read_text())
    except OSError as exc:
        print(f"{file}: cannot read: {exc.strerror}", file=sys.stderr)
        return None, 2
    except ConfigError as exc:
        print(f"{file}: {exc}", file=sys.stderr)
        return None, 1
    for warning in config.warnings():
        print(f"{file}: warning: {warning}", file=sys.stderr)
    return config, 0


def _live_problems(args: argparse.Namespace, config: SyncConfig) -> list[str]:
    """What the stack's CRMs say of the configuration (raises Unavailable)."""
    from infra.cli.crms import adapters, trusting
    from shared.operations.config_check import check_config
    from shared.operations.deals_check import check_deals

    target = resolve(args)
    with trusting(target.ca_bundle):
        salesforce, hubspot = adapters(target)
        return check_config(config, salesforce, hubspot) + check_deals(config, salesforce, hubspot)


def _config_validate(args: argparse.Namespace) -> int:
    config, code = _parsed(args.file)
    if config is None:
        return code
    if args.check:
        try:
            problems = _live_problems(args, config)
        except Unavailable as exc:
            print(f"hssync config validate: {exc}", file=sys.stderr)
            return 2
        for problem in problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        if problems:
            return 1
    portals = ", ".join(str(p) for p in config.portals)
    mappings = f"{len(config.contact_mappings)} contact mappings + the opt-out mapping"
    checked = "; checked against the CRMs" if args.check else ""
    print(f"{args.file}: valid ({mappings}; portals {portals}{checked})")
    return 0


def _config_push(args: argparse.Namespace) -> int:
    """Validate the file, then put it into the stack's SSM parameter (the functions read it within
    HSSYNC_CONFIG_TTL_SECONDS)."""
    config, code = _parsed(args.file)
    if config is None:
        return code
    try:
        target = resolve(args)
        if not target.config_parameter:
            raise Unavailable(f"{target.where}: its configuration parameter is not known")
        target.client("ssm").put_parameter(
            Name=target.config_parameter, Value=args.file.read_text(), Type="String", Overwrite=True
        )
    except Unavailable as exc:
        print(f"hssync config push: {exc}", file=sys.stderr)
        return 2
    print(f"{args.file}: pushed to {target.config_parameter} of {target.where}")
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
    validate.add_argument(
        "--check",
        action="store_true",
        help="also check against the stack's CRMs: mapped fields exist with compatible types, the"
        " inclusion list exists",
    )
    add_target(validate)
    validate.set_defaults(func=_config_validate)
    push = config_commands.add_parser(
        "push", help="validate a configuration file and put it into the stack's SSM parameter"
    )
    push.add_argument("file", type=Path)
    add_target(push)
    push.set_defaults(func=_config_push)
    schema = config_commands.add_parser("schema", help="print the configuration's JSON Schema")
    schema.set_defaults(func=_config_schema)
