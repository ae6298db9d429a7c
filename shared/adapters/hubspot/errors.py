"""HubSpot's failures as the domain's (:mod:`shared.errors`, :mod:`shared.adapters.retry`): the one
place that decides what suspends, what is retried, what refuses a call and what fails an input.

- 429 waits for ``Retry-After`` (:class:`~shared.adapters.retry.Retryable`), except the daily limit
  (``policyName: DAILY``), which suspends (:class:`~shared.errors.SuspendedError`);
- 5xx, timeouts and dropped connections: retryable (ambiguous when the request may have run);
- 401: :class:`~shared.errors.AuthenticationError`;
- anything else: :class:`~shared.adapters.retry.RequestRejected` carrying the
  :class:`~shared.errors.ApiFailure` (classified by :func:`shared.errors.classify_hubspot`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.adapters.hubspot.parse import PropertyIssue, parse_existing_id
from shared.adapters.retry import RequestRejected, Retryable, Transient, parse_retry_after
from shared.errors import ApiFailure, AuthenticationError, ErrorCategory, SuspendedError, classify_hubspot

SYSTEM = "hubspot"
DAILY_LIMIT_REASON = (
    "The HubSpot portal has used all of its daily API calls. hssync is suspended until the limit "
    "resets at midnight (portal time zone) or the limit is raised."
)


def call_failure(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str], reason: str | None = None
) -> Exception:
    """The exception for a failed call: a suspension, a retryable failure, or a rejection."""
    message = str(body.get("message") or reason or f"HTTP {status}")
    if status == 429:
        if body.get("policyName") == "DAILY":
            return SuspendedError(SYSTEM, "DAILY_LIMIT", DAILY_LIMIT_REASON)
        retry_after = parse_retry_after(headers.get("Retry-After"))
        return Retryable(Transient(f"429 {body.get('policyName') or 'RATE_LIMIT'}", retry_after=retry_after))
    if status >= 500:
        return Retryable(Transient(f"{status}", ambiguous=True))
    if status == 401:
        return AuthenticationError(
            f"HubSpot refused the private-app token: {message}", system=SYSTEM, code="INVALID_AUTHENTICATION"
        )
    code = str(body.get("category") or f"HTTP_{status}")
    failure = ApiFailure(
        system=SYSTEM,
        code=code,
        message=message,
        category=classify_hubspot(code, status).category,
        http_status=status or None,
        existing_id=parse_existing_id(message, body.get("context")) if status == 409 else None,
    )
    return RequestRejected(failure, body)


def connection_failure(exc: Exception) -> Retryable:
    """A urllib3 failure (the client's transport) as a retryable one: a connect timeout or a refused
    connection never reached HubSpot; anything else (read timeouts, dropped connections) may have."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, ConnectTimeoutError):
        return Retryable(Transient("connect timeout"))
    if isinstance(exc, NewConnectionError):
        return Retryable(Transient("connection refused"))
    return Retryable(Transient(f"{exc.__class__.__name__}", ambiguous=True))


def error_failure(category: Any, message: str) -> ApiFailure:
    """One error of a multi-status (207) answer, or of a communication-preferences answer."""
    code = str(category or "ERROR")
    return ApiFailure(SYSTEM, code, message or code, classify_hubspot(code).category)


def issue_failure(failure: ApiFailure, issues: Sequence[PropertyIssue]) -> ApiFailure:
    """A validation failure named by its first property issue (INVALID_OPTION, INVALID_EMAIL...)."""
    if not issues:
        return failure
    first = issues[0]
    code = first.code or failure.code
    return ApiFailure(
        system=SYSTEM,
        code=code,
        message="; ".join(i.message for i in issues if i.message) or failure.message,
        category=classify_hubspot(code, failure.http_status).category,
        fields=tuple(dict.fromkeys(i.name for i in issues)),
        http_status=failure.http_status,
    )


def conflict(existing_id: str) -> ApiFailure:
    """A create whose email belongs to another contact."""
    return ApiFailure(
        system=SYSTEM,
        code="CONFLICT",
        message=f"Contact already exists. Existing ID: {existing_id}",
        category=ErrorCategory.DUPLICATES,
        http_status=409,
        existing_id=existing_id,
    )


def retries_spent(exc: Exception) -> ApiFailure:
    """The failure of inputs whose call stayed transient past the retry budget (retryable)."""
    return ApiFailure(SYSTEM, "TRANSIENT", str(exc), ErrorCategory.OTHER, retryable=True)


def invalid_write(*, create: bool) -> ApiFailure:
    """A create with a record id, or an update without one."""
    wanted = "without" if create else "with"
    return ApiFailure(SYSTEM, "INVALID_WRITE", f"needs writes {wanted} record_id", ErrorCategory.OTHER)


def blank_id() -> ApiFailure:
    return ApiFailure(SYSTEM, "INVALID_WRITE", "needs a contact id", ErrorCategory.OTHER)


def invalid_email(raw: str) -> ApiFailure:
    return ApiFailure(
        SYSTEM, "INVALID_EMAIL", f"not an email address: {raw!r}", ErrorCategory.PROPERTY_VALUES
    )


def no_result(*, create: bool) -> ApiFailure:
    """An input the batch answer says nothing about (retryable for an update: it is idempotent)."""
    return ApiFailure(
        SYSTEM,
        "NO_RESULT",
        "HubSpot returned no result for this input",
        ErrorCategory.OTHER,
        retryable=not create,
    )
