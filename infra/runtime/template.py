"""A SAM template as the local runtime needs it: parameters, conditions, Globals, and typed views of the
queues, tables, secrets, SSM parameters and functions (with their event sources) it declares.

Physical names are deterministic (``<stack>-<LogicalId>`` unless the template names the resource), so a
runtime restarted against the same moto finds its resources again. Values that only exist once a
resource is created (queue URLs, secret ARNs) are recorded with :meth:`Template.set_physical` by the
provisioner; resolving a reference to them earlier is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.runtime.cfn_yaml import load_cfn_file
from infra.runtime.intrinsics import Resolver, TemplateError, as_text

__all__ = [
    "AsyncConfig",
    "Destination",
    "EventRuleSpec",
    "FunctionSpec",
    "FunctionUrlSpec",
    "ParameterSpec",
    "QueueSpec",
    "RuleSpec",
    "RuleTarget",
    "ScheduleSpec",
    "SecretSpec",
    "SqsEventSpec",
    "TableSpec",
    "Template",
    "TemplateError",
]

DEFAULT_ACCOUNT = "123456789012"
SAM_FUNCTION = "AWS::Serverless::Function"
QUEUE = "AWS::SQS::Queue"
TABLE = "AWS::DynamoDB::Table"
SIMPLE_TABLE = "AWS::Serverless::SimpleTable"
SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type
SSM_PARAMETER = "AWS::SSM::Parameter"
LAYER = "AWS::Serverless::LayerVersion"
EVENTS_RULE = "AWS::Events::Rule"
TOPIC = "AWS::SNS::Topic"
# a standard queue's event source: more than 10 messages a batch only with a batching window
MAX_BATCH_WITHOUT_WINDOW = 10

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FUNCTION_KEYS = frozenset(
    {
        "CodeUri",
        "Handler",
        "Runtime",
        "Architectures",
        "MemorySize",
        "Timeout",
        "Environment",
        "Tracing",
        "ReservedConcurrentExecutions",
        "FunctionUrlConfig",
        "EventInvokeConfig",
        "DeadLetterQueue",
        "Layers",
    }
)
_EVENT_TYPES = frozenset({"SQS", "Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"})


@dataclass(frozen=True)
class Physical:
    """What ``Ref`` returns for a resource, and its ``Fn::GetAtt`` attributes."""

    ref: Any
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    arn: str
    attributes: dict[str, str]  # SQS CreateQueue attributes (RedrivePolicy as JSON text)
    dead_letter_arn: str | None
    fifo: bool


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    create_args: dict[str, Any]  # DynamoDB CreateTable arguments
    ttl_attribute: str | None


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    value: str | None  # SecretString from the template, if it has one
    description: str | None


@dataclass(frozen=True)
class ParameterSpec:
    logical_id: str
    name: str
    type: str
    value: str | None


@dataclass(frozen=True)
class SqsEventSpec:
    name: str
    queue_arn: str
    batch_size: int
    batching_window: float
    report_batch_item_failures: bool
    enabled: bool
    maximum_concurrency: int | None
    filter_patterns: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    expression: str
    enabled: bool
    input: Any  # the parsed Input JSON, or None for the scheduled event
    scheduler: bool  # ScheduleV2 (EventBridge Scheduler) rather than an EventBridge rule
    rule_name: str


@dataclass(frozen=True)
class RuleSpec:
    name: str
    pattern: dict[str, Any]
    event_bus: str
    enabled: bool
    input: Any
    input_path: str | None
    rule_name: str


@dataclass(frozen=True)
class RuleTarget:
    id: str
    arn: str  # an SQS queue or a Lambda function
    input: Any
    input_path: str | None


@dataclass(frozen=True)
class EventRuleSpec:
    """An ``AWS::Events::Rule`` resource: a pattern on a bus and the targets it sends to."""

    logical_id: str
    rule_name: str
    pattern: dict[str, Any]
    event_bus: str
    enabled: bool
    targets: tuple[RuleTarget, ...]


@dataclass(frozen=True)
class FunctionUrlSpec:
    auth_type: str
    invoke_mode: str
    cors: dict[str, Any]


@dataclass(frozen=True)
class Destination:
    type: str  # SQS, Lambda, SNS, EventBridge
    arn: str


@dataclass(frozen=True)
class AsyncConfig:
    maximum_retry_attempts: int = 2
    maximum_event_age: int = 6 * 3600
    on_success: Destination | None = None
    on_failure: Destination | None = None
    dead_letter: Destination | None = None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    module: str
    attribute: str
    import_roots: tuple[Path, ...]
    runtime: str
    architectures: tuple[str, ...]
    memory_size: int
    timeout: int
    environment: dict[str, str]
    tracing: str | None
    reserved_concurrency: int | None
    sqs_events: tuple[SqsEventSpec, ...]
    schedules: tuple[ScheduleSpec, ...]
    rules: tuple[RuleSpec, ...]
    url: FunctionUrlSpec | None
    async_config: AsyncConfig
    unsupported_events: tuple[str, ...]


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rules: maps merge, lists add up (globals first), scalars are overridden."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return [*global_value, *local_value]
    return local_value


def _env_text(value: Any) -> str:
    return as_text(value)


def _json_or_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Template:
    """A loaded SAM template; see the module docstring."""

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        root: Path,
        parameters: Mapping[str, Any] | None = None,
        stack_name: str = "hssync",
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT,
    ) -> None:
        self.data = data
        self.root = root.resolve()
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.parameters = self._parameter_values(dict(parameters or {}))
        pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        self._resolver = Resolver(
            parameters={**self.parameters, **pseudo},
            conditions=data.get("Conditions") or {},
            mappings=data.get("Mappings") or {},
            ref=self._ref,
            get_att=self._get_att,
            region=region,
        )
        all_resources: dict[str, Any] = data.get("Resources") or {}
        self.resources: dict[str, dict[str, Any]] = {
            logical_id: resource
            for logical_id, resource in all_resources.items()
            if "Condition" not in resource or self._resolver.condition(str(resource["Condition"]))
        }
        self.physical: dict[str, Physical] = {}
        for logical_id, resource in self.resources.items():
            self.physical[logical_id] = self._default_physical(logical_id, resource)

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        parameters: Mapping[str, Any] | None = None,
        stack_name: str = "hssync",
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT,
    ) -> Template:
        try:
            data = load_cfn_file(path)
        except (OSError, ValueError) as exc:
            raise TemplateError(f"{path}: {exc}") from exc
        return cls(
            data,
            root=path.parent,
            parameters=parameters,
            stack_name=stack_name,
            region=region,
            account_id=account_id,
        )

    # -- parameters -------------------------------------------------------------------------
    def _parameter_values(self, overrides: dict[str, Any]) -> dict[str, Any]:
        declared: dict[str, Any] = self.data.get("Parameters") or {}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise TemplateError(f"unknown parameters: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        missing = []
        for name, spec in declared.items():
            if name in overrides:
                raw = overrides[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                missing.append(name)
                continue
            values[name] = self._typed_parameter(name, spec, raw)
        if missing:
            raise TemplateError(f"parameters without a default need a value: {', '.join(missing)}")
        return values

    @staticmethod
    def _typed_parameter(name: str, spec: Mapping[str, Any], raw: Any) -> Any:
        kind = str(spec.get("Type", "String"))
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            items = raw if isinstance(raw, list) else [part.strip() for part in str(raw).split(",")]
            return [as_text(item) for item in items]
        text = as_text(raw)
        if kind == "Number":
            try:
                float(text)
            except ValueError:
                raise TemplateError(f"parameter {name}: {text!r} is not a number") from None
        allowed = spec.get("AllowedValues")
        if allowed is not None and text not in [as_text(a) for a in allowed]:
            raise TemplateError(f"parameter {name}: {text!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), text):
            raise TemplateError(f"parameter {name}: {text!r} does not match {pattern}")
        return text

    # -- physical ids -----------------------------------------------------------------------
    def _name(self, logical_id: str, limit: int = 80) -> str:
        return f"{self.stack_name}-{logical_id}"[:limit]

    def _default_physical(self, logical_id: str, resource: Mapping[str, Any]) -> Physical:
        kind = resource.get("Type", "")
        props = resource.get("Properties") or {}
        region, account = self.region, self.account_id
        if kind == QUEUE:
            name = props.get("QueueName")
            fifo = bool(self.resolve(props.get("FifoQueue", False)) in (True, "true"))
            if name is None:
                name = self._name(logical_id, 75) + (".fifo" if fifo else "")
            name = self.resolve(name)
            # Ref (the queue URL) is only known once moto has created the queue
            return Physical(None, {"Arn": f"arn:aws:sqs:{region}:{account}:{name}", "QueueName": name})
        if kind in (TABLE, SIMPLE_TABLE):
            name = self.resolve(props.get("TableName", self._name(logical_id, 255)))
            arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
            return Physical(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})
        if kind == SAM_FUNCTION:
            name = self.resolve(props.get("FunctionName", self._name(logical_id, 64)))
            return Physical(name, {"Arn": f"arn:aws:lambda:{region}:{account}:function:{name}"})
        if kind == SECRET:
            name = self.resolve(props.get("Name", self._name(logical_id, 512)))
            # Ref (the ARN, with moto's random suffix) is only known once the secret exists
            return Physical(None, {"Name": name})
        if kind == SSM_PARAMETER:
            name = self.resolve(props.get("Name", f"CFN-{logical_id}-{self.stack_name}"))
            return Physical(name, {"Type": props.get("Type", "String")})
        if kind == TOPIC:  # Ref is the topic's ARN (moto derives the same ARN from the name)
            name = self.resolve(props.get("TopicName", self._name(logical_id, 256)))
            arn = f"arn:aws:sns:{region}:{account}:{name}"
            return Physical(arn, {"TopicName": name, "TopicArn": arn})
        # resources the runtime reads but does not create: plausible, deterministic identifiers
        name = self._name(logical_id)
        service = kind.split("::")[1].lower() if kind.count("::") >= 2 else "cloudformation"
        return Physical(name, {"Arn": f"arn:aws:{service}:{region}:{account}:{name}"})

    def set_physical(self, logical_id: str, ref: Any, **attributes: Any) -> None:
        current = self.physical.get(logical_id, Physical(None))
        self.physical[logical_id] = Physical(ref, {**current.attributes, **attributes})

    def _ref(self, logical_id: str) -> Any:
        if logical_id not in self.physical:
            raise TemplateError(f"Ref to unknown resource or parameter {logical_id!r}")
        ref = self.physical[logical_id].ref
        if ref is None:
            raise TemplateError(
                f"Ref {logical_id!r} is only known once the resource exists (provision first)"
            )
        return ref

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.physical:
            raise TemplateError(f"Fn::GetAtt of unknown resource {logical_id!r}")
        physical = self.physical[logical_id]
        if attribute in physical.attributes:
            return physical.attributes[attribute]
        if attribute == "QueueUrl" and physical.ref is not None:
            return physical.ref
        kind = self.resources[logical_id].get("Type", "")
        if kind in (QUEUE, TABLE, SIMPLE_TABLE, SAM_FUNCTION, SECRET, SSM_PARAMETER):
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} is not known locally")
        return f"{physical.ref}.{attribute}"

    def resolve(self, value: Any) -> Any:
        return self._resolver.resolve(value)

    def condition(self, name: str) -> bool:
        return self._resolver.condition(name)

    def logical_ids(self, kind: str) -> list[str]:
        return [lid for lid, resource in self.resources.items() if resource.get("Type") == kind]

    def properties(self, logical_id: str) -> dict[str, Any]:
        resource = self.resources[logical_id]
        props = dict(resource.get("Properties") or {})
        if resource.get("Type") == SAM_FUNCTION:
            globals_function = (self.data.get("Globals") or {}).get("Function") or {}
            props = _merge_globals(globals_function, props)
        return props

    def queue_logical_id(self, arn: str) -> str | None:
        for logical_id in self.logical_ids(QUEUE):
            if self.physical[logical_id].attributes.get("Arn") == arn:
                return logical_id
        return None

    def function_logical_id(self, arn: str) -> str | None:
        for logical_id in self.logical_ids(SAM_FUNCTION):
            if arn.split(":$LATEST")[0] == self.physical[logical_id].attributes.get("Arn"):
                return logical_id
        return None

    # -- typed views ------------------------------------------------------------------------
    def queues(self) -> list[QueueSpec]:
        specs = []
        for logical_id in self.logical_ids(QUEUE):
            props = self.resolve(self.properties(logical_id))
            attributes: dict[str, str] = {}
            for key in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "MaximumMessageSize",
                "ReceiveMessageWaitTimeSeconds",
                "ContentBasedDeduplication",
                "DeduplicationScope",
                "FifoThroughputLimit",
                "KmsMasterKeyId",
                "KmsDataKeyReusePeriodSeconds",
                "SqsManagedSseEnabled",
            ):
                if key in props:
                    attributes[key] = as_text(props[key])
            fifo = as_text(props.get("FifoQueue", False)) == "true"
            if fifo:
                attributes["FifoQueue"] = "true"
            dead_letter_arn = None
            for key in ("RedrivePolicy", "RedriveAllowPolicy"):
                if key in props:
                    policy = _json_or_value(props[key])
                    attributes[key] = json.dumps(policy)
                    if key == "RedrivePolicy":
                        dead_letter_arn = policy.get("deadLetterTargetArn")
            physical = self.physical[logical_id]
            specs.append(
                QueueSpec(
                    logical_id=logical_id,
                    name=physical.attributes["QueueName"],
                    arn=physical.attributes["Arn"],
                    attributes=attributes,
                    dead_letter_arn=dead_letter_arn,
                    fifo=fifo,
                )
            )
        return specs

    def tables(self) -> list[TableSpec]:
        specs = []
        for logical_id in self.logical_ids(TABLE):
            props = self.resolve(self.properties(logical_id))
            name = str(self.physical[logical_id].ref)
            args: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PROVISIONED"),
            }
            provisioned = args["BillingMode"] == "PROVISIONED"
            if provisioned:
                args["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
            for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                if props.get(key):
                    indexes = []
                    for index in props[key]:
                        index = dict(index)
                        index.pop("ContributorInsightsSpecification", None)
                        if provisioned and key == "GlobalSecondaryIndexes":
                            index["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
                        indexes.append(index)
                    args[key] = indexes
            if props.get("StreamSpecification"):
                args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
            ttl = props.get("TimeToLiveSpecification") or {}
            enabled = as_text(ttl.get("Enabled", False)) == "true"
            specs.append(TableSpec(logical_id, name, args, ttl.get("AttributeName") if enabled else None))
        for logical_id in self.logical_ids(SIMPLE_TABLE):
            props = self.resolve(self.properties(logical_id))
            primary: dict[str, Any] = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
            type_code = {"String": "S", "Number": "N", "Binary": "B"}[primary.get("Type", "String")]
            name = str(self.physical[logical_id].ref)
            args = {
                "TableName": name,
                "AttributeDefinitions": [{"AttributeName": primary["Name"], "AttributeType": type_code}],
                "KeySchema": [{"AttributeName": primary["Name"], "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            }
            specs.append(TableSpec(logical_id, name, args, None))
        return specs

    def topics(self) -> list[str]:
        """The names of the SNS topics the template creates."""
        return [
            str(self.physical[logical_id].attributes["TopicName"]) for logical_id in self.logical_ids(TOPIC)
        ]

    def secrets(self) -> list[SecretSpec]:
        specs = []
        for logical_id in self.logical_ids(SECRET):
            props = self.resolve(self.properties(logical_id))
            value = props.get("SecretString")
            specs.append(
                SecretSpec(
                    logical_id=logical_id,
                    name=self.physical[logical_id].attributes["Name"],
                    value=None if value is None else as_text(value),
                    description=props.get("Description"),
                )
            )
        return specs

    def ssm_parameters(self) -> list[ParameterSpec]:
        specs = []
        for logical_id in self.logical_ids(SSM_PARAMETER):
            props = self.resolve(self.properties(logical_id))
            value = props.get("Value")
            specs.append(
                ParameterSpec(
                    logical_id=logical_id,
                    name=str(self.physical[logical_id].ref),
                    type=str(props.get("Type", "String")),
                    value=None if value is None else as_text(value),
                )
            )
        return specs

    def event_rules(self) -> list[EventRuleSpec]:
        specs = []
        for logical_id in self.logical_ids(EVENTS_RULE):
            props = self.resolve(self.properties(logical_id))
            pattern = props.get("EventPattern")
            if isinstance(pattern, str):
                pattern = json.loads(pattern)
            if not isinstance(pattern, dict):
                raise TemplateError(f"{logical_id}: an EventPattern is required (schedules are not run)")
            targets = []
            for target in props.get("Targets") or []:
                raw_input = target.get("Input")
                targets.append(
                    RuleTarget(
                        id=str(target.get("Id", "")),
                        arn=str(target.get("Arn", "")),
                        input=None if raw_input is None else _json_or_value(raw_input),
                        input_path=target.get("InputPath"),
                    )
                )
            specs.append(
                EventRuleSpec(
                    logical_id=logical_id,
                    rule_name=str(props.get("Name") or self._name(logical_id, 64)),
                    pattern=pattern,
                    event_bus=_bus_name(props.get("EventBusName", "default")),
                    enabled=props.get("State", "ENABLED") == "ENABLED",
                    targets=tuple(targets),
                )
            )
        return specs

    def functions(self) -> list[FunctionSpec]:
        return [self.function(logical_id) for logical_id in self.logical_ids(SAM_FUNCTION)]

    def function(self, logical_id: str) -> FunctionSpec:
        raw = self.properties(logical_id)
        # only what running the function needs is resolved (Policies, VpcConfig... may name anything)
        props = self.resolve({key: value for key, value in raw.items() if key in _FUNCTION_KEYS})
        physical = self.physical[logical_id]
        code_uri = props.get("CodeUri", ".")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: CodeUri must be a local path to run locally")
        code_dir = (self.root / code_uri).resolve()
        handler = str(props.get("Handler", ""))
        module, attribute = self._handler_module(logical_id, code_dir, handler)
        environment = {
            str(k): _env_text(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
        }
        events = raw.get("Events") or {}
        sqs_events, schedules, rules, unsupported = [], [], [], []
        for event_name, event in events.items():
            kind = event.get("Type")
            if kind not in _EVENT_TYPES:
                unsupported.append(f"{event_name} ({kind})")
                continue
            event_props = self.resolve(event.get("Properties") or {})
            if kind == "SQS":
                sqs_events.append(_sqs_event(event_name, event_props))
            elif kind in ("Schedule", "ScheduleV2"):
                schedules.append(self._schedule(logical_id, event_name, kind, event_props))
            else:
                rules.append(self._rule(logical_id, event_name, event_props))
        url_config = props.get("FunctionUrlConfig")
        url = None
        if url_config is not None:
            url = FunctionUrlSpec(
                auth_type=str(url_config.get("AuthType", "NONE")),
                invoke_mode=str(url_config.get("InvokeMode", "BUFFERED")),
                cors=dict(url_config.get("Cors") or {}),
            )
        reserved = props.get("ReservedConcurrentExecutions")
        return FunctionSpec(
            logical_id=logical_id,
            name=str(physical.ref),
            arn=str(physical.attributes["Arn"]),
            code_dir=code_dir,
            handler=handler,
            module=module,
            attribute=attribute,
            import_roots=(code_dir, self.root, *self._layer_dirs(props.get("Layers") or [])),
            runtime=str(props.get("Runtime", "python3.13")),
            architectures=tuple(props.get("Architectures") or ["x86_64"]),
            memory_size=int(props.get("MemorySize", 128)),
            timeout=int(props.get("Timeout", 3)),
            environment=environment,
            tracing=props.get("Tracing"),
            reserved_concurrency=None if reserved is None else int(reserved),
            sqs_events=tuple(sqs_events),
            schedules=tuple(schedules),
            rules=tuple(rules),
            url=url,
            async_config=_async_config(props),
            unsupported_events=tuple(unsupported),
        )

    def _handler_module(self, logical_id: str, code_dir: Path, handler: str) -> tuple[str, str]:
        """``app.handler`` in ``functions/dedupe/`` imports ``functions.dedupe.app`` from the template's
        directory; a CodeUri outside it (or not a package path) imports ``app`` from the code directory."""
        module_path, _, attribute = handler.replace("/", ".").rpartition(".")
        if not module_path or not attribute:
            raise TemplateError(f"{logical_id}: Handler {handler!r} must look like module.function")
        try:
            relative = code_dir.relative_to(self.root)
        except ValueError:
            return module_path, attribute
        parts = [part for part in relative.parts if part not in ("", ".")]
        if parts and all(_IDENTIFIER.match(part) for part in parts):
            return ".".join([*parts, module_path]), attribute
        return module_path, attribute

    def _layer_dirs(self, layers: list[Any]) -> list[Path]:
        dirs = []
        for layer in layers:
            logical_id = next((lid for lid, p in self.physical.items() if p.ref == layer), None)
            if logical_id is None or self.resources[logical_id].get("Type") != LAYER:
                continue
            content = (self.resources[logical_id].get("Properties") or {}).get("ContentUri")
            if isinstance(content, str):
                base = (self.root / content).resolve()
                dirs.append(base / "python" if (base / "python").is_dir() else base)
        return dirs

    def _schedule(
        self, logical_id: str, event_name: str, kind: str, props: Mapping[str, Any]
    ) -> ScheduleSpec:
        if kind == "Schedule":
            expression = props.get("Schedule")
            enabled = (
                as_text(props.get("Enabled", True)) == "true" and props.get("State", "ENABLED") == "ENABLED"
            )
        else:
            expression = props.get("ScheduleExpression")
            enabled = props.get("State", "ENABLED") == "ENABLED"
        if not isinstance(expression, str):
            raise TemplateError(f"{logical_id}.{event_name}: a schedule expression is required")
        raw_input = props.get("Input")
        return ScheduleSpec(
            name=event_name,
            expression=expression,
            enabled=enabled,
            input=None if raw_input is None else _json_or_value(raw_input),
            scheduler=kind == "ScheduleV2",
            rule_name=str(props.get("Name") or self._name(f"{logical_id}{event_name}", 64)),
        )

    def _rule(self, logical_id: str, event_name: str, props: Mapping[str, Any]) -> RuleSpec:
        pattern = props.get("Pattern")
        if not isinstance(pattern, dict):
            raise TemplateError(f"{logical_id}.{event_name}: an event Pattern is required")
        bus = _bus_name(props.get("EventBusName", "default"))
        state = props.get("State", "ENABLED")
        raw_input = props.get("Input")
        return RuleSpec(
            name=event_name,
            pattern=pattern,
            event_bus=bus,
            enabled=state == "ENABLED" and as_text(props.get("Enabled", True)) == "true",
            input=None if raw_input is None else _json_or_value(raw_input),
            input_path=props.get("InputPath"),
            rule_name=str(props.get("RuleName") or self._name(f"{logical_id}{event_name}", 64)),
        )


def _bus_name(value: Any) -> str:
    bus = str(value or "default")
    return bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus


def _throughput(value: Any) -> dict[str, int]:
    value = value or {}
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _sqs_event(name: str, props: Mapping[str, Any]) -> SqsEventSpec:
    queue = props.get("Queue")
    if not isinstance(queue, str):
        raise TemplateError(f"SQS event {name}: Queue must resolve to a queue ARN")
    filters = (props.get("FilterCriteria") or {}).get("Filters") or []
    scaling = props.get("ScalingConfig") or {}
    maximum_concurrency = scaling.get("MaximumConcurrency")
    batch_size = int(props.get("BatchSize", 10))
    batching_window = float(props.get("MaximumBatchingWindowInSeconds", 0))
    if batch_size > MAX_BATCH_WITHOUT_WINDOW and batching_window < 1:
        # what Lambda answers CreateEventSourceMapping: a deploy would fail, so the local stack does
        raise TemplateError(
            f"SQS event {name}: a BatchSize above {MAX_BATCH_WITHOUT_WINDOW} needs "
            "MaximumBatchingWindowInSeconds of at least 1"
        )
    return SqsEventSpec(
        name=name,
        queue_arn=queue,
        batch_size=batch_size,
        batching_window=batching_window,
        report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        enabled=as_text(props.get("Enabled", True)) == "true",
        maximum_concurrency=None if maximum_concurrency is None else int(maximum_concurrency),
        filter_patterns=tuple(_json_or_value(f["Pattern"]) for f in filters if "Pattern" in f),
    )


def _destination(value: Any) -> Destination | None:
    if not isinstance(value, dict) or "Destination" not in value:
        return None
    arn = str(value["Destination"])
    kind = value.get("Type") or arn.split(":")[2].upper()
    return Destination(type={"LAMBDA": "Lambda", "EVENTS": "EventBridge"}.get(kind, kind), arn=arn)


def _async_config(props: Mapping[str, Any]) -> AsyncConfig:
    config = props.get("EventInvokeConfig") or {}
    destinations = config.get("DestinationConfig") or {}
    dead_letter = props.get("DeadLetterQueue") or {}
    dead_letter_destination = None
    if dead_letter.get("TargetArn"):
        dead_letter_destination = Destination(
            type=str(dead_letter.get("Type", "SQS")), arn=str(dead_letter["TargetArn"])
        )
    return AsyncConfig(
        maximum_retry_attempts=int(config.get("MaximumRetryAttempts", 2)),
        maximum_event_age=int(config.get("MaximumEventAgeInSeconds", 6 * 3600)),
        on_success=_destination(destinations.get("OnSuccess")),
        on_failure=_destination(destinations.get("OnFailure")),
        dead_letter=dead_letter_destination,
    )
