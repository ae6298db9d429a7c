"""The soak: a burst of new records and live user edits under injected faults, then a full check.

On a fresh stack (or the e2e stack), with faults on in both emulators (seeded, every kind, short
timeouts): ``records`` new records arrive as a batch import makes them (half HubSpot contacts, half
Salesforce leads), then, while they may still be syncing, ``updates`` user edits arrive at ``rate``
per second on records chosen by a seeded RNG, each category on its own records:

- single: one edit on one side (one or two fields);
- double: an edit, then a second edit of the same fields on the same side 0.5-1 s later (the race
  of "a newer edit never loses to hssync's own write");
- both: the same field edited on both sides at the same moment (the winner is the later edit by the
  CRMs' own timestamps at whole-second precision, Salesforce's on a tie).

Then faults off, wait for idle, and check both CRMs through the emulators' stores (no API call):
lost records, duplicates, diverged linked pairs, lost updates, and writes after idle (calls that
change CRM data in a quiet period once idle: there must be none). Records and edits are made
in-process, as bench/pipeline.py makes them, so every API call counted is the pipeline's.
"""

from __future__ import annotations

import heapq
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import requests

from bench.pipeline import (
    PROGRESS_EVERY,
    api_calls,
    create_hubspot_contacts,
    create_salesforce_leads,
    dead_letters_by_queue,
    fresh_world,
    hubspot_user_edit,
    print_progress,
    salesforce_user_edit,
    warm_up,
)
from bench.report import table
from infra.local_stack import LocalStack
from infra.sandbox.runner import Sandbox
from infra.sandbox.salesforce.values import parse_datetime

Side = Literal["hubspot", "salesforce"]
Category = Literal["single", "double", "both"]
SIDES: tuple[Side, ...] = ("hubspot", "salesforce")
Progress = Callable[[str], None]

# the fields the edits touch (two-way in both the demo and the default configuration)
EDITED: dict[str, str] = {"firstname": "FirstName", "lastname": "LastName", "jobtitle": "Title"}
COMPARED: dict[str, str] = {"email": "Email", **EDITED}  # what a linked pair must agree on
VALUE_PREFIX = {"firstname": "Ann", "lastname": "Edited", "jobtitle": "Title"}

# "lost": the write is applied, then the answer is dropped (not every sandbox has it yet)
FAULT_KINDS: dict[Side, list[str]] = {
    "salesforce": ["429", "5xx", "timeout", "lock", "lost"],
    "hubspot": ["429", "5xx", "timeout", "lost"],
}
OPTIONAL_KINDS = ("lost",)
FAULT_TIMEOUT_SECONDS = 0.5

DOUBLE_SHARE = 0.2  # of the edited records: a second edit on the same side
BOTH_SHARE = 0.1  # of the edited records: the same field edited on both sides at once
SECOND_EDIT_AFTER = (0.5, 1.0)  # seconds
COUNTERPART_WAIT = 60.0  # a both-sides edit waits for the record to exist on both sides
IDLE_TIMEOUT = 600.0
QUIET_SECONDS = 3.0
SAMPLES = 10

WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
# calls sent with a write method that only read, authenticate or subscribe (no change to CRM data)
READ_CALLS_BY_WRITE_METHOD = (
    "POST /services/oauth2/token",
    "POST /services/data/{version}/composite",
    "POST /services/data/{version}/composite/sobjects/{sobject}",
    "POST /crm/v3/objects/{object_type}/batch/read",
    "POST /crm/v3/objects/{object_type}/search",
    "POST /crm/v3/lists/records/memberships/batch/read",
)


# -- the plan --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A record of the burst: where it was created, its id there, its email."""

    origin: Side
    record_id: str
    email: str


@dataclass(frozen=True)
class Action:
    """A user action at ``at`` seconds into the edits: its edits, made back to back."""

    at: float
    target: Target
    category: Category
    edits: tuple[tuple[Side, dict[str, str]], ...]  # side, HubSpot property -> value
    follows_first: bool = False  # a double's second edit: made on whichever side the first used


@dataclass(frozen=True)
class Done:
    """An edit as made: its value and the CRM's own timestamp of it (whole seconds)."""

    email: str
    side: Side
    name: str  # HubSpot property
    value: str
    second: int
    seq: int
    category: Category


def category_sizes(updates: int) -> tuple[int, int, int]:
    """Records edited once, twice on one side, and on both sides, for ``updates`` edits in all."""
    per_record = 1 - DOUBLE_SHARE - BOTH_SHARE + 2 * (DOUBLE_SHARE + BOTH_SHARE)
    edited = updates / per_record
    doubles, boths = round(edited * DOUBLE_SHARE), round(edited * BOTH_SHARE)
    return updates - 2 * (doubles + boths), doubles, boths


def plan_edits(seed: int, targets: list[Target], updates: int, rate: float) -> list[Action]:
    """The user actions, in time order: distinct records per category, sides and fields seeded."""
    rng = random.Random(seed)
    singles, doubles, boths = category_sizes(updates)
    if singles + doubles + boths > len(targets):
        raise ValueError(f"{updates} updates need more than {len(targets)} records")
    chosen = rng.sample(targets, singles + doubles + boths)
    kinds: tuple[Category, ...] = ("single", "double", "both")
    categories = [c for c, n in zip(kinds, (singles, doubles, boths), strict=True) for _ in range(n)]
    slots = list(range(len(chosen)))
    rng.shuffle(slots)
    spacing = updates / rate / len(chosen)
    counter = iter(range(1, 10**9))

    def values(names: Iterable[str]) -> dict[str, str]:
        return {n: f"{VALUE_PREFIX[n]} {seed}-{next(counter)}" for n in names}

    actions: list[Action] = []
    for target, category, slot in zip(chosen, categories, slots, strict=True):
        at = slot * spacing
        if category == "both":
            name = rng.choice(list(EDITED))
            first, second = rng.sample(SIDES, 2)  # which save lands first in the same moment
            edits = ((first, values([name])), (second, values([name])))
            actions.append(Action(at, target, category, edits))
            continue
        side = rng.choice(SIDES)
        names = rng.sample(list(EDITED), rng.choice((1, 2)))
        actions.append(Action(at, target, category, ((side, values(names)),)))
        if category == "double":
            later = at + rng.uniform(*SECOND_EDIT_AFTER)
            actions.append(Action(later, target, category, ((side, values(names)),), follows_first=True))
    return sorted(actions, key=lambda a: a.at)


# -- faults ----------------------------------------------------------------------------------------
def _sandbox_url(sandbox: Sandbox, side: Side) -> str:
    return sandbox.salesforce_url if side == "salesforce" else sandbox.hubspot_url


def faults_on(sandbox: Sandbox, seed: int, rate: float, notes: list[str]) -> dict[str, list[str]]:
    """Faults on in both emulators; the kinds each took. A sandbox without an optional kind answers
    400 "unsupported fault kinds": the request is repeated without it, and ``notes`` says so."""
    taken: dict[str, list[str]] = {}
    for side in SIDES:
        kinds = list(FAULT_KINDS[side])
        while True:
            body = {"rate": rate, "seed": seed, "kinds": kinds, "timeout_seconds": FAULT_TIMEOUT_SECONDS}
            answer = requests.post(
                f"{_sandbox_url(sandbox, side)}/_sandbox/faults",
                json=body,
                verify=str(sandbox.tls.ca_cert),
                timeout=10,
            )
            missing = [k for k in OPTIONAL_KINDS if k in kinds and k in answer.text]
            if answer.status_code == 400 and "unsupported fault kinds" in answer.text and missing:
                kinds = [k for k in kinds if k not in missing]
                notes.append(f"{side}: fault kind(s) {missing} not supported by this sandbox; ran without")
                continue
            answer.raise_for_status()
            taken[side] = kinds
            break
    return taken


def faults_injected(sandbox: Sandbox) -> dict[str, dict[str, int]]:
    """``GET /_sandbox/faults``' injected counters of both emulators (turning faults off clears them)."""
    out: dict[str, dict[str, int]] = {}
    for side in SIDES:
        answer = requests.get(
            f"{_sandbox_url(sandbox, side)}/_sandbox/faults", verify=str(sandbox.tls.ca_cert), timeout=10
        )
        answer.raise_for_status()
        out[side] = {str(k): int(v) for k, v in answer.json()["injected"].items()}
    return out


def webhook_deliveries(sandbox: Sandbox) -> tuple[int, int]:
    """The HubSpot emulator's failed webhook requests and the notifications it gave up on (HubSpot
    retries for hours; the emulator a few seconds): an abandoned one is a change hssync never hears of
    until a poll, so a diverged pair with abandoned notifications is not hssync's loss."""
    answer = requests.get(
        f"{sandbox.hubspot_url}/_sandbox/webhooks/deliveries", verify=str(sandbox.tls.ca_cert), timeout=10
    )
    answer.raise_for_status()
    body = answer.json()
    return int(body.get("failedAttempts", 0)), int(body.get("abandoned", 0))


def faults_off(sandbox: Sandbox) -> None:
    for side in SIDES:
        requests.post(
            f"{_sandbox_url(sandbox, side)}/_sandbox/faults",
            json={"rate": 0},
            verify=str(sandbox.tls.ca_cert),
            timeout=10,
        ).raise_for_status()


# -- the burst and the users ---------------------------------------------------------------------
def integration_user_is_a_hubspot_owner(sandbox: Sandbox) -> None:
    """Makes the Salesforce user hssync writes as a HubSpot user (owner) too, as in most portals:
    records it owns (every record created in Salesforce here) then have a HubSpot owner."""
    store = sandbox.salesforce.store
    with sandbox.salesforce.lock:
        users = store.rows("User", include_deleted=False)
    user = next(u for u in users if u.get("Email") and u.get("IsActive"))
    body = {"email": user["Email"], "firstName": user.get("FirstName") or "", "lastName": user["LastName"]}
    url = f"{sandbox.hubspot_url}/_sandbox/owners"
    requests.post(url, json=body, verify=str(sandbox.tls.ca_cert), timeout=10).raise_for_status()


def create_burst(sandbox: Sandbox, records: int, tag: str) -> list[Target]:
    """Half the records as HubSpot contacts, half as Salesforce leads, as batch imports make them."""
    contacts = create_hubspot_contacts(sandbox, records // 2, f"{tag}h")
    leads = create_salesforce_leads(sandbox, records - records // 2, f"{tag}s")
    store = sandbox.hubspot.store
    targets = []
    for contact_id in contacts:
        record = store.get("contacts", contact_id)
        assert record is not None
        targets.append(Target("hubspot", contact_id, str(record.properties["email"]).lower()))
    with sandbox.salesforce.lock:
        for lead_id in leads:
            row = sandbox.salesforce.store.get("Lead", lead_id, include_deleted=False)
            assert row is not None
            targets.append(Target("salesforce", lead_id, str(row["Email"]).lower()))
    return targets


def _hubspot_id(sandbox: Sandbox, target: Target) -> str | None:
    if target.origin == "hubspot":
        return target.record_id
    record = sandbox.hubspot.store.contact_by_email(target.email)
    return record.id if record is not None else None


def _salesforce_ref(sandbox: Sandbox, target: Target) -> tuple[str, str] | None:
    if target.origin == "salesforce":
        return "Lead", target.record_id
    with sandbox.salesforce.lock:
        for sobject in ("Lead", "Contact"):
            for row in sandbox.salesforce.store.rows(sobject, include_deleted=False):
                if str(row.get("Email") or "").lower() == target.email:
                    return sobject, str(row["Id"])
    return None


def _exists_on(sandbox: Sandbox, target: Target, side: Side) -> bool:
    if side == "hubspot":
        return _hubspot_id(sandbox, target) is not None
    return _salesforce_ref(sandbox, target) is not None


def _edit(sandbox: Sandbox, target: Target, side: Side, values: dict[str, str]) -> dict[str, int]:
    """One user's save on ``side``; the CRM's timestamp (epoch seconds) of each value it set."""
    if side == "hubspot":
        contact_id = _hubspot_id(sandbox, target)
        assert contact_id is not None
        hubspot_user_edit(sandbox, contact_id, values)
        record = sandbox.hubspot.store.get("contacts", contact_id)
        assert record is not None
        seconds = {}
        for name, value in values.items():
            version = next(
                v for v in record.history.get(name, []) if v.value == value and v.source_type == "CRM_UI"
            )
            seconds[name] = int(version.timestamp.timestamp())
        return seconds
    ref = _salesforce_ref(sandbox, target)
    assert ref is not None
    row = salesforce_user_edit(sandbox, ref[0], ref[1], {EDITED[n]: v for n, v in values.items()})
    modified = parse_datetime(str(row["LastModifiedDate"]))
    assert modified is not None
    return dict.fromkeys(values, int(modified.timestamp()))


@dataclass
class Users:
    """The users making the planned edits, and what they did."""

    sandbox: Sandbox
    done: list[Done] = field(default_factory=list)
    saves: Counter[str] = field(default_factory=Counter)  # user saves made, per category
    side_used: dict[str, Side] = field(default_factory=dict)  # email -> the side of a double's first
    # edits made on the origin side alone: the other side had no record yet (a single or double's
    # side when the edit came; a both-sides edit's after COUNTERPART_WAIT)
    fallbacks: int = 0
    deferred: int = 0  # both-sides actions put off: the record was not on both sides yet
    max_lag: float = 0.0  # the latest an action was made after its planned time (seconds)

    def ready(self, action: Action) -> bool:
        """A both-sides edit needs the record on both sides; every other action can go now."""
        return action.category != "both" or all(_exists_on(self.sandbox, action.target, s) for s in SIDES)

    def act(self, action: Action) -> None:
        for side, values in self._edits(action):
            seconds = _edit(self.sandbox, action.target, side, values)
            self.saves[action.category] += 1
            for name, value in values.items():
                seq = len(self.done)
                self.done.append(
                    Done(action.target.email, side, name, value, seconds[name], seq, action.category)
                )

    def _edits(self, action: Action) -> tuple[tuple[Side, dict[str, str]], ...]:
        target = action.target
        if action.category == "both":
            return action.edits
        side, values = action.edits[0]
        if action.follows_first:
            side = self.side_used[target.email]
        elif not _exists_on(self.sandbox, target, side):
            side = target.origin
            self.fallbacks += 1
        self.side_used[target.email] = side
        return ((side, values),)


def make_edits(users: Users, actions: list[Action], progress: Progress, label: str) -> None:
    """Each action at its planned time (or as soon as possible after it); a both-sides action whose
    record is not on both sides yet is put off by half a second (for up to COUNTERPART_WAIT, then made
    on the origin side alone)."""
    started = last_report = time.monotonic()
    due = [(a.at, n, a) for n, a in enumerate(actions)]
    heapq.heapify(due)
    made = 0
    while due:
        at, n, action = heapq.heappop(due)
        delay = started + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if not users.ready(action):
            if at - action.at <= COUNTERPART_WAIT:
                users.deferred += 1
                heapq.heappush(due, (at + 0.5, n, action))
                continue
            # the record never reached the other side: its origin side's edit alone
            action = replace(action, edits=tuple(e for e in action.edits if e[0] == action.target.origin))
            users.fallbacks += 1
        users.max_lag = max(users.max_lag, -delay)
        users.act(action)
        made += 1
        if time.monotonic() - last_report >= PROGRESS_EVERY:
            progress(f"{label}: {made}/{len(actions)} user actions after {time.monotonic() - started:.0f} s")
            last_report = time.monotonic()


# -- the checker -----------------------------------------------------------------------------------
@dataclass
class Verdict:
    lost: int  # records of the burst missing on either side
    duplicated: int  # extra records with a burst record's email, on either side
    diverged: int  # linked pairs whose compared fields differ
    lost_updates: int  # (record, field) edited whose final value, on either side, is not the latest edit
    linked: int
    samples: list[dict[str, Any]]  # a few of the problems, for a reader


def _hubspot_by_email(sandbox: Sandbox) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    for record in sandbox.hubspot.store.records("contacts"):
        found[str(record.properties.get("email") or "").lower()].append(record)
    return found


def _salesforce_by_email(sandbox: Sandbox) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with sandbox.salesforce.lock:
        for sobject in ("Lead", "Contact"):
            for row in sandbox.salesforce.store.rows(sobject, include_deleted=False):
                found[str(row.get("Email") or "").lower()].append(dict(row))
    return found


def expected_values(done: list[Done]) -> dict[tuple[str, str], Done]:
    """Per (email, property): the edit that must win. The later by the CRMs' timestamps (whole
    seconds), Salesforce's when in the same second; on one side, simply the later edit."""
    winners: dict[tuple[str, str], Done] = {}
    for edit in done:
        key = (edit.email, edit.name)
        current = winners.get(key)
        if current is None or _rank(edit) > _rank(current):
            winners[key] = edit
    return winners


def _rank(edit: Done) -> tuple[int, bool, int]:
    return edit.second, edit.side == "salesforce", edit.seq


def _same(a: Any, b: Any) -> bool:
    return (a or None) == (b or None)


def _diverged(
    sandbox: Sandbox, stack: LocalStack, contact_ids: list[str]
) -> tuple[int, int, list[dict[str, Any]]]:
    """Linked pairs among ``contact_ids``, and those whose compared fields differ (described with
    their ids and the link's bookkeeping, for tracing them in the functions' logs)."""
    portal = str(sandbox.hs_creds.portal_id)
    linked = differ = 0
    emails: list[dict[str, Any]] = []
    for start in range(0, len(contact_ids), 100):
        for contact_id, link in stack.state.links_by_hubspot(
            portal, contact_ids[start : start + 100]
        ).items():
            linked += 1
            record = sandbox.hubspot.store.get("contacts", contact_id)
            with sandbox.salesforce.lock:
                row = sandbox.salesforce.store.get(link.sf_object, link.sf_id, include_deleted=False)
            props = record.properties if record is not None else {}
            values = dict(row) if row is not None else {}
            if not all(_same(str(props.get(h) or "").lower() if h == "email" else props.get(h),
                             str(values.get(s) or "").lower() if h == "email" else values.get(s))
                       for h, s in COMPARED.items()):  # fmt: skip
                differ += 1
                emails.append(
                    {
                        "problem": "diverged",
                        "email": str(props.get("email")),
                        "hubspot_id": contact_id,
                        "salesforce_id": link.sf_id,
                        "link_rev": link.rev,
                        "link_synced": {h: link.synced.get(h) for h in COMPARED},
                        "link_intent": repr(link.intent) if link.intent is not None else None,
                    }
                )
    return linked, differ, emails


def check(sandbox: Sandbox, stack: LocalStack, targets: list[Target], done: list[Done]) -> Verdict:
    """Both CRMs after idle, through the emulators' stores (no API call)."""
    hubspot, salesforce = _hubspot_by_email(sandbox), _salesforce_by_email(sandbox)
    samples: list[dict[str, Any]] = []
    lost = duplicated = 0
    for t in targets:
        here = (len(hubspot.get(t.email, [])), len(salesforce.get(t.email, [])))
        if 0 in here:
            lost += 1
            samples.append({"problem": "lost", "email": t.email, "origin": t.origin, "records": here})
        duplicated += sum(max(0, n - 1) for n in here)
        if max(here) > 1:
            samples.append({"problem": "duplicated", "email": t.email, "records": here})
    contact_ids = [r.id for t in targets for r in hubspot.get(t.email, [])]
    linked, diverged, differing = _diverged(sandbox, stack, contact_ids)
    samples += differing
    lost_updates = 0
    for (email, name), winner in expected_values(done).items():
        hs = hubspot[email][0].properties.get(name) if hubspot.get(email) else None
        sf = salesforce[email][0].get(EDITED[name]) if salesforce.get(email) else None
        if hs == winner.value and sf == winner.value:
            continue
        lost_updates += 1
        edits = [asdict(d) for d in done if d.email == email and d.name == name]
        samples.append({"problem": "lost update", "email": email, "field": name, "expected": winner.value,
                        "hubspot": hs, "salesforce": sf, "edits": edits,
                        "hubspot_history": _history(hubspot.get(email), name)})  # fmt: skip
    return Verdict(lost, duplicated, diverged, lost_updates, linked, samples)


def _history(records: list[Any] | None, name: str) -> list[str]:
    """A HubSpot property's history, oldest first: value @ timestamp (source)."""
    versions = records[0].history.get(name, []) if records else []
    return [
        f"{v.value!r} @{v.timestamp.isoformat(timespec='milliseconds')} ({v.source_type})" for v in versions
    ][::-1]


def write_calls(calls: Counter[str]) -> int:
    """Calls that change CRM data (a write method, not one of the reads sent as POST)."""
    return sum(
        n
        for key, n in calls.items()
        if key.split(" ", 1)[0] in WRITE_METHODS
        and key not in READ_CALLS_BY_WRITE_METHOD
        and not key.split(" ", 1)[1].startswith("/webhooks/")
    )


# -- a run -----------------------------------------------------------------------------------------
@dataclass
class SoakRun:
    seed: int
    records: int
    updates: int
    rate: float
    fault_rate: float
    fault_kinds: dict[str, list[str]]  # as each emulator took them
    lost: int
    duplicated: int
    diverged: int
    lost_updates: int
    writes_after_idle: int
    salesforce_calls: int  # from faults on until idle, faulted attempts included
    hubspot_calls: int
    faults_injected: dict[str, dict[str, int]]  # per emulator, per kind
    wall_seconds: float  # faults on .. checked
    idle: bool  # went idle within the timeout
    idle_seconds: float  # faults on .. idle
    linked: int
    edits: dict[str, int]  # user saves made, per category (a both-sides action: two saves)
    deferred: int  # both-sides actions put off: the record was not on both sides yet
    fallbacks: int  # edits made on the origin side alone: the other side had no record yet (Users)
    max_lag_seconds: float  # the latest a user action came after its planned time
    calls_after_idle: dict[str, int]  # every call (reads too) in the quiet period after idle
    dead_letters: int
    webhook_failures: int  # webhook requests the Function URL did not answer 2xx (HubSpot retries them)
    webhooks_abandoned: int  # notifications the emulator gave up on after its retries
    health: list[str]  # health entries (writes that failed for good): system, record, code
    notes: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def faults_total(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.faults_injected.values())

    @property
    def clean(self) -> bool:
        problems = (self.lost, self.duplicated, self.diverged, self.lost_updates, self.writes_after_idle)
        return self.idle and not any(problems)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "faults_injected_total": self.faults_total, "clean": self.clean}


def wait_for_idle(stack: LocalStack, timeout: float, progress: Progress, label: str) -> bool:
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if stack.wait_idle(max(0.1, min(PROGRESS_EVERY, deadline - time.monotonic()))):
            return True
        progress(
            f"{label}: not idle after {time.monotonic() - started:.0f} s "
            f"({stack.pending()} deliveries pending)"
        )
    return False


def _quiet_period(sandbox: Sandbox, stack: LocalStack, seconds: float) -> tuple[int, dict[str, int]]:
    """After idle: the write calls (and all calls, per system) made in ``seconds`` more."""
    sf_before, hs_before = api_calls(sandbox)
    time.sleep(seconds)
    stack.wait_idle(seconds)
    sf_after, hs_after = api_calls(sandbox)
    sf, hs = sf_after - sf_before, hs_after - hs_before
    return write_calls(sf) + write_calls(hs), {"salesforce": sum(sf.values()), "hubspot": sum(hs.values())}


def soak_on(
    sandbox: Sandbox,
    stack: LocalStack,
    *,
    seed: int,
    records: int,
    updates: int,
    rate: float,
    fault_rate: float,
    progress: Progress = print_progress,
    idle_timeout: float = IDLE_TIMEOUT,
    quiet_seconds: float = QUIET_SECONDS,
) -> SoakRun:
    """The soak on a stack in a fresh world (empty CRMs and state)."""
    label, notes = f"soak seed {seed}", list[str]()
    sf_before, hs_before = api_calls(sandbox)
    began = time.monotonic()
    kinds = faults_on(sandbox, seed, fault_rate, notes)
    for note in notes:
        progress(f"{label}: {note}")
    targets = create_burst(sandbox, records, f"k{seed}")
    progress(f"{label}: {records:,} new records created; {updates} user edits at {rate:g}/s under faults")
    users = Users(sandbox)
    try:
        make_edits(users, plan_edits(seed, targets, updates, rate), progress, label)
    finally:
        injected = faults_injected(sandbox)
        faults_off(sandbox)
    progress(f"{label}: edits made, faults off ({sum(sum(k.values()) for k in injected.values())} injected)")
    idle = wait_for_idle(stack, idle_timeout, progress, label)
    idle_seconds = time.monotonic() - began
    sf_after, hs_after = api_calls(sandbox)
    verdict = check(sandbox, stack, targets, users.done)
    writes, calls_after = _quiet_period(sandbox, stack, quiet_seconds)
    webhook_failures, abandoned = webhook_deliveries(sandbox)
    return SoakRun(
        seed=seed, records=records, updates=sum(users.saves.values()), rate=rate, fault_rate=fault_rate,
        fault_kinds=kinds, lost=verdict.lost, duplicated=verdict.duplicated, diverged=verdict.diverged,
        lost_updates=verdict.lost_updates, writes_after_idle=writes,
        salesforce_calls=sum((sf_after - sf_before).values()),
        hubspot_calls=sum((hs_after - hs_before).values()),
        faults_injected=injected, wall_seconds=time.monotonic() - began, idle=idle,
        idle_seconds=idle_seconds, linked=verdict.linked,
        edits=dict(users.saves), deferred=users.deferred, fallbacks=users.fallbacks,
        max_lag_seconds=users.max_lag, calls_after_idle=calls_after,
        dead_letters=sum(dead_letters_by_queue(stack).values()),
        webhook_failures=webhook_failures, webhooks_abandoned=abandoned,
        health=[f"{h.system} {h.record} {h.code}" for h in stack.health()],
        notes=notes, samples=verdict.samples[:SAMPLES],
    )  # fmt: skip


def soak_run(
    seed: int,
    records: int = 1000,
    updates: int = 300,
    rate: float = 10.0,
    fault_rate: float = 0.1,
    progress: Progress = print_progress,
) -> SoakRun:
    """The soak on a fresh stack (bench/pipeline.py's fresh_world: events only, no scheduled poll),
    whose Salesforce integration user is a HubSpot owner, as in most portals: the owner Salesforce
    gives each record hssync creates is written back to HubSpot while people edit those records."""
    with fresh_world() as (sandbox, stack):
        integration_user_is_a_hubspot_owner(sandbox)
        progress(f"soak seed {seed}: warming the fresh stack up (one record each way)")
        warm_up(sandbox, stack, f"soak{seed}")
        return soak_on(
            sandbox,
            stack,
            seed=seed,
            records=records,
            updates=updates,
            rate=rate,
            fault_rate=fault_rate,
            progress=progress,
        )


# -- rendering -------------------------------------------------------------------------------------
HEADERS = [
    "seed", "records", "updates", "lost", "duplicated", "diverged", "lost updates",
    "writes after idle", "SF calls", "HS calls", "faults injected", "wall s",
]  # fmt: skip


def _row(run: SoakRun) -> tuple[object, ...]:
    return (
        str(run.seed), run.records, run.updates, run.lost, run.duplicated, run.diverged, run.lost_updates,
        run.writes_after_idle, run.salesforce_calls, run.hubspot_calls, run.faults_total, run.wall_seconds,
    )  # fmt: skip


def render_soak(runs: list[SoakRun]) -> str:
    rows = [_row(r) for r in runs]
    if len(runs) > 1:
        sums = [sum(int(row[i]) for row in rows) for i in range(1, 11)]  # type: ignore[call-overload]
        rows.append(("total", *sums, sum(r.wall_seconds for r in runs)))
    lines = [table(HEADERS, rows)]
    kinds = runs[0].fault_kinds if runs else {}
    rate = runs[0].fault_rate if runs else 0.0
    lines.append(
        f"  faults: rate {rate:g}, kinds "
        + "; ".join(f"{side} {', '.join(k)}" for side, k in kinds.items())
        + f"; a timeout answers nothing after {FAULT_TIMEOUT_SECONDS:g} s"
    )
    for note in sorted({n for r in runs for n in r.notes}):
        lines.append(f"  NOTE {note}")
    not_idle = [str(r.seed) for r in runs if not r.idle]
    if not_idle:
        lines.append(f"  NOT IDLE within the timeout: seeds {', '.join(not_idle)}")
    for r in runs:
        saves = ", ".join(f"{k} {v}" for k, v in sorted(r.edits.items()))
        lines.append(
            f"  seed {r.seed}: user saves {saves}; made on the origin side alone {r.fallbacks}; "
            f"idle after {r.idle_seconds:.0f} s; dead letters {r.dead_letters}; "
            f"health entries {len(r.health)}; webhook requests failed {r.webhook_failures}, "
            f"notifications abandoned {r.webhooks_abandoned}"
        )
        for sample in r.samples[:3]:
            lines.append(f"  seed {r.seed}: {_sample_line(sample)}")
    return "\n".join(lines)


def _sample_line(sample: dict[str, Any]) -> str:
    if sample["problem"] != "lost update":
        return ", ".join(f"{k} {v}" for k, v in sample.items())
    edits = "; ".join(f"{e['side']} {e['value']!r} @{e['second']}" for e in sample["edits"])
    return (
        f"lost update {sample['email']} {sample['field']}: expected {sample['expected']!r}, HubSpot "
        f"{sample['hubspot']!r}, Salesforce {sample['salesforce']!r} (edits: {edits})"
    )
