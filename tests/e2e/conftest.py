"""The end-to-end harness: the whole product on one machine, driven as its users drive it.

Each pytest-xdist worker starts ONE sandbox (both CRM emulators) and ONE :class:`LocalStack` (moto and
the functions of ``template.yaml`` in the local Lambda runtime) for the session; every test gets a
fresh world (``stack.reset()``: empty CRMs, queues and state). People act through the real clients:
HubSpot users with ``hubspot-api-client`` and the private-app token (or an edit in the HubSpot UI,
``/_sandbox/crm-ui-edit``), Salesforce users through a simple-salesforce password-grant session
without hssync's call options, so their edits are genuine. The outcome is observed in-process
(the emulators' stores, the stack's state table), which costs no API call, so the emulators' call
statistics are the pipeline's plus the users' own calls, and :class:`World` counts the latter.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from bench.soak import integration_user_is_a_hubspot_owner as hubspot_owner_for_integration_user
from infra.local_stack import LocalStack
from infra.sandbox.runner import Sandbox
from infra.sandbox.salesforce.settings import LARGE_ORG_DAILY_API_LIMIT
from shared.matching import normalize_email
from shared.ports import HealthEntry, Link

T = TypeVar("T")

SETTLE_TIMEOUT = 60.0
USER_ATTEMPTS = 30  # a user retrying through injected faults
MOTO_STRICT_PURGE = "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
# API calls sent with a write method that read or authenticate (never a change to CRM data)
READS_BY_WRITE_METHOD = {
    "salesforce": (
        re.compile(r"^POST /services/oauth2/token$"),
        re.compile(r"^POST /services/data/\{version\}/composite$"),  # SOQL queries as subrequests
        re.compile(r"^POST /services/data/\{version\}/composite/sobjects/\{sobject\}$"),  # retrieve
    ),
    "hubspot": (
        re.compile(r"^POST /crm/v3/objects/\{object_type\}/batch/read$"),
        re.compile(r"^POST /crm/v3/objects/\{object_type\}/search$"),
        re.compile(r"^POST /crm/v3/lists/records/memberships/batch/read$"),  # inclusion list members
        re.compile(r"^\w+ /webhooks/"),  # the stack (re)subscribing on reset, not CRM data
    ),
}
# the adapters' back-off, tuned to the emulators (faults answer at once; Retry-After is honoured as is)
RETRY_ENV = {
    "HSSYNC_CONFIG_TTL_SECONDS": "0",  # a test's own sync configuration applies at once
    "HSSYNC_RETRY_MAX_ATTEMPTS": "8",
    "HSSYNC_RETRY_BASE_DELAY": "0.05",
    "HSSYNC_RETRY_MAX_DELAY": "0.5",
    "HSSYNC_RETRY_MAX_TOTAL_WAIT": "20",
}


def config_text(portal: int) -> str:
    """The sync configuration of the e2e tests: the defaults (every contact syncs, leads are created)."""
    return f"version: 1\nportals: [{portal}]\n"


@contextlib.contextmanager
def running_stack(
    state_dir: Path,
    extra_env: Mapping[str, str],
    *,
    hubspot_portals: int = 1,
    config: Callable[[Sandbox], str] | None = None,
) -> Iterator[LocalStack]:
    """A sandbox and a stack of the e2e configuration (or ``config`` of the sandbox) on free ports,
    stopped on exit; ``hubspot_portals``: the HubSpot portals the sandbox serves."""
    # LocalStack.reset() purges every queue, and moto (in this process) allows one PurgeQueue per
    # queue per 60 s, as SQS does; a reset before each test needs more
    os.environ[MOTO_STRICT_PURGE] = "false"
    sandbox = Sandbox(
        salesforce_port=0,
        hubspot_port=0,
        state_dir=state_dir,
        hubspot_portals=hubspot_portals,
        salesforce_daily_api_limit=LARGE_ORG_DAILY_API_LIMIT,
    )
    sandbox.start()
    try:
        config_file = state_dir / "sync.yaml"
        config_file.write_text(config(sandbox) if config else config_text(sandbox.hs_creds.portal_id))
        stack = LocalStack(
            sandbox,
            config_file=config_file,
            aws_port=0,
            schedule_period=None,
            log_dir=state_dir / "logs",
            extra_env=dict(extra_env),
        )
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()
    finally:
        sandbox.stop()


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One sandbox and one stack per test process (each xdist worker has its own, on free ports)."""
    with running_stack(tmp_path_factory.mktemp("e2e"), RETRY_ENV) as stack:
        yield stack


@pytest.fixture
def stack(e2e_stack: LocalStack) -> Iterator[LocalStack]:
    """The session's stack in a fresh world: empty CRMs, queues, state; webhooks and CDC reconnected."""
    e2e_stack.reset()
    integration_user_is_a_hubspot_owner(e2e_stack)
    default = config_text(e2e_stack.sandbox.hs_creds.portal_id)
    if e2e_stack.config_text != default:
        e2e_stack.set_config(default)
    yield e2e_stack
    # leave nothing running into the next test's world (a failed test may have left faults on)
    world = World(e2e_stack)
    world.faults_off()
    e2e_stack.wait_idle(SETTLE_TIMEOUT)


def integration_user_is_a_hubspot_owner(stack: LocalStack) -> None:
    """As in most portals, the Salesforce user hssync writes as is a HubSpot user too: records it
    owns (everything the tests create in Salesforce) have a HubSpot owner. Owner tests add others."""
    hubspot_owner_for_integration_user(stack.sandbox)


@pytest.fixture
def world(stack: LocalStack) -> World:
    return World(stack)


# -- the users' side ---------------------------------------------------------------------------------


def _transient(exc: Exception) -> bool:
    """An injected (or real) fault a user would simply retry: 429, 5xx, a dropped connection, a lock."""
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    status = getattr(exc, "status", None)
    if isinstance(status, int) and (status == 429 or status >= 500 or status == 0):
        return True
    text = f"{exc!s} {getattr(exc, 'content', '')}"
    if "UNABLE_TO_LOCK_ROW" in text:
        return True
    # urllib3 (under hubspot-api-client) raises its own errors for a dropped connection
    return exc.__class__.__module__.startswith("urllib3") or "RemoteDisconnected" in text


class World:
    """Both CRMs as users see them, and the stack as an operator watches it."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.sandbox: Sandbox = stack.sandbox
        self.portal = str(self.sandbox.hs_creds.portal_id)
        self.user_writes: Counter[str] = Counter()  # API write calls made by users, per system
        self._hubspot: Any = None
        self._salesforce: Any = None

    # -- users' clients ------------------------------------------------------------------------
    @property
    def hubspot(self) -> Any:
        if self._hubspot is None:
            from hubspot import HubSpot

            info = self.sandbox.info.hubspot
            # the users' scripts run as another app than hssync's, as in a real portal
            self._hubspot = HubSpot(access_token=info["other_access_token"], host=info["url"])
        return self._hubspot

    @property
    def salesforce(self) -> Any:
        """A Salesforce user's session (password grant; no hssync call options: genuine edits)."""
        if self._salesforce is None:
            from infra.demo import salesforce_client

            self._salesforce = self._as_user("salesforce", lambda: salesforce_client(self.sandbox.info))
        return self._salesforce

    def _as_user(self, system: str, call: Callable[[], T], *, write: bool = False) -> T:
        """One user action, repeated (as a person would) while the API answers with a transient fault.
        Every attempt is an API call, so every attempt of a write counts as a user write."""
        for attempt in range(1, USER_ATTEMPTS + 1):
            if write:
                self.user_writes[system] += 1
            try:
                return call()
            except Exception as exc:
                if attempt == USER_ATTEMPTS or not _transient(exc):
                    raise
                time.sleep(0.05)
        raise AssertionError("the loop returns or raises")

    # -- acting as users -----------------------------------------------------------------------
    def hubspot_create(self, **properties: str) -> str:
        """A contact created through the CRM API by a HubSpot user (webhook: contact.creation)."""
        from hubspot.crm.contacts import SimplePublicObjectInputForCreate
        from hubspot.crm.contacts.exceptions import ApiException

        def create() -> str:
            try:
                answer = self.hubspot.crm.contacts.basic_api.create(
                    SimplePublicObjectInputForCreate(properties=properties)
                )
            except ApiException as exc:
                # an earlier attempt that lost its answer may have created it: the user finds it
                existing = re.search(r"Existing ID: (\d+)", str(exc.body or ""))
                if exc.status == 409 and existing:
                    return existing.group(1)
                raise
            return str(answer.id)

        return self._as_user("hubspot", create, write=True)

    def hubspot_edit(self, contact_id: str, **properties: str) -> None:
        """An edit in the HubSpot UI (webhooks carry changeSource CRM_UI; not an API call)."""
        response = requests.post(
            f"{self.sandbox.hubspot_url}/_sandbox/crm-ui-edit",
            json={"objectType": "contacts", "id": contact_id, "properties": properties},
            timeout=10,
        )
        response.raise_for_status()

    def salesforce_create(self, sobject: str, **fields: Any) -> str:
        tried = False

        def create() -> Any:
            # an earlier attempt that lost its answer may have created it: the user finds it first
            nonlocal tried
            email = fields.get("Email")
            if tried and email:
                from simple_salesforce.format import format_soql

                soql = "SELECT Id FROM {:literal} WHERE Email = {} ORDER BY CreatedDate DESC LIMIT 1"
                found = self.salesforce.query(format_soql(soql, sobject, email))["records"]
                if found:
                    return {"id": found[0]["Id"]}
            tried = True
            return getattr(self.salesforce, sobject).create(fields)

        answer = self._as_user("salesforce", create, write=True)
        return str(answer["id"])

    def salesforce_update(self, sobject: str, record_id: str, **fields: Any) -> None:
        self._as_user(
            "salesforce", lambda: getattr(self.salesforce, sobject).update(record_id, fields), write=True
        )

    @contextlib.contextmanager
    def events_paused(self) -> Iterator[None]:
        """Records made inside exist before hssync hears of them (as data predating the connector):
        HubSpot webhooks and Salesforce change events are switched off, then reconnected."""
        from hubspot.webhooks import ApiClient, Configuration, SettingsApi

        info = self.sandbox.info.hubspot
        configuration = Configuration(host=info["url"])
        configuration.api_key["developer_hapikey"] = info["developer_api_key"]
        SettingsApi(ApiClient(configuration)).clear(int(info["app_id"]))
        self.sandbox_post("salesforce", "change-events/target", {"url": None})
        try:
            yield
        finally:
            self.stack.connect()

    # -- the sandbox ---------------------------------------------------------------------------
    def use_config(self, body: str) -> None:
        """Run this sync configuration (YAML after the version and portals lines) from now on."""
        self.stack.set_config(config_text(self.stack.sandbox.hs_creds.portal_id) + body)

    def sandbox_post(self, system: str, path: str, body: Mapping[str, Any]) -> Any:
        base = self.sandbox.salesforce_url if system == "salesforce" else self.sandbox.hubspot_url
        response = requests.post(
            f"{base}/_sandbox/{path}", json=body, verify=str(self.sandbox.tls.ca_cert), timeout=10
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, body: Mapping[str, Any]) -> None:
        for system in ("salesforce", "hubspot"):
            self.sandbox_post(system, "faults", body)

    def faults_off(self) -> None:
        self.faults({"rate": 0})

    def injected_faults(self) -> dict[str, dict[str, int]]:
        return {
            "salesforce": dict(self.sandbox.salesforce.faults.injected),
            "hubspot": dict(self.sandbox.hubspot.faults.injected),
        }

    # -- waiting -------------------------------------------------------------------------------
    def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Until nothing is queued, in flight or pending delivery anywhere."""
        assert self.stack.wait_idle(timeout), f"the pipeline did not go idle within {timeout:.0f} s"

    # -- observing (in-process: no API calls) --------------------------------------------------
    def hubspot_contacts(self) -> list[Any]:
        return list(self.sandbox.hubspot.store.records("contacts"))

    def hubspot_contact(self, contact_id: str) -> dict[str, str | None]:
        record = self.sandbox.hubspot.store.get("contacts", contact_id)
        assert record is not None, f"HubSpot contact {contact_id} does not exist"
        return dict(record.properties)

    def hubspot_with_email(self, email: str) -> list[Any]:
        wanted = normalize_email(email)
        return [c for c in self.hubspot_contacts() if normalize_email(c.properties.get("email")) == wanted]

    def salesforce_rows(self, sobject: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.sandbox.salesforce.store.rows(sobject, include_deleted=False)]

    def salesforce_row(self, sobject: str, record_id: str) -> dict[str, Any]:
        row = self.sandbox.salesforce.store.get(sobject, record_id, include_deleted=False)
        assert row is not None, f"Salesforce {sobject} {record_id} does not exist"
        return dict(row)

    def salesforce_with_email(self, sobject: str, email: str) -> list[dict[str, Any]]:
        wanted = normalize_email(email)
        return [r for r in self.salesforce_rows(sobject) if normalize_email(r.get("Email")) == wanted]

    def link_of(self, hubspot_id: str) -> Link | None:
        return self.stack.state.links_by_hubspot(self.portal, [hubspot_id]).get(hubspot_id)

    def health(self) -> list[HealthEntry]:
        return list(self.stack.health())

    def counters(self) -> dict[str, int]:
        return dict(self.stack.counters())

    def write_calls(self) -> dict[str, int]:
        """API calls that change CRM data, per system: the pipeline's plus the users' (see
        :attr:`user_writes`). Faulted attempts count too: each one is a call the API received."""
        out = {}
        for system in ("salesforce", "hubspot"):
            emulator = self.sandbox.salesforce if system == "salesforce" else self.sandbox.hubspot
            calls = emulator.stats.snapshot()["calls"]
            out[system] = sum(
                n
                for key, n in calls.items()
                if key.split(" ", 1)[0] in WRITE_METHODS
                and not any(p.match(key) for p in READS_BY_WRITE_METHOD[system])
            )
        return out

    def pipeline_writes(self) -> dict[str, int]:
        """Write calls made by hssync itself: all write calls minus the users' own."""
        calls = self.write_calls()
        return {system: calls[system] - self.user_writes[system] for system in calls}

    def queue_messages(self, logical_id: str, *, wait: int = 0) -> list[dict[str, Any]]:
        """Receive what a queue holds (e.g. a dead-letter queue), with every message attribute."""
        sqs = self.stack._boto("sqs")
        answer = sqs.receive_message(
            QueueUrl=self.stack.info.queues[logical_id],
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = answer.get("Messages") or []
        return messages


def quiet(world: World, label: str, *, pause: float = 0.5) -> dict[str, int]:
    """Settled, then ``pause`` seconds more: no write of any kind may follow (an echo would)."""
    world.settle()
    before = world.pipeline_writes()
    sleep_quietly(pause)
    world.settle()
    assert world.pipeline_writes() == before, f"writes after {label} had settled: echoes"
    return before


def status_of(world: World, record: str) -> str | None:
    """Why the pipeline last skipped this record ("hubspot:contacts:N"), if it did."""
    return world.stack.state.statuses(world.portal, [record]).get(record)


def recycle_workers(world: World, name: str = "DedupeFunction") -> None:
    """Settle, then end the function's idle warm workers: the next invocation describes the org and
    the portal afresh (as a recycled Lambda execution environment would)."""
    world.settle()
    world.stack.runtime.pools[name].retire_idle()


def sleep_quietly(seconds: float) -> None:
    """Let time pass (so that anything still to come would have come); never an assertion."""
    time.sleep(seconds)


def queue_owner(world: World) -> str:
    """A new Salesforce queue (an owner HubSpot has no counterpart for): its id."""
    queue = {"Type": "Queue", "Name": "Inbound Leads", "Email": "queue@owners.example"}
    [queue_id] = world.sandbox_post("salesforce", "users", {"users": [queue]})["ids"]
    return str(queue_id)
