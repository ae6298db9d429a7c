"""What a stage asks before it calls the CRMs, and what it does when a CRM refuses: the guards of
the CRM accounts a function calls (:class:`~shared.guardrails.guard.CrmGuard`), as one.

A refusal is a :class:`~shared.errors.SuspendedError` (``API_DISABLED_FOR_ORG``,
``REQUEST_LIMIT_EXCEEDED``, HubSpot's daily limit) or an :class:`~shared.errors.AuthenticationError`
(``invalid_grant``, ``INVALID_SESSION_ID`` after a fresh token, HubSpot's 401): the account is
suspended with the reason and what to do, and the work waits (it is not failed).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
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


Accounts = Collection[str] | None  # the HubSpot portals a piece of work calls; None: every one


@contextmanager
def refusals_of(portal: str) -> Iterator[None]:
    """Several portals: a HubSpot refusal raised inside names ``portal``, the portal whose guard it
    suspends (the adapters' errors do not know their portal)."""
    try:
        yield
    except REFUSALS as exc:
        of_portal(exc, portal)
        raise


def of_portal(exc: BaseException, portal: str) -> None:
    """Names ``portal`` on a HubSpot refusal that names none yet."""
    if not portal:
        return
    if isinstance(exc, SuspendedError | AuthenticationError) and exc.system == "hubspot" and not exc.account:
        exc.account = portal


class Guards:
    """The guards of one function (one per CRM account it calls: the org, and each HubSpot portal).
    ``guards`` may be a function building them (on first use: the portals come from the
    configuration); ``portal_guard`` builds the guard of another HubSpot portal when its work or its
    refusal comes (a function that does not read the configuration)."""

    def __init__(
        self,
        guards: Sequence[CrmGuard] | Callable[[], Sequence[CrmGuard]],
        portal_guard: Callable[[str], CrmGuard] | None = None,
    ) -> None:
        self._build = guards if callable(guards) else None
        self._guards = None if callable(guards) else list(guards)
        self.portal_guard = portal_guard
        self._begun = False

    @property
    def guards(self) -> list[CrmGuard]:
        if self._guards is None:
            self._guards = list(self._build() if self._build is not None else ())
        return self._guards

    def portals(self) -> list[str]:
        """The HubSpot portals guarded, the stack's first portal first."""
        return [guard.account for guard in self.guards if guard.system.value == "hubspot"]

    def _known(self, portals: Accounts) -> None:
        """The guards of ``portals`` that are not guarded yet, added (and begun)."""
        if portals is None or self.portal_guard is None:
            return
        for portal in [p for p in portals if p not in self.portals()]:
            guard = self.portal_guard(portal)
            if self._begun:
                guard.begin()
            self.guards.append(guard)

    def begin(self) -> None:
        self._begun = True
        for guard in self.guards:
            guard.begin()

    def hold(self, lane: Lane = Lane.LIVE, portals: Accounts = None) -> Hold | None:
        """None: the work may call every CRM of the function; else how long it waits. ``portals``:
        the HubSpot portals the work calls (None: every one); another portal's state is no matter."""
        self._known(portals)
        for guard in self.guards:
            if portals is not None and guard.system.value == "hubspot" and guard.account not in portals:
                continue
            verdict = guard.verdict(lane)
            if verdict is not Verdict.CALL:
                return Hold(guard.wait_seconds(), guard.system.value, verdict)
        return None

    def refused(self, exc: Exception) -> Hold | None:
        """Suspends the account that refused ``exc`` (a HubSpot refusal naming its portal: that
        portal's, else the first portal's) and says how long work waits; None when ``exc`` is no
        refusal (or names no guarded CRM)."""
        found = refusal(exc)
        if found is None:
            return None
        system, code, message = found
        account = getattr(exc, "account", "")
        if system == "hubspot" and account:
            self._known([account])
        for guard in self.guards:
            if guard.system.value == system and (not account or guard.account == account):
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
    portals: Callable[[T], Accounts] = lambda _item: None,
) -> set[str]:
    """``work`` on the items the guards let through now; ``wait`` for the others (all of them, when
    a CRM refuses during the work). Without guards, plain ``work``.

    Waiting work goes back to its queue as a new message delayed by the hold (:mod:`.waiting`), and
    the received one is deleted: SQS counts every receive towards the dead-letter queue's
    ``maxReceiveCount`` (a visibility extension does not reset it), so work left to be received
    again would reach the dead-letter queue after a few waits; a new message starts at zero, and
    the attempt counters in its body are left as they were, so waiting never counts as failing.

    ``portals``: the HubSpot portals an item calls (several portals): an item waits for those only,
    so a portal that is paused or suspended holds its own work, not the other portals'."""
    if guards is None:
        return work(items)
    guards.begin()
    try:
        now, later = _sorted(guards, items, lane, portals)
        for hold, waiting in later.items():
            wait(waiting, hold)
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


def _sorted(
    guards: Guards, items: Sequence[T], lane: Callable[[T], Lane], portals: Callable[[T], Accounts]
) -> tuple[list[T], dict[Hold, list[T]]]:
    """(the items to work on now, the ones to wait by how long they wait). Live work waits for a CRM
    that holds it; bulk work also waits earlier (near the allocation)."""
    holds: dict[tuple[Lane, tuple[str, ...] | None], Hold | None] = {}
    now: list[T] = []
    later: dict[Hold, list[T]] = {}
    for item in items:
        wanted = portals(item)
        key = (lane(item), None if wanted is None else tuple(sorted(wanted)))
        if key not in holds:
            live = guards.hold(Lane.LIVE, wanted)
            holds[key] = live or (guards.hold(Lane.BULK, wanted) if key[0] is Lane.BULK else None)
        hold = holds[key]
        if hold is None:
            now.append(item)
        else:
            later.setdefault(hold, []).append(item)
    return now, later
