"""The owners stage, between dedupe and apply: owner decisions for a batch of plans (S16, S17).

The owners of both CRMs are kept in the shared cache (the state table): a warm batch makes no owner
API calls at all. The cache is refreshed on a schedule, and at once when a batch names an owner it
does not know (at most once a minute), with one call per system: a Composite call with the User and
Queue queries, and the owners API's pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.owners.decide import OWNER_FIELD, OWNER_NOT_IN_HUBSPOT, OWNER_PROPERTY, OwnerState, resolve
from shared.owners.directory import OwnerDirectory
from shared.pipeline.plans import HealthNote, SyncPlan
from shared.ports import HubSpotPort, SalesforcePort
from shared.state.cache import SharedCache, cache_name
from shared.state.keys import record_key, salesforce_record_key

CACHE_SECONDS = 24 * 3600  # the schedule refreshes it long before
REFRESH_ON_MISS_AFTER = 60.0  # an unknown owner refreshes the cache, at most this often


@dataclass
class OwnerResult:
    plans: list[SyncPlan] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    refreshed: bool = False
    # several portals: each portal's counters (recorded under it)
    portal_counters: dict[str, dict[str, int]] = field(default_factory=dict)


class OwnerStage:
    def __init__(
        self,
        *,
        portal: str,
        salesforce: SalesforcePort,
        hubspot: HubSpotPort,
        cache: SharedCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.portal = portal
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.cache = cache
        self.clock = clock
        self.key = cache_name("owners", portal)

    def refresh(self) -> OwnerDirectory:
        """Read both sides' owners (one call each, plus pages) and share them."""
        directory = OwnerDirectory(self.salesforce.owners(), self.hubspot.owners())
        self.cache.put(self.key, {"at": self.clock(), **directory.to_json()}, CACHE_SECONDS)
        return directory

    def directory(
        self, salesforce_ids: Sequence[str], hubspot_ids: Sequence[str]
    ) -> tuple[OwnerDirectory, bool]:
        cached = self.cache.get(self.key)
        if cached is None:
            return self.refresh(), True
        directory = OwnerDirectory.from_json(cached)
        stale = self.clock() - float(cached.get("at", 0)) >= REFRESH_ON_MISS_AFTER
        if stale and not directory.knows(salesforce_ids, hubspot_ids):
            return self.refresh(), True
        return directory, False

    def process(self, plans: Sequence[SyncPlan]) -> OwnerResult:
        result = OwnerResult()
        states = [p.owner for p in plans if p.owner is not None]
        if not states:
            result.plans = list(plans)
            return result
        directory, result.refreshed = self.directory(
            [s.salesforce for s in states if s.salesforce],
            [s.hubspot for s in states if s.hubspot],
        )
        if result.refreshed:
            _count(result, "owners.refreshed")
        for plan in plans:
            result.plans.append(self._decide(plan, directory, result) if plan.owner is not None else plan)
        return result

    def _decide(self, plan: SyncPlan, directory: OwnerDirectory, result: OwnerResult) -> SyncPlan:
        state: OwnerState = plan.owner  # type: ignore[assignment]  # checked by the caller
        outcome = resolve(state, directory)
        sf_writes = dict(plan.salesforce_writes)
        hs_writes = dict(plan.hubspot_writes)
        if outcome.write_salesforce is not None:
            sf_writes[OWNER_FIELD] = outcome.write_salesforce
            _count(result, "owners.to_salesforce")
        if outcome.write_hubspot is not None:
            hs_writes[OWNER_PROPERTY] = outcome.write_hubspot
            _count(result, "owners.to_hubspot")
        notes = list(plan.notes)
        if outcome.code is not None:
            _count(result, f"owners.{outcome.code}")
            notes.append(self._note(plan, outcome.code, str(outcome.message), directory))
        synced_after = dict(plan.synced_after)
        if plan.synced_after or plan.create:
            synced_after[OWNER_PROPERTY] = outcome.synced
        written = dict(plan.written)
        if outcome.write_salesforce is not None or outcome.write_hubspot is not None:
            written[OWNER_PROPERTY] = "salesforce" if outcome.write_salesforce is not None else "hubspot"
        update: dict[str, Any] = {
            "written": written,
            "salesforce_writes": sf_writes,
            "hubspot_writes": hs_writes,
            "notes": tuple(notes),
            "synced_after": synced_after,
            "owner": None,  # decided
        }
        direction = _direction(
            bool(sf_writes) or plan.create == "salesforce", bool(hs_writes) or plan.create == "hubspot"
        )
        if direction != "none" and plan.direction != direction:
            update["direction"] = direction
        reasons = list(plan.reasons)
        if outcome.write_salesforce or outcome.write_hubspot:
            reasons.append("owner: " + ("to Salesforce" if outcome.write_salesforce else "to HubSpot"))
            update["reasons"] = tuple(r for r in reasons if r != "already in sync")
        return plan.model_copy(update=update)

    @staticmethod
    def _note(plan: SyncPlan, code: str, message: str, directory: OwnerDirectory) -> HealthNote:
        state = plan.owner
        if code == OWNER_NOT_IN_HUBSPOT and state is not None and state.salesforce:
            # one entry per owner, not per record: a queue or the integration user may own thousands
            owner = directory.salesforce.get(state.salesforce)
            sobject = "Group" if owner is not None and owner.kind == "Queue" else "User"
            record = salesforce_record_key(sobject, state.salesforce)
            return HealthNote(
                system="hubspot",
                record=record,
                category="owners",
                code=code,
                message=f"{message}; the records it owns keep their HubSpot owner "
                f"(e.g. {plan.sf_object} {plan.sf_id})",
            )
        return HealthNote(
            system="salesforce",
            record=record_key("hubspot", plan.kind, str(plan.hubspot_id)),
            category="owners",
            code=code,
            message=message,
            fields=("OwnerId",),
        )


def _count(result: OwnerResult, name: str) -> None:
    result.counters[name] = result.counters.get(name, 0) + 1


def _direction(
    salesforce: bool, hubspot: bool
) -> Literal["hubspot_to_salesforce", "salesforce_to_hubspot", "both", "none"]:
    if salesforce and hubspot:
        return "both"
    if salesforce:
        return "hubspot_to_salesforce"
    return "salesforce_to_hubspot" if hubspot else "none"
