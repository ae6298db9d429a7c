"""The scheduled probe: one cheap call (Salesforce ``limits``, a one-owner HubSpot page) to each CRM
account that is paused or suspended, and nothing else. An answer resumes a suspended account (or
keeps it paused while usage is still at the allocation); usage below the allocation resumes a
paused one; a refusal keeps it suspended (with the reason of the moment); a failure that may pass
changes nothing until the next probe."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shared.crm_state import CrmStatus
from shared.errors import TransientApiError
from shared.guardrails.gate import REFUSALS, Guards, of_portal
from shared.guardrails.guard import Usage
from shared.models import System
from shared.observability import count_suspension, logger

Probe = Callable[[], Usage | None]  # one cheap call; the usage its answer reported
# each CRM's probe, or (several portals) the probe of a CRM account: (system, account) -> its probe
Probes = Mapping[System, Probe] | Callable[[System, str], Probe | None]


def _probe_of(probes: Probes, system: System, account: str) -> Probe | None:
    if isinstance(probes, Mapping):
        return probes.get(system)
    return probes(system, account)


def probe(guards: Guards, probes: Probes) -> dict[str, str]:
    """Probes every account that waits; its status after the probe, by system (several portals: a
    portal other than the first by ``hubspot:<portal>``)."""
    after: dict[str, str] = {}
    first = guards.portals()[:1]
    for guard in guards.guards:
        state = guard.state()
        call = _probe_of(probes, guard.system, guard.account)
        if state is None or not state.needs_attention or call is None:
            continue
        name = guard.system.value
        if guard.system is System.HUBSPOT and [guard.account] != first:
            name = f"{name}:{guard.account}"
        try:
            usage = call()
        except REFUSALS as exc:
            of_portal(exc, guard.account)
            guards.refused(exc)
            count_suspension()  # still suspended: CrmSuspendedAlarm stays in alarm, one probe per period
            after[name] = CrmStatus.SUSPENDED.value
            continue
        except TransientApiError as exc:
            logger.warning(
                "probe failed; next probe later", extra={"system": guard.system.value, "error": str(exc)}
            )
            after[name] = state.status.value
            continue
        after[name] = guard.resume(usage).value
    return after
