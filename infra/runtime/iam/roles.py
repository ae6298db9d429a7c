"""Each function's execution role, as ``sam deploy`` would create it from the template.

The template goes through SAM's own transform (``samtranslator``, offline; local ``CodeUri`` paths
stand in as S3 URIs), so the roles are exactly what CloudFormation receives: the SAM policy templates
expanded from SAM's definitions (``SQSSendMessagePolicy``, ``DynamoDBCrudPolicy``, ...), inline
``Statement`` policies, and the managed policies SAM attaches (``AWSLambdaBasicExecutionRole``, the
SQS event source's ``AWSLambdaSQSQueueExecutionRole``, X-Ray's for ``Tracing: Active``). Intrinsic
functions in the policies are then resolved against the local stack (names and ARNs).

A function whose ``Role`` is not a role of the template (an existing role's ARN) has no role here.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.runtime.template import SAM_FUNCTION, Template, TemplateError

__all__ = ["ExecutionRole", "execution_roles", "sam_translation"]

ROLE = "AWS::IAM::Role"
_PLACEHOLDER_URI = "s3://hssync-local/code.zip"  # SAM wants an S3 URI; the runtime runs the local path
_CODE_KEYS = ("CodeUri", "ContentUri", "DefinitionUri")


@dataclass(frozen=True)
class ExecutionRole:
    function: str  # the function's logical id
    logical_id: str  # the role's (SAM names it <Function>Role)
    name: str
    path: str
    trust_policy: Mapping[str, Any]
    managed_policy_arns: tuple[str, ...]
    policies: tuple[tuple[str, Mapping[str, Any]], ...]  # inline policies: (name, document)
    permissions_boundary: str | None

    def documents(self) -> list[Mapping[str, Any]]:
        """Every policy document of the role: its inline policies and its AWS managed policies."""
        managed = [_aws_managed_policies().get(arn) for arn in self.managed_policy_arns]
        return [document for _, document in self.policies] + [d for d in managed if d is not None]


def _with_placeholder_code(data: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = copy.deepcopy(dict(data))
    sections = [*(copied.get("Resources") or {}).values(), *(copied.get("Globals") or {}).values()]
    for section in sections:
        props = section.get("Properties", section) if isinstance(section, dict) else {}
        for key in _CODE_KEYS:
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = _PLACEHOLDER_URI
    return copied


@functools.cache
def _aws_managed_policy_data() -> dict[str, Any]:
    """AWS's managed policies by name (``Path``, ``Document``...), from moto's copy of them."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    return policies


@functools.cache
def _managed_policy_arns() -> dict[str, str]:
    """AWS managed policy names -> ARNs (SAM's ``Policies`` may name one)."""
    data = _aws_managed_policy_data()
    return {name: f"arn:aws:iam::aws:policy{p.get('Path', '/')}{name}" for name, p in data.items()}


@functools.cache
def _aws_managed_policies() -> dict[str, Mapping[str, Any]]:
    """AWS managed policy ARNs -> their documents."""
    data = _aws_managed_policy_data()
    return {arn: data[name]["Document"] for name, arn in _managed_policy_arns().items()}


def sam_translation(template: Template) -> dict[str, Any]:
    """The template as CloudFormation, after SAM's transform with the stack's parameter values."""
    import boto3
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.model.exceptions import ExceptionWithMessage
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    parameters = {
        **template.parameters,
        "AWS::Region": template.region,
        "AWS::AccountId": template.account_id,
        "AWS::Partition": "aws",
        "AWS::StackName": template.stack_name,
    }
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    session = boto3.session.Session(region_name=template.region)
    translator = Translator(None, Parser(), boto_session=session, metrics=metrics)
    try:
        translated: dict[str, Any] = translator.translate(
            _with_placeholder_code(template.data),
            parameter_values=parameters,
            get_managed_policy_map=_managed_policy_arns,
        )
    except ExceptionWithMessage as exc:
        raise TemplateError(f"SAM cannot transform the template: {exc.message}") from exc
    finally:
        metrics.publish()  # to nowhere (it warns about metrics left unpublished)
    return translated


def _role_logical_id(role: Any) -> str | None:
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        target = role["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    return None


def _role(template: Template, function: str, logical_id: str, props: Mapping[str, Any]) -> ExecutionRole:
    try:
        resolved = template.resolve(dict(props))
    except TemplateError as exc:
        raise TemplateError(f"{function}'s role {logical_id}: {exc}") from exc
    name = str(resolved.get("RoleName") or f"{template.stack_name}-{logical_id}"[:64])
    inline = resolved.get("Policies") or []
    policies = tuple((str(policy["PolicyName"]), dict(policy["PolicyDocument"])) for policy in inline)
    return ExecutionRole(
        function=function,
        logical_id=logical_id,
        name=name,
        path=str(resolved.get("Path") or "/"),
        trust_policy=dict(resolved.get("AssumeRolePolicyDocument") or {}),
        managed_policy_arns=tuple(str(arn) for arn in resolved.get("ManagedPolicyArns") or []),
        policies=policies,
        permissions_boundary=resolved.get("PermissionsBoundary"),
    )


def execution_roles(template: Template) -> dict[str, ExecutionRole | None]:
    """Each function's execution role by the function's logical id (None: a role from outside)."""
    resources: dict[str, Any] = sam_translation(template).get("Resources") or {}
    roles: dict[str, ExecutionRole | None] = {}
    for function in template.logical_ids(SAM_FUNCTION):
        translated = resources.get(function) or {}
        logical_id = _role_logical_id((translated.get("Properties") or {}).get("Role"))
        role = resources.get(logical_id) if logical_id else None
        if logical_id is None or role is None or role.get("Type") != ROLE:
            roles[function] = None
            continue
        roles[function] = _role(template, function, logical_id, role.get("Properties") or {})
    return roles
