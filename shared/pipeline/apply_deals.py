"""Apply for deal pairs (HubSpot deal <-> Salesforce Opportunity, DESIGN S8): the creates and updates
of both sides, the deal contacts and contact roles added and removed, the archives of deals whose
Opportunity was deleted, the links dropped for deleted
deals, then the links. Every write is batched: Opportunities as sObject Collections (200 a call),
deals as batch writes (100 a call).

A creation runs only while its plan holds the creation claim (keyed by the id of the record it is
created for), so two changes of one new record never create two counterparts. A create records its
creation intent on that claim first, and a create whose outcome was unknown is looked for before it
is sent again (``shared.accounts.creation_intents``): a deal or an Opportunity is never created
twice. Deal links carry no write intents (``shared.intents``): a plan's writes are checked against
the link's revision when the link is committed; a refused commit decides the pair again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from shared.accounts.creation_intents import Created, CreationIntent, handed_back, intent_for
from shared.deals.contact_roles import CONTACTS_KEY
from shared.deals.lifecycle import LIFECYCLE_PROPERTY, ORDER, lifecycle_writes
from shared.deals.ports import HubSpotDealsPort, LostOpportunitiesPort
from shared.deals.settings import ROLE_CONTACT_FIELD, ROLE_OPPORTUNITY_FIELD, ROLE_PRIMARY_FIELD
from shared.errors import ErrorCategory, TransientApiError
from shared.ids import salesforce_id18
from shared.models import DEALS, OPPORTUNITY, OPPORTUNITY_CONTACT_ROLE, ChangeEvent, ChangeType, System
from shared.observability import logger
from shared.pipeline.apply import APPLY_TIMEOUT, ApplyResult
from shared.pipeline.apply_batched import call_batched, failed_for_good, look_for_lost
from shared.pipeline.plans import HealthNote, SyncedPair, SyncPlan, is_claimant
from shared.ports import (
    AssociationPair,
    ClaimDone,
    HealthEntry,
    HubSpotPort,
    Link,
    LinkCommit,
    RecordWrite,
    SalesforcePort,
    StatePort,
    WriteOutcome,
)
from shared.state.keys import hubspot_deal_key, resync_command, salesforce_record_key
from shared.times import utc_now

CLAIM_TARGETS = {"salesforce": "salesforce:Opportunity", "hubspot": "hubspot:deals"}


@dataclass
class _Pair:
    plan: SyncPlan
    deal_id: str | None
    opportunity_id: str | None
    hubspot_ok: bool = True
    salesforce_ok: bool = True
    transient: bool = False
    claimed: bool = False
    intent: CreationIntent | None = None  # the creation intent recorded on its claim
    earlier: CreationIntent | None = None  # the one its claim held: an earlier create, outcome unknown


class DealApplier:
    def __init__(
        self,
        *,
        salesforce: SalesforcePort,
        deals: HubSpotDealsPort,
        state: StatePort,
        clock: Callable[[], dt.datetime] = utc_now,
        contacts: HubSpotPort | None = None,
        opportunities: LostOpportunitiesPort | None = None,
        running_for: dt.timedelta = APPLY_TIMEOUT,
    ) -> None:
        """``contacts``: the HubSpot port, for the lifecycle stages the plans move (S15);
        ``opportunities``: where an Opportunity whose create's answer was lost is looked for (without
        it, it is not looked for); ``running_for``: the invocation's remaining time (a creation
        intent's lease outlives it)."""
        self.contacts = contacts
        self.opportunities = opportunities
        self.running_for = running_for
        self.salesforce = salesforce
        self.deals = deals
        self.state = state
        self.clock = clock

    def apply(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        result = ApplyResult()
        if not plans:
            return result
        portal = plans[0].portal
        pairs = self._confirm_claims(portal, [_Pair(p, p.hubspot_id, p.sf_id) for p in plans], result)
        self._look_for_lost(portal, pairs, result)
        self._create(portal, pairs, "salesforce", result)
        self._create(portal, pairs, "hubspot", result)
        self._update(pairs, result)
        self._associate(pairs, result)
        self._associate_contacts(pairs, result)
        self._add_roles(pairs, result)
        self._dissociate_contacts(pairs, result)
        self._delete_roles(pairs, result)
        self._archive(portal, pairs, result)
        self._forget(portal, pairs, result)
        self._lifecycle(pairs, result)
        self._record(portal, pairs, result)
        return result

    def _confirm_claims(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> list[_Pair]:
        """A create runs only while its plan holds the claim; a record created already is linked."""
        kept: list[_Pair] = []
        for pair in pairs:
            plan = pair.plan
            if plan.create and plan.claim_email and plan.claimant:
                holder = self._claim(portal, pair)
                if holder is not None and is_claimant(holder):
                    result.retry_plan_ids.add(plan.plan_id)
                    continue
                if holder is not None:
                    result.counters["already created"] += 1
                    created = plan.model_copy(
                        update={"create": None, "hubspot_writes": {}, "salesforce_writes": {}}
                    )
                    is_opportunity = plan.create == "salesforce"
                    pair = _Pair(
                        created,
                        pair.deal_id if is_opportunity else holder,
                        holder if is_opportunity else pair.opportunity_id,
                    )
            kept.append(pair)
        return kept

    def _claim(self, portal: str, pair: _Pair) -> str | None:
        """The plan's creation claim confirmed, recording the intent of the create it is about to
        send (``StatePort.claim_with_intent``): None while it holds the claim (the pair then keeps its
        intent and the one the claim held), else the holder."""
        plan = pair.plan
        if plan.create is None or not plan.claim_email or not plan.claimant:
            return None
        writes = plan.salesforce_writes if plan.create == "salesforce" else plan.hubspot_writes
        intent = intent_for(plan.create, writes, self.clock(), self.running_for, None, DEALS)
        target = CLAIM_TARGETS[plan.create]
        confirmed = self.state.claim_with_intent(portal, target, plan.claim_email, plan.claimant, intent)
        if confirmed.holder is None:
            pair.intent, pair.earlier = intent, confirmed.earlier
        return confirmed.holder

    def _look_for_lost(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        """Pairs whose claim held an earlier create's intent: the record it may have made is looked
        for (one query a side) and, found and linked to nothing, updated and linked instead."""
        found = look_for_lost(
            pairs, (self.state, portal, DEALS), self._created_since, partial(self._found, portal)
        )
        for side, count in found.items():
            result.counters[f"{side}.lost_deal_creates_found"] += count

    def _created_since(self, side: str, names: list[str], since: dt.datetime) -> list[Created]:
        if side == "hubspot":
            return self.deals.deals_created_since(names, since)
        if self.opportunities is None:
            return []
        return [
            Created(salesforce_id18(r.record_id), r.values, r.created_at)
            for r in self.opportunities.opportunities_created_since(names, since)
        ]

    def _found(self, portal: str, pair: _Pair, record_id: str) -> None:
        """A pair whose earlier create made ``record_id``: its claim completed with it, the record
        updated with the values the create would have written (nothing else of the plan is written
        that its create would not have), then linked. Never a second create."""
        plan = pair.plan
        side = plan.create
        if side is None or not plan.claim_email or not plan.claimant:
            return
        self.state.complete_claims(
            portal, [ClaimDone(CLAIM_TARGETS[side], plan.claim_email, plan.claimant, record_id)]
        )
        other = "hubspot_writes" if side == "salesforce" else "salesforce_writes"
        pair.plan = plan.model_copy(update={"create": None, "linked_by_email": True, other: {}})
        pair.claimed = True
        if side == "salesforce":
            pair.opportunity_id = record_id
        else:
            pair.deal_id = record_id

    # -- writes --------------------------------------------------------------------------------
    def _create(self, portal: str, pairs: list[_Pair], side: str, result: ApplyResult) -> None:
        todo = [p for p in pairs if p.plan.create == side and not p.transient]
        if not todo:
            return
        to_salesforce = side == "salesforce"
        writes = [
            RecordWrite(
                p.plan.plan_id, None, p.plan.salesforce_writes if to_salesforce else p.plan.hubspot_writes
            )
            for p in todo
        ]
        call = (
            (lambda w: self.salesforce.create(OPPORTUNITY, w)) if to_salesforce else self.deals.create_deals
        )
        counter = (
            "hubspot_to_salesforce.opportunities_created"
            if to_salesforce
            else "salesforce_to_hubspot.deals_created"
        )
        for pair, outcome in zip(todo, self._call(call, writes, todo) or [], strict=False):
            if outcome.ok and to_salesforce:
                pair.opportunity_id = outcome.record_id
            elif outcome.ok:
                pair.deal_id = outcome.record_id
            self._count(pair, side, outcome, counter, result)
        self._complete_claims(portal, todo)

    def _complete_claims(self, portal: str, created: list[_Pair]) -> None:
        done = []
        for pair in created:
            plan = pair.plan
            record_id = pair.opportunity_id if plan.create == "salesforce" else pair.deal_id
            if record_id and plan.create and plan.claim_email and plan.claimant:
                done.append(ClaimDone(CLAIM_TARGETS[plan.create], plan.claim_email, plan.claimant, record_id))
                pair.claimed = True
        if done:
            self.state.complete_claims(portal, done)

    def _update(self, pairs: list[_Pair], result: ApplyResult) -> None:
        opportunities = [
            p for p in pairs if p.plan.create is None and p.plan.salesforce_writes and p.opportunity_id
        ]
        if opportunities:
            writes = [
                RecordWrite(p.plan.plan_id, p.opportunity_id, p.plan.salesforce_writes) for p in opportunities
            ]
            outcomes = self._call(lambda w: self.salesforce.update(OPPORTUNITY, w), writes, opportunities)
            for pair, outcome in zip(opportunities, outcomes or [], strict=False):
                self._count(
                    pair, "salesforce", outcome, "hubspot_to_salesforce.opportunities_updated", result
                )
        deals = [p for p in pairs if p.plan.create is None and p.plan.hubspot_writes and p.deal_id]
        if deals:
            writes = [RecordWrite(p.plan.plan_id, p.deal_id, p.plan.hubspot_writes) for p in deals]
            for pair, outcome in zip(
                deals, self._call(self.deals.update_deals, writes, deals) or [], strict=False
            ):
                self._count(pair, "hubspot", outcome, "salesforce_to_hubspot.deals_updated", result)

    def _associate(self, pairs: list[_Pair], result: ApplyResult) -> None:
        """Each deal's primary company, set from its Opportunity's Account (one batched call)."""
        todo = [p for p in pairs if p.plan.company_of_deal and p.deal_id and p.hubspot_ok]
        if not todo:
            return
        wanted = [AssociationPair(str(p.deal_id), str(p.plan.company_of_deal)) for p in todo]
        try:
            outcomes = self.deals.associate_deal_companies(wanted)
        except TransientApiError as exc:
            logger.warning("deal associations of %d deals failed; decided again: %s", len(wanted), exc)
            for pair in todo:
                pair.transient = True
            return
        for pair, outcome in zip(todo, outcomes, strict=False):
            self._count(pair, "hubspot", outcome, "salesforce_to_hubspot.deal_companies_set", result)

    def _associate_contacts(self, pairs: list[_Pair], result: ApplyResult) -> None:
        """Each deal's contacts, from its Opportunity's contact roles (one batched call)."""
        todo = [
            (p, c, label) for p in pairs if p.deal_id and p.hubspot_ok for c, label in p.plan.contacts_of_deal
        ]
        if not todo:
            return
        labelled = [(AssociationPair(str(p.deal_id), c), label) for p, c, label in todo]
        try:
            outcomes = self.deals.associate_deal_contacts(labelled)
        except TransientApiError as exc:
            logger.warning("deal contacts of %d deals failed; decided again: %s", len(todo), exc)
            for pair, _, _ in todo:
                pair.transient = True
            return
        for (pair, _, _), outcome in zip(todo, outcomes, strict=False):
            self._count(pair, "hubspot", outcome, "salesforce_to_hubspot.deal_contacts_set", result)

    def _add_roles(self, pairs: list[_Pair], result: ApplyResult) -> None:
        """Each Opportunity's contact roles, from its deal's contacts (sObject Collections)."""
        todo = [
            (p, c, primary)
            for p in pairs
            if p.opportunity_id and p.salesforce_ok
            for c, primary in p.plan.roles_of_opportunity
        ]
        if not todo:
            return
        writes = [
            RecordWrite(
                f"{p.plan.plan_id}:{c}",
                None,
                {
                    ROLE_OPPORTUNITY_FIELD: p.opportunity_id,
                    ROLE_CONTACT_FIELD: c,
                    ROLE_PRIMARY_FIELD: primary,
                },
            )
            for p, c, primary in todo
        ]
        items = [p for p, _, _ in todo]
        outcomes = self._call(lambda w: self.salesforce.create(OPPORTUNITY_CONTACT_ROLE, w), writes, items)
        for pair, outcome in zip(items, outcomes or [], strict=False):
            self._count(pair, "salesforce", outcome, "hubspot_to_salesforce.contact_roles_created", result)

    def _dissociate_contacts(self, pairs: list[_Pair], result: ApplyResult) -> None:
        """The contacts removed from deals, their contact roles removed in Salesforce (one batched
        call)."""
        todo = [(p, c) for p in pairs if p.deal_id and p.hubspot_ok for c in p.plan.contacts_off_deal]
        if not todo:
            return
        wanted = [AssociationPair(str(p.deal_id), c) for p, c in todo]
        try:
            outcomes = self.deals.dissociate_deal_contacts(wanted)
        except TransientApiError as exc:
            logger.warning("deal contacts of %d deals not removed; decided again: %s", len(todo), exc)
            for pair, _ in todo:
                pair.transient = True
            return
        for (pair, _), outcome in zip(todo, outcomes, strict=False):
            self._count(pair, "hubspot", outcome, "salesforce_to_hubspot.deal_contacts_removed", result)

    def _delete_roles(self, pairs: list[_Pair], result: ApplyResult) -> None:
        """The contact roles of contacts removed from deals in HubSpot (sObject Collections)."""
        todo = [(p, r) for p in pairs if p.opportunity_id and p.salesforce_ok for r in p.plan.roles_to_delete]
        if not todo:
            return
        writes = [RecordWrite(r, r, {}) for _, r in todo]
        items = [p for p, _ in todo]
        outcomes = self._call(
            lambda w: self.salesforce.delete(OPPORTUNITY_CONTACT_ROLE, [x.key for x in w]), writes, items
        )
        for pair, outcome in zip(items, outcomes or [], strict=False):
            self._count(pair, "salesforce", outcome, "hubspot_to_salesforce.contact_roles_deleted", result)

    def _archive(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        """A deleted Opportunity archives its deal, and the link is forgotten."""
        todo = [p for p in pairs if p.plan.archive_hubspot and p.deal_id]
        if not todo:
            return
        writes = [RecordWrite(str(p.deal_id), p.deal_id, {}) for p in todo]
        outcomes = self._call(lambda w: self.deals.archive_deals([x.key for x in w]), writes, todo)
        archived = []
        for pair, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                archived.append(str(pair.deal_id))
            self._count(pair, "hubspot", outcome, "salesforce_to_hubspot.deals_archived", result)
        if archived:
            self.state.delete_links(portal, archived, kind=DEALS)

    def _forget(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        """A deleted deal's link is dropped (its Opportunity stays)."""
        dropped = [str(p.deal_id) for p in pairs if p.plan.forget_link and p.deal_id]
        if dropped:
            self.state.delete_links(portal, dropped, kind=DEALS)
            result.counters["deal links dropped (deal deleted)"] += len(dropped)

    def _lifecycle(self, pairs: list[_Pair], result: ApplyResult) -> None:
        """The contacts' lifecycle stages the plans move forward: one batched write per transition
        (the furthest stage of a contact's opportunities wins)."""
        moves: dict[str, str] = {}
        for pair in pairs:
            for contact, stage in pair.plan.lifecycle.items():
                known = moves.get(contact)
                if known is None or ORDER.index(stage) > ORDER.index(known):
                    moves[contact] = stage
        if not moves or self.contacts is None:
            return
        for stage, contacts in lifecycle_writes(moves).items():
            writes = [RecordWrite(c, c, {LIFECYCLE_PROPERTY: stage}) for c in contacts]
            try:
                outcomes = self.contacts.update_contacts(writes)
            except TransientApiError as exc:  # decided again with the opportunities' next change
                logger.warning("lifecycle stage %s of %d contacts not written: %s", stage, len(writes), exc)
                continue
            done = sum(1 for o in outcomes if o.ok)
            result.counters[f"lifecycle.{stage}"] += done
            result.counters["errors"] += len(outcomes) - done

    def _count(
        self, pair: _Pair, system: str, outcome: WriteOutcome, counter: str, result: ApplyResult
    ) -> None:
        if outcome.ok:
            result.counters[counter] += 1
            return
        if system == "salesforce":
            pair.salesforce_ok = False
        else:
            pair.hubspot_ok = False
        self._failure(pair, system, outcome, result)

    def _call(
        self,
        call: Callable[[Sequence[RecordWrite]], list[WriteOutcome]],
        writes: Sequence[RecordWrite],
        items: Sequence[_Pair],
    ) -> list[WriteOutcome] | None:
        return call_batched(call, writes, items, "deal records")

    def _failure(self, pair: _Pair, system: str, outcome: WriteOutcome, result: ApplyResult) -> None:
        record = (
            hubspot_deal_key(str(pair.deal_id))
            if system == "salesforce" and pair.deal_id
            else salesforce_record_key(OPPORTUNITY, str(pair.opportunity_id))
        )
        entry = failed_for_good(pair, pair.plan.portal, system, record, outcome, self.clock())
        if entry is not None:
            result.counters["errors"] += 1
            result.health.append(entry)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _release(self, portal: str, pair: _Pair, now: dt.datetime) -> None:
        """A claim whose create did not land (or may have): handed back with its intent
        (``creation_intents.handed_back``), so the next create looks for it first."""
        plan = pair.plan
        if not plan.claim_email or not plan.claimant:
            return
        target = CLAIM_TARGETS.get(plan.create or "", CLAIM_TARGETS["salesforce"])
        if pair.intent is None:
            self.state.release_claim(portal, target, plan.claim_email, plan.claimant)
            return
        kept = handed_back(pair.intent, pair.earlier, now)
        self.state.hand_back_creation(portal, target, plan.claim_email, plan.claimant, kept)

    def _record(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        now = self.clock()
        commits: list[LinkCommit] = []
        for pair in pairs:
            plan = pair.plan
            result.health += [_health_of(note, portal, now) for note in plan.notes]
            if plan.claim_email and plan.claimant and not pair.claimed:
                self._release(portal, pair, now)
            if pair.transient:
                result.counters["decided again (writes failed)"] += 1
                result.redecide.append(_again(pair, now))
                continue
            link = _link_of(portal, pair, now)
            if link is not None:
                commits.append(LinkCommit(link, plan.plan_id, plan.link_rev))
        refused = self.state.commit_links(commits, kind=DEALS) if commits else set()
        for commit in commits:
            if commit.link.hubspot_id in refused:
                result.counters["decided again (the link changed)"] += 1
                result.followups.append(
                    _again(next(p for p in pairs if p.plan.plan_id == commit.plan_id), now)
                )
        if result.health:
            self.state.record_health(result.health)


def _link_of(portal: str, pair: _Pair, now: dt.datetime) -> Link | None:
    """The link a pair's plan leaves (None: none to save)."""
    plan = pair.plan
    if plan.archive_hubspot or plan.forget_link or not pair.deal_id or not pair.opportunity_id:
        return None
    if not (plan.create or plan.linked_by_email or plan.synced_after != plan.synced_before):
        return None
    return Link(
        portal=portal,
        hubspot_id=pair.deal_id,
        sf_object=OPPORTUNITY,
        sf_id=salesforce_id18(pair.opportunity_id),
        synced=_synced(pair),
        linked_at=now if plan.create or plan.linked_by_email else None,
        updated_at=now,
    )


def _health_of(note: HealthNote, portal: str, now: dt.datetime) -> HealthEntry:
    """A condition dedupe or the owners stage found (an unmapped stage, a dropped link...)."""
    return HealthEntry(
        portal,
        note.system,
        note.record,
        ErrorCategory(note.category),
        note.code,
        note.message,
        now,
        resync_command(note.record),
    )


def _synced(pair: _Pair) -> dict[str, SyncedPair]:
    plan = pair.plan
    synced: dict[str, SyncedPair] = {}
    for prop, (hs_after, sf_after) in plan.synced_after.items():
        hs_before, sf_before = plan.synced_before.get(prop, (None, None))
        if prop == CONTACTS_KEY:  # the contacts agreed: both sides' writes landed, or as before
            agreed = pair.hubspot_ok and pair.salesforce_ok
            if agreed or prop in plan.synced_before:
                synced[prop] = (hs_after, sf_after) if agreed else (hs_before, sf_before)
            continue
        synced[prop] = (
            hs_after if pair.hubspot_ok else hs_before,
            sf_after if pair.salesforce_ok else sf_before,
        )
    return synced


def _again(pair: _Pair, now: dt.datetime) -> ChangeEvent:
    """A deal pair decided again (its writes failed, or its link changed): from its deal, else from
    its Opportunity."""
    plan = pair.plan
    system, object_type, record = (
        (System.HUBSPOT, DEALS, str(pair.deal_id))
        if pair.deal_id
        else (System.SALESFORCE, OPPORTUNITY, str(pair.opportunity_id))
    )
    redecided = plan.redecided + 1
    return ChangeEvent(
        system=system,
        account=plan.portal,
        object_type=object_type,
        record_id=record,
        change_type=ChangeType.RESYNC,
        occurred_at=now,
        origin="hssync:decide-again",
        source_event_id=f"again:{plan.plan_id}:{record}:{redecided}",
        redecided=redecided,
    )
