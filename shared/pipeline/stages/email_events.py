"""The email events function's stage: on its schedule, one run of the email events sync
(``shared.pipeline.email_events``). A CRM that is suspended or answers later is not a failure: the
cursor did not move, so the next scheduled run covers the same window. Anything else fails the
invocation (its errors alarm, and the function's dead-letter queue once Lambda's retries are spent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

from shared.config import EmailEventsSettings
from shared.guardrails.gate import REFUSALS, Guards, refusals_of
from shared.observability import logger, metrics
from shared.pipeline.email_events import EmailEventSync
from shared.pipeline.stages.base import RETRIED


class EmailEventsStage:
    def __init__(
        self,
        *,
        settings: Callable[[], EmailEventsSettings],
        sync: Callable[[EmailEventsSettings], EmailEventSync],
        guards: Guards | None = None,
        portal_sync: Callable[[EmailEventsSettings, str], EmailEventSync] | None = None,
    ) -> None:
        """``settings``: the configuration's ``email_events`` section (re-read as it changes);
        ``sync``: a run with those settings; ``guards``: the API allocation and suspension of the
        CRMs (``shared.guardrails``): a run waits for a CRM that is paused or suspended;
        ``portal_sync``: several portals (the guards' portals), a run of one portal's events (its
        token, its cursor): each portal that may be called runs, one that waits is left out."""
        self.settings = settings
        self.sync = sync
        self.guards = guards
        self.portal_sync = portal_sync

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        settings = self.settings()
        if not settings.enabled:
            logger.info("email events are turned off (email_events.enabled)")
            return {"enabled": False}
        if self.guards is None:
            return self._run(lambda: self.sync(settings))
        self.guards.begin()
        try:
            portals = self.guards.portals()
            if self.portal_sync is not None and len(portals) > 1:
                return self._portals(settings, self.portal_sync, portals)
            return self._guarded(lambda: self.sync(settings), None)
        finally:
            self.guards.observe()

    def _portals(
        self,
        settings: EmailEventsSettings,
        sync: Callable[[EmailEventsSettings, str], EmailEventSync],
        portals: Sequence[str],
    ) -> dict[str, Any]:
        """Each portal's run (the org must be callable; a portal that waits is left out)."""
        answers: dict[str, Any] = {}
        for portal in portals:
            answers[portal] = self._guarded(partial(sync, settings, portal), portal)
        return {"enabled": True, "portals": answers}

    def _guarded(self, run: Callable[[], EmailEventSync], portal: str | None) -> dict[str, Any]:
        """A run unless a CRM it calls waits (``portal``: that portal's HubSpot; None: every one)."""
        if self.guards is None:
            return self._run(run)
        hold = self.guards.hold(portals=None if portal is None else (portal,))
        if hold is not None:
            logger.info("email events wait for a CRM", extra={"system": hold.system, "portal": portal})
            return {"enabled": True, "waiting": hold.system}
        try:
            return self._run(run, portal)
        except REFUSALS as exc:  # credentials refused: the CRM is suspended, the run waits
            refused = self.guards.refused(exc)
            if refused is None:
                raise
            return {"enabled": True, "waiting": refused.system}

    def _run(self, run: Callable[[], EmailEventSync], portal: str | None = None) -> dict[str, Any]:
        try:
            with refusals_of(portal or ""):  # several portals: a refusal names its portal
                result = run().run()
        except RETRIED as exc:
            if self.guards is not None:
                self.guards.refused(exc)  # a suspension suspends the CRM (a transient failure: nothing)
            logger.warning("email events will be read again on the next run", extra={"error": str(exc)})
            metrics.add_metric(name="EmailEventsDeferred", unit="Count", value=1)
            return {"enabled": True, "deferred": str(exc)}
        metrics.add_metric(name="EmailTasksCreated", unit="Count", value=result.tasks)
        metrics.add_metric(name="EmailEventsSkipped", unit="Count", value=sum(result.skipped.values()))
        logger.info("email events run", extra={"result": asdict(result)})
        return {"enabled": True, **asdict(result)}
