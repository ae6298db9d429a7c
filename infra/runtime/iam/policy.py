"""IAM policy evaluation for one principal's identity-based policies: does a set of policy documents
allow an action on a resource?

As IAM evaluates them: an explicit ``Deny`` wins over any ``Allow``; without an applicable ``Allow``
the request is implicitly denied. A statement applies when its ``Action`` (or ``NotAction``) and its
``Resource`` (or ``NotResource``) match. Actions match case-insensitively, resources case-sensitively;
``*`` matches any run of characters and ``?`` any one character. An ARN pattern matches an ARN part by
part (partition, service, region, account), its resource part as a whole, so a wildcard never spans
the region or the account.

Not evaluated locally, and handled so that the local answer is never more permissive than AWS's:
a statement with a ``Condition`` allows nothing and, if it denies, denies unconditionally. Policy
variables (``${aws:username}``) are matched literally. Resource-based policies, permissions
boundaries, SCPs and session policies are not this module's business (see ``infra.runtime.iam``).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "ANY_RESOURCE",
    "Decision",
    "denial_message",
    "evaluate",
    "matches_action",
    "matches_resource",
    "statements",
]

ANY_RESOURCE = "*"  # what an action that names no resource is checked against


class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


def matches_action(pattern: str, action: str) -> bool:
    """``sqs:SendMessage*`` matches ``sqs:sendmessage`` (IAM action names are case-insensitive)."""
    return _glob(pattern, False).fullmatch(action) is not None


def matches_resource(pattern: str, resource: str) -> bool:
    """An IAM resource pattern against a resource ARN (or ``*`` for actions that name no resource)."""
    if pattern == "*":
        return True
    pattern_parts, resource_parts = pattern.split(":", 5), resource.split(":", 5)
    if len(pattern_parts) == len(resource_parts) == 6:
        return all(
            _glob(p, True).fullmatch(r) is not None
            for p, r in zip(pattern_parts, resource_parts, strict=True)
        )
    return _glob(pattern, True).fullmatch(resource) is not None


def _values(statement: Mapping[str, Any], key: str) -> list[str]:
    value = statement.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _concerns(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    if "NotAction" in statement:
        action_matches = not any(matches_action(p, action) for p in _values(statement, "NotAction"))
    else:
        action_matches = any(matches_action(p, action) for p in _values(statement, "Action"))
    if not action_matches:
        return False
    if "NotResource" in statement:
        return not any(matches_resource(p, resource) for p in _values(statement, "NotResource"))
    return any(matches_resource(p, resource) for p in _values(statement, "Resource"))


def statements(document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    body = document.get("Statement") or []
    for statement in body if isinstance(body, list) else [body]:
        if isinstance(statement, Mapping):
            yield statement


def evaluate(documents: Iterable[Mapping[str, Any]], action: str, resource: str) -> Decision:
    """The decision of these identity-based policy documents on ``action`` over ``resource``."""
    allowed = False
    for document in documents:
        for statement in statements(document):
            if not _concerns(statement, action, resource):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.EXPLICIT_DENY
            if statement.get("Effect") == "Allow" and "Condition" not in statement:
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def denial_message(principal_arn: str, action: str, resource: str, decision: Decision) -> str:
    """The message AWS gives with ``AccessDenied`` for an identity-based denial."""
    reason = (
        "with an explicit deny in an identity-based policy"
        if decision is Decision.EXPLICIT_DENY
        else f"because no identity-based policy allows the {action} action"
    )
    return f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {reason}"
