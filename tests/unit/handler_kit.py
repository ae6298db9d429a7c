"""What the handler tests share: Lambda events and contexts, a recording SQS client, an in-memory
idempotency store, and each function's environment as template.yaml sets it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.runtime.cfn_yaml import load_cfn_file
from infra.runtime.sqs_poller import lambda_record
from shared.pipeline.once import Admission
from tests.fakes import ORG, PORTAL

TEMPLATE = load_cfn_file(Path(__file__).resolve().parents[2] / "template.yaml")
REGION = "us-east-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:Queue"


@dataclass
class LambdaContext:
    """What Lambda hands a handler (the parts Powertools reads)."""

    function_name: str = "hssync-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:hssync-test"
    aws_request_id: str = "request-1"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def sqs_event(*bodies: str) -> dict[str, Any]:
    """An SQS batch as Lambda's event source delivers it: message ids m0, m1, ..."""
    sent = "1764360000000"
    attributes = {
        "SentTimestamp": sent,
        "ApproximateFirstReceiveTimestamp": sent,
        "ApproximateReceiveCount": "1",
    }
    return {
        "Records": [
            lambda_record(
                {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": body, "Attributes": attributes},
                QUEUE_ARN,
                REGION,
            )
            for i, body in enumerate(bodies)
        ]
    }


def function_url_event(
    body: str, headers: Mapping[str, str], *, host: str = "hooks.example"
) -> dict[str, Any]:
    """A Function URL request (payload format 2.0)."""
    return {
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"host": host, "x-forwarded-proto": "https", **headers},
        "requestContext": {"http": {"method": "POST", "path": "/", "sourceIp": "127.0.0.1"}},
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class Sent:
    url: str
    body: str
    delay: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def reason(self) -> str:
        return str(self.attributes["reason"]["StringValue"])

    @property
    def source(self) -> str:
        return str(self.attributes["source"]["StringValue"])


class Sqs:
    """The SQS calls the stages make, recorded (``fail``: every send raises it)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.fail: Exception | None = None

    def send_message(
        self, *, QueueUrl: str, MessageBody: str, MessageAttributes: Any = None
    ) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        self.sent.append(Sent(QueueUrl, MessageBody, 0, dict(MessageAttributes or {})))
        return {"MessageId": "x"}

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        for entry in Entries:
            attributes = dict(entry.get("MessageAttributes") or {})
            self.sent.append(
                Sent(QueueUrl, entry["MessageBody"], int(entry.get("DelaySeconds", 0)), attributes)
            )
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def to(self, url: str) -> list[Sent]:
        return [s for s in self.sent if s.url == url]


class MemoryOnce:
    """``OncePort`` in memory: one record per message, in progress, then done (or freed)."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.released: list[str] = []

    @staticmethod
    def _key(message: Mapping[str, Any]) -> str:
        return json.dumps(message, sort_keys=True)

    def begin(self, message: Mapping[str, Any], remaining_ms: int | None) -> Admission:
        status = self.records.get(self._key(message))
        if status is not None:
            return Admission.DONE if status == "done" else Admission.BUSY
        self.records[self._key(message)] = "busy"
        return Admission.NEW

    def complete(self, message: Mapping[str, Any], outcome: Mapping[str, Any]) -> None:
        self.records[self._key(message)] = "done"

    def release(self, message: Mapping[str, Any], error: Exception) -> None:
        self.records.pop(self._key(message), None)
        self.released.append(str(error))


def _value(name: str) -> str:
    if name == "SALESFORCE_ORG_ID":
        return ORG
    if name == "HUBSPOT_PORTAL_ID":
        return PORTAL
    if name == "POWERTOOLS_TRACE_DISABLED":
        return "true"  # the template's value with the Tracing parameter Disabled
    if name.endswith("_PERCENT"):
        return "50"
    if name.endswith("_SECONDS"):
        return "300"
    if name.endswith("_QUEUE_URL"):
        return f"https://sqs.{REGION}.amazonaws.com/123456789012/{name.removesuffix('_URL').lower()}"
    return name.lower()


def global_variables() -> set[str]:
    return set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])


def function_variables(logical_id: str) -> set[str]:
    props = TEMPLATE["Resources"][logical_id]["Properties"]
    return set((props.get("Environment") or {}).get("Variables") or {})


def template_environment(logical_id: str) -> dict[str, str]:
    """The function's environment as the template sets it (Globals, then its own), with values."""
    return {name: _value(name) for name in global_variables() | function_variables(logical_id)}


@contextmanager
def environment(monkeypatch: Any, variables: Mapping[str, str]) -> Iterator[None]:
    """Exactly ``variables`` of the function's (the template's variables of other functions unset)."""
    names: set[str] = set()
    for logical_id, resource in TEMPLATE["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            names |= set(template_environment(logical_id))
    for name in names | {"SALESFORCE_SECRET_ARN", "HUBSPOT_SECRET_ARN", "AWS_PROFILE"}:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    yield
