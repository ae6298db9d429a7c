"""The whole product on one machine: the sandbox CRMs, moto, and the SAM stack in the local runtime.

It does what an operator does after ``sam deploy``: stores the CRM credentials as Secrets Manager
secrets and the sync configuration as the SSM parameter, points the HubSpot app's webhooks at the
webhook function's URL (through HubSpot's webhooks API), and points Salesforce change events at the
EventBridge bus (here: the runtime's ingress, standing in for Event Relay). The functions themselves
run unchanged from ``template.yaml``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from infra.sandbox.runner import Sandbox
from shared.config import SyncConfig, parse_config

if TYPE_CHECKING:
    from shared.ports import HealthEntry
    from shared.state.dynamo import DynamoState

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
DEMO_CONFIG = ROOT / "config" / "demo.yaml"
EVENT_BUS = "hssync-local"
SALESFORCE_SECRET = "hssync/salesforce"  # noqa: S105  # secret names, not secrets
HUBSPOT_SECRET = "hssync/hubspot"  # noqa: S105
CONFIG_PARAMETER = "/hssync/config"
CONTACT_EVENTS = ("contact.creation", "contact.deletion", "contact.merge", "contact.restore")
# with account sync on: companies and the contact <-> company associations
COMPANY_EVENTS = (
    "company.creation",
    "company.deletion",
    "company.merge",
    "company.restore",
    "contact.associationChange",
    "company.associationChange",
)
# with deal sync on: deals (their property changes: the mapped properties, the stage and the owner),
# and their association changes (a deal's contacts sync at once)
DEAL_EVENTS = ("deal.creation", "deal.deletion", "deal.merge", "deal.restore", "deal.associationChange")


@dataclass(frozen=True)
class RuntimeInfo:
    url: str
    aws_endpoint: str
    webhook_url: str
    queues: dict[str, str]  # every queue of the template, by logical id
    state_table: str
    config_parameter: str = CONFIG_PARAMETER
    salesforce_secret: str = SALESFORCE_SECRET
    hubspot_secret: str = HUBSPOT_SECRET

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "aws_endpoint": self.aws_endpoint,
            "webhook_url": self.webhook_url,
            "queues": self.queues,
            "state_table": self.state_table,
            "config_parameter": self.config_parameter,
            "salesforce_secret": self.salesforce_secret,
            "hubspot_secret": self.hubspot_secret,
        }


class LocalStack:
    def __init__(
        self,
        sandbox: Sandbox,
        *,
        config_file: Path = DEMO_CONFIG,
        aws_port: int = 5005,
        schedule_period: float | None = 30.0,
        log_dir: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        """``extra_env``: variables added to every function's environment (after the template's), e.g.
        the adapters' ``HSSYNC_RETRY_*`` back-off settings for a test."""
        from infra.runtime import MotoServer

        self.sandbox = sandbox
        self.config_text = config_file.read_text()
        self.config: SyncConfig = parse_config(self.config_text)
        self.moto = MotoServer(sandbox.host, aws_port)
        self.schedule_period = schedule_period
        self.log_dir = log_dir
        self.extra_env = dict(extra_env or {})
        self.runtime: Any = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> RuntimeInfo:
        from infra.runtime import LocalRuntime, Template

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
        endpoint = self.moto.start()
        self._create_operator_resources(endpoint)
        template = Template.load(
            TEMPLATE,
            parameters={
                "HubSpotPortalId": str(self.sandbox.hs_creds.portal_id),
                "SalesforceEventBusName": EVENT_BUS,
                "SalesforceLoginUrl": self.sandbox.salesforce_url,
                "SalesforceSecretName": SALESFORCE_SECRET,
                "SalesforceOrgId": self.sandbox.sf_creds.org_id,
                "HubSpotSecretName": HUBSPOT_SECRET,
                "SyncConfigParameterName": CONFIG_PARAMETER,
            },
        )
        self.runtime = LocalRuntime(
            template,
            aws_endpoint=endpoint,
            host=self.sandbox.host,
            ca_bundle=self.sandbox.tls.ca_cert,
            extra_env=self.extra_env,
            schedule_period=self.schedule_period,
            log_dir=self.log_dir,
        ).start()
        self.connect()
        return self.info

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self.moto.running:
            self.moto.stop()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def info(self) -> RuntimeInfo:
        runtime = self.runtime
        queues = {name: runtime.queue_url(name) for name in runtime.template.logical_ids("AWS::SQS::Queue")}
        return RuntimeInfo(
            url=runtime.url,
            aws_endpoint=self.moto.endpoint_url,
            webhook_url=runtime.function_url("InboundWebhookFunction"),
            queues=queues,
            state_table=str(runtime.template.physical["StateTable"].ref),
        )

    # -- what an operator does after deploying -------------------------------------------------
    def _boto(self, service: str, endpoint: str | None = None) -> Any:
        import boto3

        from infra.runtime.aws import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

        client: Any = boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=endpoint or self.moto.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
        )
        return client

    def _create_operator_resources(self, endpoint: str) -> None:
        info = self.sandbox.info
        secrets = self._boto("secretsmanager", endpoint)
        values = {
            SALESFORCE_SECRET: {
                "login_url": info.salesforce["login_url"],
                "client_id": info.salesforce["client_id"],
                "client_secret": info.salesforce["client_secret"],
            },
            HUBSPOT_SECRET: {
                "access_token": info.hubspot["access_token"],
                "client_secret": info.hubspot["client_secret"],
                "app_id": str(info.hubspot["app_id"]),
                "developer_api_key": info.hubspot["developer_api_key"],
                "api_url": info.hubspot["url"],
            },
        }
        if len(info.hubspot["portals"]) > 1:  # a token per portal (shared.adapters.secrets)
            values[HUBSPOT_SECRET]["portals"] = {
                str(p["portal_id"]): {"access_token": p["access_token"]} for p in info.hubspot["portals"]
            }
        for name, value in values.items():
            try:
                secrets.create_secret(Name=name, SecretString=json.dumps(value))
            except secrets.exceptions.ResourceExistsException:
                secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))
        self._boto("ssm", endpoint).put_parameter(
            Name=CONFIG_PARAMETER, Value=self.config_text, Type="String", Overwrite=True
        )

    def set_config(self, text: str) -> None:
        """Run another sync configuration: its SSM parameter (the functions read it again within
        HSSYNC_CONFIG_TTL_SECONDS) and the webhook subscriptions it needs."""
        self.config = parse_config(text)
        self.config_text = text
        self._boto("ssm").put_parameter(Name=CONFIG_PARAMETER, Value=text, Type="String", Overwrite=True)
        self.connect()

    def connect(self) -> None:
        """Point both CRMs at the stack: HubSpot webhooks -> the Function URL, CDC -> the bus."""
        self._subscribe_webhooks(self.runtime.function_url("InboundWebhookFunction"))
        ingress = f"{self.runtime.eventbridge_ingress_url}/{EVENT_BUS}"
        self._sandbox_post("salesforce", "change-events/target", {"url": ingress})

    def _subscribe_webhooks(self, target_url: str) -> None:
        from hubspot.webhooks import (
            ApiClient,
            Configuration,
            SettingsApi,
            SettingsChangeRequest,
            SubscriptionCreateRequest,
            SubscriptionsApi,
            ThrottlingSettings,
        )

        info = self.sandbox.info.hubspot
        configuration = Configuration(host=info["url"])
        configuration.api_key["developer_hapikey"] = info["developer_api_key"]
        client = ApiClient(configuration)
        app_id = int(info["app_id"])
        SettingsApi(client).configure(
            app_id,
            SettingsChangeRequest(
                target_url=target_url, throttling=ThrottlingSettings(max_concurrent_requests=10)
            ),
        )
        subscriptions = SubscriptionsApi(client)
        existing = {(s.event_type, s.property_name) for s in subscriptions.get_all(app_id).results}
        wanted = [(e, None) for e in CONTACT_EVENTS] + [
            ("contact.propertyChange", p) for p in self._watched_properties()
        ]
        if self.config.accounts.enabled:
            wanted += [(e, None) for e in COMPANY_EVENTS] + [
                ("company.propertyChange", p) for p in self._company_properties()
            ]
        if self.config.deals.enabled:
            wanted += [(e, None) for e in DEAL_EVENTS] + [
                ("deal.propertyChange", p) for p in self._deal_properties()
            ]
        for event_type, prop in wanted:
            if (event_type, prop) not in existing:
                request = SubscriptionCreateRequest(event_type=event_type, property_name=prop, active=True)
                subscriptions.create(app_id, request)

    def _company_properties(self) -> list[str]:
        from shared.owners.decide import OWNER_PROPERTY

        return sorted({OWNER_PROPERTY, *(m.hubspot for m in self.config.company_mappings)})

    def _deal_properties(self) -> list[str]:
        from shared.pipeline.dedupe.deals.schema import deal_properties

        return deal_properties(self.config)

    def _watched_properties(self) -> list[str]:
        from shared.pipeline.dedupe import watched_properties

        return watched_properties(self.config)

    def _sandbox_post(self, system: str, path: str, body: dict[str, Any]) -> None:
        url = self.sandbox.salesforce_url if system == "salesforce" else self.sandbox.hubspot_url
        response = requests.post(
            f"{url}/_sandbox/{path}", json=body, verify=str(self.sandbox.tls.ca_cert), timeout=10
        )
        response.raise_for_status()

    # -- operations ----------------------------------------------------------------------------
    def backfill(self, *, since: dt.datetime | None = None, deals: bool = False) -> int:
        """The initial sync: ask the poller to read everything (or everything since ``since``);
        ``deals``: the deals and Opportunities only (once their contacts and companies are synced)."""
        start = (since or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).isoformat()
        targets = [("hubspot", "contacts"), ("salesforce", "Lead"), ("salesforce", "Contact")]
        if self.config.accounts.enabled:  # companies and Accounts too (the contacts first)
            targets += [("hubspot", "companies"), ("salesforce", "Account")]
        if deals:
            targets = [("hubspot", "deals"), ("salesforce", "Opportunity")]
        requests_ = [
            {"system": system, "object_type": obj, "since": start, "reason": "backfill"}
            for system, obj in targets
        ]
        sqs = self._boto("sqs")
        url = self.info.queues["PollRequestsQueue"]
        for body in requests_:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
        return len(requests_)

    def run_email_events(self) -> dict[str, Any]:
        """One run of the email events function now (as its schedule runs it), and what it did."""
        result = self.runtime.invoke_schedule("EmailEventsFunction")
        if not result.ok:
            raise RuntimeError(f"the email events run failed ({result.error_kind}): {result.payload}")
        payload: dict[str, Any] = result.payload
        return payload

    def pending(self) -> int:
        return self.sandbox.pending_deliveries()

    def is_idle(self) -> bool:
        return bool(self.runtime.is_idle()) and self.sandbox.pending_deliveries() == 0

    def wait_idle(self, timeout: float, *, settle: int = 3, interval: float = 0.05) -> bool:
        """True once nothing is queued, in flight or pending delivery, ``settle`` checks in a row."""
        deadline = time.monotonic() + timeout
        calm = 0
        while time.monotonic() < deadline:
            calm = calm + 1 if self.is_idle() else 0
            if calm >= settle:
                return True
            time.sleep(interval)
        return False

    def reset(self) -> None:
        """Empty both CRMs, the queues and the state; reconnect (a fresh world for a test)."""
        for system in ("salesforce", "hubspot"):
            self._sandbox_post(system, "reset", {})
        sqs = self._boto("sqs")
        for url in self.info.queues.values():
            sqs.purge_queue(QueueUrl=url)
        dynamodb = self._boto("dynamodb")
        for table in (self.info.state_table, str(self.runtime.template.physical["IdempotencyTable"].ref)):
            _empty_table(dynamodb, table)
        self.runtime.reset_stats()
        self.connect()

    @functools.cached_property
    def state(self) -> DynamoState:
        """The stack's state table, read as the functions read it."""
        from shared.state.dynamo import DynamoState

        return DynamoState(self.info.state_table, self._boto("dynamodb"))

    def counters(self) -> dict[str, int]:
        return self.state.counters(str(self.sandbox.hs_creds.portal_id))

    def health(self) -> Sequence[HealthEntry]:
        return self.state.health(str(self.sandbox.hs_creds.portal_id))


def _empty_table(dynamodb: Any, table: str) -> None:
    described = dynamodb.describe_table(TableName=table)["Table"]
    names = {f"#k{i}": k["AttributeName"] for i, k in enumerate(described["KeySchema"])}
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
    )
    for page in pages:
        for start in range(0, len(page["Items"]), 25):
            chunk = page["Items"][start : start + 25]
            dynamodb.batch_write_item(
                RequestItems={table: [{"DeleteRequest": {"Key": item}} for item in chunk]}
            )
