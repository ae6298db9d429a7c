"""Apply for company pairs (HubSpot company <-> Salesforce Account, DESIGN S7, S13): the creates and
updates of both sides, then the contacts' associations, then the links. Every write is batched:
Accounts and Contacts' AccountIds as sObject Collections (200 a call), companies as batch writes (100
a call), primary associations as associations v4 batch creates (2,000 a call).

It runs after the contact plans of the same batch, so a contact whose counterpart a contact plan
just created is found by its new link (a plan names such a contact by its record key,
``shared.pipeline.plans.pending_contact``); one still unlinked is decided again later. A creation
runs only while its plan holds the creation claim (keyed by the id of the record it is created for),
so two changes of one new record never create two counterparts. A create records its creation
intent on that claim first, and a create whose outcome was unknown is looked for before it is sent
again (``shared.accounts.creation_intents``): a company or Account is never created twice. Company
links carry no write intents (``shared.intents``): a company plan's writes are checked against the
link's revision when the link is committed; a refused commit decides the pair again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from shared.accounts.carried import moved_mark
from shared.accounts.creation_intents import Created, CreationIntent, handed_back, intent_for
from shared.accounts.own_associations import remembered
from shared.errors import ErrorCategory, TransientApiError
from shared.ids import salesforce_id18
from shared.models import ACCOUNT, COMPANIES, CONTACT, CONTACTS, ChangeEvent, ChangeType, System
from shared.observability import logger
from shared.pipeline.apply import APPLY_TIMEOUT, ApplyResult
from shared.pipeline.apply_batched import call_batched, failed_for_good, look_for_lost
from shared.pipeline.plans import HealthNote, SyncedPair, SyncPlan, is_claimant, is_pending
from shared.ports import (
    AssociationPair,
    ClaimDone,
    HealthEntry,
    HubSpotCompaniesPort,
    HubSpotPort,
    Link,
    LinkCommit,
    LostAccountsPort,
    RecordWrite,
    SalesforcePort,
    StatePort,
    WriteOutcome,
)
from shared.state.keys import hubspot_company_key, resync_command, salesforce_record_key
from shared.times import utc_now

CLAIM_TARGETS = {"salesforce": "salesforce:Account", "hubspot": "hubspot:companies"}


@dataclass
class _Pair:
    plan: SyncPlan
    company_id: str | None
    account_id: str | None
    hubspot_ok: bool = True
    salesforce_ok: bool = True
    transient: bool = False
    claimed: bool = False
    contacts_to_company: list[str] = field(default_factory=list)
    contacts_to_account: list[str] = field(default_factory=list)
    person_id: str | None = None  # a person account's HubSpot contact, once known
    associated: list[str] = field(default_factory=list)  # contacts made primary contacts of it now
    # the HubSpot contacts of its Contacts to move (Salesforce id -> contact), remembered once moved
    resolved: dict[str, str] = field(default_factory=dict)
    intent: CreationIntent | None = None  # the creation intent recorded on its claim
    earlier: CreationIntent | None = None  # the one its claim held: an earlier create, outcome unknown


class CompanyApplier:
    def __init__(
        self,
        *,
        salesforce: SalesforcePort,
        companies: HubSpotCompaniesPort,
        state: StatePort,
        clock: Callable[[], dt.datetime] = utc_now,
        contacts: HubSpotPort | None = None,
        accounts: LostAccountsPort | None = None,
        running_for: dt.timedelta = APPLY_TIMEOUT,
    ) -> None:
        """``contacts``: the HubSpot port, for person accounts' contacts (S9); ``accounts``: where
        an Account whose create's answer was lost is looked for (without it, it is not looked for);
        ``running_for``: the invocation's remaining time (a creation intent's lease outlives it)."""
        self.contacts = contacts
        self.accounts = accounts
        self.running_for = running_for
        self.salesforce = salesforce
        self.companies = companies
        self.state = state
        self.clock = clock

    def apply(self, plans: Sequence[SyncPlan]) -> ApplyResult:
        result = ApplyResult()
        if not plans:
            return result
        portal = plans[0].portal
        pairs = [_Pair(p, p.hubspot_id, p.sf_id) for p in plans]
        pairs = self._confirm_claims(portal, pairs, result)
        self._look_for_lost(portal, pairs, result)
        self._create_accounts(portal, pairs, result)
        self._create_companies(portal, pairs, result)
        self._update(pairs, result)
        self._resolve_contacts(portal, pairs, result)
        self._persons(portal, pairs, result)
        self._move_contacts(pairs, result)
        self._archive(portal, pairs, result)
        self._record(portal, pairs, result)
        return result

    def _confirm_claims(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> list[_Pair]:
        """A create runs only while its plan holds the claim; a record created already is linked."""
        kept: list[_Pair] = []
        for pair in pairs:
            plan = pair.plan
            if plan.create and plan.claim_email and plan.claimant:
                target = CLAIM_TARGETS[plan.create]
                writes = plan.salesforce_writes if plan.create == "salesforce" else plan.hubspot_writes
                intent = intent_for(plan.create, writes, self.clock(), self.running_for, None)
                confirmed = self.state.claim_with_intent(
                    portal, target, plan.claim_email, plan.claimant, intent
                )
                holder = confirmed.holder
                if holder is None:
                    pair.intent, pair.earlier = intent, confirmed.earlier
                if holder is not None and is_claimant(holder):
                    result.retry_plan_ids.add(plan.plan_id)
                    continue
                if holder is not None:
                    result.counters["already created"] += 1
                    created = plan.model_copy(
                        update={"create": None, "hubspot_writes": {}, "salesforce_writes": {}}
                    )
                    is_account = plan.create == "salesforce"
                    pair = _Pair(
                        created,
                        pair.company_id if is_account else holder,
                        holder if is_account else pair.account_id,
                    )
            kept.append(pair)
        return kept

    def _look_for_lost(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        """Pairs whose claim held an earlier create's intent: the record it may have made is looked
        for (one query a side) and, found and linked to nothing, updated and linked instead."""
        found = look_for_lost(
            pairs, (self.state, portal, COMPANIES), self._created_since, partial(self._found, portal)
        )
        for side, count in found.items():
            result.counters[f"{side}.lost_creates_found"] += count

    def _created_since(self, side: str, names: list[str], since: dt.datetime) -> list[Created]:
        if side == "hubspot":
            return self.companies.companies_created_since(names, since)
        if self.accounts is None:
            return []
        return [
            Created(salesforce_id18(r.record_id), r.values, r.created_at)
            for r in self.accounts.accounts_created_since(names, since)
        ]

    def _found(self, portal: str, pair: _Pair, record_id: str) -> None:
        """A pair whose earlier create made ``record_id``: its claim completed with it, the record
        updated with the plan's values (a create is never sent), then linked."""
        plan = pair.plan
        side = plan.create
        if side is None or not plan.claim_email or not plan.claimant:
            return
        done = ClaimDone(CLAIM_TARGETS[side], plan.claim_email, plan.claimant, record_id)
        self.state.complete_claims(portal, [done])
        pair.plan = plan.model_copy(update={"create": None, "linked_by_email": True})
        pair.claimed = True
        if side == "salesforce":
            pair.account_id = record_id
        else:
            pair.company_id = record_id

    # -- writes --------------------------------------------------------------------------------
    def _create_accounts(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        todo = [p for p in pairs if p.plan.create == "salesforce" and not p.transient]
        if not todo:
            return
        writes = [RecordWrite(p.plan.plan_id, None, p.plan.salesforce_writes) for p in todo]
        outcomes = self._call(lambda w: self.salesforce.create(ACCOUNT, w), writes, todo)
        for pair, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                pair.account_id = outcome.record_id
                result.counters["hubspot_to_salesforce.accounts_created"] += 1
            else:
                pair.salesforce_ok = False
                self._failure(pair, "salesforce", outcome, result)
        self._complete_claims(portal, todo)

    def _create_companies(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        todo = [p for p in pairs if p.plan.create == "hubspot" and not p.transient]
        if not todo:
            return
        writes = [RecordWrite(p.plan.plan_id, None, p.plan.hubspot_writes) for p in todo]
        outcomes = self._call(self.companies.create_companies, writes, todo)
        for pair, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                pair.company_id = outcome.record_id
                result.counters["salesforce_to_hubspot.companies_created"] += 1
            else:
                pair.hubspot_ok = False
                self._failure(pair, "hubspot", outcome, result)
        self._complete_claims(portal, todo)

    def _complete_claims(self, portal: str, created: list[_Pair]) -> None:
        done = []
        for pair in created:
            plan = pair.plan
            record_id = pair.account_id if plan.create == "salesforce" else pair.company_id
            if record_id and plan.create and plan.claim_email and plan.claimant:
                done.append(ClaimDone(CLAIM_TARGETS[plan.create], plan.claim_email, plan.claimant, record_id))
                pair.claimed = True
        if done:
            self.state.complete_claims(portal, done)

    def _update(self, pairs: list[_Pair], result: ApplyResult) -> None:
        accounts = [p for p in pairs if p.plan.create is None and p.plan.salesforce_writes and p.account_id]
        if accounts:
            writes = [RecordWrite(p.plan.plan_id, p.account_id, p.plan.salesforce_writes) for p in accounts]
            for pair, outcome in zip(
                accounts,
                self._call(lambda w: self.salesforce.update(ACCOUNT, w), writes, accounts) or [],
                strict=False,
            ):
                self._count(pair, "salesforce", outcome, "hubspot_to_salesforce.accounts_updated", result)
        companies = [p for p in pairs if p.plan.create is None and p.plan.hubspot_writes and p.company_id]
        if companies:
            writes = [RecordWrite(p.plan.plan_id, p.company_id, p.plan.hubspot_writes) for p in companies]
            for pair, outcome in zip(
                companies, self._call(self.companies.update_companies, writes, companies) or [], strict=False
            ):
                self._count(pair, "hubspot", outcome, "salesforce_to_hubspot.companies_updated", result)

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

    # -- associations --------------------------------------------------------------------------
    def _resolve_contacts(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        """Each plan's contacts as ids: a pending one by its link (created by a contact plan now)."""
        by_salesforce = [
            c.rsplit(":", 1)[1] for p in pairs for c in p.plan.contacts_to_company if is_pending(c)
        ]
        by_hubspot = [c.rsplit(":", 1)[1] for p in pairs for c in p.plan.contacts_to_account if is_pending(c)]
        sf_links = self.state.links_by_salesforce(portal, by_salesforce) if by_salesforce else {}
        hs_links = self.state.links_by_hubspot(portal, by_hubspot) if by_hubspot else {}
        now = self.clock()
        for pair in pairs:
            for contact in pair.plan.contacts_to_company:
                found = _resolved(contact, sf_links, hubspot_side=True)
                if found is not None:
                    pair.contacts_to_company.append(found)
                elif is_pending(contact):
                    result.followups.append(_again(pair.plan, System.SALESFORCE, CONTACT, contact, now))
            for contact in pair.plan.contacts_to_account:
                found = _resolved(contact, hs_links, hubspot_side=False)
                if found is not None:
                    pair.contacts_to_account.append(found)
                    if is_pending(contact):
                        pair.resolved[found] = contact.rsplit(":", 1)[1]
                elif is_pending(contact):
                    result.followups.append(_again(pair.plan, System.HUBSPOT, CONTACTS, contact, now))
        self._contacts_of_moved(portal, pairs)

    def _contacts_of_moved(self, portal: str, pairs: list[_Pair]) -> None:
        """The HubSpot contacts of the Contacts a plan names by Salesforce id (linked before its
        company's plan), by their links (one state read): remembered once moved (``carried``)."""
        named = sorted({c for p in pairs for c in p.contacts_to_account if c not in p.resolved})
        if not named:
            return
        links = self.state.links_by_salesforce(portal, named)
        contact_of = {salesforce_id18(link.sf_id): link.hubspot_id for link in links.values()}
        for pair in pairs:
            for record in pair.contacts_to_account:
                contact = contact_of.get(salesforce_id18(record))
                if record not in pair.resolved and contact is not None:
                    pair.resolved[record] = contact

    def _persons(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        """Person accounts' contacts (S9): created or updated in batches, linked to the person's
        Contact, and associated with the company when one of them is new."""
        todo = [p for p in pairs if p.plan.person is not None and not p.transient and p.company_id]
        if not todo or self.contacts is None:
            return
        for pair in todo:
            pair.person_id = pair.plan.person.contact_id if pair.plan.person else None
        self._create_persons([p for p in todo if p.person_id is None], result)
        updates = [p for p in todo if p.person_id and p.plan.person and p.plan.person.writes]
        if updates:
            writes = [
                RecordWrite(p.plan.plan_id, p.person_id, p.plan.person.writes)
                for p in updates
                if p.plan.person
            ]
            for pair, outcome in zip(
                updates, self._call(self.contacts.update_contacts, writes, updates) or [], strict=False
            ):
                self._count(pair, "hubspot", outcome, "salesforce_to_hubspot.persons_updated", result)
        now = self.clock()
        links = []
        for pair in todo:
            person = pair.plan.person
            if person is None or not pair.person_id or pair.transient:
                continue
            synced = person.synced_after if pair.hubspot_ok else {}
            links.append(
                Link(portal, pair.person_id, CONTACT, person.person_contact_id, dict(synced), now, now)
            )
            if person.associate:
                pair.contacts_to_company.append(pair.person_id)
        if links:
            self.state.save_links(links)

    def _create_persons(self, todo: list[_Pair], result: ApplyResult) -> None:
        creating = [p for p in todo if p.plan.person is not None and p.plan.person.create]
        if not creating or self.contacts is None:
            return
        writes = [RecordWrite(p.plan.plan_id, None, p.plan.person.writes) for p in creating if p.plan.person]
        for pair, outcome in zip(
            creating, self._call(self.contacts.create_contacts, writes, creating) or [], strict=False
        ):
            existing = outcome.failure.existing_id if outcome.failure is not None else None
            if outcome.ok or existing:
                pair.person_id = outcome.record_id or existing
                result.counters[
                    "salesforce_to_hubspot.persons_created"
                    if outcome.ok
                    else "salesforce_to_hubspot.persons_linked_by_email"
                ] += 1
            else:
                self._count(pair, "hubspot", outcome, "", result)

    def _move_contacts(self, pairs: list[_Pair], result: ApplyResult) -> None:
        """Contacts' AccountIds (one Collections call per 200) and primary companies (one call)."""
        ready = [p for p in pairs if p.company_id and p.account_id and not p.transient]
        writes = [
            RecordWrite(f"{p.plan.plan_id}:{c}", c, {"AccountId": p.account_id})
            for p in ready
            for c in p.contacts_to_account
        ]
        if writes:
            outcomes = self._call(lambda w: self.salesforce.update(CONTACT, w), writes, ready)
            moved = {
                f"{p.plan.plan_id}:{c}": (p, p.resolved.get(c)) for p in ready for c in p.contacts_to_account
            }
            for outcome in outcomes or []:
                result.counters["hubspot_to_salesforce.contacts_moved" if outcome.ok else "errors"] += 1
                pair, contact = moved.get(outcome.key, (None, None))
                if outcome.ok and pair is not None and contact is not None:
                    pair.associated.append(moved_mark(contact))  # remembered (shared.accounts.carried)
        associations = [a for p in ready for a in _pairs_of(p)]
        if associations:
            try:
                done = self.companies.associate_primary(associations)
            except TransientApiError as exc:
                logger.warning("associating %d contacts failed; decided again: %s", len(associations), exc)
                for pair in ready:
                    pair.transient = True
                return
            by_key = {a.key: (a, p) for p in ready for a in _pairs_of(p)}
            for outcome in done:
                result.counters["salesforce_to_hubspot.contacts_associated" if outcome.ok else "errors"] += 1
                if outcome.ok and outcome.key in by_key:
                    association, pair = by_key[outcome.key]
                    pair.associated.append(association.from_id)

    @staticmethod
    def _one_per_record(
        commits: list[LinkCommit], pairs: list[_Pair], result: ApplyResult, now: dt.datetime
    ) -> list[LinkCommit]:
        """One link per company and per Account: of two plans linking one record, the later is
        saved and the earlier pair decided again (a company and an Account are linked one to one)."""
        kept: dict[tuple[str, str], LinkCommit] = {}
        for commit in commits:
            keys = [("co", commit.link.hubspot_id), ("acct", salesforce_id18(commit.link.sf_id))]
            for key in keys:
                earlier = kept.get(key)
                if earlier is not None and earlier is not commit:
                    result.counters["superseded"] += 1
                    result.followups.append(_again_pair(_pair_of(pairs, earlier.plan_id), now))
                    kept = {k: c for k, c in kept.items() if c is not earlier}
            kept.update(dict.fromkeys(keys, commit))
        return list({id(c): c for c in kept.values()}.values())

    def _archive(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        """A deleted Account archives its company (setting) and the link is forgotten."""
        todo = [p for p in pairs if p.plan.archive_hubspot and p.company_id]
        if not todo:
            return
        writes = [RecordWrite(str(p.company_id), p.company_id, {}) for p in todo]
        outcomes = self._call(lambda w: self.companies.archive_companies([x.key for x in w]), writes, todo)
        archived = []
        for pair, outcome in zip(todo, outcomes or [], strict=False):
            if outcome.ok:
                archived.append(str(pair.company_id))
                result.counters["salesforce_to_hubspot.companies_archived"] += 1
            else:
                self._count(pair, "hubspot", outcome, "", result)
        if archived:
            self.state.delete_links(portal, archived, kind=COMPANIES)

    def _call(
        self,
        call: Callable[[Sequence[RecordWrite]], list[WriteOutcome]],
        writes: Sequence[RecordWrite],
        items: Sequence[_Pair],
    ) -> list[WriteOutcome] | None:
        return call_batched(call, writes, items, "records")

    def _failure(self, pair: _Pair, system: str, outcome: WriteOutcome, result: ApplyResult) -> None:
        record = (
            hubspot_company_key(str(pair.company_id))
            if system == "salesforce" and pair.company_id
            else salesforce_record_key(ACCOUNT, str(pair.account_id))
        )
        entry = failed_for_good(pair, pair.plan.portal, system, record, outcome, self.clock())
        if entry is not None:
            result.counters["errors"] += 1
            result.health.append(entry)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _stored(self, portal: str, pairs: list[_Pair]) -> dict[str, Link]:
        """The stored links of the pairs' companies: what they remember of hssync's earlier
        association writes is kept when they are saved (``shared.accounts.own_associations``)."""
        ids = sorted({str(p.company_id) for p in pairs if p.company_id and not p.transient})
        return self.state.links_by_hubspot(portal, ids, kind=COMPANIES) if ids else {}

    def _release(self, portal: str, pair: _Pair, now: dt.datetime) -> None:
        """A claim whose create did not land (or may have): handed back with its intent, the lease
        ended and the moment the earliest unknown create's, so the next create looks for it first."""
        plan = pair.plan
        target = CLAIM_TARGETS.get(plan.create or "", CLAIM_TARGETS["salesforce"])
        if pair.intent is None or not plan.claim_email or not plan.claimant:
            if plan.claim_email and plan.claimant:
                self.state.release_claim(portal, target, plan.claim_email, plan.claimant)
            return
        kept = handed_back(pair.intent, pair.earlier, now)
        self.state.hand_back_creation(portal, target, plan.claim_email, plan.claimant, kept)

    def _record(self, portal: str, pairs: list[_Pair], result: ApplyResult) -> None:
        now = self.clock()
        commits: list[LinkCommit] = []
        previous = self._stored(portal, pairs)
        remember: dict[str, Link] = {}
        for pair in pairs:
            plan = pair.plan
            result.health += [_health_of(note, portal, now) for note in plan.notes]
            if plan.claim_email and plan.claimant and not pair.claimed:
                self._release(portal, pair, now)
            if pair.transient:
                result.counters["decided again (writes failed)"] += 1
                result.redecide.append(_again_pair(pair, now))
                continue
            if plan.archive_hubspot or not pair.company_id or not pair.account_id:
                continue
            associated, associated_at = remembered(previous.get(pair.company_id), pair.associated, now)
            if not _saves_link(plan):
                if pair.associated and pair.company_id in previous:  # no new revision for it
                    remember[pair.company_id] = dataclasses.replace(
                        previous[pair.company_id], associated=associated, associated_at=associated_at
                    )
                continue
            link = Link(
                portal=portal,
                hubspot_id=pair.company_id,
                sf_object=ACCOUNT,
                sf_id=pair.account_id,
                synced=_synced(pair),
                linked_at=now if plan.create or plan.linked_by_email else None,
                updated_at=now,
                associated=associated,
                associated_at=associated_at,
            )
            commits.append(LinkCommit(link, plan.plan_id, plan.link_rev))
        commits = self._one_per_record(commits, pairs, result, now)
        refused = self.state.commit_links(commits, kind=COMPANIES) if commits else set()
        for commit in commits:
            if commit.link.hubspot_id in refused:
                result.counters["decided again (the link changed)"] += 1
                result.followups.append(_again_pair(_pair_of(pairs, commit.plan_id), now))
        if remember:
            self.state.remember_associated(portal, remember)
        if result.health:
            self.state.record_health(result.health)


def _health_of(note: HealthNote, portal: str, now: dt.datetime) -> HealthEntry:
    """A condition dedupe or the owners stage found (several Accounts, a rejected owner...)."""
    category = ErrorCategory(note.category)
    return HealthEntry(
        portal,
        note.system,
        note.record,
        category,
        note.code,
        note.message,
        now,
        resync_command(note.record),
    )


def _resolved(contact: str, links: dict[str, Link], *, hubspot_side: bool) -> str | None:
    """A plan's contact as the id to write: itself, or a pending one's counterpart by its link."""
    if not is_pending(contact):
        return contact
    link = links.get(contact.rsplit(":", 1)[1])
    if link is None:
        return None
    if hubspot_side:
        return link.hubspot_id
    return link.sf_id if link.sf_object == CONTACT else None  # a Lead has no Account


def _saves_link(plan: SyncPlan) -> bool:
    return bool(plan.create or plan.linked_by_email or plan.synced_after != plan.synced_before)


def _pairs_of(pair: _Pair) -> list[AssociationPair]:
    """The primary associations a pair writes: each of its contacts with its company."""
    return [AssociationPair(c, str(pair.company_id)) for c in pair.contacts_to_company]


def _synced(pair: _Pair) -> dict[str, SyncedPair]:
    plan = pair.plan
    synced: dict[str, SyncedPair] = {}
    for prop, (hs_after, sf_after) in plan.synced_after.items():
        hs_before, sf_before = plan.synced_before.get(prop, (None, None))
        written_hs = prop in plan.hubspot_writes
        synced[prop] = (
            hs_after if pair.hubspot_ok or not written_hs else hs_before,
            sf_after if pair.salesforce_ok else sf_before,
        )
    return synced


def _pair_of(pairs: Sequence[_Pair], plan_id: str) -> _Pair:
    return next(p for p in pairs if p.plan.plan_id == plan_id)


def _again_pair(pair: _Pair, now: dt.datetime) -> ChangeEvent:
    """A company pair decided again (its writes failed, or its link changed): from its company,
    else from its Account."""
    if pair.company_id:
        return _again(pair.plan, System.HUBSPOT, COMPANIES, pair.company_id, now, failed=True)
    return _again(pair.plan, System.SALESFORCE, ACCOUNT, str(pair.account_id), now, failed=True)


def _again(
    plan: SyncPlan, system: System, object_type: str, record: str, now: dt.datetime, *, failed: bool = False
) -> ChangeEvent:
    """A change of hssync's own that makes dedupe decide a record again: a company pair (by its
    company, else its Account), or a contact whose company or Account is still to set."""
    record_id = record.rsplit(":", 1)[1] if is_pending(record) else record
    # a contact to associate: an association change (only the accounts part takes it)
    change = ChangeType.ASSOCIATION if object_type in (CONTACTS, CONTACT) else ChangeType.RESYNC
    redecided = plan.redecided + int(failed)
    return ChangeEvent(
        system=system,
        account=plan.portal,
        object_type=object_type,
        record_id=record_id,
        change_type=change,
        occurred_at=now,
        origin="hssync:decide-again",
        source_event_id=f"again:{plan.plan_id}:{record_id}:{redecided}",
        redecided=redecided,
    )
