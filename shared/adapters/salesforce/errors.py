"""Salesforce's failures as the domain's (:mod:`shared.errors`, :mod:`shared.adapters.retry`): the one
place that decides what suspends, what is retried, what refuses a call and what fails a record.

- ``401 INVALID_SESSION_ID`` after a fresh token: :class:`~shared.errors.AuthenticationError`;
- ``API_DISABLED_FOR_ORG``, ``API_CURRENTLY_DISABLED``, ``REQUEST_LIMIT_EXCEEDED`` (the daily limit):
  :class:`~shared.errors.SuspendedError` with what the admin must do;
- 429, 5xx, timeouts, dropped connections, ``UNABLE_TO_LOCK_ROW``, concurrent-request limits:
  :class:`~shared.adapters.retry.Retryable`;
- anything else: :class:`~shared.adapters.retry.RequestRejected` carrying the
  :class:`~shared.errors.ApiFailure` (classified by :func:`shared.errors.classify_salesforce`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from shared.adapters.retry import RequestRejected, Retryable, Transient
from shared.adapters.salesforce.parse import SfError, duplicate_of
from shared.errors import ApiFailure, AuthenticationError, ErrorCategory, SuspendedError, classify_salesforce

SYSTEM = "salesforce"

SUSPEND_REASONS = {
    "API_DISABLED_FOR_ORG": (
        "This Salesforce edition has no API access: Group and Professional editions without the API "
        "add-on cannot sync. hssync is suspended: enable API access or upgrade; it resumes by itself."
    ),
    "API_CURRENTLY_DISABLED": (
        "API access is disabled for the integration user. hssync is suspended: give the connected "
        "app's user the 'API Enabled' permission."
    ),
    "REQUEST_LIMIT_EXCEEDED": (
        "The org has used all of its daily API requests{usage}. hssync is suspended until usage falls "
        "below the limit (rolling 24 hours) or the limit is raised; it resumes by itself."
    ),
}


def to_failure(errors: Sequence[SfError], http_status: int | None = None) -> ApiFailure:
    """One record's (or request's) errors as an :class:`ApiFailure`; the first error names it."""
    if not errors:
        errors = [SfError("UNKNOWN", "Salesforce reported a failure without details")]
    first = errors[0]
    classified = classify_salesforce(first.code, http_status)
    fields = tuple(dict.fromkeys(f for e in errors for f in e.fields))
    return ApiFailure(
        system=SYSTEM,
        code=first.code,
        message="; ".join(e.message for e in errors if e.message) or first.code,
        category=classified.category,
        retryable=classified.retryable,
        fields=fields,
        http_status=http_status,
        existing_id=duplicate_of(first),
    )


def call_failure(
    status: int,
    errors: Sequence[SfError],
    body: Any = None,
    *,
    retry_after: float | None = None,
    usage: tuple[int, int] | None = None,
) -> Exception:
    """The exception for a failed call: a suspension, a retryable failure, or a rejection."""
    code = errors[0].code if errors else f"HTTP_{status}"
    if code == "REQUEST_LIMIT_EXCEEDED" and "concurrent" in errors[0].message.lower():
        return Retryable(Transient(f"{code} (concurrent long-running requests)"))  # not the daily limit
    if classify_salesforce(code, status).suspend:
        shown = f" ({usage[0]}/{usage[1]})" if usage else ""
        reason = SUSPEND_REASONS.get(code, "Salesforce refuses API calls{usage}.").format(usage=shown)
        return SuspendedError(SYSTEM, code, reason)
    if status == 429:
        return Retryable(Transient(f"429 {code}", retry_after=retry_after))
    if status >= 500:
        return Retryable(Transient(f"{status} {code}", ambiguous=status != 503))
    if code == "UNABLE_TO_LOCK_ROW":
        return Retryable(Transient(code))
    return RequestRejected(to_failure(errors, status), body)


def refreshable(status: int, errors: Sequence[SfError]) -> bool:
    """Whether a failed call is an expired session, worth one new token."""
    return status == 401 and (errors[0].code if errors else "") in ("INVALID_SESSION_ID", "", "UNKNOWN")


def session_refused(errors: Sequence[SfError]) -> AuthenticationError:
    """A 401 that a fresh token did not cure."""
    code = errors[0].code if errors else ""
    return AuthenticationError(
        f"Salesforce refused a fresh session ({code or 'HTTP 401'}): check the connected app and its user",
        system=SYSTEM,
        code=code or "INVALID_SESSION_ID",
    )


def connection_failure(exc: requests.RequestException) -> Retryable | None:
    """A timeout or dropped connection as a retryable failure (ambiguous when the request may have
    run); None for a certificate problem, which is configuration and is raised as it is."""
    if isinstance(exc, requests.exceptions.SSLError):
        return None
    if isinstance(exc, requests.ConnectTimeout):
        return Retryable(Transient("connect timeout"))
    if isinstance(exc, requests.Timeout):
        return Retryable(Transient("timeout", ambiguous=True))
    if isinstance(exc, requests.ConnectionError):
        return Retryable(Transient(f"connection error ({exc.__class__.__name__})", ambiguous=True))
    return None


def gave_up(transient: Transient | None, ambiguous: bool) -> ApiFailure:
    """The failure of records still pending when the retry budget is spent (retryable)."""
    if ambiguous:
        return ApiFailure(
            system=SYSTEM,
            code="AMBIGUOUS_CREATE",
            message=(
                "The create timed out or failed with a server error and could not be confirmed; the "
                "record may exist. Find it by email before creating it again."
            ),
            category=ErrorCategory.OTHER,
            retryable=True,
        )
    reason = transient.reason if transient is not None else "transient failure"
    return ApiFailure(
        system=SYSTEM,
        code=reason.split()[-1] if reason.split() else "TRANSIENT",
        message=f"Retries spent: {reason}",
        category=ErrorCategory.API_LIMIT if reason.startswith("429") else ErrorCategory.OTHER,
        retryable=True,
    )


def invalid_field(name: str) -> ApiFailure:
    return ApiFailure(
        SYSTEM, "INVALID_FIELD", f"not a writable field name: {name!r}", ErrorCategory.PROPERTY_VALUES
    )


def malformed_id(record_id: str) -> ApiFailure:
    return ApiFailure(
        SYSTEM, "MALFORMED_ID", f"not a Salesforce id: {record_id!r}", ErrorCategory.PROPERTY_VALUES
    )


def invalid_write(*, create: bool) -> ApiFailure:
    """A create with a record id, or an update without one."""
    wanted = "without" if create else "with"
    operation = "create" if create else "update"
    return ApiFailure(
        SYSTEM, "INVALID_WRITE", f"{operation} needs writes {wanted} record_id", ErrorCategory.OTHER
    )


def no_result() -> ApiFailure:
    """A collection call answered without a result for this record (retryable)."""
    return ApiFailure(
        SYSTEM,
        "NO_RESULT",
        "Salesforce returned no result for this record",
        ErrorCategory.OTHER,
        retryable=True,
    )
