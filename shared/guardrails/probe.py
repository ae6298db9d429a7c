"""The scheduled probe: one cheap call (Salesforce ``limits``, a one-owner HubSpot page) to each CRM
account that is paused or suspended, and nothing else. An answer resumes a suspended account (or
keeps it paused while usage is still at the allocation); usage below the allocation resumes a
paused one; a refusal keeps it suspended (with the reason of the moment); a failure that may pass
changes nothing until the next probe."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shared.crm_state import CrmStatus
from shared.errors import TransientApiError
from shared.guardrails.gate import REFUSALS, Guards
from shared.guardrails.guard import Usage
from shared.models import System
from shared.observability import count_suspension, logger

Probe = Callable[[], Usage | None]  # one cheap call; the usage its answer reported


def probe(guards: Guards, probes: Mapping[System, Probe]) -> dict[str, str]:
    """Probes every account that waits; its status after the probe, by system."""
    after: dict[str, str] = {}
    for guard in guards.guards:
        state = guard.state()
        call = probes.get(guard.system)
        if state is None or not state.needs_attention or call is None:
            continue
        try:
            usage = call()
        except REFUSALS as exc:
            guards.refused(exc)
            count_suspension()  # still suspended: CrmSuspendedAlarm stays in alarm, one probe per period
            after[guard.system.value] = CrmStatus.SUSPENDED.value
            continue
        except TransientApiError as exc:
            logger.warning(
                "probe failed; next probe later", extra={"system": guard.system.value, "error": str(exc)}
            )
            after[guard.system.value] = state.status.value
            continue
        after[guard.system.value] = guard.resume(usage).value
    return after
