"""The ``hssync`` command line: the local sandbox now; operator commands join as the product grows."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.sandbox.config import HubSpotCredentials, SalesforceCredentials
from infra.sandbox.runner import Sandbox, SandboxInfo

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "config" / "demo.yaml"


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
    up.add_argument("--aws-port", type=int, default=5005, help="moto (SQS, DynamoDB, Secrets Manager, SSM)")
    up.add_argument("--config", type=Path, default=DEMO_CONFIG, help="the sync configuration to run")
    up.add_argument(
        "--schedule-period", type=float, default=30.0, help="seconds between runs of the stack's schedules"
    )
    up.add_argument(
        "--emulators-only", action="store_true", help="serve the two CRMs only, without moto and the stack"
    )
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
    sandbox = _sandbox(args)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    info = sandbox.start()
    stack = None
    if not args.emulators_only:
        from infra.local_stack import LocalStack

        stack = LocalStack(
            sandbox,
            config_file=args.config,
            aws_port=args.aws_port,
            schedule_period=args.schedule_period,
            log_dir=sandbox.state_dir / "logs",
        )
        info.runtime = stack.start().to_dict()
        (sandbox.state_dir / "sandbox.json").write_text(info.to_json())
    _print_ready(sandbox, info)
    stop.wait()
    print("stopping sandbox", flush=True)
    if stack is not None:
        stack.stop()
    sandbox.stop()
    return 0


def _sandbox(args: argparse.Namespace) -> Sandbox:
    return Sandbox(
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


def _print_ready(sandbox: Sandbox, info: SandboxInfo) -> None:
    """The ready line (what tests and scripts wait for), then the credentials and endpoints."""
    sf, hs = info.salesforce, info.hubspot
    runtime = f" runtime={info.runtime['url']}" if info.runtime else ""
    print(f"ready salesforce={sf['url']} hubspot={hs['url']}{runtime}", flush=True)
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
    if info.runtime:
        print(f"  aws (moto)    {info.runtime['aws_endpoint']}")
        print(f"  webhooks      {info.runtime['webhook_url']}  (registered with the HubSpot app)")
        print(f"  function logs {sandbox.state_dir / 'logs'}")
    print(f"  details in {sandbox.state_dir / 'sandbox.json'}; Ctrl-C stops", flush=True)


def _load_info(state_dir: Path) -> SandboxInfo:
    path = state_dir / "sandbox.json"
    if not path.exists():
        raise SystemExit(f"no sandbox running: {path} not found (start one with: hssync sandbox up)")
    return SandboxInfo.load(path)


def _wait_idle(args: argparse.Namespace) -> int:
    import time

    import requests

    info = _load_info(args.state_dir)
    if not info.runtime:
        print("the sandbox runs without the stack (--emulators-only): nothing to wait for", file=sys.stderr)
        return 0
    deadline = time.monotonic() + args.timeout
    calm = 0
    while time.monotonic() < deadline:
        try:
            idle = requests.get(f"{info.runtime['url']}/_runtime/idle", timeout=5).json().get("idle") is True
            pending = (
                requests.get(
                    f"{info.salesforce['url']}/_sandbox/pending",
                    verify=info.salesforce["ca_bundle"],
                    timeout=5,
                ).json()["pending"]
                + requests.get(f"{info.hubspot['url']}/_sandbox/pending", timeout=5).json()["pending"]
            )
        except requests.RequestException as exc:
            print(f"sandbox not reachable: {exc}", file=sys.stderr)
            return 1
        calm = calm + 1 if idle and pending == 0 else 0
        if calm >= 3:
            print("idle")
            return 0
        time.sleep(0.1)
    print(f"still busy after {args.timeout:.0f} s", file=sys.stderr)
    return 1


class _Unavailable(Exception):
    """The poll-requests queue cannot be reached; the message says why and what to do."""


def _poll_requests_queue(args: argparse.Namespace) -> tuple[Any, str, str]:
    """(an SQS client, the PollRequestsQueue's URL, where it is): the deployed stack's queue with
    ``--queue-url`` (default boto3 credentials), else the local stack running in ``--state-dir``."""
    import boto3

    if args.queue_url:
        return boto3.client("sqs", region_name=_queue_region(args.queue_url)), args.queue_url, args.queue_url
    import requests

    path = args.state_dir / "sandbox.json"
    if not path.exists():
        raise _Unavailable(
            f"no local stack is running: {path} not found (start one with: hssync sandbox up"
            f" --state-dir {args.state_dir}; or pass --queue-url for a deployed stack)"
        )
    info = SandboxInfo.load(path)
    if not info.runtime:
        raise _Unavailable(f"the sandbox in {args.state_dir} runs without the stack (--emulators-only)")
    try:
        requests.get(f"{info.runtime['url']}/_runtime/idle", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        raise _Unavailable(
            f"the local stack in {args.state_dir} is not running ({info.runtime['url']} does not answer:"
            f" {exc.__class__.__name__}); start it with: hssync sandbox up --state-dir {args.state_dir}"
        ) from exc
    sqs = boto3.client(
        "sqs",
        endpoint_url=info.runtime["aws_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106  # moto accepts any credentials
    )
    return sqs, info.runtime["queues"]["PollRequestsQueue"], f"the local stack in {args.state_dir}"


def _queue_region(url: str) -> str | None:
    """The region in an SQS queue URL (sqs.<region>.amazonaws.com or <region>.queue.amazonaws.com)."""
    import re
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    found = re.match(r"^(?:sqs\.([a-z0-9-]+)\.|([a-z0-9-]+)\.queue\.)amazonaws\.com(?:\.cn)?$", host)
    return (found.group(1) or found.group(2)) if found else None


def _send_poll_requests(args: argparse.Namespace, poll_requests: Sequence[Any]) -> str:
    """Queue the requests on the PollRequestsQueue; returns where they went."""
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.pipeline.resync import bodies
    from shared.queues import QueueSendError, send_messages

    sqs, url, where = _poll_requests_queue(args)
    try:
        send_messages(sqs, url, bodies(poll_requests))
    except (BotoCoreError, ClientError, QueueSendError) as exc:
        raise _Unavailable(f"could not queue the requests on {url}: {exc}") from exc
    return where


def _backfill(args: argparse.Namespace) -> int:
    from shared.pipeline.resync import backfill_requests

    try:
        _send_poll_requests(args, backfill_requests(args.since, accounts=args.accounts))
    except _Unavailable as exc:
        print(f"hssync backfill: {exc}", file=sys.stderr)
        return 1
    since = (args.since or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).isoformat()
    print(f"backfill requested: every HubSpot contact and Salesforce lead and contact changed since {since}")
    return 0


def _resync(args: argparse.Namespace) -> int:
    from shared.pipeline.resync import ResyncError, describe, resync_requests

    try:
        poll_requests = resync_requests(
            hubspot_ids=args.hubspot,
            salesforce_ids=args.salesforce,
            records=args.records,
            list_ids=args.list,
            everything=args.all,
            since=args.since,
        )
    except ResyncError as exc:
        print(f"hssync resync: {exc}", file=sys.stderr)
        return 2
    try:
        where = _send_poll_requests(args, poll_requests)
    except _Unavailable as exc:
        print(f"hssync resync: {exc}", file=sys.stderr)
        return 1
    print(f"resync requested from {where}:")
    for line in describe(poll_requests):
        print(f"  {line}")
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


def _aware_datetime(text: str) -> Any:
    import datetime as dt

    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _add_poll_target(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("where (the local stack by default)")
    target.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".hssync"),
        help="the state directory of the local stack (hssync sandbox up; default .hssync)",
    )
    target.add_argument(
        "--queue-url",
        default=None,
        help="a deployed stack's PollRequestsQueue URL (default boto3 credentials and region)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hssync", description="HubSpot <-> Salesforce sync connector")
    parser.add_argument("-v", "--verbose", action="store_true", help="log emulator requests")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_sandbox(commands)
    backfill = commands.add_parser("backfill", help="sync every existing record (the initial sync)")
    _add_poll_target(backfill)
    backfill.add_argument(
        "--since", type=_aware_datetime, default=None, help="only records changed since (ISO 8601)"
    )
    backfill.add_argument(
        "--accounts", action="store_true", help="companies and Accounts too (with account sync on)"
    )
    backfill.set_defaults(func=_backfill)
    _add_resync(commands)
    _add_config(commands)
    demo = commands.add_parser("demo", help="start the seeded sandbox, show what is in it, stop")
    demo.add_argument("--state-dir", type=Path, default=Path(".hssync/demo"))
    demo.set_defaults(func=_demo)
    return parser


def _add_sandbox(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = commands.add_parser("sandbox", help="the local emulators of Salesforce and HubSpot")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    _add_sandbox_up(sandbox_commands)
    wait = sandbox_commands.add_parser(
        "wait-idle", help="exit 0 once nothing is queued, in flight or pending delivery; 1 on timeout"
    )
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.add_argument("--state-dir", type=Path, default=Path(".hssync"))
    wait.set_defaults(func=_wait_idle)


def _add_resync(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resync = commands.add_parser(
        "resync",
        help="sync records again: by id, a HubSpot list's members, or everything",
        description=(
            "Ask the stack's poller to re-read records and sync whatever differs (nothing is written"
            " where both sides agree). Exit 0 once the requests are queued; 1 if the stack cannot be"
            " reached; 2 for an argument that names no record hssync syncs."
        ),
    )
    resync.add_argument(
        "records",
        nargs="*",
        metavar="RECORD",
        help="hubspot:contacts:ID or salesforce:Lead|Contact:ID (the form sync health prints)",
    )
    resync.add_argument("--hubspot", action="append", default=[], metavar="ID", help="a HubSpot contact id")
    resync.add_argument(
        "--salesforce",
        action="append",
        default=[],
        metavar="ID",
        help="a Salesforce Lead (00Q...) or Contact (003...) id, 15 or 18 characters",
    )
    resync.add_argument(
        "--list", action="append", default=[], metavar="LIST_ID", help="every member of a HubSpot list"
    )
    resync.add_argument("--all", action="store_true", help="everything: the backfill")
    resync.add_argument(
        "--since", type=_aware_datetime, default=None, help="with --all: only records changed since"
    )
    _add_poll_target(resync)
    resync.set_defaults(func=_resync)


def _add_config(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = commands.add_parser("config", help="the sync configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    validate = config_commands.add_parser(
        "validate", help="check a sync configuration file; warn about risks"
    )
    validate.add_argument("file", type=Path)
    validate.set_defaults(func=_config_validate)
    schema = config_commands.add_parser("schema", help="print the configuration's JSON Schema")
    schema.set_defaults(func=_config_schema)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
