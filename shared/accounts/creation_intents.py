"""Creation intents: a company, Account, deal or Opportunity create whose answer was lost is found,
never made twice.

A company pair has no unique key (no email), and neither has a deal pair, so a create whose outcome
is unknown (a timeout after the CRM created the record, an apply invocation that died after the
call) cannot be told apart from one that never landed by sending it again. The rule, the same for
both kinds (:data:`IDENTIFYING` names what identifies each):

1. **Write-ahead.** Before apply creates a company, an Account, a deal or an Opportunity, it
   records on the creation claim (the one state item that claim already lives in, in the write that
   confirms it) a :class:`CreationIntent`: the values that identify the new record without an email
   (:func:`identifying`: a company's name, and its domain or Website when written; a deal's
   ``dealname`` or an Opportunity's ``Name``, and its amount and close date when written) and the
   moment the create starts, with a lease (the apply invocation's remaining time plus
   :data:`LEASE_MARGIN`).
2. **Kept until settled.** A create that landed completes the claim (the intent goes with it). A
   create whose outcome is unknown hands its claim back but keeps the intent, with the lease ended
   (the invocation no longer writes; :func:`handed_back`). A claim taken again keeps the intent it
   finds.
3. **Looked for before creating again.** A plan that confirms a claim holding an earlier intent
   whose lease is over looks for the record first (:func:`look_for`): the records created since
   the intent's moment (less :data:`CLOCK_SKEW`) by the integration user (Salesforce:
   ``CreatedById``; HubSpot: created since, by name) with the intent's values, in one batched query
   per side per batch (:func:`names_of`); a record found and linked to nothing is linked instead
   (:func:`recovered`); only when none is found is the record created. An earlier intent still in
   its lease (the same plan, delivered twice) makes the plan wait. Without an earlier intent
   (every create whose answer came back) nothing is looked for: no call is added.

Two intents with the same values created in the same window (two companies of one name and domain,
both answers lost) each get one of the records found, the oldest record to the earliest intent.

**Not de-duplication (S8).** Deals and Opportunities are never joined by their values: two
Opportunities of one name and amount are two deals. This rule does not change that. It never looks
for a counterpart of a record: it looks, only after a create of hssync's own whose answer it did not
get, for the record that very create made, among the records created after that create started
(less the clock skew) by hssync's integration user (on Salesforce; HubSpot's search cannot tell who
created a deal, its window is the intent's moment), carrying exactly the values that create wrote,
and linked to nothing (a record already linked, a person's synced deal among them, is never taken).
Each lost create takes at most one record, so N lost creates of identical deals find N records, and
a record a person made in Salesforce is never joined. Without a lost answer nothing is looked for.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from shared.deals.settings import OPPORTUNITY_CLOSE_DATE_FIELD, OPPORTUNITY_NAME_FIELD
from shared.models import COMPANIES, DEALS
from shared.times import as_utc, from_epoch_ms, parse_timestamp

CreatedSide = Literal["salesforce", "hubspot"]
CreatedKind = Literal["companies", "deals"]

# the values that identify a new record without an email, per kind and side created: its name
# first, then the values compared when written (a company's domain; a deal's amount and close date)
IDENTIFYING: Mapping[tuple[CreatedKind, CreatedSide], tuple[str, ...]] = {
    (COMPANIES, "salesforce"): ("Name", "Website"),
    (COMPANIES, "hubspot"): ("name", "domain"),
    (DEALS, "salesforce"): (OPPORTUNITY_NAME_FIELD, "Amount", OPPORTUNITY_CLOSE_DATE_FIELD),
    (DEALS, "hubspot"): ("dealname", "amount", "closedate"),
}
NAME_FIELDS = tuple(dict.fromkeys(fields[0] for fields in IDENTIFYING.values()))
# identifying values compared as numbers (5000 = 5000.00) and as days (a date, or a datetime's UTC day)
NUMBER_FIELDS = frozenset({"Amount", "amount"})
DATE_FIELDS = frozenset({OPPORTUNITY_CLOSE_DATE_FIELD, "closedate"})
# past the apply invocation's own remaining time, before an intent's create is taken as over
LEASE_MARGIN = dt.timedelta(seconds=30)
# how long a claim keeps the intent of a create whose outcome is unknown (as a completed claim its id)
INTENT_KEPT = dt.timedelta(days=1)
# clock skew allowed between hssync and the CRM when looking for records created since a moment
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class CreationIntent:
    """A create (company, Account, deal or Opportunity) as recorded before its call: what identifies
    the new record, when the create started, and until when its invocation may still be writing."""

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


def identifying(
    side: CreatedSide, writes: Mapping[str, Any], kind: CreatedKind = COMPANIES
) -> dict[str, str]:
    """The values of a create that identify its record (:data:`IDENTIFYING`): its name first, then
    the others written (a company's domain or Website; a deal's amount and close date). Empty when
    it writes no name (it cannot be looked for)."""
    name_field, *others = IDENTIFYING[(kind, side)]
    name = _text(writes.get(name_field))
    if name is None:
        return {}
    values = {name_field: name}
    for other in others:
        value = _text(writes.get(other))
        if value is not None:
            values[other] = value
    return values


def intent_for(
    side: CreatedSide,
    writes: Mapping[str, Any],
    now: dt.datetime,
    running_for: dt.timedelta,
    earlier: CreationIntent | None,
    kind: CreatedKind = COMPANIES,
) -> CreationIntent:
    """The intent a create records before its call. An earlier intent that was looked for and not
    found (its create may still show up late) keeps its moment: the window only ever widens."""
    since = min(now, earlier.since) if earlier is not None else now
    return CreationIntent(identifying(side, writes, kind), since, now + running_for + LEASE_MARGIN)


def handed_back(intent: CreationIntent, earlier: CreationIntent | None, now: dt.datetime) -> CreationIntent:
    """The intent a create whose outcome is unknown hands back with its claim: its values, the
    earliest moment of the unknown creates (its own, or the earlier one its claim held), its lease
    ended now."""
    since = min(intent.since, earlier.since) if earlier is not None else intent.since
    return CreationIntent(intent.values, since, now)


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
    whose values equal each of the intent's (its name, and its domain, amount or close date when the
    intent has one: :func:`_compared`). Earliest intent first."""
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


def look_for(
    intents: Mapping[str, CreationIntent],
    created_since: Callable[[list[str], dt.datetime], Sequence[Created]],
    linked_of: Callable[[list[str]], Collection[str]],
) -> dict[str, str]:
    """Each intent (key -> intent) the record its lost create made, looked for in one batched query
    (``created_since(names, since)``, :func:`names_of`) and checked against the links
    (``linked_of(ids)``: the ids found that are linked already), then :func:`recovered`. No intent
    with a name: no call."""
    names, since = names_of(intents.values())
    if since is None:
        return {}
    found = list(created_since(names, since))
    ids = [r.record_id for r in found]
    linked = linked_of(ids) if ids else ()
    return recovered(intents, found, linked)


def _same(wanted: Mapping[str, str], values: Mapping[str, Any]) -> bool:
    return bool(wanted) and all(_compared(k, values.get(k)) == _compared(k, v) for k, v in wanted.items())


def _compared(field: str, value: Any) -> str | None:
    """A value as compared: a number's value, a date's (or datetime's UTC) day, else the text folded."""
    text = _text(value)
    if text is None:
        return None
    if field in NUMBER_FIELDS:
        return _number(text)
    if field in DATE_FIELDS:
        return _day(text)
    return text.casefold()


def _number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text.casefold()
    return format(number.normalize(), "f") if number.is_finite() else text.casefold()


def _day(text: str) -> str:
    """``2026-12-31``, ``2026-12-31T00:00:00Z`` and epoch milliseconds as one ``YYYY-MM-DD``."""
    try:
        moment = from_epoch_ms(int(text)) if text.isdigit() else as_utc(parse_timestamp(text))
    except (ValueError, OverflowError):
        return text.casefold()
    return moment.date().isoformat()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
