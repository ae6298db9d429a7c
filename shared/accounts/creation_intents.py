"""Creation intents: a company or Account create whose answer was lost is found, never made twice.

A company pair has no unique key (no email), so a create whose outcome is unknown (a timeout after
the CRM created the record, an apply invocation that died after the call) cannot be told apart from
one that never landed by sending it again. The rule:

1. **Write-ahead.** Before apply creates a company or an Account, it records on the creation claim
   (the one state item that claim already lives in, in the write that confirms it) a
   :class:`CreationIntent`: the values that identify the new record without an email (the name, and
   the domain or Website when written, :func:`identifying`) and the moment the create starts, with
   a lease (the apply invocation's remaining time plus :data:`LEASE_MARGIN`).
2. **Kept until settled.** A create that landed completes the claim (the intent goes with it). A
   create whose outcome is unknown hands its claim back but keeps the intent, with the lease ended
   (the invocation no longer writes). A claim taken again keeps the intent it finds.
3. **Looked for before creating again.** A plan that confirms a claim holding an earlier intent
   whose lease is over looks for the record first: the records created since the intent's moment
   (less :data:`CLOCK_SKEW`) by the integration user (Salesforce: ``CreatedById``; HubSpot: created
   since, by name) with the intent's values, in one batched query per batch (:func:`names_of`); a
   record found and linked to nothing is linked instead (:func:`recovered`); only when none is found
   is the record created. An earlier intent still in its lease (the same plan, delivered twice)
   makes the plan wait.

Two intents with the same values created in the same window (two companies of one name and domain,
both answers lost) each get one of the records found, the oldest record to the earliest intent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shared.times import parse_timestamp

CreatedSide = Literal["salesforce", "hubspot"]

# the values that identify a new record without an email, per side created: name, then domain
IDENTIFYING: Mapping[CreatedSide, tuple[str, str]] = {
    "salesforce": ("Name", "Website"),
    "hubspot": ("name", "domain"),
}
NAME_FIELDS = tuple(fields[0] for fields in IDENTIFYING.values())
# past the apply invocation's own remaining time, before an intent's create is taken as over
LEASE_MARGIN = dt.timedelta(seconds=30)
# how long a claim keeps the intent of a create whose outcome is unknown (as a completed claim its id)
INTENT_KEPT = dt.timedelta(days=1)
# clock skew allowed between hssync and the CRM when looking for records created since a moment
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class CreationIntent:
    """A company or Account create as recorded before its call: what identifies the new record,
    when the create started, and until when its invocation may still be writing."""

    values: Mapping[str, str]
    since: dt.datetime
    lease_until: dt.datetime

    def in_flight(self, now: dt.datetime) -> bool:
        return now < self.lease_until

    def stale(self, now: dt.datetime) -> bool:
        """Older than a claim keeps it: not looked for any more."""
        return self.since < now - INTENT_KEPT

    @property
    def name(self) -> str | None:
        return next((self.values[f] for f in NAME_FIELDS if f in self.values), None)

    def ended(self, now: dt.datetime) -> CreationIntent:
        """The same intent, its lease over (the create's outcome is unknown, nothing writes it now)."""
        return CreationIntent(self.values, self.since, min(self.lease_until, now))

    def to_text(self) -> str:
        """The intent as stored on its claim."""
        return json.dumps(
            {
                "values": dict(self.values),
                "since": self.since.isoformat(),
                "lease_until": self.lease_until.isoformat(),
            },
            sort_keys=True,
        )


def intent_from_text(text: str | None) -> CreationIntent | None:
    """An intent as stored (None: none stored, or unreadable)."""
    if not text:
        return None
    try:
        raw: Any = json.loads(text)
        values = {str(k): str(v) for k, v in dict(raw["values"]).items()}
        return CreationIntent(values, parse_timestamp(raw["since"]), parse_timestamp(raw["lease_until"]))
    except (ValueError, KeyError, TypeError):
        return None


def identifying(side: CreatedSide, writes: Mapping[str, Any]) -> dict[str, str]:
    """The values of a create that identify its record: its name first, then its domain (or
    Website) when written. Empty when it writes no name (it cannot be looked for)."""
    name_field, domain_field = IDENTIFYING[side]
    name = _text(writes.get(name_field))
    if name is None:
        return {}
    values = {name_field: name}
    domain = _text(writes.get(domain_field))
    if domain is not None:
        values[domain_field] = domain
    return values


def intent_for(
    side: CreatedSide,
    writes: Mapping[str, Any],
    now: dt.datetime,
    running_for: dt.timedelta,
    earlier: CreationIntent | None,
) -> CreationIntent:
    """The intent a create records before its call. An earlier intent that was looked for and not
    found (its create may still show up late) keeps its moment: the window only ever widens."""
    since = min(now, earlier.since) if earlier is not None else now
    return CreationIntent(identifying(side, writes), since, now + running_for + LEASE_MARGIN)


def names_of(intents: Iterable[CreationIntent]) -> tuple[list[str], dt.datetime | None]:
    """What one batched query looks for: the intents' names, and the earliest moment less the
    clock skew (None: nothing to look for)."""
    named = [i for i in intents if i.name]
    if not named:
        return [], None
    names = sorted({str(i.name) for i in named})
    return names, min(i.since for i in named) - CLOCK_SKEW


@dataclass(frozen=True)
class Created:
    """A record the batched query found: its id, its identifying values, when it was created."""

    record_id: str
    values: Mapping[str, Any]
    created_at: dt.datetime


def recovered(
    intents: Mapping[str, CreationIntent], found: Sequence[Created], linked: Iterable[str]
) -> dict[str, str]:
    """Each intent (key -> intent) the record its lost create made: the oldest record found, not
    linked and not taken by another intent, created since the intent's moment (less the clock skew),
    whose name (and domain, when the intent has one) equals the intent's. Earliest intent first."""
    taken = set(linked)
    out: dict[str, str] = {}
    records = sorted(found, key=lambda r: (r.created_at, r.record_id))
    for key, intent in sorted(intents.items(), key=lambda item: (item[1].since, item[0])):
        for record in records:
            if record.record_id in taken or record.created_at < intent.since - CLOCK_SKEW:
                continue
            if _same(intent.values, record.values):
                out[key] = record.record_id
                taken.add(record.record_id)
                break
    return out


def _same(wanted: Mapping[str, str], values: Mapping[str, Any]) -> bool:
    return bool(wanted) and all(_folded(values.get(k)) == _folded(v) for k, v in wanted.items())


def _folded(value: Any) -> str | None:
    text = _text(value)
    return text.casefold() if text is not None else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
