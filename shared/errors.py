"""How API failures are classified: what is retried, what suspends the connector, what becomes a
sync-health entry (grouped the way admins know from the native connector)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCategory(StrEnum):
    DUPLICATES = "duplicates"
    PROPERTY_VALUES = "property_values"  # picklist, length, required, format
    PERMISSIONS = "permissions"
    ASSOCIATIONS = "associations"
    CUSTOM_CODE = "custom_code"  # validation rules, flows, triggers
    API_LIMIT = "api_limit"
    OWNERS = "owners"
    OTHER = "other"


@dataclass(frozen=True)
class ApiFailure:
    """One failed record (or call) as the API reported it."""

    system: str  # "salesforce" | "hubspot"
    code: str  # e.g. STRING_TOO_LONG, VALIDATION_ERROR, CONFLICT, 429
    message: str
    category: ErrorCategory
    retryable: bool = False
    fields: tuple[str, ...] = ()
    http_status: int | None = None
    existing_id: str | None = None  # HubSpot 409 "Contact already exists. Existing ID: N"


class TransientApiError(Exception):
    """The call failed in a way that may succeed later (429, 5xx, timeouts, row locks) and the
    adapter's own retries are spent; the message goes back to its queue."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SuspendedError(Exception):
    """The connector must stop calling this API until an admin acts (API_DISABLED_FOR_ORG, daily
    limit exhausted, allocation used up). ``reason`` is the actionable message."""

    def __init__(self, system: str, code: str, reason: str) -> None:
        super().__init__(f"{system} {code}: {reason}")
        self.system = system
        self.code = code
        self.reason = reason
        self.account = ""  # several portals: the HubSpot portal that refused (shared.guardrails.gate)


class AuthenticationError(Exception):
    """Credentials are refused even after a fresh token; configuration must be fixed. ``system`` and
    ``code`` (e.g. ``invalid_grant``, ``INVALID_SESSION_ID``) say which CRM refused, and how."""

    def __init__(self, message: str, *, system: str = "", code: str = "") -> None:
        super().__init__(message)
        self.system = system
        self.code = code or "AUTHENTICATION"
        self.account = ""  # several portals: the HubSpot portal that refused (shared.guardrails.gate)


@dataclass
class Classified:
    retryable: bool
    category: ErrorCategory
    suspend: bool = False
    notes: list[str] = field(default_factory=list)


_SALESFORCE: dict[str, tuple[ErrorCategory, bool]] = {
    # code: (category, retryable)
    "UNABLE_TO_LOCK_ROW": (ErrorCategory.OTHER, True),
    "SERVER_UNAVAILABLE": (ErrorCategory.OTHER, True),
    "UNKNOWN_EXCEPTION": (ErrorCategory.OTHER, True),
    "REQUEST_RUNNING_TOO_LONG": (ErrorCategory.OTHER, True),
    "DUPLICATES_DETECTED": (ErrorCategory.DUPLICATES, False),
    "DUPLICATE_VALUE": (ErrorCategory.DUPLICATES, False),
    "DUPLICATE_EXTERNAL_ID": (ErrorCategory.DUPLICATES, False),
    "STRING_TOO_LONG": (ErrorCategory.PROPERTY_VALUES, False),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": (ErrorCategory.PROPERTY_VALUES, False),
    "REQUIRED_FIELD_MISSING": (ErrorCategory.PROPERTY_VALUES, False),
    "INVALID_EMAIL_ADDRESS": (ErrorCategory.PROPERTY_VALUES, False),
    "INVALID_TYPE_ON_FIELD_IN_RECORD": (ErrorCategory.PROPERTY_VALUES, False),
    "NUMBER_OUTSIDE_VALID_RANGE": (ErrorCategory.PROPERTY_VALUES, False),
    "MALFORMED_ID": (ErrorCategory.PROPERTY_VALUES, False),
    "INVALID_FIELD": (ErrorCategory.PROPERTY_VALUES, False),
    "INVALID_FIELD_FOR_INSERT_UPDATE": (ErrorCategory.PERMISSIONS, False),
    "INSUFFICIENT_ACCESS_OR_READONLY": (ErrorCategory.PERMISSIONS, False),
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": (ErrorCategory.PERMISSIONS, False),
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": (ErrorCategory.CUSTOM_CODE, False),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": (ErrorCategory.CUSTOM_CODE, False),
    "FIELD_INTEGRITY_EXCEPTION": (ErrorCategory.ASSOCIATIONS, False),
    "ENTITY_IS_DELETED": (ErrorCategory.OTHER, False),
    "REQUEST_LIMIT_EXCEEDED": (ErrorCategory.API_LIMIT, False),
}
_SALESFORCE_SUSPEND = {"API_DISABLED_FOR_ORG", "REQUEST_LIMIT_EXCEEDED", "API_CURRENTLY_DISABLED"}


def classify_salesforce(code: str, http_status: int | None = None) -> Classified:
    if code in _SALESFORCE_SUSPEND:
        return Classified(retryable=False, category=ErrorCategory.API_LIMIT, suspend=True)
    category, retryable = _SALESFORCE.get(code, (ErrorCategory.OTHER, False))
    if http_status is not None and (http_status == 429 or http_status >= 500):
        retryable = True
    return Classified(retryable=retryable, category=category)


_HUBSPOT: dict[str, ErrorCategory] = {
    "CONFLICT": ErrorCategory.DUPLICATES,
    "OBJECT_ALREADY_EXISTS": ErrorCategory.DUPLICATES,
    "VALIDATION_ERROR": ErrorCategory.PROPERTY_VALUES,
    "INVALID_OPTION": ErrorCategory.PROPERTY_VALUES,
    "INVALID_EMAIL": ErrorCategory.PROPERTY_VALUES,
    "PROPERTY_DOESNT_EXIST": ErrorCategory.PROPERTY_VALUES,
    "READ_ONLY_VALUE": ErrorCategory.PERMISSIONS,
    "MISSING_SCOPES": ErrorCategory.PERMISSIONS,
    "INVALID_AUTHENTICATION": ErrorCategory.PERMISSIONS,
    "RATE_LIMIT": ErrorCategory.API_LIMIT,
}


def classify_hubspot(category_or_code: str, http_status: int | None = None) -> Classified:
    retryable = http_status is not None and (http_status == 429 or http_status >= 500)
    category = _HUBSPOT.get(category_or_code, ErrorCategory.OTHER)
    if http_status == 409:
        category = ErrorCategory.DUPLICATES
    return Classified(retryable=retryable, category=category)
