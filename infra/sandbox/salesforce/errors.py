"""Salesforce error shapes.

A single-record call answers ``[{"message","errorCode","fields"}]``; a collection reports per-record
``{"statusCode","message","fields"}`` inside its results. :class:`SfError` is one such error;
:class:`RecordFailure` is a record that could not be saved (one or more errors); :class:`RequestError`
fails the whole request, whatever the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.sandbox.http import ApiError

ROLLED_BACK_MESSAGE = (
    "Record rolled back because not all records were valid and the request was using AllOrNone header"
)
NOT_FOUND_MESSAGE = "The requested resource does not exist"


@dataclass
class SfError:
    code: str
    message: str
    fields: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_rest(self) -> dict[str, Any]:
        """The element of a single-record call's error list."""
        return {"message": self.message, "errorCode": self.code, "fields": list(self.fields), **self.extra}

    def as_result(self) -> dict[str, Any]:
        """The element of a collection result's ``errors``."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields), **self.extra}


class RecordFailure(Exception):
    """A record was refused; ``status`` is the HTTP status a single-record call answers with."""

    def __init__(self, errors: list[SfError], status: int = 400) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.errors = errors
        self.status = status

    @classmethod
    def one(
        cls, code: str, message: str, fields: list[str] | None = None, status: int = 400
    ) -> RecordFailure:
        return cls([SfError(code, message, fields or [])], status)

    def api_error(self) -> ApiError:
        return ApiError(self.status, [e.as_rest() for e in self.errors])


class RequestError(Exception):
    """The whole request is refused (malformed JSON, unknown field, limits...)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def api_error(self) -> ApiError:
        return ApiError(self.status, [{"message": self.message, "errorCode": self.code}])


def api_error(status: int, code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(status, [{"message": message, "errorCode": code, **extra}])


def not_found(message: str = NOT_FOUND_MESSAGE) -> ApiError:
    return api_error(404, "NOT_FOUND", message)


def deleted() -> RecordFailure:
    return RecordFailure.one("ENTITY_IS_DELETED", "entity is deleted", status=404)
