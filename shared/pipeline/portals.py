"""Several HubSpot portals, one Salesforce org (S3): which portal a change is for, and the stages'
work split by portal.

- A change is routed by its ``account``: a configured portal's id -> that portal alone (HubSpot
  changes, and hssync's own follow-ups, which name the portal of their plan); a Salesforce change
  (the org's id) -> every portal, fanned out; a HubSpot change of a portal that is not configured
  -> no portal (skipped, counted).
- A fanned-out Salesforce change is read ONCE: the portals' dedupers share one :class:`SharedReads`
  over the Salesforce adapter, which answers a read it has answered before from memory (within
  one batch), so the Salesforce API allocation is spent once for all portals.
- Plans carry their portal: owners and apply split a batch by it and hand each part to that
  portal's own worker (its HubSpot adapter, its state namespace, its creation settings).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from shared.guardrails.gate import of_portal, refusals_of
from shared.models import ChangeEvent, System
from shared.owners.directory import OwnerDirectory, SalesforceOwner
from shared.owners.stage import OwnerResult, OwnerStage
from shared.pipeline.apply import ApplyResult
from shared.pipeline.dedupe import DedupeResult
from shared.pipeline.plans import SyncPlan
from shared.ports import (
    ModifiedRead,
    RecordWrite,
    SalesforceAccountsPort,
    SalesforcePort,
    SalesforceRecord,
    WriteOutcome,
)

if TYPE_CHECKING:  # the stages import this module
    from shared.pipeline.stages.apply import Applies
    from shared.pipeline.stages.dedupe import Dedupes

T = TypeVar("T")
UNKNOWN_PORTAL = "HubSpot change of a portal that is not in portals"


def portals_of(event: ChangeEvent, portals: Sequence[str]) -> list[str]:
    """The portals ``event`` is for (see the module's docstring)."""
    if event.account in portals:
        return [event.account]
    if event.system is System.SALESFORCE:
        return list(portals)
    return []


def portal_changes(event: ChangeEvent, portals: Sequence[str]) -> list[ChangeEvent]:
    """``event`` as the changes of its portals, each naming its one portal: a Salesforce change of
    the org becomes a copy per portal (what a portal that waits keeps waiting for); any other
    change stays as it is."""
    targets = portals_of(event, portals)
    if event.system is not System.SALESFORCE or event.account in portals or len(targets) < 2:
        return [event]
    return [event.model_copy(update={"account": portal}) for portal in targets]


def by_portal(plans: Sequence[SyncPlan]) -> dict[str, list[SyncPlan]]:
    """Plans grouped by their portal, each group in the plans' order."""
    groups: dict[str, list[SyncPlan]] = {}
    for plan in plans:
        groups.setdefault(plan.portal, []).append(plan)
    return groups


# -- reads shared by the portals ---------------------------------------------------------------
def _key(*parts: Any) -> str:
    """A read's identity: the same records asked in any order are the same read."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return sorted((str(k), plain(v)) for k, v in value.items())
        if isinstance(value, list | tuple | set | frozenset):
            return sorted(str(v) for v in value)
        return str(value)

    return json.dumps([plain(part) for part in parts])


class SharedReads:
    """The Salesforce adapter, reading each thing once for all the portals of a batch (a new one per
    batch: what it remembers is as fresh as the batch). Writes and usage go straight through."""

    def __init__(self, salesforce: SalesforcePort, accounts: SalesforceAccountsPort | None = None) -> None:
        """``accounts``: the same adapter as ``SalesforceAccountsPort`` (account sync)."""
        self.salesforce = salesforce
        self.accounts = accounts
        self._answers: dict[str, Any] = {}

    def _once(self, key: str, read: Callable[[], T]) -> T:
        if key not in self._answers:
            self._answers[key] = read()
        answer: T = self._answers[key]
        return answer

    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]:
        return self.salesforce.describe_fields(sobject)  # described once per process already

    def owners(self) -> list[SalesforceOwner]:
        return list(self._once(_key("owners"), self.salesforce.owners))

    def merge_masters(self, sobject: str, ids: Sequence[str]) -> dict[str, str]:
        key = _key("merge_masters", sobject, ids)
        return dict(self._once(key, lambda: self.salesforce.merge_masters(sobject, ids)))

    def merged_into(self, sobject: str, master_ids: Sequence[str]) -> dict[str, str]:
        key = _key("merged_into", sobject, master_ids)
        return dict(self._once(key, lambda: self.salesforce.merged_into(sobject, master_ids)))

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, SalesforceRecord]:
        key = _key("retrieve", sobject, ids, fields)
        return dict(self._once(key, lambda: self.salesforce.retrieve(sobject, ids, fields)))

    def find_by_email(
        self, sobject: str, emails: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        key = _key("find_by_email", sobject, emails, fields)
        return list(self._once(key, lambda: self.salesforce.find_by_email(sobject, emails, fields)))

    def find_people_by_email(
        self, emails: Sequence[str], fields_by_object: Mapping[str, Sequence[str]]
    ) -> list[SalesforceRecord]:
        key = _key("find_people_by_email", emails, fields_by_object)
        return list(self._once(key, lambda: self.salesforce.find_people_by_email(emails, fields_by_object)))

    def contacts_of_accounts(
        self, account_ids: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        accounts = self.accounts
        if accounts is None:
            raise RuntimeError("account sync reads need the accounts port")
        key = _key("contacts_of_accounts", account_ids, fields)
        return list(self._once(key, lambda: accounts.contacts_of_accounts(account_ids, fields)))

    def modified_since(
        self, sobject: str, since: dt.datetime, fields: Sequence[str], limit: int
    ) -> list[SalesforceRecord]:
        return self.salesforce.modified_since(sobject, since, fields, limit)

    def modified_since_each(self, reads: Sequence[ModifiedRead], limit: int) -> list[list[SalesforceRecord]]:
        return self.salesforce.modified_since_each(reads, limit)

    def owned_by(self, sobject: str, owner_id: str) -> list[str]:
        return self.salesforce.owned_by(sobject, owner_id)

    def create(
        self, sobject: str, writes: Sequence[RecordWrite], *, assign: bool | None = None
    ) -> list[WriteOutcome]:
        return self.salesforce.create(sobject, writes, assign=assign)

    def update(self, sobject: str, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        return self.salesforce.update(sobject, writes)

    def delete(self, sobject: str, ids: Sequence[str]) -> list[WriteOutcome]:
        return self.salesforce.delete(sobject, ids)

    def api_usage(self) -> tuple[int, int] | None:
        return self.salesforce.api_usage()


# -- the stages' work, split by portal ------------------------------------------------------------
def _unique(events: Sequence[ChangeEvent]) -> list[ChangeEvent]:
    """A fanned-out change that several portals give back (held, deferred) goes back once."""
    seen: set[str] = set()
    out: list[ChangeEvent] = []
    for event in events:
        body = event.model_dump_json()
        if body not in seen:
            seen.add(body)
            out.append(event)
    return out


class PortalDedupers:
    """Dedupe for several portals: each change to the dedupers of its portals (``deduper(portal)``,
    built when a portal has changes), their results as one."""

    def __init__(self, portals: Sequence[str], deduper: Callable[[str], Dedupes]) -> None:
        self.portals = list(portals)
        self.deduper = deduper

    def process(self, events: Sequence[ChangeEvent]) -> DedupeResult:
        result = DedupeResult()
        routed: dict[str, list[ChangeEvent]] = {portal: [] for portal in self.portals}
        for event in events:
            targets = portals_of(event, self.portals)
            if not targets:
                result.skipped[UNKNOWN_PORTAL] += 1
            for portal in targets:
                routed[portal].append(event)
        for portal, mine in routed.items():
            if mine:
                with refusals_of(portal):
                    part = self.deduper(portal).process(mine)
                result.plans += part.plans
                result.skipped.update(part.skipped)
                result.retry += part.retry
                result.held += part.held
                result.statuses.update(part.statuses)
                result.portal_parts[portal] = part
        result.retry, result.held = _unique(result.retry), _unique(result.held)
        return result


class PortalAppliers:
    """Apply for several portals: each portal's plans by that portal's applier, the results as one
    (the first refusal of a CRM is kept)."""

    def __init__(self, applier: Callable[[str], Applies]) -> None:
        self.applier = applier

    def apply(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        result = ApplyResult()
        for portal, mine in by_portal(plans).items():
            with refusals_of(portal):
                part = self.applier(portal).apply(mine)
            if part.refused is not None:
                of_portal(part.refused, portal)
            result.merge(part)
            result.refused = result.refused or part.refused
            result.portal_counters[portal] = part.counters
        return result


class PortalOwners:
    """Owners for several portals: each portal's plans (a plan names its portal) decided with that
    portal's owner directory (``owners(portal)``; the Salesforce owners read once when built over
    :class:`SharedReads`). The schedule refreshes the directories of ``portals``; another portal's
    is read when its first plan comes (a directory missing from the cache is read at once)."""

    def __init__(self, portals: Sequence[str], owners: Callable[[str], OwnerStage]) -> None:
        self.portals = list(portals)
        self.owners = owners

    def process(self, plans: Sequence[SyncPlan]) -> OwnerResult:
        result = OwnerResult()
        for portal, mine in by_portal(plans).items():
            with refusals_of(portal):
                part = self.owners(portal).process(mine)
            result.plans += part.plans
            for name, count in part.counters.items():
                result.counters[name] = result.counters.get(name, 0) + count
            result.portal_counters[portal] = part.counters
            result.refreshed = result.refreshed or part.refreshed
        return result

    def refresh(self) -> OwnerDirectory:
        """Every portal's directory refreshed; the first portal's returned (what the schedule reports)."""
        directories = [self.owners(portal).refresh() for portal in self.portals]
        return directories[0]
