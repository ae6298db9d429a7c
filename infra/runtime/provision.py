"""Create a template's queues, tables, secrets and SSM parameters in moto (idempotently).

Queues are created dead-letter queues first (moto checks a redrive target exists). Secret and parameter
values come from the caller, keyed by logical id, because the real ones come from the sandbox's
credentials; a template ``SecretString``/``Value`` is the fallback. Everything else the template
declares (roles, policies, alarms, log groups, Lambda permissions) is read, not created.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from infra.runtime.aws import AwsClients
from infra.runtime.template import QueueSpec, Template, TemplateError

log = logging.getLogger(__name__)

SecretValue = str | Mapping[str, Any]


@dataclass(frozen=True)
class ProvisionedQueue:
    logical_id: str
    name: str
    url: str
    arn: str
    dead_letter_arn: str | None


def _queue_order(queues: list[QueueSpec]) -> list[QueueSpec]:
    """Dead-letter targets before the queues that redrive to them."""
    by_arn = {queue.arn: queue for queue in queues}
    ordered: list[QueueSpec] = []
    visiting: set[str] = set()

    def visit(queue: QueueSpec) -> None:
        if queue in ordered:
            return
        if queue.arn in visiting:
            raise TemplateError(f"queue {queue.logical_id} is part of a redrive cycle")
        visiting.add(queue.arn)
        if queue.dead_letter_arn in by_arn:
            visit(by_arn[queue.dead_letter_arn])
        visiting.discard(queue.arn)
        ordered.append(queue)

    for queue in queues:
        visit(queue)
    return ordered


def provision(
    template: Template,
    clients: AwsClients,
    *,
    secrets: Mapping[str, SecretValue] | None = None,
    ssm_values: Mapping[str, str] | None = None,
) -> dict[str, ProvisionedQueue]:
    """Create (or find) every resource the runtime needs; return the queues by logical id."""
    secrets = dict(secrets or {})
    ssm_values = dict(ssm_values or {})
    queues: dict[str, ProvisionedQueue] = {}
    for spec in _queue_order(template.queues()):
        url = clients.sqs.create_queue(QueueName=spec.name, Attributes=spec.attributes)["QueueUrl"]
        template.set_physical(spec.logical_id, url, QueueUrl=url)
        queues[spec.logical_id] = ProvisionedQueue(
            spec.logical_id, spec.name, url, spec.arn, spec.dead_letter_arn
        )
    for table in template.tables():
        try:
            clients.dynamodb.create_table(**table.create_args)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        if table.ttl_attribute:
            clients.dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
    for topic in template.topics():  # e.g. the alarm topic the functions notify
        clients.sns.create_topic(Name=topic)
    unknown = sorted(set(secrets) - {s.logical_id for s in template.secrets()})
    if unknown:
        raise TemplateError(
            f"secret values for resources the template does not declare: {', '.join(unknown)}"
        )
    for secret in template.secrets():
        value = secrets.get(secret.logical_id, secret.value)
        text = value if isinstance(value, str) or value is None else json.dumps(dict(value))
        arn = _put_secret(clients, secret.name, text, secret.description)
        template.set_physical(secret.logical_id, arn, Id=arn)
    unknown = sorted(set(ssm_values) - {p.logical_id for p in template.ssm_parameters()})
    if unknown:
        raise TemplateError(f"SSM values for parameters the template does not declare: {', '.join(unknown)}")
    for parameter in template.ssm_parameters():
        parameter_value = ssm_values.get(parameter.logical_id, parameter.value)
        if parameter_value is None:
            raise TemplateError(f"SSM parameter {parameter.logical_id} needs a value")
        clients.ssm.put_parameter(
            Name=parameter.name, Value=parameter_value, Type=parameter.type, Overwrite=True
        )
    return queues


def _put_secret(clients: AwsClients, name: str, value: str | None, description: str | None) -> str:
    try:
        arn: str = clients.secretsmanager.describe_secret(SecretId=name)["ARN"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        args: dict[str, Any] = {"Name": name}
        if description:
            args["Description"] = description
        if value is not None:
            args["SecretString"] = value
        created: str = clients.secretsmanager.create_secret(**args)["ARN"]
        return created
    if value is not None:
        clients.secretsmanager.put_secret_value(SecretId=arn, SecretString=value)
    return arn
