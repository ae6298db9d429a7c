"""What a stage asks before it calls the CRMs, and what it does when a CRM refuses: the guards of
the CRM accounts a function calls (:class:`~shared.guardrails.guard.CrmGuard`), as one.

A refusal is a :class:`~shared.errors.SuspendedError` (``API_DISABLED_FOR_ORG``,
``REQUEST_LIMIT_EXCEEDED``, HubSpot's daily limit) or an :class:`~shared.errors.AuthenticationError`
(``invalid_grant``, ``INVALID_SESSION_ID`` after a fresh token, HubSpot's 401): the account is
suspended with the reason and what to do, and the work waits (it is not failed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shared.errors import AuthenticationError, SuspendedError
from shared.guardrails.allocation import Lane, Verdict
from shared.guardrails.guard import CrmGuard

REFUSALS: tuple[type[Exception], ...] = (SuspendedError, AuthenticationError)

CREDENTIALS_MESSAGE = {
    "salesforce": (
        "Salesforce refuses hssync's credentials ({code}): the connected app, its user or its key was "
        "revoked or changed. hssync is suspended: fix the connected app (or the secret) and it resumes "
        "by itself at the next probe."
    ),
    "hubspot": (
        "HubSpot refuses hssync's private-app token ({code}): it was revoked or rotated. hssync is "
        "suspended: put a valid token in the HubSpot secret and it resumes by itself at the next probe."
    ),
}


@dataclass(frozen=True)
class Hold:
    """Work must wait: for how long before it is looked at again, and why."""

    seconds: int
    system: str
    verdict: Verdict


def refusal(exc: Exception) -> tuple[str, str, str] | None:
    """(system, code, what to do) of a CRM's refusal; None for any other exception."""
    if isinstance(exc, SuspendedError):
        return exc.system, exc.code, exc.reason
    if isinstance(exc, AuthenticationError) and exc.system in CREDENTIALS_MESSAGE:
        return exc.system, exc.code, CREDENTIALS_MESSAGE[exc.system].format(code=exc.code)
    return None


class Guards:
    """The guards of one function (one per CRM account it calls)."""

    def __init__(self, guards: Sequence[CrmGuard]) -> None:
        self.guards = list(guards)

    def begin(self) -> None:
        for guard in self.guards:
            guard.begin()

    def hold(self, lane: Lane = Lane.LIVE) -> Hold | None:
        """None: the work may call every CRM of the function; else how long it waits."""
        for guard in self.guards:
            verdict = guard.verdict(lane)
            if verdict is not Verdict.CALL:
                return Hold(guard.wait_seconds(), guard.system.value, verdict)
        return None

    def refused(self, exc: Exception) -> Hold | None:
        """Suspends the account that refused ``exc`` and says how long work waits; None when ``exc``
        is no refusal (or names no guarded CRM)."""
        found = refusal(exc)
        if found is None:
            return None
        system, code, message = found
        for guard in self.guards:
            if guard.system.value == system:
                guard.suspend(code, message)
                return Hold(guard.wait_seconds(), system, Verdict.SUSPENDED)
        return None

    def observe(self) -> None:
        for guard in self.guards:
            guard.observe()


T = TypeVar("T")


def run_guarded(
    guards: Guards | None,
    items: Sequence[T],
    work: Callable[[Sequence[T]], set[str]],
    wait: Callable[[Sequence[T], Hold], None],
    lane: Callable[[T], Lane] = lambda _item: Lane.LIVE,
) -> set[str]:
    """``work`` on the items the guards let through now; ``wait`` for the others (all of them, when
    a CRM refuses during the work). Without guards, plain ``work``.

    Waiting work goes back to its queue as a new message delayed by the hold (:mod:`.waiting`), and
    the received one is deleted: SQS counts every receive towards the dead-letter queue's
    ``maxReceiveCount`` (a visibility extension does not reset it), so work left to be received
    again would reach the dead-letter queue after a few waits; a new message starts at zero, and
    the attempt counters in its body are left as they were, so waiting never counts as failing."""
    if guards is None:
        return work(items)
    guards.begin()
    try:
        now, later, hold = _sorted_by_lane(guards, items, lane)
        if hold is not None:
            wait(later, hold)
        if not now:
            return set()
        try:
            return work(now)
        except REFUSALS as exc:
            refused = guards.refused(exc)
            if refused is None:
                raise
            wait(now, refused)
            return set()
    finally:
        guards.observe()


def _sorted_by_lane(
    guards: Guards, items: Sequence[T], lane: Callable[[T], Lane]
) -> tuple[list[T], list[T], Hold | None]:
    """(the items to work on now, the ones to wait, how long they wait)."""
    hold = guards.hold(Lane.LIVE)
    if hold is not None:
        return [], list(items), hold
    bulk = [item for item in items if lane(item) is Lane.BULK]
    hold = guards.hold(Lane.BULK) if bulk else None
    if hold is None:
        return list(items), [], None
    return [item for item in items if lane(item) is not Lane.BULK], bulk, hold
