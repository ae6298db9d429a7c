"""Sync health as the native connector's Sync Health tab shows it: entries grouped into its
categories with counts of errors and affected records, filtered by category, object and time, each
with the command that syncs its record again.

The entries are the stored sync-health entries (``StatePort.record_health``: a write a CRM refused,
a duplicate, an owner without a counterpart ...), the records a rule of the configuration skips
(``set_statuses``), which form the *skipped* category, and the CRM accounts hssync has stopped
calling (``shared.crm_state``: a spent limit or allocation, an API that refuses), in *API limit*:
their command re-reads everything changed since the stop, once the account runs again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.crm_state import CrmState
from shared.errors import ErrorCategory
from shared.state.base import HealthSummary, RecordStatus
from shared.state.keys import record_key, resync_command

ACCOUNT_OBJECTS = {"salesforce": "org", "hubspot": "portal"}  # how an account is named as a record


class HealthCategory(StrEnum):
    """The native connector's categories, in its order; ``other`` holds what fits none of them."""

    DUPLICATES = ErrorCategory.DUPLICATES.value
    PROPERTY_VALUES = ErrorCategory.PROPERTY_VALUES.value
    PERMISSIONS = ErrorCategory.PERMISSIONS.value
    ASSOCIATIONS = ErrorCategory.ASSOCIATIONS.value
    CUSTOM_CODE = ErrorCategory.CUSTOM_CODE.value
    API_LIMIT = ErrorCategory.API_LIMIT.value
    OWNERS = ErrorCategory.OWNERS.value
    SKIPPED = "skipped"
    OTHER = ErrorCategory.OTHER.value

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    HealthCategory.DUPLICATES: "Duplicates",
    HealthCategory.PROPERTY_VALUES: "Property values",
    HealthCategory.PERMISSIONS: "Permissions",
    HealthCategory.ASSOCIATIONS: "Associations",
    HealthCategory.CUSTOM_CODE: "Custom code",
    HealthCategory.API_LIMIT: "API limit",
    HealthCategory.OWNERS: "Owners",
    HealthCategory.SKIPPED: "Skipped",
    HealthCategory.OTHER: "Other",
}


@dataclass(frozen=True)
class HealthRow:
    """One entry: a record, what went wrong with it (``code``, ``message``) and when."""

    category: HealthCategory
    record: str  # a record key, e.g. "hubspot:contacts:123", "salesforce:Group:00G..."
    system: str  # where the write failed ("" for a skipped record)
    code: str
    message: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int
    resync: str  # the command that syncs the record (or an owner's records) again

    @property
    def object_type(self) -> str:
        return self.record.split(":")[1] if self.record.count(":") >= 2 else ""


@dataclass(frozen=True)
class CategoryCount:
    category: HealthCategory
    errors: int  # occurrences
    records: int  # distinct records affected

    @property
    def label(self) -> str:
        return self.category.label


class HealthSource(Protocol):
    """What the operator's view reads (``DynamoState`` and the in-memory store for tests)."""

    def health_summaries(self, portal: str) -> list[HealthSummary]: ...

    def record_statuses(self, portal: str) -> list[RecordStatus]: ...


@dataclass(frozen=True)
class HealthFilter:
    category: HealthCategory | None = None
    object_type: str | None = None  # Lead, Contact, contacts, User, Group (any case)
    since: dt.datetime | None = None  # last seen at or after

    def matches(self, row: HealthRow) -> bool:
        if self.category is not None and row.category is not self.category:
            return False
        if self.object_type is not None and row.object_type.lower() != self.object_type.lower():
            return False
        return self.since is None or row.last_seen >= self.since


def from_summary(summary: HealthSummary) -> HealthRow:
    entry = summary.entry
    return HealthRow(
        category=HealthCategory(entry.category.value),
        record=entry.record,
        system=entry.system,
        code=entry.code,
        message=entry.message,
        first_seen=summary.first_at,
        last_seen=entry.at,
        count=summary.count,
        resync=entry.resync or resync_command(entry.record),
    )


def from_status(status: RecordStatus) -> HealthRow:
    return HealthRow(
        category=HealthCategory.SKIPPED,
        record=status.record,
        system="",
        code="SKIPPED",
        message=status.reason,
        first_seen=status.at,
        last_seen=status.at,
        count=1,
        resync=resync_command(status.record),
    )


def from_crm_state(state: CrmState) -> HealthRow:
    """A CRM account hssync does not call now (paused or suspended): everything changed since it
    stopped is to be read again once it runs."""
    since = state.since.isoformat(timespec="seconds")
    return HealthRow(
        category=HealthCategory.API_LIMIT,
        record=record_key(state.system.value, ACCOUNT_OBJECTS[state.system.value], state.account),
        system=state.system.value,
        code=state.reason or state.status.value.upper(),
        message=f"{state.status.value}: {state.message or state.reason or 'no calls until it resumes'}",
        first_seen=state.since,
        last_seen=state.updated_at,
        count=1,
        resync=f"hssync resync --all --since {since}",
    )


def health_rows(
    source: HealthSource,
    portal: str,
    where: HealthFilter | None = None,
    crm_states: Sequence[CrmState] = (),
) -> list[HealthRow]:
    """Every entry of the portal (and every CRM account not running) that ``where`` admits, newest
    first."""
    rows = [from_summary(s) for s in source.health_summaries(portal)]
    rows += [from_status(s) for s in source.record_statuses(portal)]
    rows += [from_crm_state(s) for s in crm_states if s.needs_attention]
    rows.sort(key=lambda row: (row.last_seen, row.record, row.code), reverse=True)
    return [row for row in rows if where is None or where.matches(row)]


def category_counts(rows: Sequence[HealthRow]) -> list[CategoryCount]:
    """Every category (the empty ones too, as cards show them), in the native connector's order."""
    return [
        CategoryCount(
            category=category,
            errors=sum(row.count for row in rows if row.category is category),
            records=len({row.record for row in rows if row.category is category}),
        )
        for category in HealthCategory
    ]
