"""Reading Salesforce's answers, pure: records, describe entries, limit headers and error bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.ids import salesforce_id18
from shared.ports import SalesforceRecord
from shared.times import parse_timestamp

_LIMIT_INFO = re.compile(r"(?:^|[\s;,])api-usage=(\d+)/(\d+)")
_DESCRIBE_KEYS = (
    "name", "type", "label", "length", "precision", "scale", "digits", "nillable", "createable",
    "updateable", "restrictedPicklist", "externalId", "unique", "calculated",
)  # fmt: skip
_ERROR_KEYS = frozenset({"errorCode", "statusCode", "error", "message", "error_description", "fields"})


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """(used, max) from ``Sforce-Limit-Info: api-usage=18/5000[; per-app-api-usage=...]``."""
    match = _LIMIT_INFO.search(header or "")
    return (int(match[1]), int(match[2])) if match else None


def _strip_attributes(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_attributes(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [_strip_attributes(v) for v in value]
    return value


def to_record(sobject: str, row: Mapping[str, Any]) -> SalesforceRecord:
    return SalesforceRecord(
        sobject=sobject,
        id=salesforce_id18(str(row["Id"])),
        fields=_strip_attributes(row),
        created=parse_timestamp(str(row["CreatedDate"])),
        last_modified=parse_timestamp(str(row["LastModifiedDate"])),
    )


def compact_field(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What hssync uses of a describe entry (a full describe of Lead and Contact would not fit the
    shared cache): the type information and the active picklist values."""
    compact = {k: entry[k] for k in _DESCRIBE_KEYS if k in entry}
    values = [
        {"value": p["value"], "active": True}
        for p in entry.get("picklistValues") or ()
        if isinstance(p, Mapping) and p.get("value") is not None and p.get("active", True)
    ]
    if values:
        compact["picklistValues"] = values
    return compact


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- error bodies ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SfError:
    code: str
    message: str
    fields: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_errors(content: Any) -> list[SfError]:
    """Salesforce error bodies in all their shapes: a list of ``{errorCode|statusCode, message,
    fields}``, a single such object, or an OAuth ``{error, error_description}``."""
    items = content if isinstance(content, list) else [content]
    errors = []
    for item in items:
        if isinstance(item, Mapping):
            code = item.get("errorCode") or item.get("statusCode") or item.get("error") or "UNKNOWN"
            message = item.get("message") or item.get("error_description") or ""
            fields = tuple(str(f) for f in item.get("fields") or ())
            extra = {k: v for k, v in item.items() if k not in _ERROR_KEYS}
            errors.append(SfError(str(code), str(message), fields, extra))
        elif isinstance(item, str) and item:
            errors.append(SfError("UNKNOWN", item))
    return errors


def duplicate_of(error: SfError) -> str | None:
    """The first matching record id of a ``DUPLICATES_DETECTED`` error's ``duplicateResult``."""
    result = error.extra.get("duplicateResult")
    if not isinstance(result, Mapping):
        return None
    for match in result.get("matchResults") or ():
        for candidate in (match or {}).get("matchRecords") or ():
            record = (candidate or {}).get("record") or {}
            if record.get("Id"):
                return str(record["Id"])
    return None
