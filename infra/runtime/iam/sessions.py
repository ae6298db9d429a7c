"""The execution roles in moto's IAM, and a role session per function (what Lambda's worker gets).

As CloudFormation would, each role is created (or brought up to date against a moto that already
has it: a runtime restarted against the same moto) with its trust policy, its inline policies and its
managed policies, nothing more. Then, as Lambda does, STS ``AssumeRole`` gives each function
temporary credentials for its role, with the function's name as the session name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from infra.runtime.aws import Credentials
from infra.runtime.iam.roles import ExecutionRole
from infra.runtime.template import TemplateError

__all__ = ["assume", "put_role"]

SESSION_SECONDS = 12 * 3600


def _create_or_update(iam: Any, role: ExecutionRole) -> None:
    trust = json.dumps(role.trust_policy)
    try:
        iam.create_role(
            RoleName=role.name,
            Path=role.path,
            AssumeRolePolicyDocument=trust,
            Description=f"execution role of {role.function}",
            MaxSessionDuration=SESSION_SECONDS,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=trust)


def put_role(iam: Any, role: ExecutionRole) -> str:
    """Create ``role`` in IAM, or make an existing one exactly ``role``; return its ARN."""
    _create_or_update(iam, role)
    wanted = dict(role.policies)
    for name in set(iam.list_role_policies(RoleName=role.name)["PolicyNames"]) - set(wanted):
        iam.delete_role_policy(RoleName=role.name, PolicyName=name)
    for name, document in wanted.items():
        # SAM writes no Version; IAM takes that as 2008-10-17, moto refuses it. The two differ only in
        # policy variables, which the local check matches literally anyway.
        versioned = {"Version": "2012-10-17", **document}
        iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(versioned))
    attached = {
        policy["PolicyArn"]
        for policy in iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]
    }
    for arn in attached - set(role.managed_policy_arns):
        iam.detach_role_policy(RoleName=role.name, PolicyArn=arn)
    for policy_arn in [arn for arn in role.managed_policy_arns if arn not in attached]:
        try:
            iam.attach_role_policy(RoleName=role.name, PolicyArn=policy_arn)
        except ClientError as exc:
            raise TemplateError(f"{role.function}: cannot attach {policy_arn}: {exc}") from exc
    return str(iam.get_role(RoleName=role.name)["Role"]["Arn"])


def assume(sts: Any, role_arn: str, session_name: str) -> Credentials:
    """Temporary credentials of a session of ``role_arn``."""
    issued: Mapping[str, Any] = sts.assume_role(
        RoleArn=role_arn, RoleSessionName=session_name[:64], DurationSeconds=SESSION_SECONDS
    )["Credentials"]
    return Credentials(
        access_key_id=str(issued["AccessKeyId"]),
        secret_access_key=str(issued["SecretAccessKey"]),
        session_token=str(issued["SessionToken"]),
    )
