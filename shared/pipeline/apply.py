"""Apply: the only writer. Turns sync plans into the fewest API calls, then records what happened.

Plans of one SQS batch are grouped by target and operation: Salesforce creates and updates go out
as sObject Collections (200 records a call), HubSpot ones as batch create/update (100 a call); the
adapters do the chunking. Before the writes, each plan that writes to a linked pair records its
write intent on the link (``shared.intents``); a plan decided on a link that has changed since is
not written, its pair is decided again. After the writes, per plan: links and the synced values are
saved as the link's next revision (the basis of echo suppression), creation claims are completed or
released, and permanent failures become sync-health entries. A transient failure of a call (its
retries spent) is never retried blindly: the outcome of the write is unknown, so its plans' pairs
are decided again from fresh reads, with the intents counting as hssync's own values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from shared.deals.ports import HubSpotDealsPort, LostOpportunitiesPort
from shared.errors import ApiFailure, AuthenticationError, ErrorCategory, SuspendedError, TransientApiError
from shared.ids import salesforce_id18
from shared.intents import LEASE_MARGIN, WriteIntent, intent_for
from shared.models import ACCOUNT, COMPANIES, DEALS, SALESFORCE_OBJECTS, ChangeEvent, ChangeType, System
from shared.observability import logger
from shared.pipeline.plans import HealthNote, SyncedPair, SyncPlan, is_claimant
from shared.ports import (
    ClaimAsk,
    ClaimDone,
    HealthEntry,
    HubSpotCompaniesPort,
    HubSpotPort,
    IntentRecord,
    Link,
    LinkCommit,
    LostAccountsPort,
    RecordWrite,
    SalesforcePort,
    StatePort,
    WriteOutcome,
)
from shared.state.keys import hubspot_record_key, resync_command, salesforce_record_key
from shared.times import utc_now

# the longest an apply invocation runs (the template's ApplyFunction timeout): a write lease outlives it
APPLY_TIMEOUT = dt.timedelta(seconds=180)


@dataclass
class ApplyResult:
    retry_plan_ids: set[str] = field(default_factory=set)  # transient failures: deliver again
    counters: Counter[str] = field(default_factory=Counter)
    health: list[HealthEntry] = field(default_factory=list)
    followups: list[ChangeEvent] = field(default_factory=list)  # records to re-read and sync again
    # pairs whose writes failed transiently (their outcome unknown): decided again after a pause
    redecide: list[ChangeEvent] = field(default_factory=list)
    # a CRM refused (suspended, credentials): the writes stopped there, the rest are decided again
    refused: Exception | None = None
    # several portals: each portal's counters (recorded under it)
    portal_counters: dict[str, Counter[str]] = field(default_factory=dict)

    def merge(self, other: ApplyResult) -> None:
        """Adds what another applier (the company plans') did."""
        self.retry_plan_ids |= other.retry_plan_ids
        self.counters.update(other.counters)
        self.health += other.health
        self.followups += other.followups
        self.redecide += other.redecide


@dataclass
class _Progress:
    """What happened to one plan's writes."""

    plan: SyncPlan
    hubspot_id: str | None
    sf_id: str | None
    hubspot_ok: bool = True
    salesforce_ok: bool = True
    transient: bool = False
    resync_hubspot: bool = False
    claim_completed: bool = False
    waiting: bool = False  # stopped by a CRM's refusal: decided again without counting as failing
    intent: IntentRecord | None = None  # recorded on the link before the writes


class Applier:
    def __init__(
        self,
        *,
        salesforce: SalesforcePort,
        hubspot: HubSpotPort,
        state: StatePort,
        clock: Callable[[], dt.datetime] = utc_now,
        assignment_rules: bool = True,
        running_for: dt.timedelta = APPLY_TIMEOUT,
        companies: HubSpotCompaniesPort | None = None,
        deals: HubSpotDealsPort | None = None,
        accounts: LostAccountsPort | None = None,
        opportunities: LostOpportunitiesPort | None = None,
    ) -> None:
        """``companies``: the account sync port (the HubSpot adapter) for company plans, which are
        applied after the contact plans (``shared.pipeline.apply_companies``); ``deals``: the deal
        sync port, for deal plans, applied last (``shared.pipeline.apply_deals``); ``accounts``: the
        Salesforce adapter as ``LostAccountsPort`` (where a lost Account create is looked for);
        ``opportunities``: the same as ``LostOpportunitiesPort`` (a lost Opportunity create)."""
        self.accounts = accounts
        self.opportunities = opportunities
        self.companies = companies
        self.deals = deals
        self.assignment_rules = assignment_rules
        self.running_for = running_for  # the invocation's remaining time: the write leases outlive it
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.state = state
        self.clock = clock
        self._refused: Exception | None = None

    def apply(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        company_plans = [p for p in plans if p.kind == COMPANIES]
        deal_plans = [p for p in plans if p.kind == DEALS]
        result = self._apply_contacts([p for p in plans if p.kind not in (COMPANIES, DEALS)])
        if company_plans:
            result.merge(self._apply_companies(company_plans))
        if deal_plans:
            result.merge(self._apply_deals(deal_plans))
        return result

    def _apply_deals(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        from shared.pipeline.apply_deals import DealApplier

        if self.deals is None:
            raise RuntimeError("deal plans need the deals port (deal sync)")
        applier = DealApplier(
            salesforce=self.salesforce,
            deals=self.deals,
            state=self.state,
            clock=self.clock,
            contacts=self.hubspot,
            opportunities=self.opportunities,
            running_for=self.running_for,
        )
        return applier.apply(plans)

    def _apply_companies(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        from shared.pipeline.apply_companies import CompanyApplier

        if self.companies is None:
            raise RuntimeError("company plans need the companies port (account sync)")
        applier = CompanyApplier(
            salesforce=self.salesforce,
            companies=self.companies,
            state=self.state,
            clock=self.clock,
            contacts=self.hubspot,
            accounts=self.accounts,
            running_for=self.running_for,
        )
        return applier.apply(plans)

    def _apply_contacts(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        result = ApplyResult()
        if not plans:
            return result
        latest = _latest_per_pair(plans, result, self.clock())
        progress = {p.plan_id: _Progress(p, p.hubspot_id, p.sf_id) for p in latest}
        self._confirm_claims(progress, result)
        self._record_intents(progress, result)

        self._create_in_salesforce(progress, result)
        self._create_in_hubspot(progress, result)
        self._update_salesforce(progress, result)
        self._update_hubspot(progress, result)
        self._unsubscribe(progress, result)
        self._archive(progress, result)
        self._decide_unknown_again(progress, result)
        self._record(progress, result)
        result.refused, self._refused = self._refused, None
        return result

    def _confirm_claims(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        """A create runs only while its plan still holds the claim: a redelivered plan whose record
        was already created links to that record instead, and a plan whose claim was taken over
        (it expired) waits for a retry."""
        asks = {plan_id: ask for plan_id, item in progress.items() if (ask := _claim_ask(item.plan))}
        if not asks:
            return
        portal = progress[next(iter(asks))].plan.portal
        # held for this invocation and its write leases: read, not claimed again
        holders = self.state.confirm_claims(
            portal, list(asks.values()), for_at_least=self.running_for + LEASE_MARGIN
        )
        for plan_id, ask in asks.items():
            item = progress[plan_id]
            plan = item.plan
            holder = holders[ask]
            if holder is None:
                continue
            if is_claimant(holder):
                result.retry_plan_ids.add(plan_id)
                del progress[plan_id]
                continue
            result.counters["already created"] += 1
            if plan.create == "salesforce":
                item.sf_id = holder
            else:
                item.hubspot_id = holder
            progress[plan_id] = _Progress(
                plan.model_copy(update={"create": None, "salesforce_writes": {}, "hubspot_writes": {}}),
                item.hubspot_id,
                item.sf_id,
                resync_hubspot=True,
            )

    def _record_intents(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        """Write-ahead: each plan that writes to a linked pair records what it writes on the link
        first. A plan decided on a link that changed since (or that another plan is writing to) is
        not written: its pair is decided again from fresh reads."""
        lease_until = self.clock() + self.running_for + LEASE_MARGIN
        records: dict[str, IntentRecord] = {}
        for plan_id, item in progress.items():
            plan = item.plan
            if plan.create or not item.hubspot_id or not _writes(plan):
                continue
            intent = intent_for(plan_id, plan.written, plan.synced_after, lease_until)
            # a write the link does not remember (none today) still holds the pair and is checked
            records[plan_id] = IntentRecord(
                item.hubspot_id, plan.link_rev, intent or WriteIntent(plan_id, lease_until, {})
            )
        if not records:
            return
        portal = next(iter(progress.values())).plan.portal
        refused = self.state.record_intents(portal, list(records.values()))
        for plan_id, record in records.items():
            if record.hubspot_id in refused:
                result.counters["decided again (the link changed)"] += 1
                result.followups.append(_decide_again(progress.pop(plan_id).plan, self.clock(), failed=True))
            else:
                progress[plan_id].intent = record

    # -- writes --------------------------------------------------------------------------------
    def _create_in_salesforce(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        for sf_object in SALESFORCE_OBJECTS:
            todo = [
                p
                for p in progress.values()
                if p.plan.create == "salesforce" and p.plan.sf_object == sf_object
            ]
            if not todo:
                continue
            # a record with an owner keeps it; one without gets it from the assignment rules (S17)
            owned = [p for p in todo if "OwnerId" in p.plan.salesforce_writes]
            unowned = [p for p in todo if "OwnerId" not in p.plan.salesforce_writes]
            for group, assign in ((owned, False), (unowned, self.assignment_rules)):
                if group:
                    self._create_group(sf_object, group, assign, result)

    def _create_group(self, sf_object: str, todo: list[_Progress], assign: bool, result: ApplyResult) -> None:
        writes = [RecordWrite(p.plan.plan_id, None, p.plan.salesforce_writes) for p in todo]
        create = partial(self.salesforce.create, sf_object, assign=assign)
        outcomes = self._call(create, writes, todo, result)
        for item, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                item.sf_id = outcome.record_id
                result.counters["hubspot_to_salesforce.created"] += 1
            else:
                item.salesforce_ok = False
                self._failure(item, "salesforce", outcome, result)
        self._complete_claims(todo)

    def _create_in_hubspot(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        todo = [p for p in progress.values() if p.plan.create == "hubspot"]
        if not todo:
            return
        writes = [RecordWrite(p.plan.plan_id, None, p.plan.hubspot_writes) for p in todo]
        outcomes = self._call(self.hubspot.create_contacts, writes, todo, result)
        for item, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                item.hubspot_id = outcome.record_id
                result.counters["salesforce_to_hubspot.created"] += 1
            elif outcome.failure is not None and outcome.failure.existing_id:
                # the email exists in HubSpot after all (created meanwhile): link to it and re-read both
                item.hubspot_id = outcome.failure.existing_id
                item.resync_hubspot = True
                result.counters["salesforce_to_hubspot.linked_by_email"] += 1
            else:
                item.hubspot_ok = False
                self._failure(item, "hubspot", outcome, result)
        self._complete_claims(todo)

    def _complete_claims(self, created: list[_Progress]) -> None:
        """Right after the create call: a redelivered plan must find its record, not create another."""
        done = []
        for item in created:
            plan = item.plan
            record_id = item.sf_id if plan.create == "salesforce" else item.hubspot_id
            if record_id and plan.create and plan.claim_email and plan.claimant:
                done.append(ClaimDone(plan.create, plan.claim_email, plan.claimant, str(record_id)))
                item.claim_completed = True
        if done:
            self.state.complete_claims(created[0].plan.portal, done)

    def _update_salesforce(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        """Updates as one sObject Collections call per object (200 records a call): Leads, Contacts,
        and the person accounts a HubSpot edit of their person's contact writes through (S9)."""
        for sf_object in (*SALESFORCE_OBJECTS, ACCOUNT):
            todo = [
                p
                for p in progress.values()
                if p.plan.create is None and p.plan.salesforce_writes and p.plan.sf_object == sf_object
            ]
            if not todo:
                continue
            writes = [RecordWrite(p.plan.plan_id, p.sf_id, p.plan.salesforce_writes) for p in todo]
            outcomes = self._call(partial(self.salesforce.update, sf_object), writes, todo, result)
            for item, outcome in zip(todo, outcomes or [], strict=False):
                if outcome.ok:
                    result.counters["hubspot_to_salesforce.updated"] += 1
                    if sf_object == ACCOUNT:
                        result.followups.append(_person_account_written(item.plan, self.clock()))
                else:
                    item.salesforce_ok = False
                    self._failure(item, "salesforce", outcome, result)

    def _update_hubspot(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        todo = [p for p in progress.values() if p.plan.create is None and p.plan.hubspot_writes]
        if not todo:
            return
        writes = [RecordWrite(p.plan.plan_id, p.hubspot_id, p.plan.hubspot_writes) for p in todo]
        outcomes = self._call(self.hubspot.update_contacts, writes, todo, result)
        for item, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                result.counters["salesforce_to_hubspot.updated"] += 1
            else:
                item.hubspot_ok = False
                self._failure(item, "hubspot", outcome, result)

    def _unsubscribe(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        """The opt-out (S14) reaches HubSpot through communication preferences, not a property."""
        todo = [
            p
            for p in progress.values()
            if p.plan.unsubscribe_email and p.hubspot_id and p.hubspot_ok and not p.transient
        ]
        if not todo:
            return
        if self._refused is not None:
            _wait(todo)
            return
        try:
            outcomes = self.hubspot.unsubscribe_from_all([str(p.plan.unsubscribe_email) for p in todo])
        except (SuspendedError, AuthenticationError) as exc:
            self._refused = exc
            _wait(todo)
            return
        except TransientApiError as exc:
            logger.warning("unsubscribing %d contacts failed; decided again: %s", len(todo), exc)
            for item in todo:
                item.transient = True
            return
        by_email = {o.key: o for o in outcomes}
        for item in todo:
            outcome = by_email.get(str(item.plan.unsubscribe_email))
            if outcome is not None and outcome.ok:
                result.counters["salesforce_to_hubspot.opted_out"] += 1
            elif outcome is not None:
                item.hubspot_ok = False
                self._failure(item, "hubspot", outcome, result)

    def _archive(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        """A Salesforce delete archives the linked HubSpot contact (setting) and forgets the link."""
        todo = [p for p in progress.values() if p.plan.archive_hubspot and p.hubspot_id]
        if not todo:
            return
        writes = [RecordWrite(str(p.hubspot_id), p.hubspot_id, {}) for p in todo]
        outcomes = self._call(
            lambda w: self.hubspot.archive_contacts([x.key for x in w]), writes, todo, result
        )
        archived: list[str] = []
        for item, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                archived.append(str(item.hubspot_id))
                result.counters["salesforce_to_hubspot.archived"] += 1
            else:
                item.hubspot_ok = False
                self._failure(item, "hubspot", outcome, result)
        if archived:
            self.state.delete_links(todo[0].plan.portal, archived)

    def _call(
        self,
        call: Callable[[Sequence[RecordWrite]], list[WriteOutcome]],
        writes: Sequence[RecordWrite],
        items: Sequence[_Progress],
        result: ApplyResult,
    ) -> list[WriteOutcome] | None:
        """One batched write; a transient failure marks every plan of it for retry. After a CRM's
        refusal nothing more is written in this batch: its plans are decided again when it answers."""
        if self._refused is not None:
            _wait(items)
            return None
        try:
            outcomes = call(writes)
        except (SuspendedError, AuthenticationError) as exc:
            logger.warning("a CRM refused a batched write of %d records: %s", len(writes), exc)
            self._refused = exc
            _wait(items)
            return None
        except TransientApiError as exc:
            logger.warning("batched write of %d records failed; decided again: %s", len(writes), exc)
            for item in items:
                item.transient = True
            return None
        by_key = {o.key: o for o in outcomes}
        ordered = []
        for write in writes:
            outcome = by_key.get(write.key)
            if outcome is None:
                outcome = WriteOutcome(
                    write.key,
                    None,
                    ApiFailure(
                        "hssync",
                        "NO_RESULT",
                        "the API returned no result for this record",
                        ErrorCategory.OTHER,
                    ),
                )
            ordered.append(outcome)
        return ordered

    def _failure(self, item: _Progress, system: str, outcome: WriteOutcome, result: ApplyResult) -> None:
        failure = outcome.failure
        if failure is None:
            return
        if failure.retryable:
            item.transient = True
            return
        plan = item.plan
        if system == "salesforce":
            record = (
                hubspot_record_key(plan.hubspot_id)
                if plan.hubspot_id
                else salesforce_record_key(plan.sf_object, str(plan.sf_id))
            )
        else:
            record = (
                salesforce_record_key(plan.sf_object, plan.sf_id)
                if plan.sf_id
                else hubspot_record_key(str(plan.hubspot_id))
            )
        result.counters["errors"] += 1
        result.health.append(
            HealthEntry(
                portal=plan.portal,
                system=system,
                record=record,
                category=failure.category,
                code=failure.code,
                message=failure.message,
                at=self.clock(),
                resync=resync_command(record),
                fields=_attempted(plan, system),
            )
        )

    # -- bookkeeping ---------------------------------------------------------------------------
    def _decide_unknown_again(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        """Plans whose writes failed transiently: the writes may or may not have landed, so they are
        not repeated. Their creation claims are given back, their intents stay on the links (so
        what landed counts as hssync's) with the lease ended, and their pairs are decided again."""
        unknown = [item for item in progress.values() if item.transient and not item.plan.archive_hubspot]
        if not unknown:
            return
        now = self.clock()
        ended = [
            dataclasses.replace(item.intent, intent=dataclasses.replace(item.intent.intent, lease_until=now))
            for item in unknown
            if item.intent is not None
        ]
        if ended:
            self.state.record_intents(unknown[0].plan.portal, ended)
        for item in unknown:
            plan = item.plan
            if plan.create and plan.claim_email and plan.claimant and not item.claim_completed:
                self.state.release_claim(plan.portal, plan.create, plan.claim_email, plan.claimant)
                item.claim_completed = True  # nothing more to give back
            if item.waiting:
                result.counters["decided again (a CRM refused)"] += 1
            else:
                result.counters["decided again (writes failed)"] += 1
            result.redecide.append(_decide_again(plan, now, failed=not item.waiting))

    def _record(self, progress: dict[str, _Progress], result: ApplyResult) -> None:
        now = self.clock()
        commits: list[LinkCommit] = []
        synced_pairs: list[str] = []  # records of pairs that synced: their skip statuses are stale
        written: dict[str, set[str]] = {}  # record -> the fields written cleanly for it
        by_email = [i.hubspot_id for i in progress.values() if i.plan.linked_by_email and i.hubspot_id]
        portal = next(iter(progress.values())).plan.portal if progress else ""
        already_linked = set(self.state.links_by_hubspot(portal, by_email)) if by_email else set()
        # a plan that changes no value may still move its link (lead conversion, a merge on either
        # side) or add a duplicate: compared with the stored link, it is saved when they differ
        unchanged = [i.hubspot_id for i in progress.values() if i.hubspot_id and _changes_no_value(i.plan)]
        stored = self.state.links_by_hubspot(portal, unchanged) if unchanged else {}
        for item in progress.values():
            plan = item.plan
            result.health += [_health_of(note, plan.portal, now) for note in plan.notes]
            if item.transient or plan.archive_hubspot:
                continue  # decided again (_decide_unknown_again), or its link is gone
            if plan.claim_email and plan.claimant and not item.claim_completed:
                # nothing created under the claim (a failure, or the record existed): give it back
                target = plan.create or "salesforce"
                self.state.release_claim(plan.portal, target, plan.claim_email, plan.claimant)
            if not item.hubspot_id or not item.sf_id:
                continue  # the creation failed: nothing to link
            written.update(_written_records(item))
            if plan.linked_by_email and item.hubspot_id not in already_linked:
                result.counters[f"{_direction_of_link(plan)}.linked_by_email"] += 1
            if _changes_no_value(plan) and _same_link(stored.get(item.hubspot_id), plan, item.sf_id):
                result.counters["unchanged"] += 1
                continue
            if not plan.link_only:
                synced_pairs += [
                    hubspot_record_key(item.hubspot_id),
                    salesforce_record_key(plan.sf_object, item.sf_id),
                ]
            link = Link(
                portal=plan.portal,
                hubspot_id=item.hubspot_id,
                sf_object=plan.link_sf_object or plan.sf_object,
                sf_id=plan.link_sf_id or item.sf_id,
                synced={} if item.resync_hubspot else _synced(item),
                linked_at=now if (plan.create or plan.linked_by_email) else None,
                updated_at=now,
                duplicates=plan.duplicates,
            )
            commits.append(LinkCommit(link, plan.plan_id, plan.link_rev))
            if item.resync_hubspot:
                result.followups.append(_existing_contact(plan, item.hubspot_id, now))
        self._commit(commits, progress, result, now)
        self._forget_stale(portal, synced_pairs, written, result)

    def _forget_stale(
        self, portal: str, synced_pairs: list[str], written: dict[str, set[str]], result: ApplyResult
    ) -> None:
        """A pair that syncs is no longer skipped: forget the reasons it was skipped before. A clean
        write of a record's fields clears the sync-health entries about them, unless this run found
        something about the record again."""
        if synced_pairs:
            self.state.clear_statuses(portal, synced_pairs)
        noted = {entry.record for entry in result.health}
        clean = {record: fields for record, fields in written.items() if record not in noted}
        if clean:
            self.state.clear_health(portal, clean)
        if result.health:
            self.state.record_health(result.health)

    def _commit(
        self, commits: list[LinkCommit], progress: dict[str, _Progress], result: ApplyResult, now: dt.datetime
    ) -> None:
        """The links as new revisions; one decided on bookkeeping that changed meanwhile is refused:
        its writes (if any) are recognised by their intent, and its pair is decided again."""
        refused = self.state.commit_links(commits) if commits else set()
        for commit in commits:
            if commit.link.hubspot_id in refused:
                result.counters["decided again (the link changed)"] += 1
                result.followups.append(_decide_again(progress[commit.plan_id].plan, now, failed=True))


def _attempted(plan: SyncPlan, system: str) -> tuple[str, ...]:
    """The fields a failed write tried to write (a creation: none in particular)."""
    if plan.create == system:
        return ()
    return tuple(sorted(plan.salesforce_writes if system == "salesforce" else plan.hubspot_writes))


def _written_records(item: _Progress) -> dict[str, set[str]]:
    """The fields written cleanly for each record of the pair: a write to Salesforce is about the
    HubSpot record (its entries are about writing it there), and the other way round."""
    plan = item.plan
    if not item.hubspot_id or not item.sf_id:
        return {}
    out: dict[str, set[str]] = {}
    if item.salesforce_ok and (plan.salesforce_writes or plan.create == "salesforce"):
        out[hubspot_record_key(item.hubspot_id)] = set(plan.salesforce_writes)
    if item.hubspot_ok and (plan.hubspot_writes or plan.create == "hubspot"):
        out[salesforce_record_key(plan.sf_object, item.sf_id)] = set(plan.hubspot_writes)
    return out


def _health_of(note: HealthNote, portal: str, now: dt.datetime) -> HealthEntry:
    return HealthEntry(
        portal=portal,
        system=note.system,
        record=note.record,
        category=ErrorCategory(note.category),
        code=note.code,
        message=note.message,
        at=now,
        resync=resync_command(note.record),
        fields=note.fields,
    )


def _existing_contact(plan: SyncPlan, hubspot_id: str, now: dt.datetime) -> ChangeEvent:
    """The contact a create found existing (409): linked, then read and synced as a pair."""
    return _resync(plan, System.HUBSPOT, "contacts", hubspot_id, now, "hssync:existing-contact", "resync")


def _person_account_written(plan: SyncPlan, now: dt.datetime) -> ChangeEvent:
    """A person account written from its person's HubSpot contact: read again from the Account, so
    that its company follows (its name is the person's, S9). The Account's change event is hssync's
    own and is not read."""
    return _resync(plan, System.SALESFORCE, ACCOUNT, str(plan.sf_id), now, "hssync:person-account", "person")


def _synced(item: _Progress) -> dict[str, SyncedPair]:
    """The synced values to remember: the plan's expectation for sides that were written, the old
    values for fields of a side whose write failed (so the next change still counts as a change)."""
    plan = item.plan
    synced: dict[str, SyncedPair] = {}
    for prop, (hs_after, sf_after) in plan.synced_after.items():
        hs_before, sf_before = plan.synced_before.get(prop, (None, None))
        hs_value = hs_after if item.hubspot_ok or prop not in plan.hubspot_writes else hs_before
        sf_value = sf_after if item.salesforce_ok else sf_before
        synced[prop] = (hs_value, sf_value)
    return synced


def _changes_no_value(plan: SyncPlan) -> bool:
    return not plan.has_writes and not plan.linked_by_email and plan.synced_after == plan.synced_before


def _same_link(link: Link | None, plan: SyncPlan, sf_id: str) -> bool:
    """Whether the stored link already says what the plan's link would."""
    return (
        link is not None
        and link.sf_object == (plan.link_sf_object or plan.sf_object)
        and salesforce_id18(link.sf_id) == salesforce_id18(plan.link_sf_id or sf_id)
        and tuple(link.duplicates) == tuple(plan.duplicates)
    )


def _direction_of_link(plan: SyncPlan) -> str:
    return "hubspot_to_salesforce" if plan.source == "hubspot" else "salesforce_to_hubspot"


def _claim_ask(plan: SyncPlan) -> ClaimAsk | None:
    """What a create plan asks of its creation claim (None: it creates nothing under a claim)."""
    if not plan.create or not plan.claim_email or not plan.claimant:
        return None
    return ClaimAsk(plan.create, plan.claim_email, plan.claimant)


def _latest_per_pair(plans: Sequence[SyncPlan], result: ApplyResult, now: dt.datetime) -> list[SyncPlan]:
    """One plan per HubSpot contact and per Salesforce record: a later plan supersedes earlier ones,
    so a collection never names a record twice and a contact is never linked two ways in one batch.
    Messages of concurrent dedupe invocations arrive in any order, so the later plan may come from
    the earlier read: a superseded plan is not dropped, its pair is decided again."""
    latest: dict[tuple[str, str], SyncPlan] = {}
    for plan in plans:
        keys = [("hs", plan.hubspot_id)] if plan.hubspot_id else []
        keys += [("sf", plan.sf_id)] if plan.sf_id else []
        keys += [("claim", f"{plan.create}:{plan.claim_email}")] if plan.create and plan.claim_email else []
        for key in keys:
            earlier = latest.get(key)
            if earlier is not None and earlier is not plan:
                result.counters["superseded"] += 1
                result.followups.append(_decide_again(earlier, now))
                for other in list(latest):
                    if latest[other] is earlier:
                        del latest[other]
        for key in keys:
            latest[key] = plan
    unique: dict[str, SyncPlan] = {}
    for plan in latest.values():
        unique[plan.plan_id] = plan
    return list(unique.values())


def _writes(plan: SyncPlan) -> bool:
    """Whether the plan writes to an existing pair (a write intent is recorded for it)."""
    return bool(plan.hubspot_writes or plan.salesforce_writes or plan.unsubscribe_email)


def _wait(items: Sequence[_Progress]) -> None:
    for item in items:
        item.transient = True
        item.waiting = True


def decide_again(plan: SyncPlan, now: dt.datetime) -> ChangeEvent:
    """The change that makes dedupe decide a plan's pair anew (a plan that waits for a CRM hands its
    creation over this way; waiting is not failing, so it does not count towards giving up)."""
    return _decide_again(plan, now)


def _decide_again(plan: SyncPlan, now: dt.datetime, *, failed: bool = False) -> ChangeEvent:
    """A change that makes dedupe read the plan's pair again and decide it anew, from its HubSpot
    contact (a linked pair is read from either side)."""
    system, object_type, record_id = System.HUBSPOT, "contacts", str(plan.hubspot_id)
    if plan.hubspot_id is None and plan.sf_id:  # a HubSpot contact to create: from its Salesforce record
        system, object_type, record_id = System.SALESFORCE, str(plan.sf_object), plan.sf_id
    redecided = plan.redecided + int(failed)
    return _resync(plan, system, object_type, record_id, now, "hssync:decide-again", "again", redecided)


def _resync(
    plan: SyncPlan,
    system: System,
    object_type: str,
    record_id: str,
    now: dt.datetime,
    origin: str,
    kind: str,
    redecided: int = 0,
) -> ChangeEvent:
    """A change of hssync's own that makes dedupe read a record again (``account``: the portal; only
    the change id uses it)."""
    suffix = f":{redecided}" if kind == "again" else ""
    return ChangeEvent(
        system=system,
        account=plan.portal,
        object_type=object_type,
        record_id=record_id,
        change_type=ChangeType.RESYNC,
        occurred_at=now,
        origin=origin,
        source_event_id=f"{kind}:{plan.plan_id}{suffix}",
        redecided=redecided,
    )
