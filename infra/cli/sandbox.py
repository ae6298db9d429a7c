"""``hssync sandbox up`` (the emulators and the local stack) and ``hssync sandbox wait-idle``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from infra.sandbox.config import HubSpotCredentials, SalesforceCredentials
from infra.sandbox.runner import Sandbox, SandboxInfo

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


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
    creds.add_argument(
        "--hubspot-portals",
        type=int,
        default=1,
        help="HubSpot portals served (the next portal ids, tokens <token>-2, <token>-3...; one app)",
    )
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
        hubspot_portals=args.hubspot_portals,
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
    for portal in hs["portals"][1:]:
        print(f"              portal        {portal['portal_id']}  token {portal['access_token']}")
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

    from infra.cli.follow import local_idle, snapshot
    from infra.cli.target import Unavailable, local
    from shared.operations.progress import dead_lettered

    info = _load_info(args.state_dir)
    if not info.runtime:
        print("the sandbox runs without the stack (--emulators-only): nothing to wait for", file=sys.stderr)
        return 0
    deadline = time.monotonic() + args.timeout
    calm = 0
    try:
        target = local(args.state_dir)
        start = snapshot(target)
        while time.monotonic() < deadline:
            calm = calm + 1 if local_idle(target) else 0
            if calm >= 3:
                return _idle_verdict(dead_lettered(start, snapshot(target)))
            time.sleep(0.1)
    except (requests.RequestException, Unavailable) as exc:
        print(f"sandbox not reachable: {exc}", file=sys.stderr)
        return 1
    print(f"still busy after {args.timeout:.0f} s", file=sys.stderr)
    return 1


def _idle_verdict(dead: dict[str, int]) -> int:
    """Idle: 0, unless dead-letter queues received messages during the wait."""
    if not dead:
        print("idle")
        return 0
    grown = ", ".join(f"{n} in {queue}" for queue, n in dead.items())
    print(f"idle, but messages were dead-lettered meanwhile: {grown} (hssync dlq list)", file=sys.stderr)
    return 1


def add_sandbox(commands: Commands) -> None:
    sandbox = commands.add_parser("sandbox", help="the local emulators of Salesforce and HubSpot")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    _add_sandbox_up(sandbox_commands)
    wait = sandbox_commands.add_parser(
        "wait-idle",
        help="exit 0 once nothing is queued, in flight or pending delivery; 1 on timeout or when a"
        " dead-letter queue received messages meanwhile",
    )
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.add_argument("--state-dir", type=Path, default=Path(".hssync"))
    wait.set_defaults(func=_wait_idle)
