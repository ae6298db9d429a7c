"""Which stack a command works on: the local stack running in ``--state-dir`` (``hssync sandbox
up``), a deployed one by its CloudFormation stack name (``--stack NAME``: its outputs and parameters
name the queues, the state table and the accounts; default boto3 credentials and region), or just a
deployed stack's poll-requests queue (``--queue-url``, what resync and backfill always took)."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from infra.sandbox.runner import SandboxInfo
from shared.models import System
from shared.operations.queues import output_key

LOCAL_REGION = "us-east-1"


class Unavailable(Exception):
    """The stack cannot be reached; the message says why and what to do."""


@dataclass
class Target:
    where: str
    queues: dict[str, str]  # logical id -> URL
    state_table: str | None = None
    portal: str | None = None
    org_id: str | None = None
    config_parameter: str | None = None
    salesforce_secret: str | None = None  # the CRM credentials' secret names (Secrets Manager)
    hubspot_secret: str | None = None
    login_url: str | None = None  # Salesforce's, when the secret does not say
    ca_bundle: str | None = None  # the local sandbox's certificate authority
    endpoint: str | None = None  # the local stack's moto
    region: str | None = None
    sandbox: SandboxInfo | None = None  # the local stack's sandbox
    clients: dict[str, Any] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        return self.sandbox is not None

    def client(self, service: str) -> Any:
        if service not in self.clients:
            import boto3

            if self.endpoint is not None:
                self.clients[service] = boto3.client(  # type: ignore[call-overload]
                    service,
                    endpoint_url=self.endpoint,
                    region_name=LOCAL_REGION,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",  # noqa: S106  # moto accepts any credentials
                )
            else:
                self.clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        return self.clients[service]

    def queue(self, logical_id: str) -> str:
        url = self.queues.get(logical_id)
        if url is None:
            raise Unavailable(
                f"{self.where} does not name its {logical_id} (update the stack, or use --stack)"
            )
        return url

    def require_state(self) -> str:
        if self.state_table is None or self.portal is None:
            raise Unavailable(f"{self.where}: the state table is not known (use --stack NAME or --state-dir)")
        return self.state_table

    @functools.cached_property
    def state(self) -> Any:
        from shared.state.dynamo import DynamoState

        return DynamoState(self.require_state(), self.client("dynamodb"))

    @functools.cached_property
    def crm_store(self) -> Any:
        from shared.state.crm import DynamoCrmStateStore

        return DynamoCrmStateStore(self.require_state(), self.client("dynamodb"))

    @functools.cached_property
    def queue_stats(self) -> Any:
        from shared.operations.sqs_stats import SqsQueueStats

        cloudwatch = None if self.local else self.client("cloudwatch")
        return SqsQueueStats(self.client("sqs"), self.queues, cloudwatch=cloudwatch)

    @functools.cached_property
    def synced_counts(self) -> Any:
        from shared.operations.sqs_stats import CloudWatchCounts

        return CloudWatchCounts(None if self.local else self.client("cloudwatch"))

    def accounts(self) -> list[tuple[System, str]]:
        found = [(System.SALESFORCE, self.org_id)] if self.org_id else []
        return found + ([(System.HUBSPOT, self.portal)] if self.portal else [])

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def add_target(parser: argparse.ArgumentParser, *, queue_url: bool = False) -> None:
    """The options that say which stack: --state-dir (local, the default) or --stack NAME."""
    target = parser.add_argument_group("which stack (the local stack by default)")
    target.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".hssync"),
        help="the state directory of the local stack (hssync sandbox up; default .hssync)",
    )
    target.add_argument(
        "--stack",
        default=None,
        metavar="NAME",
        help="a deployed stack's CloudFormation name (boto3 credentials)",
    )
    target.add_argument("--region", default=None, help="with --stack: its region (default: boto3's)")
    target.add_argument(
        "--portal",
        default=None,
        metavar="ID",
        help="several portals: the HubSpot portal to show or resync (default: the stack's HubSpotPortalId)",
    )
    if queue_url:
        target.add_argument(
            "--queue-url",
            default=None,
            help="a deployed stack's PollRequestsQueue URL (default boto3 credentials and region)",
        )


def resolve(args: argparse.Namespace) -> Target:
    if getattr(args, "queue_url", None):
        url = args.queue_url
        return Target(where=url, queues={"PollRequestsQueue": url}, region=queue_region(url))
    target = deployed(args.stack, args.region) if args.stack else local(args.state_dir)
    if getattr(args, "portal", None):
        target.portal = str(args.portal)
    return target


def local(state_dir: Path) -> Target:
    import requests

    path = state_dir / "sandbox.json"
    if not path.exists():
        raise Unavailable(
            f"no local stack is running: {path} not found (start one with: hssync sandbox up"
            f" --state-dir {state_dir}; or pass --stack NAME for a deployed stack)"
        )
    info = SandboxInfo.load(path)
    if not info.runtime:
        raise Unavailable(f"the sandbox in {state_dir} runs without the stack (--emulators-only)")
    try:
        requests.get(f"{info.runtime['url']}/_runtime/idle", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        raise Unavailable(
            f"the local stack in {state_dir} is not running ({info.runtime['url']} does not answer:"
            f" {exc.__class__.__name__}); start it with: hssync sandbox up --state-dir {state_dir}"
        ) from exc
    return Target(
        where=f"the local stack in {state_dir}",
        queues=dict(info.runtime["queues"]),
        state_table=info.runtime.get("state_table"),
        portal=str(info.hubspot["portal_id"]),
        org_id=str(info.salesforce["org_id"]),
        config_parameter=info.runtime.get("config_parameter", "/hssync/config"),
        salesforce_secret=info.runtime.get("salesforce_secret", "hssync/salesforce"),
        hubspot_secret=info.runtime.get("hubspot_secret", "hssync/hubspot"),
        login_url=info.salesforce.get("login_url"),
        ca_bundle=info.salesforce.get("ca_bundle"),
        endpoint=info.runtime["aws_endpoint"],
        sandbox=info,
    )


def deployed(stack: str, region: str | None) -> Target:
    from botocore.exceptions import BotoCoreError, ClientError

    target = Target(where=f"stack {stack}", queues={}, region=region)
    try:
        [described] = target.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except (BotoCoreError, ClientError) as exc:
        raise Unavailable(f"cannot read stack {stack}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in described.get("Parameters", [])}
    from shared.operations.queues import logical_ids

    target.queues = {q: outputs[output_key(q)] for q in logical_ids() if output_key(q) in outputs}
    target.state_table = outputs.get("StateTableName")
    target.portal = parameters.get("HubSpotPortalId")
    target.org_id = parameters.get("SalesforceOrgId") or None
    target.config_parameter = parameters.get("SyncConfigParameterName")
    target.salesforce_secret = parameters.get("SalesforceSecretName")
    target.hubspot_secret = parameters.get("HubSpotSecretName")
    target.login_url = parameters.get("SalesforceLoginUrl")
    return target


def queue_region(url: str) -> str | None:
    """The region in an SQS queue URL (sqs.<region>.amazonaws.com or <region>.queue.amazonaws.com)."""
    host = urlparse(url).hostname or ""
    found = re.match(r"^(?:sqs\.([a-z0-9-]+)\.|([a-z0-9-]+)\.queue\.)amazonaws\.com(?:\.cn)?$", host)
    return (found.group(1) or found.group(2)) if found else None
