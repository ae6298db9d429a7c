"""What an AWS API call asks IAM for: the actions and resource ARNs one request is authorized against.

Each operation is authorized as ``<service prefix>:<Operation>`` on the resource it names, with the
exceptions IAM makes: SQS's batch operations need the single action (``SendMessageBatch`` needs
``sqs:SendMessage``), DynamoDB's batch operations need their action on every table they touch, its
transactions the action of each item (``Put`` needs ``dynamodb:PutItem``), ``GetParameters`` needs
``ssm:GetParameters`` on every parameter. A secret named by its name is checked against its full ARN
(with the random suffix, as policies such as ``secret:hssync/hubspot-*`` expect). An operation of a
service without a rule here is checked against ``*``, as IAM does for actions that name no resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from infra.runtime.iam.policy import ANY_RESOURCE

__all__ = ["ALWAYS_ALLOWED", "Call", "Need", "SecretArnOf", "needs"]

PARTITION = "aws"

# signing names whose IAM action prefix differs
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
# operations IAM authorizes through another action of the same service
_AUTHORIZED_AS = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
}
_TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}

# actions IAM never denies (GetCallerIdentity needs no permission, even under an explicit deny)
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})

# (secret id, region, account) -> the secret's ARN, or None when no such secret exists
SecretArnOf = Callable[[str, str, str], str | None]


@dataclass(frozen=True)
class Call:
    """One request: the signing name of its service, its operation and its parameters."""

    service: str
    operation: str
    region: str
    account: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return _IAM_PREFIX.get(self.service, self.service)

    def arn(self, resource: str) -> str:
        return f"arn:{PARTITION}:{self.prefix}:{self.region}:{self.account}:{resource}"


@dataclass(frozen=True)
class Need:
    """An action the caller must be allowed on a resource."""

    action: str
    resource: str


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _queue_arn(call: Call, url: str) -> str:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` (or a bare queue name)."""
    path = urlsplit(url).path if "://" in url else url
    parts = [part for part in path.split("/") if part]
    account = parts[-2] if len(parts) >= 2 else call.account
    return f"arn:{PARTITION}:sqs:{call.region}:{account}:{parts[-1] if parts else ''}"


def _sqs(call: Call) -> Iterator[Need]:
    action = f"sqs:{_AUTHORIZED_AS.get(('sqs', call.operation), call.operation)}"
    url, name = _text(call.params.get("QueueUrl")), _text(call.params.get("QueueName"))
    if url is not None:
        yield Need(action, _queue_arn(call, url))
    elif name is not None:
        yield Need(action, call.arn(name))
    else:
        yield Need(action, ANY_RESOURCE)


def _table_arn(call: Call, table: str, index: str | None = None) -> str:
    arn = table if table.startswith("arn:") else call.arn(f"table/{table}")
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(call: Call) -> Iterator[Need]:
    params = call.params
    if call.operation in ("BatchGetItem", "BatchWriteItem"):
        for table in params.get("RequestItems") or {}:
            yield Need(f"dynamodb:{call.operation}", _table_arn(call, str(table)))
    elif call.operation in ("TransactWriteItems", "TransactGetItems"):
        for item in params.get("TransactItems") or []:
            for kind, request in item.items():
                action = _TRANSACTION_ACTIONS.get(kind, kind)
                yield Need(f"dynamodb:{action}", _table_arn(call, str(request.get("TableName", ""))))
    elif (table := _text(params.get("TableName"))) is not None:
        yield Need(f"dynamodb:{call.operation}", _table_arn(call, table, _text(params.get("IndexName"))))
    else:
        yield Need(f"dynamodb:{call.operation}", ANY_RESOURCE)


def _parameter_arn(call: Call, name: str) -> str:
    if name.startswith("arn:"):
        return name
    return call.arn(f"parameter{name}" if name.startswith("/") else f"parameter/{name}")


def _ssm(call: Call) -> Iterator[Need]:
    action = f"ssm:{call.operation}"
    names = call.params.get("Names")
    if isinstance(names, list) and names:
        yield from (Need(action, _parameter_arn(call, str(name))) for name in names)
    elif (name := _text(call.params.get("Name")) or _text(call.params.get("Path"))) is not None:
        yield Need(action, _parameter_arn(call, name))
    else:
        yield Need(action, ANY_RESOURCE)


def _secretsmanager(call: Call, secret_arn: SecretArnOf) -> Iterator[Need]:
    action = f"secretsmanager:{call.operation}"
    secret = _text(call.params.get("SecretId")) or _text(call.params.get("Name"))
    if secret is None:
        yield Need(action, ANY_RESOURCE)
        return
    known = secret_arn(secret, call.region, call.account)
    if known is None:
        known = secret if secret.startswith("arn:") else call.arn(f"secret:{secret}")
    yield Need(action, known)


def _sns(call: Call) -> Iterator[Need]:
    """A topic's operations are authorized on the topic they name (``Publish``: ``TopicArn``)."""
    topic = _text(call.params.get("TopicArn")) or _text(call.params.get("TargetArn"))
    yield Need(f"sns:{call.operation}", topic or ANY_RESOURCE)


def needs(call: Call, secret_arn: SecretArnOf) -> list[Need]:
    """Every (action, resource) the call must be allowed, in the order IAM would meet them."""
    if call.service == "sqs":
        return list(_sqs(call))
    if call.service == "dynamodb":
        return list(_dynamodb(call))
    if call.service == "ssm":
        return list(_ssm(call))
    if call.service == "secretsmanager":
        return list(_secretsmanager(call, secret_arn))
    if call.service == "sns":
        return list(_sns(call))
    action = f"{call.prefix}:{call.operation}"
    return [] if action in ALWAYS_ALLOWED else [Need(action, ANY_RESOURCE)]
