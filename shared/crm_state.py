"""Whether hssync may call a CRM now, and how much of its API it has used (DESIGN C3, S2).

One :class:`CrmState` per CRM account: the Salesforce org (shared by every portal of the stack) and
each HubSpot portal. The guardrails write it (a spent allocation pauses, a refusing org suspends);
the operator's ``hssync status`` and console read it. Usage samples (one per CRM account and hour,
the highest usage seen in it) give the last day's API usage without any extra call to the CRM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.models import System


class CrmStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # the API allocation is spent: work waits in its queues and resumes by itself
    SUSPENDED = "suspended"  # the CRM refuses (no API, revoked credentials): one probe per period


@dataclass(frozen=True)
class CrmState:
    system: System
    account: str  # the Salesforce org id or the HubSpot portal id
    status: CrmStatus
    since: dt.datetime  # when the status began
    updated_at: dt.datetime
    reason: str | None = None  # the error code or limit that caused it, e.g. "API_DISABLED_FOR_ORG"
    message: str | None = None  # what it means and what to do, for the operator
    api_used: int | None = None  # the API usage last seen (Sforce-Limit-Info / HubSpot daily headers)
    api_max: int | None = None  # the daily limit last seen
    allocation_percent: int | None = None  # the share of the limit hssync may use

    @property
    def needs_attention(self) -> bool:
        return self.status is not CrmStatus.RUNNING


@dataclass(frozen=True)
class UsageSample:
    """The highest API usage seen in one hour (``hour`` is the start of the hour, UTC)."""

    system: System
    account: str
    hour: dt.datetime
    used: int
    limit: int


def sample_hour(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC hour ``moment`` falls in: the key of its usage sample."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


class CrmStateStore(Protocol):
    def crm_state(self, system: System, account: str) -> CrmState | None:
        """The stored state (None: never stored, i.e. running)."""
        ...

    def crm_states(self) -> list[CrmState]:
        """Every stored state (one query)."""
        ...

    def put_crm_state(self, state: CrmState) -> None: ...

    def record_usage(self, sample: UsageSample) -> None:
        """Keep the sample's hour at the highest usage recorded for it (kept for 2 days)."""
        ...

    def usage_samples(self, system: System, account: str, since: dt.datetime) -> list[UsageSample]:
        """The samples of the hours from ``since``, oldest first."""
        ...
