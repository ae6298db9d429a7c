"""Builds each function's stage from the function's environment (``shared.environment``): its
queues, the CRM adapters, the state, the sync configuration. Clients are built lazily and once per
execution environment (so a warm Lambda reuses clients, tokens and the configuration).

Nothing here runs at import time: handler modules import fast (cold start), and the environment is
validated on a function's first invocation, when its handler asks for its stage.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING

from shared.config import SyncConfig, parse_config
from shared.environment import (
    ApplyEnvironment,
    ChangeEventsEnvironment,
    CrmEnvironment,
    DedupeEnvironment,
    EmailEventsEnvironment,
    OwnersEnvironment,
    PollEnvironment,
    WebhookEnvironment,
)
from shared.queues import DeadLetterQueue, Queue

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from shared.adapters.hubspot import HubSpotAdapter
    from shared.adapters.salesforce import SalesforceAdapter
    from shared.environment import _Guardrails, _SyncConfig
    from shared.guardrails.gate import Guards
    from shared.guardrails.guard import CrmGuard
    from shared.guardrails.probe import Probe
    from shared.models import System
    from shared.pipeline.once import PowertoolsOnce
    from shared.pipeline.portals import SharedReads
    from shared.pipeline.stages.apply import ApplyStage
    from shared.pipeline.stages.change_events import ChangeEventStage
    from shared.pipeline.stages.dedupe import DedupeStage
    from shared.pipeline.stages.email_events import EmailEventsStage
    from shared.pipeline.stages.owners import OwnersStage
    from shared.pipeline.stages.poll import PollStage
    from shared.pipeline.stages.webhook import WebhookStage
    from shared.pipeline.window_pacing import Account, WindowPacer
    from shared.state.crm import DynamoCrmStateStore
    from shared.state.dynamo import DynamoState


# -- the clients, one per execution environment -----------------------------------------------
@cache
def sqs() -> SQSClient:
    import boto3

    return boto3.client("sqs")


@cache
def state(table: str) -> DynamoState:
    from shared.state.dynamo import DynamoState

    return DynamoState(table)


@cache
def once(table: str) -> PowertoolsOnce:
    """Apply's idempotency records (Powertools, DynamoDB): a writes message is applied once."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from shared.pipeline.once import PowertoolsOnce

    return PowertoolsOnce(DynamoDBPersistenceLayer(table_name=table))


@cache
def _salesforce(secret: str, table: str) -> SalesforceAdapter:
    from shared.adapters.salesforce import SalesforceAdapter
    from shared.adapters.secrets import default_store
    from shared.state.cache import DynamoCache

    return SalesforceAdapter.from_secret(default_store().salesforce(secret), cache=DynamoCache(table))


@cache
def _hubspot(secret: str, table: str, portal: str) -> HubSpotAdapter:
    """One adapter per portal, with that portal's token (``shared.adapters.secrets``)."""
    from shared.adapters.hubspot import HubSpotAdapter
    from shared.adapters.secrets import default_store
    from shared.state.cache import DynamoCache

    return HubSpotAdapter.from_secret(
        default_store().hubspot(secret), portal=portal, cache=DynamoCache(table)
    )


def salesforce(env: CrmEnvironment) -> SalesforceAdapter:
    return _salesforce(env.salesforce_secret, env.state_table)


def hubspot(env: CrmEnvironment, portal: str | None = None) -> HubSpotAdapter:
    """The HubSpot adapter of ``portal`` (by default the stack's ``HUBSPOT_PORTAL_ID``), built on
    first use."""
    return _hubspot(env.hubspot_secret, env.state_table, portal or env.portal)


def hubspot_app_id(secret: str) -> str | None:
    """The id of hssync's HubSpot app: the ``sourceId`` of the changes it makes itself."""
    from shared.adapters.secrets import default_store

    return default_store().hubspot(secret).app_id


def hubspot_client_secret(secret: str) -> str:
    from shared.adapters.secrets import default_store

    return default_store().hubspot(secret).client_secret.get_secret_value()


@cache
def crm_states(table: str) -> DynamoCrmStateStore:
    from shared.state.crm import DynamoCrmStateStore

    return DynamoCrmStateStore(table)


@cache
def _notifier(topic_arn: str) -> Callable[[str, str], None]:
    """Publishes a guardrail's transition (suspended, resumed) to the alarm topic."""
    import boto3

    client = boto3.client("sns")

    def notify(subject: str, message: str) -> None:
        client.publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)

    return notify


def _shortest_wait() -> int:
    """``HSSYNC_PAUSE_SHORTEST_SECONDS``: the first wait of work held for a CRM (tunable like the
    adapters' ``HSSYNC_RETRY_*``; a test shortens it)."""
    from shared.guardrails.allocation import SHORTEST_WAIT_SECONDS

    return int(os.environ.get("HSSYNC_PAUSE_SHORTEST_SECONDS", SHORTEST_WAIT_SECONDS))


def guards(env: _Guardrails, portals: Callable[[], list[str]] | None = None) -> Guards:
    """The guardrails of a function that calls both CRMs: the org's state under its id, each
    portal's under its id (``shared.crm_state``; ``portals``: the portals, the stack's first first;
    default: that portal, another portal's guard added when its work comes), built on first use, as
    the adapters."""
    from shared.guardrails.gate import Guards
    from shared.models import System

    def guard(system: System, account: str) -> CrmGuard:
        from shared.guardrails.allocation import Allocation
        from shared.guardrails.guard import CrmGuard

        hubspot_side = system is System.HUBSPOT
        return CrmGuard(
            system=system,
            account=account,
            store=crm_states(env.state_table),
            usage=(lambda: hubspot(env, account).api_usage())
            if hubspot_side
            else (lambda: salesforce(env).api_usage()),
            allocation=Allocation(
                env.hubspot_allocation_percent if hubspot_side else env.salesforce_allocation_percent
            ),
            notify=_notifier(env.alarm_topic_arn) if env.alarm_topic_arn else None,
            shortest_wait=_shortest_wait(),
            longest_wait=env.longest_wait_seconds,
        )

    def build() -> list[CrmGuard]:
        first = [guard(System.SALESFORCE, env.salesforce_org_id)]
        return first + [guard(System.HUBSPOT, p) for p in (portals() if portals else [env.portal])]

    return Guards(build, portal_guard=lambda portal: guard(System.HUBSPOT, portal))


def probes(env: CrmEnvironment) -> Callable[[System, str], Probe | None]:
    """Each CRM account's cheap call (the org's; a portal's with its own token), made by the poll's
    schedule while the account is paused or suspended."""
    from shared.models import System

    def probe_of(system: System, account: str) -> Probe:
        if system is System.SALESFORCE:
            return lambda: salesforce(env).probe()
        return lambda: hubspot(env, account).probe()

    return probe_of


_config_lock = threading.Lock()
_config: dict[str, tuple[float, SyncConfig]] = {}


def sync_config(env: _SyncConfig) -> SyncConfig:
    """The sync configuration from its SSM parameter, re-read at most once a minute."""
    with _config_lock:
        cached = _config.get(env.sync_config_parameter)
        if cached is not None and time.monotonic() - cached[0] < env.config_ttl_seconds:
            return cached[1]
        import boto3

        name = env.sync_config_parameter
        config = parse_config(boto3.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
        _config[name] = (time.monotonic(), config)
        return config


def _portals_first(first: str, config: SyncConfig) -> list[str]:
    """The configuration's portals, the stack's first portal (``HUBSPOT_PORTAL_ID``) first."""
    return [first] + [p for p in (str(portal) for portal in config.portals) if p != first]


# -- one stage per function ---------------------------------------------------------------------
def webhook_stage(environ: Mapping[str, str] | None = None) -> WebhookStage:
    from shared.pipeline.stages.webhook import WebhookStage

    env = WebhookEnvironment.from_environ(environ)
    return WebhookStage(
        portal=env.portal,
        client_secret=lambda: hubspot_client_secret(env.hubspot_secret),
        changes=Queue(sqs(), env.changes_queue_url),
        dead_letter=DeadLetterQueue(sqs(), env.changes_dead_letter_queue_url, "hubspot-webhook", metric=None),
        received=state(env.state_table),
        portals=lambda: [str(portal) for portal in sync_config(env).portals],
        bulk_changes=Queue(sqs(), env.bulk_changes_queue_url),
    )


def change_event_stage(environ: Mapping[str, str] | None = None) -> ChangeEventStage:
    from shared.pipeline.stages.change_events import ChangeEventStage

    env = ChangeEventsEnvironment.from_environ(environ)
    return ChangeEventStage(
        org_id=env.salesforce_org_id,
        changes=Queue(sqs(), env.changes_queue_url),
        poll_requests=Queue(sqs(), env.poll_requests_queue_url),
        dead_letter=DeadLetterQueue(
            sqs(),
            env.changes_dead_letter_queue_url,
            "salesforce-change-event",
            metric="MalformedChangeEvents",
        ),
        bulk_changes=Queue(sqs(), env.bulk_changes_queue_url),
    )


def poll_stage(environ: Mapping[str, str] | None = None) -> PollStage:
    from shared.pipeline.dedupe.contacts import ContactSchema
    from shared.pipeline.poll import Poller
    from shared.pipeline.poll_portals import PortalPollers
    from shared.pipeline.poll_reconcile import PollReconciler
    from shared.pipeline.stages.poll import Enqueue, PollStage

    env = PollEnvironment.from_environ(environ)

    def one(portal: str, enqueue: Enqueue, portals: list[str]) -> Poller:
        """``portals``: every portal, whose links a Salesforce record is compared with."""
        schema = ContactSchema(sync_config(env), salesforce(env), hubspot(env, portal))
        return Poller(
            portal=portal,
            org_id=env.salesforce_org_id,
            salesforce=salesforce(env),
            hubspot=hubspot(env, portal),
            state=state(env.state_table),
            enqueue=enqueue,
            companies=hubspot(env, portal),
            deals=hubspot(env, portal),
            reconciler=PollReconciler(schema, state(env.state_table), portal, portals),
        )

    def poller(enqueue: Enqueue) -> Poller | PortalPollers:
        portals = _portals_first(env.portal, sync_config(env))
        if portals == [env.portal]:
            return one(env.portal, enqueue, portals)
        # Salesforce read once (the first portal's poller), HubSpot per portal
        return PortalPollers(portals, lambda portal: one(portal, enqueue, portals))

    return PollStage(
        poller=poller,
        inclusion_list=lambda: sync_config(env).inclusion.list_id,
        accounts_enabled=lambda: sync_config(env).accounts.enabled,
        deals_enabled=lambda: sync_config(env).deals.enabled,
        changes=Queue(sqs(), env.changes_queue_url),
        dead_letter=DeadLetterQueue(sqs(), env.poll_requests_dead_letter_queue_url, "poll"),
        guards=guards(env, lambda: _portals_first(env.portal, sync_config(env))),
        probes=probes(env),
        requests=Queue(sqs(), env.poll_requests_queue_url),
        bulk_changes=Queue(sqs(), env.bulk_changes_queue_url),
    )


def dedupe_stage(environ: Mapping[str, str] | None = None) -> DedupeStage:
    from shared.pipeline.dedupe import Deduper
    from shared.pipeline.portals import PortalDedupers, SharedReads
    from shared.pipeline.stages.dedupe import DedupeStage

    env = DedupeEnvironment.from_environ(environ)

    def one(portal: str, config: SyncConfig, reads: SalesforceAdapter | SharedReads) -> Deduper:
        return Deduper(
            config=config,
            portal=portal,
            salesforce=reads,
            hubspot=hubspot(env, portal),
            state=state(env.state_table),
            own_app_id=hubspot_app_id(env.hubspot_secret),
            companies=hubspot(env, portal),
            accounts=reads,
            deals=hubspot(env, portal),
            opportunities=salesforce(env),
        )

    checked = guards(env, lambda: _portals_first(env.portal, sync_config(env)))

    def deduper() -> Deduper | PortalDedupers:
        config = sync_config(env)
        portals = [str(portal) for portal in config.portals]
        if portals == [env.portal]:
            return one(env.portal, config, salesforce(env))
        # a Salesforce change read once for every portal
        reads = SharedReads(salesforce(env), accounts=salesforce(env))
        return PortalDedupers(portals, lambda portal: one(portal, config.for_portal(portal), reads))

    return DedupeStage(
        deduper=deduper,
        state=state(env.state_table),
        portal=env.portal,
        plans=Queue(sqs(), env.owners_queue_url),
        changes=Queue(sqs(), env.changes_queue_url),
        dead_letter=DeadLetterQueue(sqs(), env.changes_dead_letter_queue_url, "dedupe"),
        guards=checked,
        pacer=window_pacer(env, checked),
        bulk_plans=Queue(sqs(), env.bulk_owners_queue_url),
        bulk_changes=Queue(sqs(), env.bulk_changes_queue_url),
        paced_changes=Queue(sqs(), env.paced_changes_queue_url),
    )


def window_pacer(env: DedupeEnvironment, checked: Guards) -> WindowPacer:
    """The dedupe windows' pacing: each guarded CRM account's budget from the configuration's
    ``batching`` settings, its bucket in the state table."""
    from shared.pipeline.window_pacing import WindowPacer, accounts_of

    def accounts() -> list[Account]:
        batching = sync_config(env).batching
        return accounts_of(checked.guards, batching.budget_share, batching.max_wait_seconds)

    return WindowPacer(
        stage="dedupe",
        store=crm_states(env.state_table),
        accounts=accounts,
        own_app_id=lambda: hubspot_app_id(env.hubspot_secret),
    )


def owners_stage(environ: Mapping[str, str] | None = None) -> OwnersStage:
    from shared.owners.stage import OwnerStage
    from shared.pipeline.portals import PortalOwners, SharedReads
    from shared.pipeline.stages.owners import OwnersStage
    from shared.state.cache import DynamoCache

    env = OwnersEnvironment.from_environ(environ)

    def one(portal: str, reads: SalesforceAdapter | SharedReads) -> OwnerStage:
        return OwnerStage(
            portal=portal,
            salesforce=reads,
            hubspot=hubspot(env, portal),
            cache=DynamoCache(env.state_table),
        )

    def owners() -> PortalOwners:
        reads = SharedReads(salesforce(env))  # the Salesforce owners read once for every portal
        return PortalOwners([env.portal], lambda portal: one(portal, reads))

    return OwnersStage(
        owners=owners,
        state=state(env.state_table),
        portal=env.portal,
        writes=Queue(sqs(), env.writes_queue_url),
        dead_letter=DeadLetterQueue(sqs(), env.owners_dead_letter_queue_url, "owners"),
        guards=guards(env),
        plans=Queue(sqs(), env.owners_queue_url),
        bulk_writes=Queue(sqs(), env.bulk_writes_queue_url),
        bulk_plans=Queue(sqs(), env.bulk_owners_queue_url),
    )


def apply_stage(environ: Mapping[str, str] | None = None) -> ApplyStage:
    import datetime as dt

    from shared.pipeline.apply import Applier
    from shared.pipeline.portals import PortalAppliers
    from shared.pipeline.stages.apply import ApplyStage

    env = ApplyEnvironment.from_environ(environ)

    def one(portal: str, running_for: dt.timedelta) -> Applier:
        return Applier(
            salesforce=salesforce(env),
            hubspot=hubspot(env, portal),
            state=state(env.state_table),
            assignment_rules=sync_config(env).creation_of(portal).assignment_rules,
            running_for=running_for,
            companies=hubspot(env, portal),
            deals=hubspot(env, portal),
            accounts=salesforce(env),
            opportunities=salesforce(env),
        )

    def applier(running_for: dt.timedelta) -> Applier | PortalAppliers:
        portals = [str(portal) for portal in sync_config(env).portals]
        if portals == [env.portal]:
            return one(env.portal, running_for)
        return PortalAppliers(lambda portal: one(portal, running_for))  # a plan's portal writes it

    return ApplyStage(
        applier=applier,
        once=lambda: once(env.idempotency_table),
        state=state(env.state_table),
        portal=env.portal,
        writes=Queue(sqs(), env.writes_queue_url),
        changes=Queue(sqs(), env.changes_queue_url),
        dead_letter=DeadLetterQueue(sqs(), env.writes_dead_letter_queue_url, "apply"),
        guards=guards(env, lambda: _portals_first(env.portal, sync_config(env))),
        bulk_writes=Queue(sqs(), env.bulk_writes_queue_url),
        bulk_changes=Queue(sqs(), env.bulk_changes_queue_url),
    )


def email_events_stage(environ: Mapping[str, str] | None = None) -> EmailEventsStage:
    from shared.config import EmailEventsSettings
    from shared.pipeline.email_events import EmailEventSync
    from shared.pipeline.stages.email_events import EmailEventsStage

    env = EmailEventsEnvironment.from_environ(environ)

    def sync(settings: EmailEventsSettings, portal: str | None = None) -> EmailEventSync:
        return EmailEventSync(
            portal=portal or env.portal,
            settings=settings,
            reader=hubspot(env, portal),
            salesforce=salesforce(env),
            state=state(env.state_table),
        )

    return EmailEventsStage(
        settings=lambda: sync_config(env).email_events,
        sync=sync,
        guards=guards(env, lambda: _portals_first(env.portal, sync_config(env))),
        portal_sync=sync,  # several portals: each portal's events, with its token and cursor
    )
