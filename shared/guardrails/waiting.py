"""Plans that must wait for a CRM (paused or suspended) strand no record: a plan that would create a
record under a creation claim gives the claim back and its change goes back to dedupe, which decides
it anew when the CRM answers (and claims again, or finds the record another change created
meanwhile). Other plans wait as they are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from shared.models import ChangeEvent
from shared.pipeline.apply import decide_again
from shared.pipeline.plans import SyncPlan


class Claims(Protocol):
    def release_claim(self, portal: str, target: str, email: str, claimant: str) -> None: ...


def hand_over(
    plans: Sequence[SyncPlan], claims: Claims, now: dt.datetime
) -> tuple[list[SyncPlan], list[ChangeEvent]]:
    """(the plans that wait as they are, the changes to decide again instead of the others)."""
    keep: list[SyncPlan] = []
    again: list[ChangeEvent] = []
    for plan in plans:
        if plan.create and plan.claim_email and plan.claimant:
            claims.release_claim(plan.portal, plan.create, plan.claim_email, plan.claimant)
            again.append(decide_again(plan, now))
        else:
            keep.append(plan)
    return keep, again
