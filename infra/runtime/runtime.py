"""The local Lambda runtime: a SAM template's functions, run unchanged against moto and the sandbox.

``LocalRuntime(template, aws_endpoint=...)`` creates the template's queues, tables, secrets and SSM
parameters in moto, then runs every function in its own worker processes with the environment Lambda
would give it (plus ``AWS_ENDPOINT_URL``), and wires the event sources: SQS pollers, schedules,
EventBridge rules (fed through an HTTP ingress) and Function URLs (each on its own local port).

IAM is enforced (``infra.runtime.iam``): each function's execution role, as SAM makes it from the
template, is created in moto's IAM; the function's workers and its SQS event source mappings call AWS
with the temporary credentials of a session of that role, and moto's IAM check denies whatever the
role does not allow, as AWS does.

Its own HTTP port serves ``GET /_runtime/idle``, ``GET /_runtime/stats`` (``DELETE`` resets the
counters) and the EventBridge ingress ``POST /_runtime/events[/<event-bus-name>]`` (one event or a
JSON array of events, as Salesforce Event Relay or a test would put them on the bus).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from infra.runtime.async_invoke import AsyncInvoker
from infra.runtime.aws import LOCAL_CREDENTIALS, AwsClients, Credentials
from infra.runtime.function_url import FunctionUrlApp
from infra.runtime.functions import Activity, FunctionPool, InvocationResult
from infra.runtime.iam.enforcer import STATUS_PATH
from infra.runtime.iam.roles import ExecutionRole
from infra.runtime.patterns import matches
from infra.runtime.provision import ProvisionedQueue, SecretValue, provision
from infra.runtime.schedules import Scheduler, scheduled_event
from infra.runtime.sqs_poller import SqsPoller
from infra.runtime.template import (
    SAM_FUNCTION,
    EventRuleSpec,
    FunctionSpec,
    FunctionUrlSpec,
    RuleSpec,
    RuleTarget,
    ScheduleSpec,
    Template,
    TemplateError,
)

log = logging.getLogger(__name__)

# variables a worker inherits from this process (everything else comes from the template and Lambda)
_INHERITED = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


def _function_logger(function: str, line: str) -> None:
    logging.getLogger(f"infra.runtime.function.{function}").info("%s", line)


class LocalRuntime:
    """See the module docstring. Thread-safe; ``start()`` once, then ``stop()`` (or use it as a context).

    - ``aws_endpoint``: moto's URL (``MotoServer.endpoint_url``); functions get it as ``AWS_ENDPOINT_URL``.
    - ``port`` / ``function_url_ports``: the control port and each Function URL's port (logical id ->
      port); 0 picks a free one.
    - ``secrets`` / ``ssm_values``: values of the template's Secrets Manager secrets (a string or a
      mapping, stored as JSON) and SSM parameters, by logical id.
    - ``extra_env`` (every function) and ``function_env`` (logical id -> variables): set after the
      template's variables; ``ca_bundle`` becomes ``REQUESTS_CA_BUNDLE`` (the sandbox's CA).
    - ``schedule_period``: fire every schedule every that many seconds instead of its expression.
    - ``async_retry_delays``: waits between asynchronous retries (AWS: about 1 and 2 minutes).
    - ``concurrency``: parallel invocations per function, and per SQS event source of a function with
      several (capped by ReservedConcurrentExecutions and, per SQS source,
      ScalingConfig.MaximumConcurrency).
    - ``functions``: run only these logical ids; ``eager``: start one worker per function at start.
    - ``log_dir``: append each function's log to ``<log_dir>/<LogicalId>.log`` (default: the logger
      ``infra.runtime.function.<LogicalId>`` at INFO).
    - ``enforce_iam``: functions call AWS as their execution roles (the endpoint must enforce IAM, as
      ``MotoServer`` does); False: with the runtime's own (administrator) credentials.
    """

    def __init__(
        self,
        template: Template,
        *,
        aws_endpoint: str,
        host: str = "127.0.0.1",
        port: int = 0,
        function_url_ports: Mapping[str, int] | None = None,
        secrets: Mapping[str, SecretValue] | None = None,
        ssm_values: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        function_env: Mapping[str, Mapping[str, str]] | None = None,
        ca_bundle: Path | None = None,
        schedule_period: float | None = None,
        async_retry_delays: Sequence[float] = (1.0, 2.0),
        concurrency: int = 2,
        functions: Collection[str] | None = None,
        eager: bool = False,
        log_dir: Path | None = None,
        enforce_iam: bool = True,
    ) -> None:
        self.template = template
        self.aws_endpoint = aws_endpoint.rstrip("/")
        self.host = host
        self._port = port
        self._url_ports = dict(function_url_ports or {})
        self._secrets = dict(secrets or {})
        self._ssm_values = dict(ssm_values or {})
        self._extra_env = dict(extra_env or {})
        self._function_env = {k: dict(v) for k, v in (function_env or {}).items()}
        self._ca_bundle = ca_bundle
        self.schedule_period = schedule_period
        self._async_retry_delays = tuple(async_retry_delays)
        self.concurrency = concurrency
        self._only = set(functions) if functions is not None else None
        self._eager = eager
        self._log_dir = log_dir
        self.enforce_iam = enforce_iam
        self.roles: dict[str, ExecutionRole | None] = {}
        self.credentials: dict[str, Credentials] = {}  # function logical id -> its role session's
        self._sqs_clients: dict[str, Any] = {}
        self.clients = AwsClients(self.aws_endpoint, template.region)
        self.activity = Activity()
        self.queues: dict[str, ProvisionedQueue] = {}
        self.pools: dict[str, FunctionPool] = {}
        self.pollers: list[SqsPoller] = []
        self._rules: list[tuple[FunctionPool, RuleSpec]] = []
        self._event_rules: list[EventRuleSpec] = []
        self._schedules: list[tuple[FunctionSpec, ScheduleSpec]] = []
        self._servers: list[tuple[BaseWSGIServer, threading.Thread]] = []
        self._url_servers: dict[str, BaseWSGIServer] = {}
        self._control: BaseWSGIServer | None = None
        self._scheduler: Scheduler | None = None
        self._async: AsyncInvoker | None = None
        self._provisioned = False
        self._started = False
        self._log_lock = threading.Lock()
        self.unsupported_events: dict[str, tuple[str, ...]] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def provision(self) -> dict[str, ProvisionedQueue]:
        """Create the template's resources in moto (start() does it too); idempotent."""
        if not self._provisioned:
            self.queues = provision(
                self.template, self.clients, secrets=self._secrets, ssm_values=self._ssm_values
            )
            if self.enforce_iam:
                self._provision_roles()
            self._provisioned = True
        return self.queues

    def _provision_roles(self) -> None:
        """Each function's execution role in moto's IAM, and a session of it for the function."""
        import requests

        from infra.runtime.iam.roles import execution_roles
        from infra.runtime.iam.sessions import assume, put_role

        try:
            enforcing = requests.get(f"{self.aws_endpoint}{STATUS_PATH}", timeout=10).json()["enforcing"]
        except (requests.RequestException, ValueError, KeyError, TypeError):
            enforcing = False
        if enforcing is not True:
            raise RuntimeError(
                f"{self.aws_endpoint} does not enforce IAM (run moto with MotoServer), "
                "or pass enforce_iam=False to run the functions unrestricted"
            )
        self.roles = execution_roles(self.template)
        role_arns: dict[str, str] = {}
        for function, role in self.roles.items():
            if role is None:
                log.warning("%s: its Role is not a role of the template; it calls AWS unrestricted", function)
                continue
            if role.name not in role_arns:
                role_arns[role.name] = put_role(self.clients.iam, role)
            session = str(self.template.physical[function].ref)  # Lambda names the session after the function
            self.credentials[function] = assume(self.clients.sts, role_arns[role.name], session)

    def _function_sqs(self, pool: FunctionPool) -> Any:
        """An SQS client with a function's credentials (its destinations are sent with its role)."""
        function = pool.spec.logical_id
        client = self._sqs_clients.get(function)
        if client is None:  # two threads may both build one: either will do
            credentials = self.credentials.get(function, LOCAL_CREDENTIALS)
            client = self._sqs_clients.setdefault(function, self.clients.new_sqs(credentials))
        return client

    def function_credentials(self, name: str) -> Credentials:
        """What a function (logical id or physical name) calls AWS with: its role session's
        credentials, or the runtime's own when IAM is not enforced."""
        self.provision()
        for function in self.template.logical_ids(SAM_FUNCTION):
            if name in (function, str(self.template.physical[function].ref)):
                return self.credentials.get(function, LOCAL_CREDENTIALS)
        raise KeyError(f"no function {name!r} in the template")

    def start(self) -> LocalRuntime:
        if self._started:
            return self
        if self._servers or self.pools:
            raise RuntimeError("a stopped runtime cannot start again; create a new LocalRuntime")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _start(self) -> None:
        self.provision()
        specs = self._selected_functions()
        if self._log_dir is not None:
            self._log_dir.mkdir(parents=True, exist_ok=True)
        for spec in specs:
            self._create_pool(spec)
        self._async = AsyncInvoker(
            activity=self.activity,
            sqs_of=self._function_sqs,
            queue_url_of=self.queue_url_of_arn,
            pool_of_arn=self._pool_of_arn,
            retry_delays=self._async_retry_delays,
        )
        self._control = self._serve(self.host, self._port, self._control_app, "runtime-control")
        for spec in specs:
            pool = self.pools[spec.logical_id]
            if spec.url is not None:
                self._serve_function_url(spec, spec.url, pool)
            self._add_pollers(spec, pool)
            self._rules.extend((pool, rule) for rule in spec.rules if rule.enabled)
            self._schedules.extend((spec, schedule) for schedule in spec.schedules)
        self._event_rules = [rule for rule in self.template.event_rules() if rule.enabled]
        for rule in self._event_rules:
            for target in rule.targets:
                if self.queue_url_of_arn(target.arn) is None and self._pool_of_arn(target.arn) is None:
                    log.warning("%s: target %s is not in the stack", rule.logical_id, target.arn)
        self._scheduler = Scheduler(self._schedules, self._fire_schedule, period=self.schedule_period)
        if self._eager:
            self._warm_pools()
        for poller in self.pollers:
            poller.start()
        self._scheduler.start()

    def _selected_functions(self) -> list[FunctionSpec]:
        specs = [
            spec for spec in self.template.functions() if self._only is None or spec.logical_id in self._only
        ]
        if self._only is not None:
            missing = self._only - {spec.logical_id for spec in specs}
            if missing:
                raise TemplateError(f"functions not in the template: {', '.join(sorted(missing))}")
        return specs

    def _pool_limit(self, spec: FunctionSpec) -> int:
        """A function's parallel invocations: ``concurrency``, and as in Lambda, where each SQS event
        source scales on its own up to its MaximumConcurrency, that much for each of its SQS event
        sources (two lanes of one stage: a backlog in one never takes the other's invocations);
        never more than its ReservedConcurrentExecutions."""
        sources = [
            min(self.concurrency, event.maximum_concurrency or self.concurrency)
            for event in spec.sqs_events
            if event.enabled
        ]
        limit = max(self.concurrency, sum(sources))
        return limit if spec.reserved_concurrency is None else min(limit, spec.reserved_concurrency)

    def _create_pool(self, spec: FunctionSpec) -> None:
        limit = self._pool_limit(spec)
        self.pools[spec.logical_id] = FunctionPool(
            spec,
            self._environment(spec),
            concurrency=limit,
            activity=self.activity,
            log_sink=self._log_line,
        )
        if spec.unsupported_events:
            self.unsupported_events[spec.logical_id] = spec.unsupported_events
            log.warning(
                "%s: event sources not run locally: %s",
                spec.logical_id,
                ", ".join(spec.unsupported_events),
            )

    def _serve_function_url(self, spec: FunctionSpec, url: FunctionUrlSpec, pool: FunctionPool) -> None:
        url_id = hashlib.sha256(spec.arn.encode()).hexdigest()[:32]
        account = "anonymous" if url.auth_type == "NONE" else self.template.account_id
        app = FunctionUrlApp(pool.invoke, url_id=url_id, account_id=account)
        server = self._serve(
            self.host, self._url_ports.get(spec.logical_id, 0), app, f"url-{spec.logical_id}"
        )
        self._url_servers[spec.logical_id] = server

    def _add_pollers(self, spec: FunctionSpec, pool: FunctionPool) -> None:
        for event in spec.sqs_events:
            if not event.enabled:
                continue
            queue_url = self.queue_url_of_arn(event.queue_arn)
            if queue_url is None:
                raise TemplateError(f"{spec.logical_id}.{event.name}: queue {event.queue_arn} is not in moto")
            limit = min(pool.concurrency, event.maximum_concurrency or pool.concurrency)
            self.pollers.append(
                SqsPoller(
                    pool=pool,
                    event=event,
                    queue_url=queue_url,
                    sqs=self.clients.new_sqs(self.credentials.get(spec.logical_id, LOCAL_CREDENTIALS)),
                    region=self.template.region,
                    concurrency=limit,
                )
            )

    def _warm_pools(self) -> None:
        for pool in self.pools.values():
            error = pool.warm()
            if error is not None:
                log.warning("%s failed to initialise: %s", pool.spec.logical_id, error.get("errorMessage"))

    def stop(self) -> None:
        """Stop polling, schedules and servers; end every worker process."""
        if self._scheduler is not None:
            self._scheduler.stop()
        for poller in self.pollers:
            poller.request_stop()  # all pollers wind down together
        for poller in self.pollers:
            poller.stop()
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(5)
        self._servers.clear()
        if self._async is not None:
            self._async.stop()
        for pool in self.pools.values():
            pool.close()
        self._started = False

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, host: str, port: int, app: Any, name: str) -> BaseWSGIServer:
        server = make_server(host, port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        self._servers.append((server, thread))
        return server

    # -- environment ------------------------------------------------------------------------
    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        """What Lambda puts in a function's environment, the template's variables, and the local wiring."""
        region = self.template.region
        today = f"{dt.datetime.now(dt.UTC):%Y/%m/%d}"
        credentials = self.credentials.get(spec.logical_id, LOCAL_CREDENTIALS)
        env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        env.update(
            {
                "LANG": "en_US.UTF-8",
                "TZ": ":UTC",
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                # the function's role session (Lambda puts its execution role's credentials here)
                "AWS_ACCESS_KEY_ID": credentials.access_key_id,
                "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
                "AWS_SESSION_TOKEN": credentials.session_token or "local",
                "AWS_ENDPOINT_URL": self.aws_endpoint,
                # never the developer's own AWS profile
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                "_HANDLER": spec.handler,
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        if self._ca_bundle is not None:
            env["REQUESTS_CA_BUNDLE"] = str(self._ca_bundle)  # the sandbox's Salesforce emulator is HTTPS
        env.update(spec.environment)
        env.update(self._extra_env)
        env.update(self._function_env.get(spec.logical_id, {}))
        return env

    def _log_line(self, function: str, line: str) -> None:
        if self._log_dir is None:
            _function_logger(function, line)
            return
        with self._log_lock, (self._log_dir / f"{function}.log").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    # -- lookups ----------------------------------------------------------------------------
    def pool(self, name: str) -> FunctionPool:
        """A function's pool by logical id or physical name."""
        if name in self.pools:
            return self.pools[name]
        for pool in self.pools.values():
            if pool.spec.name == name:
                return pool
        raise KeyError(f"no running function {name!r}")

    def _pool_of_arn(self, arn: str) -> FunctionPool | None:
        logical_id = self.template.function_logical_id(arn)
        return self.pools.get(logical_id) if logical_id else None

    def queue_url(self, logical_id: str) -> str:
        self.provision()
        return self.queues[logical_id].url

    def queue_url_of_arn(self, arn: str) -> str | None:
        for queue in self.queues.values():
            if queue.arn == arn:
                return queue.url
        return None

    def function_url(self, name: str) -> str:
        logical_id = self.pool(name).spec.logical_id
        if logical_id not in self._url_servers:
            raise KeyError(f"{name} has no FunctionUrlConfig")
        server = self._url_servers[logical_id]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{server.server_port}/"

    @property
    def url(self) -> str:
        if self._control is None:
            raise RuntimeError("the runtime is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._control.server_port}"

    @property
    def eventbridge_ingress_url(self) -> str:
        return f"{self.url}/_runtime/events"

    def describe(self) -> dict[str, Any]:
        """Where everything is, for a state file a separate CLI process can read."""
        return {
            "url": self.url,
            "aws_endpoint": self.aws_endpoint,
            "eventbridge_ingress_url": self.eventbridge_ingress_url,
            "function_urls": {logical_id: self.function_url(logical_id) for logical_id in self._url_servers},
            "queues": {logical_id: queue.url for logical_id, queue in self.queues.items()},
            "functions": {logical_id: pool.spec.name for logical_id, pool in self.pools.items()},
        }

    def worker_pids(self) -> list[int]:
        return [pid for pool in self.pools.values() for pid in pool.pids()]

    # -- invoking ---------------------------------------------------------------------------
    def invoke(self, name: str, event: Any) -> InvocationResult:
        """A synchronous invocation (InvocationType=RequestResponse)."""
        return self.pool(name).invoke(event)

    def invoke_async(self, name: str, event: Any) -> str:
        """An asynchronous invocation (InvocationType=Event), with retries and destinations."""
        if self._async is None:
            raise RuntimeError("the runtime is not started")
        return self._async.submit(self.pool(name), event)

    def invoke_schedule(self, name: str, schedule: str | None = None) -> InvocationResult:
        """Invoke a function now, synchronously, with the event one of its schedules sends."""
        spec = self.pool(name).spec
        candidates = [s for s in spec.schedules if schedule is None or s.name == schedule]
        if not candidates:
            raise KeyError(f"{name} has no schedule {schedule or ''}".rstrip())
        event = scheduled_event(spec, candidates[0], self.template.region, self.template.account_id)
        return self.invoke(spec.logical_id, event)

    def _fire_schedule(self, spec: FunctionSpec, schedule: ScheduleSpec) -> None:
        event = scheduled_event(spec, schedule, self.template.region, self.template.account_id)
        self.invoke_async(spec.logical_id, event)

    def put_events(
        self, events: Iterable[dict[str, Any]], event_bus: str | None = None
    ) -> list[dict[str, Any]]:
        """Put events on the (local) bus: each rule whose pattern matches invokes its function
        asynchronously, or sends the event to its SQS queue targets (the event JSON is the message
        body, as EventBridge sends it). Returns one entry per event: its id and the logical ids of
        the functions and queues it went to."""
        entries = []
        for raw in events:
            event = self._complete_event(raw)
            targets = []
            for pool, rule in self._rules:
                if event_bus is not None and rule.event_bus != event_bus:
                    continue
                if matches(rule.pattern, event):
                    self.invoke_async(pool.spec.logical_id, _rule_input(rule, event))
                    targets.append(pool.spec.logical_id)
            for event_rule in self._event_rules:
                if event_bus is not None and event_rule.event_bus != event_bus:
                    continue
                if matches(event_rule.pattern, event):
                    targets += [self._deliver(t, event) for t in event_rule.targets]
            entries.append({"EventId": event["id"], "Targets": targets})
        return entries

    def _deliver(self, target: RuleTarget, event: dict[str, Any]) -> str:
        payload = _target_input(target, event)
        queue_url = self.queue_url_of_arn(target.arn)
        if queue_url is not None:
            self.clients.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(payload))
            return self.template.queue_logical_id(target.arn) or target.arn
        pool = self._pool_of_arn(target.arn)
        if pool is None:
            raise KeyError(f"rule target {target.arn} is not a queue or function of the stack")
        self.invoke_async(pool.spec.logical_id, payload)
        return pool.spec.logical_id

    def _complete_event(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Fill what EventBridge adds to a put event (id, time, account, region, resources)."""
        if not isinstance(raw, dict):
            raise ValueError("an event must be a JSON object")
        event = dict(raw)
        event.setdefault("version", "0")
        event.setdefault("id", str(uuid.uuid4()))
        event.setdefault("time", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        event.setdefault("account", self.template.account_id)
        event.setdefault("region", self.template.region)
        event.setdefault("resources", [])
        event.setdefault("detail", {})
        for key in ("source", "detail-type"):
            if not isinstance(event.get(key), str):
                raise ValueError(f"an event needs a {key!r} string")
        return event

    # -- idleness and statistics ------------------------------------------------------------
    def _queue_depth(self, url: str) -> int:
        attributes = self.clients.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def is_idle(self) -> bool:
        """Nothing queued for a consumer (dead-letter queues do not count), in flight, or pending."""
        in_flight, pending, generation = self.activity.snapshot()
        if in_flight or pending:
            return False
        for url in {poller.queue_url for poller in self.pollers}:
            if self._queue_depth(url):
                return False
        return self.activity.snapshot() == (0, 0, generation)

    def wait_idle(self, timeout: float, interval: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.is_idle():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def stats(self) -> dict[str, Any]:
        functions = {name: pool.stats.summary() for name, pool in self.pools.items()}
        async_stats = self._async.stats if self._async is not None else {}
        for name, summary in async_stats.items():
            functions.setdefault(name, {})["async"] = summary.summary()
        in_flight, pending, _ = self.activity.snapshot()
        return {
            "functions": functions,
            "event_sources": {poller.name: poller.stats.summary() for poller in self.pollers},
            "in_flight": in_flight,
            "pending_async": pending,
        }

    def reset_stats(self) -> None:
        for pool in self.pools.values():
            pool.reset_stats()

    # -- control endpoint -------------------------------------------------------------------
    def _control_app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self._control_response(request)
        return response(environ, start_response)

    def _control_response(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path == "/_runtime/idle" and request.method == "GET":
            return _json({"idle": self.is_idle()})
        if path == "/_runtime/stats" and request.method == "GET":
            return _json(self.stats())
        if path == "/_runtime/stats" and request.method == "DELETE":
            self.reset_stats()
            return _json({"reset": True})
        if path == "/_runtime/events" or path.startswith("/_runtime/events/"):
            if request.method != "POST":
                return _json({"message": "POST events here"}, 405)
            bus = path.removeprefix("/_runtime/events").strip("/") or None
            try:
                body = json.loads(request.get_data(cache=False) or b"null")
                events = body if isinstance(body, list) else [body]
                entries = self.put_events(events, bus)
            except ValueError as exc:
                return _json({"message": str(exc)}, 400)
            return _json({"FailedEntryCount": 0, "Entries": entries})
        return _json({"message": f"no route {request.method} {request.path}"}, 404)


def wait_idle_remote(runtime_url: str, timeout: float, interval: float = 0.1) -> bool:
    """Wait, from another process, until the runtime at ``runtime_url`` reports idle."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(f"{runtime_url.rstrip('/')}/_runtime/idle", timeout=5)
            if response.ok and response.json().get("idle") is True:
                return True
        except requests.RequestException:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _rule_input(rule: RuleSpec | RuleTarget, event: dict[str, Any]) -> Any:
    if rule.input is not None:
        return rule.input
    if rule.input_path:
        value: Any = event
        for part in rule.input_path.removeprefix("$").strip(".").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return value
    return event


_target_input = _rule_input


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
