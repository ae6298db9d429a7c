"""HubSpot's error bodies, as the public API sends them.

Every error carries ``status: "error"``, a human ``message``, a ``correlationId`` (UUID) and a
``category``; validation errors add ``errors`` (``message``, ``code``, ``context``) and property
validation errors keep HubSpot's historical ``"Property values were not valid: [...]"`` message,
whose JSON list some clients parse for ``name`` and ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infra.sandbox.http import ApiError, correlation_id

OAUTH_DOCS = "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
MISSING_CREDENTIALS = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
    f"find more details at {OAUTH_DOCS}"
)
MISSING_CREDENTIALS_EITHER = (
    "Authentication credentials not found. This API supports both API Key and OAuth 2.0 "
    f"authentication and you can find more details at {OAUTH_DOCS}"
)


def error_body(
    message: str,
    category: str,
    *,
    context: dict[str, list[str]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    sub_category: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": correlation_id(),
        "category": category,
    }
    if sub_category is not None:
        body["subCategory"] = sub_category
    if context is not None:
        body["context"] = context
    if errors is not None:
        body["errors"] = errors
    return body


def hs_error(status: int, message: str, category: str, **kwargs: Any) -> ApiError:
    body = error_body(message, category, **kwargs)
    return ApiError(status, body, {"X-HubSpot-Correlation-Id": body["correlationId"]})


def validation_error(message: str, **kwargs: Any) -> ApiError:
    return hs_error(400, message, "VALIDATION_ERROR", **kwargs)


def unauthorized(*, api_key_accepted: bool = False) -> ApiError:
    message = MISSING_CREDENTIALS_EITHER if api_key_accepted else MISSING_CREDENTIALS
    err = hs_error(401, message, "INVALID_AUTHENTICATION")
    err.headers["X-HubSpot-Auth-Failure"] = "401 Unauthorized"
    return err


def not_found(message: str = "resource not found") -> ApiError:
    return hs_error(404, message, "OBJECT_NOT_FOUND")


def contact_exists(existing_id: str) -> ApiError:
    return hs_error(
        409,
        f"Contact already exists. Existing ID: {existing_id}",
        "CONFLICT",
        context={"existingId": [existing_id]},
    )


def batch_too_large(count: int, maximum: int = 100) -> ApiError:
    return validation_error(
        f"Batch input contains {count} inputs; the maximum number of inputs is {maximum}.",
        errors=[
            {
                "message": f"size must be between 1 and {maximum}",
                "code": "INVALID_INPUT_SIZE",
                "in": "inputs",
                "context": {"maxInputs": [str(maximum)], "actualInputs": [str(count)]},
            }
        ],
    )


@dataclass(frozen=True)
class PropertyIssue:
    """One invalid property value (HubSpot's ``PropertyValidationResult``)."""

    name: str
    error: str
    message: str


def property_validation_error(issues: Sequence[PropertyIssue], portal_id: int) -> ApiError:
    results = [
        {
            "isValid": False,
            "message": issue.message,
            "error": issue.error,
            "name": issue.name,
            "localizedErrorMessage": issue.message,
            "portalId": portal_id,
        }
        for issue in issues
    ]
    return validation_error(
        "Property values were not valid: " + json.dumps(results, separators=(",", ":")),
        errors=[
            {"message": issue.message, "code": issue.error, "context": {"propertyName": [issue.name]}}
            for issue in issues
        ],
    )


def batch_error(category: str, message: str, context: dict[str, list[str]]) -> dict[str, Any]:
    """One entry of a batch response's ``errors`` (``StandardError``)."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }
