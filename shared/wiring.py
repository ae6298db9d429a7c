"""Builds what the handlers need from the function's environment, lazily and once per execution
environment (so a warm Lambda reuses clients, tokens and the configuration).

Nothing here runs at import time: handler modules import fast (cold start) and tests can set the
environment before the first call.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from shared.config import SyncConfig, parse_config

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from shared.adapters.hubspot import HubSpotAdapter
    from shared.adapters.salesforce import SalesforceAdapter
    from shared.pipeline.once import PowertoolsOnce
    from shared.state.dynamo import DynamoState

# how long a function keeps the sync configuration before reading its SSM parameter again
CONFIG_TTL_SECONDS = float(os.environ.get("HSSYNC_CONFIG_TTL_SECONDS", "60"))


class MissingSetting(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    portal: str
    state_table: str
    config_parameter: str
    changes_queue_url: str | None
    writes_queue_url: str | None
    poll_requests_queue_url: str | None
    changes_dead_letter_queue_url: str | None
    writes_dead_letter_queue_url: str | None
    poll_requests_dead_letter_queue_url: str | None = None
    owners_queue_url: str | None = None
    owners_dead_letter_queue_url: str | None = None
    idempotency_table: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        def required(name: str) -> str:
            value = os.environ.get(name)
            if not value:
                raise MissingSetting(f"environment variable {name} is not set (see template.yaml)")
            return value

        return cls(
            portal=required("HUBSPOT_PORTAL_ID"),
            state_table=required("STATE_TABLE"),
            config_parameter=required("SYNC_CONFIG_PARAMETER"),
            changes_queue_url=os.environ.get("CHANGES_QUEUE_URL"),
            writes_queue_url=os.environ.get("WRITES_QUEUE_URL"),
            poll_requests_queue_url=os.environ.get("POLL_REQUESTS_QUEUE_URL"),
            changes_dead_letter_queue_url=os.environ.get("CHANGES_DEAD_LETTER_QUEUE_URL"),
            writes_dead_letter_queue_url=os.environ.get("WRITES_DEAD_LETTER_QUEUE_URL"),
            poll_requests_dead_letter_queue_url=os.environ.get("POLL_REQUESTS_DEAD_LETTER_QUEUE_URL"),
            owners_queue_url=os.environ.get("OWNERS_QUEUE_URL"),
            owners_dead_letter_queue_url=os.environ.get("OWNERS_DEAD_LETTER_QUEUE_URL"),
            idempotency_table=os.environ.get("IDEMPOTENCY_TABLE"),
        )


def require(value: str | None, what: str) -> str:
    if not value:
        raise MissingSetting(f"{what} is not configured for this function")
    return value


def dead_letter_sink(setting: str, *, source: str) -> Callable[[str, str], None]:
    """Puts a message that can never be processed on the dead-letter queue named by ``setting`` (a
    ``Settings`` field, e.g. ``writes_dead_letter_queue_url``) with the reason, and counts it."""

    def send(body: str, reason: str) -> None:
        from shared.observability import metrics
        from shared.queues import dead_letter

        url = require(getattr(settings(), setting), setting.upper())
        dead_letter(sqs(), url, body, reason, source=source)
        metrics.add_metric(name="DeadLettered", unit="Count", value=1)

    return send


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def sqs() -> SQSClient:
    import boto3

    return boto3.client("sqs")


@cache
def state() -> DynamoState:
    from shared.state.dynamo import DynamoState

    return DynamoState(settings().state_table)


@cache
def once() -> PowertoolsOnce:
    """Apply's idempotency records (Powertools, DynamoDB): a writes message is applied once."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from shared.pipeline.once import PowertoolsOnce

    table = require(settings().idempotency_table, "IDEMPOTENCY_TABLE")
    return PowertoolsOnce(DynamoDBPersistenceLayer(table_name=table))


@cache
def salesforce() -> SalesforceAdapter:
    from shared.adapters.salesforce import SalesforceAdapter
    from shared.adapters.secrets import default_store
    from shared.state.cache import DynamoCache

    return SalesforceAdapter.from_secret(
        default_store().salesforce(), cache=DynamoCache(settings().state_table)
    )


@cache
def hubspot() -> HubSpotAdapter:
    from shared.adapters.hubspot import HubSpotAdapter
    from shared.adapters.secrets import default_store
    from shared.state.cache import DynamoCache

    return HubSpotAdapter.from_secret(default_store().hubspot(), cache=DynamoCache(settings().state_table))


def hubspot_app_id() -> str | None:
    """The id of hssync's HubSpot app: the ``sourceId`` of the changes it makes itself."""
    from shared.adapters.secrets import default_store

    return default_store().hubspot().app_id


def hubspot_client_secret() -> str:
    from shared.adapters.secrets import default_store

    return default_store().hubspot().client_secret.get_secret_value()


_config_lock = threading.Lock()
_config: tuple[float, SyncConfig] | None = None


def sync_config() -> SyncConfig:
    """The sync configuration from its SSM parameter, re-read at most once a minute."""
    global _config
    with _config_lock:
        if _config is not None and time.monotonic() - _config[0] < CONFIG_TTL_SECONDS:
            return _config[1]
        import boto3

        text = boto3.client("ssm").get_parameter(Name=settings().config_parameter)["Parameter"]["Value"]
        config = parse_config(text)
        _config = (time.monotonic(), config)
        return config
