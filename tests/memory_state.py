"""The in-memory twins of the state store and the shared cache, for tests (never deployed).

``MemoryState`` is a ``StatePort`` behaving exactly like ``DynamoState`` (the shared rules are in
``shared.state.base``; ``tests/integration/test_state_contract.py`` runs one suite against both).
Thread-safe (one lock), so concurrency tests of the pipeline can use it. Nothing is persisted.
``MemoryCache`` is the ``SharedCache`` of ``shared.state.cache`` without a table.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.accounts.creation_intents import CreationIntent
from shared.crm_state import CrmState, UsageSample, sample_hour
from shared.errors import ErrorCategory, TransientApiError
from shared.models import COMPANIES, CONTACTS, LINK_KINDS, LinkKind, System
from shared.pacing import Bucket
from shared.ports import ClaimAsk, ClaimDone, ConfirmedClaim, HealthEntry, IntentRecord, Link, LinkCommit
from shared.state import keys
from shared.state.base import (
    Clock,
    HealthSummary,
    HeldClaim,
    RecordStatus,
    StateTimings,
    confirm_each,
    epoch_seconds,
    group_health,
    is_expired,
    may_write,
    newest_first,
    prepare_links,
    resolved_by,
    utc_now,
)


@dataclass
class _Claim:
    claimant: str | None  # None: handed back with its intent (``hand_back_creation``)
    record_id: str | None
    expires_at: int
    intent: CreationIntent | None = None


@dataclass
class _Health:
    summary: HealthSummary
    expires_at: int | None


class MemoryState:
    """``StatePort`` in memory; ``timings`` and ``clock`` as for ``DynamoState``."""

    def __init__(self, *, timings: StateTimings | None = None, clock: Clock = utc_now) -> None:
        self._timings = timings or StateTimings()
        self._clock = clock
        self._lock = threading.Lock()
        # per kind of link: (by HubSpot id, by Salesforce id), each keyed (portal, id)
        self._links: dict[LinkKind, tuple[dict[tuple[str, str], Link], dict[tuple[str, str], Link]]] = {
            kind: ({}, {}) for kind in LINK_KINDS
        }
        self._claims: dict[keys.Key, _Claim] = {}
        self._requests: dict[keys.Key, int] = {}  # webhook requests received -> expires_at
        self._cursors: dict[keys.Key, str] = {}
        self._health: dict[keys.Key, _Health] = {}
        self._counters: dict[str, dict[str, int]] = {}
        self._statuses: dict[tuple[str, str], tuple[str, dt.datetime]] = {}

    # links

    def links_by_hubspot(
        self, portal: str, ids: Sequence[str], *, kind: LinkKind = CONTACTS
    ) -> dict[str, Link]:
        keys.component("portal", portal)
        wanted = {hubspot_id: (portal, keys.component("HubSpot id", hubspot_id)) for hubspot_id in ids}
        by_hubspot, _ = self._links[kind]
        with self._lock:
            found = {given: by_hubspot.get(key) for given, key in wanted.items()}
        return {given: copy.deepcopy(link) for given, link in found.items() if link is not None}

    def links_by_salesforce(
        self, portal: str, ids: Sequence[str], *, kind: LinkKind = CONTACTS
    ) -> dict[str, Link]:
        keys.component("portal", portal)
        wanted = {sf_id: (portal, keys.salesforce_id18(sf_id)) for sf_id in ids}
        _, by_salesforce = self._links[kind]
        with self._lock:
            found = {given: by_salesforce.get(key) for given, key in wanted.items()}
        return {given: copy.deepcopy(link) for given, link in found.items() if link is not None}

    def save_links(self, links: Sequence[Link], *, kind: LinkKind = CONTACTS) -> None:
        prepared = prepare_links(links)
        by_hubspot, _ = self._links[kind]
        with self._lock:
            for link in prepared:
                current = by_hubspot.get((link.portal, link.hubspot_id))
                unchanged = current is not None and current == link and current.intent is None
                if not unchanged:  # a change: a new revision
                    self._store(link, kind)

    def commit_links(self, commits: Sequence[LinkCommit], *, kind: LinkKind = CONTACTS) -> set[str]:
        prepared = prepare_links([c.link for c in commits])
        decided = {(c.link.portal, c.link.hubspot_id): c for c in commits}
        now = self._clock()
        refused: set[str] = set()
        by_hubspot, _ = self._links[kind]
        with self._lock:
            for link in prepared:
                commit = decided[(link.portal, link.hubspot_id)]
                stored = by_hubspot.get((link.portal, link.hubspot_id))
                if may_write(stored, commit.rev, commit.plan_id, now):
                    self._store(link, kind)
                else:
                    refused.add(link.hubspot_id)
        return refused

    def record_intents(
        self, portal: str, intents: Sequence[IntentRecord], *, kind: LinkKind = CONTACTS
    ) -> set[str]:
        keys.component("portal", portal)
        now = self._clock()
        refused: set[str] = set()
        by_hubspot, _ = self._links[kind]
        with self._lock:
            for record in intents:
                stored = by_hubspot.get((portal, record.hubspot_id))
                if stored is None and record.rev in (0, None):
                    continue  # no link yet (a first link, a merge's survivor): nothing to guard
                if stored is None or not may_write(stored, record.rev, record.intent.plan_id, now):
                    refused.add(record.hubspot_id)
                    continue
                stored.intent = record.intent  # the pointer shares the object
        return refused

    def _store(self, link: Link, kind: LinkKind) -> None:
        """One link as a new revision without an intent (the caller holds the lock)."""
        by_hubspot, by_salesforce = self._links[kind]
        hubspot_key = (link.portal, link.hubspot_id)
        salesforce_key = (link.portal, link.sf_id)
        old = by_hubspot.get(hubspot_key)
        if old is not None and old.sf_id != link.sf_id:
            by_salesforce.pop((link.portal, old.sf_id), None)
        old = by_salesforce.get(salesforce_key)
        if old is not None and old.hubspot_id != link.hubspot_id:
            by_hubspot.pop((link.portal, old.hubspot_id), None)
        current = by_hubspot.get(hubspot_key)
        stored = copy.deepcopy(link)
        stored.rev = (current.rev if current is not None else 0) + 1
        stored.intent = None
        by_hubspot[hubspot_key] = stored
        by_salesforce[salesforce_key] = stored

    # creation claims

    def first_receipt(self, portal: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        key = keys.webhook_request(portal, fingerprint)
        now = epoch_seconds(self._clock())
        with self._lock:
            seen = self._requests.get(key)
            if seen is not None and not is_expired(seen, now):
                return False
            self._requests[key] = epoch_seconds(expires_at)
            return True

    def claim_creation(self, portal: str, target: str, email: str, claimant: str) -> str | None:
        key = keys.claim(portal, target, email)
        keys.require("claimant", claimant)
        now = epoch_seconds(self._clock())
        with self._lock:
            held = self._claims.get(key)
            if held is not None and not is_expired(held.expires_at, now):
                if held.record_id is not None:
                    return held.record_id
                if held.claimant != claimant:
                    if held.claimant is None:  # handed back with an intent: refused, nobody holds it
                        raise TransientApiError(f"claim {key.pk} changed while being read")
                    return held.claimant
            expires_at = now + int(self._timings.claim_ttl.total_seconds())
            self._claims[key] = _Claim(claimant, None, expires_at)
            return None

    def confirm_claims(
        self, portal: str, asks: Sequence[ClaimAsk], *, for_at_least: dt.timedelta
    ) -> dict[ClaimAsk, str | None]:
        with self._lock:
            claims = {ask: self._claims.get(keys.claim(portal, ask.target, ask.email)) for ask in asks}
        held: dict[ClaimAsk, HeldClaim] = {
            ask: (c.claimant, c.record_id, c.expires_at) if c is not None else (None, None, None)
            for ask, c in claims.items()
        }

        def claim(ask: ClaimAsk) -> str | None:
            return self.claim_creation(portal, ask.target, ask.email, ask.claimant)

        return confirm_each(held, claim, epoch_seconds(self._clock()), for_at_least)

    def claim_with_intent(
        self, portal: str, target: str, key: str, claimant: str, intent: CreationIntent | None = None
    ) -> ConfirmedClaim:
        keys.require("claimant", claimant)
        return self._claim(keys.claim(portal, target, key), claimant, intent)

    def _claim(self, key: keys.Key, claimant: str, intent: CreationIntent | None) -> ConfirmedClaim:
        now = epoch_seconds(self._clock())
        with self._lock:
            held = self._claims.get(key)
            live = held is not None and not is_expired(held.expires_at, now)
            if held is not None and live:
                if held.record_id is not None:
                    return ConfirmedClaim(held.record_id)
                if held.claimant is not None and held.claimant != claimant:
                    return ConfirmedClaim(held.claimant)
                lease = held.intent.lease_until if held.intent is not None else None
                if intent is not None and lease is not None and epoch_seconds(lease) > now:
                    if held.claimant is None:
                        raise TransientApiError(f"claim {key.pk} changed while being read")
                    return ConfirmedClaim(held.claimant)
            kept = held.intent if held is not None else None
            earlier = kept if kept is not None and not kept.stale(self._clock()) else None
            expires_at = now + int(self._timings.claim_ttl.total_seconds())
            self._claims[key] = _Claim(claimant, None, expires_at, intent or earlier)
            return ConfirmedClaim(None, earlier)

    def hand_back_creation(
        self, portal: str, target: str, key: str, claimant: str, intent: CreationIntent
    ) -> None:
        claim = keys.claim(portal, target, key)
        keys.require("claimant", claimant)
        kept = epoch_seconds(self._clock()) + int(self._timings.completed_claim_ttl.total_seconds())
        with self._lock:
            held = self._claims.get(claim)
            if held is not None and held.claimant == claimant and held.record_id is None:
                self._claims[claim] = _Claim(None, None, kept, intent)

    def complete_claims(self, portal: str, done: Sequence[ClaimDone]) -> None:
        expires_at = epoch_seconds(self._clock()) + int(self._timings.completed_claim_ttl.total_seconds())
        with self._lock:
            for claim in done:
                key = keys.claim(portal, claim.target, claim.email)
                keys.require("record id", claim.record_id)
                self._claims[key] = _Claim(claim.claimant, claim.record_id, expires_at)

    def release_claim(self, portal: str, target: str, email: str, claimant: str) -> None:
        key = keys.claim(portal, target, email)
        keys.require("claimant", claimant)
        with self._lock:
            held = self._claims.get(key)
            if held is not None and held.claimant == claimant and held.record_id is None:
                del self._claims[key]

    # cursors

    def get_cursor(self, portal: str, name: str) -> str | None:
        key = keys.cursor(portal, name)
        with self._lock:
            return self._cursors.get(key)

    def set_cursor(self, portal: str, name: str, value: str) -> None:
        key = keys.cursor(portal, name)
        with self._lock:
            self._cursors[key] = value

    # sync health

    def record_health(self, entries: Sequence[HealthEntry]) -> None:
        updates = group_health(entries)
        now = epoch_seconds(self._clock())
        ttl = self._timings.health_ttl
        expires_at = None if ttl is None else now + int(ttl.total_seconds())
        with self._lock:
            for update in updates:
                known = self._health.get(update.key)
                if known is None or is_expired(known.expires_at, now):
                    count, first_at = update.occurrences, update.first.at
                else:
                    count = known.summary.count + update.occurrences
                    first_at = known.summary.first_at
                self._health[update.key] = _Health(HealthSummary(update.latest, count, first_at), expires_at)

    def clear_health(self, portal: str, written: Mapping[str, Collection[str]]) -> None:
        partition = keys.health_partition(portal)
        with self._lock:
            for key in [k for k in self._health if k.pk == partition]:
                entry = self._health[key].summary.entry
                if entry.record in written and resolved_by(entry, written[entry.record]):
                    del self._health[key]

    def health(self, portal: str, category: ErrorCategory | None = None) -> list[HealthEntry]:
        """The latest occurrence of each (record, code), newest first; optionally of one category."""
        return [summary.entry for summary in self.health_summaries(portal, category)]

    def health_summaries(self, portal: str, category: ErrorCategory | None = None) -> list[HealthSummary]:
        """As ``health``, with how often each entry occurred and when first."""
        partition = keys.health_partition(portal)
        prefix = keys.health_category_prefix(category.value) if category is not None else ""
        now = epoch_seconds(self._clock())
        with self._lock:
            found = [
                (key, known.summary)
                for key, known in self._health.items()
                if key.pk == partition and key.sk.startswith(prefix) and not is_expired(known.expires_at, now)
            ]
        return newest_first(found)

    # counters

    def add_counters(self, portal: str, counters: Mapping[str, int]) -> None:
        keys.component("portal", portal)
        for name in counters:
            keys.counter_attribute(name)
        with self._lock:
            totals = self._counters.setdefault(portal, {})
            for name, amount in counters.items():
                totals[name] = totals.get(name, 0) + amount

    def remember_associated(self, portal: str, associated: Mapping[str, Link]) -> None:
        by_hubspot, _ = self._links[COMPANIES]
        with self._lock:
            for company_id, link in associated.items():
                stored = by_hubspot.get((portal, company_id))
                if stored is not None:  # the same revision: the pair's sync is unchanged
                    stored.associated = link.associated
                    stored.associated_at = link.associated_at

    def delete_links(self, portal: str, hubspot_ids: Sequence[str], *, kind: LinkKind = CONTACTS) -> None:
        by_hubspot, by_salesforce = self._links[kind]
        with self._lock:
            for hubspot_id in hubspot_ids:
                link = by_hubspot.pop((portal, hubspot_id), None)
                if link is None:
                    continue
                pointer = by_salesforce.get((portal, link.sf_id))
                if pointer is not None and pointer.hubspot_id == hubspot_id:
                    del by_salesforce[(portal, link.sf_id)]

    def set_statuses(self, portal: str, statuses: Mapping[str, str]) -> None:
        now = dt.datetime.fromtimestamp(epoch_seconds(self._clock()), dt.UTC)
        with self._lock:
            for record, reason in statuses.items():
                self._statuses[(portal, record)] = (reason, now)

    def clear_statuses(self, portal: str, records: Sequence[str]) -> None:
        with self._lock:
            for record in records:
                self._statuses.pop((portal, record), None)

    def statuses(self, portal: str, records: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return {r: self._statuses[(portal, r)][0] for r in records if (portal, r) in self._statuses}

    def record_statuses(self, portal: str) -> list[RecordStatus]:
        """Every record skipped (and why), for the operator's view."""
        with self._lock:
            return [
                RecordStatus(record, reason, at)
                for (of_portal, record), (reason, at) in sorted(self._statuses.items())
                if of_portal == portal
            ]

    def counters(self, portal: str) -> dict[str, int]:
        keys.component("portal", portal)
        with self._lock:
            return dict(self._counters.get(portal, {}))


class MemoryCache:
    """The in-memory twin of ``shared.state.cache.DynamoCache``."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._items: dict[str, tuple[float, str]] = {}
        self._clock = clock

    def get(self, name: str) -> dict[str, Any] | None:
        found = self._items.get(name)
        if found is None or found[0] <= self._clock():
            return None
        value: dict[str, Any] = json.loads(found[1])
        return value

    def put(self, name: str, value: Mapping[str, Any], ttl_seconds: int) -> None:
        self._items[name] = (self._clock() + ttl_seconds, json.dumps(value))


class MemoryCrmStateStore:
    """The ``CrmStateStore`` of ``shared.crm_state`` in memory (``shared.state.crm`` is the real one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], CrmState] = {}
        self._samples: dict[tuple[str, str, dt.datetime], UsageSample] = {}
        self._buckets: dict[tuple[str, str, str], Bucket] = {}

    def pacing_bucket(self, stage: str, system: str, account: str) -> Bucket | None:
        with self._lock:
            return self._buckets.get((stage, system, account))

    def put_pacing_bucket(self, stage: str, system: str, account: str, bucket: Bucket) -> None:
        with self._lock:
            self._buckets[(stage, system, account)] = bucket

    def crm_state(self, system: System, account: str) -> CrmState | None:
        with self._lock:
            return self._states.get((system.value, account))

    def crm_states(self) -> list[CrmState]:
        with self._lock:
            return [self._states[key] for key in sorted(self._states)]

    def put_crm_state(self, state: CrmState) -> None:
        with self._lock:
            self._states[(state.system.value, state.account)] = state

    def record_usage(self, sample: UsageSample) -> None:
        hour = sample_hour(sample.hour)
        key = (sample.system.value, sample.account, hour)
        with self._lock:
            kept = self._samples.get(key)
            if kept is None or kept.used < sample.used:
                self._samples[key] = UsageSample(
                    sample.system, sample.account, hour, sample.used, sample.limit
                )

    def usage_samples(self, system: System, account: str, since: dt.datetime) -> list[UsageSample]:
        start = sample_hour(since)
        with self._lock:
            return sorted(
                (
                    s
                    for (sys_, acc, hour), s in self._samples.items()
                    if (sys_, acc) == (system.value, account) and hour >= start
                ),
                key=lambda s: s.hour,
            )
