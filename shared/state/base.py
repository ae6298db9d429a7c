"""What both state stores share: timings, input validation, and the rules that decide results.

Keeping these here (rather than in each store) is what makes ``DynamoState`` and its in-memory
twin for tests (``tests/memory_state.py``) behave identically;
``tests/integration/test_state_contract.py`` runs one suite against both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from shared.ports import ClaimAsk, HealthEntry, Link
from shared.state import keys
from shared.times import utc_now as utc_now  # re-exported: the state's default clock

Clock = Callable[[], dt.datetime]


def epoch_seconds(moment: dt.datetime) -> int:
    """Whole epoch seconds, the unit of the table's TTL attribute."""
    return int(moment.timestamp())


def is_expired(expires_at: int | None, now: int) -> bool:
    """DynamoDB's TTL rule: an item whose ``expires_at`` lies in the past is gone (deletion is lazy,
    so readers and conditions apply the rule themselves)."""
    return expires_at is not None and expires_at < now


HeldClaim = tuple[str | None, str | None, int | None]  # a claim item's claimant, record id, expires at


def still_held(claimant: str, held: HeldClaim, now: int, for_at_least: dt.timedelta) -> bool:
    """Whether ``claimant`` holds a creation claim, ``held`` as (claimant, record id, expires at),
    uncompleted, for at least ``for_at_least`` more: then no one else can take it before that, and
    confirming it needs no write."""
    holder, record_id, expires_at = held
    if holder != claimant or record_id is not None or expires_at is None:
        return False
    return expires_at - now >= for_at_least.total_seconds()


def confirm_each(
    held: Mapping[ClaimAsk, HeldClaim],
    claim: Callable[[ClaimAsk], str | None],
    now: int,
    for_at_least: dt.timedelta,
) -> dict[ClaimAsk, str | None]:
    """``StatePort.confirm_claims`` from the claims as read: None for one still held long enough,
    else what claiming it again answers."""
    return {
        ask: None if still_held(ask.claimant, state, now, for_at_least) else claim(ask)
        for ask, state in held.items()
    }


@dataclass(frozen=True)
class StateTimings:
    claim_ttl: dt.timedelta = dt.timedelta(minutes=10)  # a crashed holder's claim can be retaken after this
    completed_claim_ttl: dt.timedelta = dt.timedelta(days=1)  # how long a claim remembers the created id
    health_ttl: dt.timedelta | None = dt.timedelta(days=30)  # after the last occurrence; None keeps forever

    def __post_init__(self) -> None:
        for name in ("claim_ttl", "completed_claim_ttl", "health_ttl"):
            value = getattr(self, name)
            if value is not None and value <= dt.timedelta(0):
                raise ValueError(f"{name} must be positive")


@dataclass(frozen=True)
class HealthSummary:
    """A sync-health entry (its latest occurrence) with how often and since when it occurred."""

    entry: HealthEntry
    count: int
    first_at: dt.datetime


@dataclass(frozen=True)
class RecordStatus:
    """Why a record was skipped (a rule of the configuration), and when this was last decided."""

    record: str
    reason: str
    at: dt.datetime


def resolved_by(entry: HealthEntry, written: Collection[str]) -> bool:
    """Whether a clean write of ``written`` (fields of the record's other side) resolves the entry:
    it wrote every field the entry is about (an entry about no particular field: any write)."""
    return set(entry.fields) <= set(written)


def may_write(stored: Link | None, rev: int | None, plan_id: str, now: dt.datetime) -> bool:
    """Whether a plan decided on revision ``rev`` of a link (None: decided with no link) may record
    its intent or its link over ``stored`` (``shared.intents``): the link is still at that revision
    and holds no live intent of another plan. ``DynamoState`` states the same rule as a condition."""
    intent = stored.intent if stored is not None else None
    if intent is not None and intent.plan_id != plan_id and intent.in_flight(now):
        return False
    if rev is None:  # decided with no link: a link stored since makes the decision stale
        return stored is None
    return stored is not None and stored.rev == rev


def prepare_links(links: Sequence[Link]) -> list[Link]:
    """Validated copies of ``links`` with 18-character Salesforce ids, one per HubSpot id.

    A call must describe a one-to-one matching per portal: a HubSpot id or a Salesforce id linked to
    two different counterparts in one call is a ValueError. Repeats of the same pair keep the last.
    """
    by_hubspot: dict[tuple[str, str], Link] = {}
    by_salesforce: dict[tuple[str, str], str] = {}
    for link in links:
        keys.component("portal", link.portal)
        keys.component("HubSpot id", link.hubspot_id)
        if not link.sf_object:
            raise ValueError("a link needs the Salesforce object name")
        sf_id = keys.salesforce_id18(link.sf_id)
        for prop, pair in link.synced.items():
            if len(pair) != 2 or not all(value is None or isinstance(value, str) for value in pair):
                raise TypeError(f"synced[{prop!r}] must be a (str | None, str | None) pair, got {pair!r}")
        hubspot_key = (link.portal, link.hubspot_id)
        salesforce_key = (link.portal, sf_id)
        previous = by_hubspot.get(hubspot_key)
        if previous is not None and previous.sf_id != sf_id:
            raise ValueError(f"HubSpot contact {link.hubspot_id} is linked to two records in one call")
        if by_salesforce.get(salesforce_key, link.hubspot_id) != link.hubspot_id:
            raise ValueError(f"Salesforce record {sf_id} is linked to two contacts in one call")
        by_hubspot[hubspot_key] = replace(
            link, sf_id=sf_id, synced={prop: (pair[0], pair[1]) for prop, pair in link.synced.items()}
        )
        by_salesforce[salesforce_key] = link.hubspot_id
    return list(by_hubspot.values())


@dataclass(frozen=True)
class HealthUpdate:
    """All occurrences of one (portal, category, record, code) in one ``record_health`` call."""

    key: keys.Key
    first: HealthEntry
    latest: HealthEntry
    occurrences: int


def group_health(entries: Sequence[HealthEntry]) -> list[HealthUpdate]:
    """Occurrences grouped per entry key, in call order; the latest is the last one passed."""
    grouped: dict[keys.Key, HealthUpdate] = {}
    for entry in entries:
        key = keys.health(entry.portal, entry.category.value, entry.record, entry.code)
        known = grouped.get(key)
        if known is None:
            grouped[key] = HealthUpdate(key, entry, entry, 1)
        else:
            grouped[key] = HealthUpdate(key, known.first, entry, known.occurrences + 1)
    return list(grouped.values())


def newest_first(summaries: list[tuple[keys.Key, HealthSummary]]) -> list[HealthSummary]:
    """Newest latest occurrence first; ties in a stable key order so both stores agree."""
    ordered = sorted(summaries, key=lambda pair: pair[0].sk)
    ordered.sort(key=lambda pair: pair[1].entry.at, reverse=True)
    return [summary for _, summary in ordered]
