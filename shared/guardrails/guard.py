"""One function's guardrail for one CRM account (the Salesforce org, or a HubSpot portal): it reads
the account's :class:`~shared.crm_state.CrmState` once per invocation before the function calls the
CRM, and writes it at most once after (usage, and the hour's usage sample). A refusing CRM suspends
the account; the scheduled probe (:mod:`.probe`) resumes it. Suspension and resumption are announced
on the alarm topic (SNS).

States are plain puts: two functions that see the same transition write the same state; usage
written after a suspension by a function that did not meet it is overwritten by the next refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from shared.crm_state import CrmState, CrmStateStore, CrmStatus, UsageSample
from shared.guardrails.allocation import (
    LONGEST_WAIT_SECONDS,
    SHORTEST_WAIT_SECONDS,
    Allocation,
    Lane,
    Verdict,
    may_call,
    wait_seconds,
)
from shared.models import System
from shared.observability import count_suspension, logger
from shared.times import utc_now

Usage = tuple[int, int]  # (used, daily limit)

# usage far from the allocation is kept when it moved by 1 % of the limit, or every 5 minutes (what
# the operator sees); from 90 % of the allocation on (where bulk work stops), after every invocation
KEEP_STEP = 0.01
KEEP_EVERY = dt.timedelta(minutes=5)
KEEP_ALWAYS_FROM = 0.9


def usage_worth_keeping(
    state: CrmState | None, usage: Usage, allocation: Allocation | None, now: dt.datetime
) -> bool:
    """Whether an invocation writes the usage its answers reported: state writes follow what must be
    remembered, not every invocation, while usage is far from the allocation."""
    if state is None or state.api_used is None or state.api_max != usage[1]:
        return True
    used, limit = usage
    if now - state.updated_at >= KEEP_EVERY or abs(used - state.api_used) >= limit * KEEP_STEP:
        return True
    line = allocation.line(limit) if allocation is not None else limit
    return used >= line * KEEP_ALWAYS_FROM


PAUSED_MESSAGE = (
    "hssync has used its allocation of the {crm} API ({used}/{limit}, {percent} %). Work waits in its "
    "queues and resumes by itself when usage falls below the allocation; raise the allocation "
    "setting to resume sooner."
)


Notifier = Callable[[str, str], None]  # (subject, message) -> published on the alarm topic


def _crm(system: System) -> str:
    return "Salesforce" if system is System.SALESFORCE else "HubSpot"


class CrmGuard:
    """Not thread-safe (a Lambda handles one event at a time); :meth:`begin` starts an invocation."""

    def __init__(
        self,
        *,
        system: System,
        account: str,
        store: CrmStateStore,
        usage: Callable[[], Usage | None],
        allocation: Allocation | None = None,
        notify: Notifier | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        shortest_wait: int = SHORTEST_WAIT_SECONDS,
        longest_wait: int = LONGEST_WAIT_SECONDS,
    ) -> None:
        """``usage``: what the adapter's last answer said (no call of its own)."""
        self.system = system
        self.account = account
        self.store = store
        self.usage = usage
        self.allocation = allocation
        self.notify = notify
        self.clock = clock
        self.shortest_wait = shortest_wait
        self.longest_wait = longest_wait
        self._state: CrmState | None = None
        self._read = False
        self._usage_before: Usage | None = None

    # -- one invocation ------------------------------------------------------------------------
    def begin(self) -> None:
        """A new invocation: the stored state is read again on the next :meth:`verdict`."""
        self._read = False
        self._usage_before = self.usage()

    def state(self) -> CrmState | None:
        if not self._read:
            self._state = self.store.crm_state(self.system, self.account)
            self._read = True
        return self._state

    def verdict(self, lane: Lane = Lane.LIVE) -> Verdict:
        """May the function call the CRM for work of ``lane`` now? A spent allocation pauses the
        account (every function then waits until usage falls)."""
        verdict = may_call(self.state(), self.allocation, lane)
        if verdict is Verdict.PAUSE:
            state = self.state()
            if state is not None and state.api_used is not None and state.api_max is not None:
                self._pause((state.api_used, state.api_max))
        return verdict

    @property
    def allocation_percent(self) -> int | None:
        return self.allocation.percent if self.allocation is not None else None

    def daily_limit(self) -> int | None:
        """The account's daily API limit, as its last answer or its stored state said (no call)."""
        usage = self.usage()
        if usage is not None:
            return usage[1]
        state = self.state()
        return state.api_max if state is not None else None

    def wait_seconds(self) -> int:
        """How long work waits before it is looked at again (longer the longer the account waits)."""
        state = self.state()
        waited = self.clock() - state.since if state is not None and state.needs_attention else dt.timedelta()
        return wait_seconds(waited, shortest=self.shortest_wait, longest=self.longest_wait)

    def observe(self) -> None:
        """After the invocation's calls: the usage they reported, in the state and the hour's sample
        (nothing written when no call answered, or usage far from the allocation barely moved). A
        spent allocation pauses the account."""
        usage = self.usage()
        if usage is None or usage == self._usage_before:
            return
        self._usage_before = usage
        now = self.clock()
        state = self.state()
        if not usage_worth_keeping(state, usage, self.allocation, now):
            return
        self.store.record_usage(UsageSample(self.system, self.account, now, used=usage[0], limit=usage[1]))
        if state is not None and state.status is CrmStatus.SUSPENDED:
            return  # only the probe resumes a suspended account
        if self.allocation is not None and self.allocation.spent(*usage):
            self._pause(usage)
            return
        self._put(CrmStatus.RUNNING, reason=None, message=None, usage=usage)

    # -- transitions ---------------------------------------------------------------------------
    def suspend(self, code: str, message: str) -> None:
        """The CRM refuses (no API, spent limit, revoked credentials): no call until a probe works."""
        state = self.state()
        if state is not None and state.status is CrmStatus.SUSPENDED and state.reason == code:
            return
        self._put(CrmStatus.SUSPENDED, reason=code, message=message, usage=self.usage())
        count_suspension()
        logger.error(
            "CRM suspended", extra={"system": self.system.value, "reason": code, "what_to_do": message}
        )
        self._announce(f"hssync: {_crm(self.system)} suspended ({code})", message)

    def resume(self, usage: Usage | None) -> CrmStatus:
        """A probe got an answer: running again, or paused while usage is still at the allocation."""
        state = self.state()
        was = state.status if state is not None else CrmStatus.RUNNING
        if usage is not None and self.allocation is not None and self.allocation.spent(*usage):
            self._pause(usage)
            status = CrmStatus.PAUSED
        else:
            self._put(CrmStatus.RUNNING, reason=None, message=None, usage=usage)
            status = CrmStatus.RUNNING
        if was is CrmStatus.SUSPENDED:
            logger.info("CRM resumed", extra={"system": self.system.value, "status": status.value})
            self._announce(
                f"hssync: {_crm(self.system)} resumed",
                f"{_crm(self.system)} answers again; hssync is {status.value} and the waiting work drains.",
            )
        return status

    def _pause(self, usage: Usage) -> None:
        state = self.state()
        if state is not None and state.status is CrmStatus.PAUSED:
            return  # already paused (a suspension reaches here only through a probe's answer)
        percent = self.allocation.percent if self.allocation is not None else 100
        message = PAUSED_MESSAGE.format(crm=_crm(self.system), used=usage[0], limit=usage[1], percent=percent)
        self._put(CrmStatus.PAUSED, reason="API_ALLOCATION", message=message, usage=usage)
        logger.warning("CRM paused: API allocation spent", extra={"system": self.system.value})

    def _put(
        self, status: CrmStatus, *, reason: str | None, message: str | None, usage: Usage | None
    ) -> None:
        now = self.clock()
        state = self.state()
        since = state.since if state is not None and state.status is status else now
        base = state or CrmState(self.system, self.account, status, since=now, updated_at=now)
        used, limit = usage if usage is not None else (base.api_used, base.api_max)
        new = replace(
            base,
            status=status,
            since=since,
            updated_at=now,
            reason=reason,
            message=message,
            api_used=used,
            api_max=limit,
            allocation_percent=self.allocation.percent if self.allocation is not None else None,
        )
        self.store.put_crm_state(new)
        self._state = new

    def _announce(self, subject: str, message: str) -> None:
        if self.notify is None:
            return
        try:
            self.notify(subject, message)
        except Exception:  # the state is kept and logged: a lost notification stops nothing
            logger.exception("notification failed", extra={"subject": subject})
