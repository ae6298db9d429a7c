"""The ``hssync`` command line: the local sandbox now; operator commands join as the product grows."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from infra.sandbox.config import HubSpotCredentials, SalesforceCredentials


def _add_sandbox_up(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sf_defaults, hs_defaults = SalesforceCredentials(), HubSpotCredentials()
    up = sub.add_parser(
        "up",
        help="run both emulators in the foreground until SIGINT/SIGTERM",
        description="Run the Salesforce (HTTPS) and HubSpot (HTTP) emulators until interrupted.",
    )
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--salesforce-port", type=int, default=8443)
    up.add_argument("--hubspot-port", type=int, default=8081)
    up.add_argument("--seed", choices=["demo", "none"], default="none")
    up.add_argument("--state-dir", type=Path, default=Path(".hssync"))
    creds = up.add_argument_group("credentials (the defaults are the documented sandbox ones)")
    creds.add_argument("--sf-client-id", default=sf_defaults.client_id)
    creds.add_argument("--sf-client-secret", default=sf_defaults.client_secret)
    creds.add_argument("--sf-username", default=sf_defaults.username)
    creds.add_argument("--sf-password", default=sf_defaults.password)
    creds.add_argument(
        "--sf-jwt-public-key",
        type=Path,
        default=None,
        help="PEM public key that verifies JWT bearer assertions (default: a pair generated in --state-dir)",
    )
    creds.add_argument("--hs-access-token", default=hs_defaults.access_token)
    creds.add_argument("--hs-portal-id", type=int, default=hs_defaults.portal_id)
    creds.add_argument("--hs-developer-key", default=hs_defaults.developer_api_key)
    creds.add_argument("--hs-app-id", type=int, default=hs_defaults.app_id)
    creds.add_argument("--hs-client-secret", default=hs_defaults.client_secret)
    up.set_defaults(func=_sandbox_up)


def _sandbox_up(args: argparse.Namespace) -> int:
    from infra.sandbox.runner import Sandbox

    sandbox = Sandbox(
        host=args.host,
        salesforce_port=args.salesforce_port,
        hubspot_port=args.hubspot_port,
        state_dir=args.state_dir,
        seed=args.seed,
        salesforce_credentials=SalesforceCredentials(
            client_id=args.sf_client_id,
            client_secret=args.sf_client_secret,
            username=args.sf_username,
            password=args.sf_password,
        ),
        hubspot_credentials=HubSpotCredentials(
            access_token=args.hs_access_token,
            portal_id=args.hs_portal_id,
            developer_api_key=args.hs_developer_key,
            app_id=args.hs_app_id,
            client_secret=args.hs_client_secret,
        ),
        jwt_public_key_file=args.sf_jwt_public_key,
    )
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    info = sandbox.start()
    sf, hs = info.salesforce, info.hubspot
    print(f"ready salesforce={sf['url']} hubspot={hs['url']}", flush=True)
    print(f"  salesforce  token url     {sf['token_url']}")
    print(f"              client        {sf['client_id']} / {sf['client_secret']} (client_credentials)")
    print(f"              user          {sf['username']} / {sf['password']} (password grant)")
    if sf["jwt_private_key_file"]:
        claims = f"iss={sf['client_id']}, sub={sf['username']}"
        print(f"              jwt key       {sf['jwt_private_key_file']} ({claims})")
    print(f"              CA bundle     {sf['ca_bundle']}  (export REQUESTS_CA_BUNDLE=...)")
    print(f"  hubspot     token         {hs['access_token']}  (Authorization: Bearer)")
    print(f"              portal / app  {hs['portal_id']} / {hs['app_id']}")
    print(f"              developer key {hs['developer_api_key']}  (hapikey, webhooks API)")
    print(f"              app secret    {hs['client_secret']}  (webhook signatures)")
    if sandbox.seeded:
        for system, counts in sandbox.seeded.items():
            summary = ", ".join(f"{n} {obj}" for obj, n in counts.items())
            print(f"  seeded {system}: {summary}")
    print(f"  details in {args.state_dir / 'sandbox.json'}; Ctrl-C stops", flush=True)
    stop.wait()
    print("stopping sandbox", flush=True)
    sandbox.stop()
    return 0


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


def _demo(args: argparse.Namespace) -> int:
    from infra.demo import run_demo

    return run_demo(state_dir=args.state_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hssync", description="HubSpot <-> Salesforce sync connector")
    parser.add_argument("-v", "--verbose", action="store_true", help="log emulator requests")
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="the local emulators of Salesforce and HubSpot")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    _add_sandbox_up(sandbox_commands)

    config = commands.add_parser("config", help="the sync configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    validate = config_commands.add_parser(
        "validate", help="check a sync configuration file; warn about risks"
    )
    validate.add_argument("file", type=Path)
    validate.set_defaults(func=_config_validate)
    schema = config_commands.add_parser("schema", help="print the configuration's JSON Schema")
    schema.set_defaults(func=_config_schema)

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
