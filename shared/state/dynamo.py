"""The DynamoDB ``StatePort``: one table, keys as documented in ``shared/state/keys.py``.

Links. The item keyed by the HubSpot id holds the link (counterpart, ``synced`` values, times); the
item keyed by the Salesforce id is a pointer to the HubSpot id. A link exists only while both agree,
and every read checks that, so no write order, partial batch or race can make a link wrong: at worst
it is briefly invisible (and the at-least-once redelivery of the message that saved it repeats the
save). The content lives in one item, so concurrent savers can never leave the two directions with
different ``synced`` values. Reads are two ``BatchGetItem`` rounds (100 keys per call); writes are
``BatchWriteItem`` (25 items per call) after one ``BatchGetItem`` that tells what changed: an
unchanged link costs no write, a content update one item, a new link two. Pointers are written before
contents, so a link switches counterpart in one single-item write; the items a changed link leaves
behind are removed afterwards, once a read confirms they are stale.

Why not ``TransactWriteItems``: it needs 4x fewer calls for new links but costs 2x the write units,
and moto (the local runtime and the tests) copies the whole table for every item of every
transaction: saving 1,000 new links took 101 s against 0.45 s with ``BatchWriteItem``, growing with
the square of the table. The agreement rule gives the consistency a transaction would.

Plans write links conditionally (``commit_links``, ``record_intents``; ``shared.intents``): one
conditional single-item write per link, run a few at a time. A conditional write costs the same
write units as a batched one; only the request count differs.

Company links (HubSpot company <-> Account) are the same items under their own keys (``kind``
"companies" of every link method); links by email are kept for contact links only.

Claims, cursors, health entries and counters are single-item conditional writes or atomic updates.
Reads that decide something are strongly consistent. Expired items (TTL deletion is lazy) are
treated as absent, by the conditions and by the readers.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from shared.accounts.creation_intents import CreationIntent, intent_from_text
from shared.email_events.retry import WaitingEvent
from shared.errors import ErrorCategory, TransientApiError
from shared.intents import IntendedValue, WriteIntent, WrittenSide
from shared.matching import normalize_email
from shared.models import COMPANIES, CONTACTS, LinkKind
from shared.ports import ClaimAsk, ClaimDone, ConfirmedClaim, HealthEntry, IntentRecord, Link, LinkCommit
from shared.state import keys
from shared.state.base import (
    Clock,
    HealthSummary,
    HealthUpdate,
    RecordStatus,
    StateTimings,
    confirm_each,
    epoch_seconds,
    group_health,
    is_expired,
    newest_first,
    prepare_links,
    resolved_by,
    utc_now,
)
from shared.times import epoch_ms, from_epoch_ms

T = TypeVar("T")
R = TypeVar("R")
DynamoDBClient = Any  # a boto3 "dynamodb" client (low-level API, typed attribute values)
AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

BATCH_GET_LIMIT = 100  # keys per BatchGetItem
BATCH_WRITE_LIMIT = 25  # requests per BatchWriteItem
LINKS_PER_ROUND = BATCH_GET_LIMIT // 2  # a link has two items
_CONDITION_FAILED = "ConditionalCheckFailedException"
CONDITIONAL_WRITERS = 8  # conditional single-item writes in flight at once


class DynamoState:
    """``StatePort`` on the ``StateTable``. The boto3 client is created on first use unless given
    (boto3 honours ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_DYNAMODB``, so the local runtime needs no
    special wiring)."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        timings: StateTimings | None = None,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 8,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.table_name = table_name
        self._client = client
        self._client_lock = threading.Lock()
        self._timings = timings or StateTimings()
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    self._client = boto3.client(
                        "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5})
                    )
        return self._client

    # links

    def links_by_hubspot(
        self, portal: str, ids: Sequence[str], *, kind: LinkKind = CONTACTS
    ) -> dict[str, Link]:
        keys.component("portal", portal)
        wanted = {hubspot_id: keys.link_by_hubspot(portal, hubspot_id, kind) for hubspot_id in ids}
        contents = self._batch_get(wanted.values())
        pointers = self._batch_get(_pointer_key(content, kind) for content in contents.values())
        found: dict[str, Link] = {}
        for given, key in wanted.items():
            content = contents.get(key)
            if content is not None and _agree(content, pointers.get(_pointer_key(content, kind))):
                found[given] = _link_from_item(content)
        return found

    def links_by_salesforce(
        self, portal: str, ids: Sequence[str], *, kind: LinkKind = CONTACTS
    ) -> dict[str, Link]:
        keys.component("portal", portal)
        wanted = {sf_id: keys.link_by_salesforce(portal, sf_id, kind) for sf_id in ids}
        pointers = self._batch_get(wanted.values())
        contents = self._batch_get(_content_key(pointer, kind) for pointer in pointers.values())
        found: dict[str, Link] = {}
        for given, key in wanted.items():
            pointer = pointers.get(key)
            content = contents.get(_content_key(pointer, kind)) if pointer is not None else None
            if content is not None and _agree(content, pointer) and _pointer_key(content, kind) == key:
                found[given] = _link_from_item(content)
        return found

    def links_by_email(self, portal: str, emails: Sequence[str]) -> dict[str, Link]:
        """The links holding each of ``emails`` (normalised; as either side's synced email), by email:
        two ``BatchGetItem`` rounds more than ``links_by_hubspot``."""
        keys.component("portal", portal)
        wanted = {e: keys.link_by_email(portal, e) for e in {normalize_email(x) for x in emails} if e}
        pointers = self._batch_get(wanted.values())
        hubspot_ids = {email: _text(pointers.get(key), "hubspot_id") for email, key in wanted.items()}
        links = self.links_by_hubspot(portal, sorted({i for i in hubspot_ids.values() if i}))
        found: dict[str, Link] = {}
        for email, hubspot_id in hubspot_ids.items():
            link = links.get(hubspot_id or "")
            if link is not None and email in link_emails(link):
                found[email] = link
        return found

    def save_links(self, links: Sequence[Link], *, kind: LinkKind = CONTACTS) -> None:
        prepared = prepare_links(links)
        for start in range(0, len(prepared), LINKS_PER_ROUND):
            self._save_round(prepared[start : start + LINKS_PER_ROUND], kind=kind)

    def commit_links(self, commits: Sequence[LinkCommit], *, kind: LinkKind = CONTACTS) -> set[str]:
        prepared = prepare_links([c.link for c in commits])
        decided = {(c.link.portal, c.link.hubspot_id): c for c in commits}
        refused: set[str] = set()
        for start in range(0, len(prepared), LINKS_PER_ROUND):
            chunk = prepared[start : start + LINKS_PER_ROUND]
            committed = [decided[(link.portal, link.hubspot_id)] for link in chunk]
            refused |= self._save_round(chunk, committed, kind=kind)
        return refused

    def record_intents(
        self, portal: str, intents: Sequence[IntentRecord], *, kind: LinkKind = CONTACTS
    ) -> set[str]:
        keys.component("portal", portal)
        now = self._clock()

        def record(entry: IntentRecord) -> str | None:
            key = keys.link_by_hubspot(portal, entry.hubspot_id, kind)
            if entry.rev is None:  # decided with no link: stale once one is stored, nothing recorded
                return entry.hubspot_id if self._get(key) is not None else None
            condition, names, values = _may_write_condition(entry.rev, entry.intent.plan_id, now)
            refused = _refused(
                lambda: self.client.update_item(
                    TableName=self.table_name,
                    Key=_key(key),
                    UpdateExpression="SET #intent = :intent",
                    ConditionExpression=f"attribute_exists(pk) AND {condition}",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={**values, ":intent": _intent_value(entry.intent)},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
            if refused is None:
                return None
            # no link stored and none expected (a link moving to a new contact): nothing to guard
            absent = _returned_item(refused) is None and self._get(key) is None
            return None if absent and entry.rev == 0 else entry.hubspot_id

        return {hubspot_id for hubspot_id in self._each(record, intents) if hubspot_id is not None}

    def _save_round(
        self, links: list[Link], commits: Sequence[LinkCommit] | None = None, *, kind: LinkKind
    ) -> set[str]:
        """Read the items the links touch; write what differs and remove confirmed stale pointers.
        With ``commits``, each content item is a conditional write first, and only the links it
        accepted go on (their pointers, the stale items they leave)."""
        own = [
            (
                keys.link_by_hubspot(link.portal, link.hubspot_id, kind),
                keys.link_by_salesforce(link.portal, link.sf_id, kind),
            )
            for link in links
        ]
        by_email = [key for link in links for key in _email_keys(link, kind)]
        current = self._batch_get([*(key for pair in own for key in pair), *by_email])
        refused: set[str] = set()
        if commits is not None:
            refused = self._commit_contents(links, own, commits, current)
        kept = [(link, pair) for link, pair in zip(links, own, strict=True) if link.hubspot_id not in refused]
        self._write_rest(kept, current, contents=commits is None, kind=kind)
        return refused

    def _commit_contents(
        self,
        links: list[Link],
        own: list[tuple[keys.Key, keys.Key]],
        commits: Sequence[LinkCommit],
        current: Mapping[keys.Key, Item],
    ) -> set[str]:
        """The content items, each conditional on the revision its plan was decided on (decided with
        no link: the revision read just now) and on no live intent of another plan."""
        now = self._clock()

        def commit(entry: tuple[Link, keys.Key, LinkCommit]) -> str | None:
            link, content_key, decided = entry
            condition, names, values = _may_write_condition(decided.rev, decided.plan_id, now)
            item = _link_item(content_key, link, (decided.rev or 0) + 1)
            refused = _refused(
                lambda: self.client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
            )
            return None if refused is None else link.hubspot_id

        entries = [(link, pair[0], c) for link, pair, c in zip(links, own, commits, strict=True)]
        return {hubspot_id for hubspot_id in self._each(commit, entries) if hubspot_id is not None}

    def _write_rest(
        self,
        kept: list[tuple[Link, tuple[keys.Key, keys.Key]]],
        current: Mapping[keys.Key, Item],
        *,
        contents: bool,
        kind: LinkKind,
    ) -> None:
        """Pointers (and, unless committed already, contents) that differ; then the stale items."""
        pointers: list[Item] = []
        items: list[Item] = []
        stale: dict[keys.Key, tuple[str, str]] = {}  # a key left behind -> (attribute, value if stale)
        for link, (content_key, pointer_key) in kept:
            pointer = _pointer_item(pointer_key, link)
            if current.get(pointer_key) != pointer:
                pointers.append(pointer)
            stored = current.get(content_key)
            if contents and stored != _link_item(content_key, link, _rev(stored)):
                items.append(_link_item(content_key, link, _rev(stored) + 1))  # a change: a new revision
            old_sf = _text(current.get(content_key), "sf_id")
            if old_sf is not None and old_sf != link.sf_id:
                stale[keys.link_by_salesforce(link.portal, old_sf, kind)] = ("hubspot_id", link.hubspot_id)
            old_hs = _text(current.get(pointer_key), "hubspot_id")
            if old_hs is not None and old_hs != link.hubspot_id:
                stale[keys.link_by_hubspot(link.portal, old_hs, kind)] = ("sf_id", link.sf_id)
        for _link, pair in kept:
            for key in pair:
                stale.pop(key, None)
        candidates = self._batch_get(stale)
        # links by email are hints (their readers check them), written first and never removed
        by_email = _email_pointers(kept, current, kind)
        self._batch_write([{"PutRequest": {"Item": item}} for item in by_email])
        # Pointers first, then contents: a link switches to its new counterpart in the single write of
        # its content item, so an interrupted save leaves the old link or the new one, never a mix.
        self._batch_write([{"PutRequest": {"Item": item}} for item in pointers])
        self._batch_write([{"PutRequest": {"Item": item}} for item in items])
        self._batch_write(
            [
                {"DeleteRequest": {"Key": _key(key)}}
                for key, (attribute, value) in stale.items()
                if _text(candidates.get(key), attribute) == value
            ]
        )

    def _each(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``work`` for every item, a few conditional writes at a time (each is one request)."""
        if len(items) <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(CONDITIONAL_WRITERS, len(items))) as pool:
            return list(pool.map(work, items))

    # creation claims

    def first_receipt(self, portal: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        """One conditional put: refused while an unexpired record of the same request exists."""
        key = keys.webhook_request(portal, fingerprint)
        now = epoch_seconds(self._clock())
        refused = _refused(
            lambda: self.client.put_item(
                TableName=self.table_name,
                Item={**_key(key), "expires_at": {"N": str(epoch_seconds(expires_at))}},
                ConditionExpression="attribute_not_exists(pk) OR #expires < :now",
                ExpressionAttributeNames={"#expires": "expires_at"},
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        )
        return refused is None

    def claim_creation(self, portal: str, target: str, email: str, claimant: str) -> str | None:
        key = keys.claim(portal, target, email)
        keys.require("claimant", claimant)
        now = epoch_seconds(self._clock())
        item = {
            **_key(key),
            "claimant": {"S": claimant},
            "expires_at": {"N": str(now + int(self._timings.claim_ttl.total_seconds()))},
        }
        refused = _refused(
            lambda: self.client.put_item(
                TableName=self.table_name,
                Item=item,
                # free, expired (TTL deletion is lazy), or already ours and not yet completed
                ConditionExpression=(
                    "attribute_not_exists(pk) OR #expires < :now"
                    " OR (#claimant = :claimant AND attribute_not_exists(#record))"
                ),
                ExpressionAttributeNames={
                    "#expires": "expires_at",
                    "#claimant": "claimant",
                    "#record": "record_id",
                },
                ExpressionAttributeValues={":now": {"N": str(now)}, ":claimant": {"S": claimant}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        )
        if refused is None:
            return None
        held = _returned_item(refused) or self._get(key) or {}
        holder = _text(held, "record_id") or _text(held, "claimant")
        if holder is None:  # released between the write and the read: the caller may try again
            raise TransientApiError(f"claim {key.pk} changed while being read") from refused
        return holder

    def confirm_claims(
        self, portal: str, asks: Sequence[ClaimAsk], *, for_at_least: dt.timedelta
    ) -> dict[ClaimAsk, str | None]:
        """The claims read 100 a call; only those not held long enough are claimed again (a
        conditional write each, as ``claim_creation``)."""
        wanted = {ask: keys.claim(portal, ask.target, ask.email) for ask in asks}
        found = self._batch_get(wanted.values())
        items = {ask: found.get(key) or {} for ask, key in wanted.items()}
        held = {
            a: (_text(i, "claimant"), _text(i, "record_id"), _number(i, "expires_at"))
            for a, i in items.items()
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
        """One conditional update: the claim is free (none, expired, handed back) or already this
        claimant's and not completed; with an intent, also no other create's intent in its lease. An
        update, not a put: a create's intent handed back stays on the claim."""
        now = epoch_seconds(self._clock())
        names = {"#claimant": "claimant", "#expires": "expires_at", "#record": "record_id"}
        values: Item = {
            ":now": {"N": str(now)},
            ":claimant": {"S": claimant},
            ":expires": {"N": str(now + int(self._timings.claim_ttl.total_seconds()))},
        }
        update = "SET #claimant = :claimant, #expires = :expires"
        condition = (
            "(attribute_not_exists(pk) OR #expires < :now OR attribute_not_exists(#claimant)"
            " OR (#claimant = :claimant AND attribute_not_exists(#record)))"
        )
        if intent is not None:
            names |= {"#intent": "intent", "#lease": "intent_lease"}
            values |= {
                ":intent": {"S": intent.to_text()},
                ":lease": {"N": str(epoch_seconds(intent.lease_until))},
            }
            update += ", #intent = :intent, #lease = :lease"
            condition += " AND (attribute_not_exists(#lease) OR #lease <= :now OR #expires < :now)"
        answer: dict[str, Any] = {}
        refused = _refused(
            lambda: answer.update(
                self.client.update_item(
                    TableName=self.table_name,
                    Key=_key(key),
                    UpdateExpression=f"{update} REMOVE #record",
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
        )
        if refused is None:
            return ConfirmedClaim(None, _earlier_intent(answer.get("Attributes"), self._clock()))
        held = _returned_item(refused) or self._get(key) or {}
        holder = _text(held, "record_id") or _text(held, "claimant")
        if holder is None:  # released between the write and the read: the caller may try again
            raise TransientApiError(f"claim {key.pk} changed while being read") from refused
        return ConfirmedClaim(holder)

    def hand_back_creation(
        self, portal: str, target: str, key: str, claimant: str, intent: CreationIntent
    ) -> None:
        claim = keys.claim(portal, target, key)
        keys.require("claimant", claimant)
        kept = epoch_seconds(self._clock()) + int(self._timings.completed_claim_ttl.total_seconds())
        _refused(  # refused: not ours, or completed; nothing to hand back
            lambda: self.client.update_item(
                TableName=self.table_name,
                Key=_key(claim),
                UpdateExpression=(
                    "SET #intent = :intent, #lease = :lease, #expires = :expires REMOVE #claimant"
                ),
                ConditionExpression="#claimant = :claimant AND attribute_not_exists(#record)",
                ExpressionAttributeNames={
                    "#claimant": "claimant",
                    "#record": "record_id",
                    "#intent": "intent",
                    "#lease": "intent_lease",
                    "#expires": "expires_at",
                },
                ExpressionAttributeValues={
                    ":claimant": {"S": claimant},
                    ":intent": {"S": intent.to_text()},
                    ":lease": {"N": str(epoch_seconds(intent.lease_until))},
                    ":expires": {"N": str(kept)},
                },
            )
        )

    def complete_claims(self, portal: str, done: Sequence[ClaimDone]) -> None:
        """The completed claims in batch writes of 25 (puts of the whole item: its claimant, record
        and expiry are all known)."""
        expires_at = epoch_seconds(self._clock()) + int(self._timings.completed_claim_ttl.total_seconds())
        items: dict[keys.Key, Item] = {}
        for claim in done:
            key = keys.claim(portal, claim.target, claim.email)
            keys.require("record id", claim.record_id)
            items[key] = {
                **_key(key),
                "claimant": {"S": claim.claimant},
                "record_id": {"S": claim.record_id},
                "expires_at": {"N": str(expires_at)},
            }
        self._batch_write([{"PutRequest": {"Item": item}} for item in items.values()])

    def release_claim(self, portal: str, target: str, email: str, claimant: str) -> None:
        key = keys.claim(portal, target, email)
        keys.require("claimant", claimant)
        # refused: not ours, already completed, or gone; nothing to release
        _refused(
            lambda: self.client.delete_item(
                TableName=self.table_name,
                Key=_key(key),
                ConditionExpression="#claimant = :claimant AND attribute_not_exists(#record)",
                ExpressionAttributeNames={"#claimant": "claimant", "#record": "record_id"},
                ExpressionAttributeValues={":claimant": {"S": claimant}},
            )
        )

    # cursors

    def get_cursor(self, portal: str, name: str) -> str | None:
        return _text(self._get(keys.cursor(portal, name)), "value")

    def set_cursor(self, portal: str, name: str, value: str) -> None:
        key = keys.cursor(portal, name)
        self.client.put_item(TableName=self.table_name, Item={**_key(key), "value": {"S": value}})

    # sync health

    def record_health(self, entries: Sequence[HealthEntry]) -> None:
        now = epoch_seconds(self._clock())
        ttl = self._timings.health_ttl
        expires_at = None if ttl is None else now + int(ttl.total_seconds())
        for update in group_health(entries):
            if _refused(partial(self._accumulate_health, update, now, expires_at)) is not None:
                # the stored entry has expired (TTL deletion is lazy): start it afresh
                self.client.put_item(TableName=self.table_name, Item=_health_item(update, expires_at))
            self._index_health(update, expires_at)

    def _index_health(self, update: HealthUpdate, expires_at: int | None) -> None:
        """Add the entry's sort key to its record's index item (what ``clear_health`` deletes)."""
        index = keys.health_of(update.latest.portal, update.latest.record)
        expression = "ADD entries :sk"
        values: Item = {":sk": {"SS": [update.key.sk]}}
        if expires_at is not None:
            expression = "SET expires_at = :expires " + expression
            values[":expires"] = {"N": str(expires_at)}
        self.client.update_item(
            TableName=self.table_name,
            Key=_key(index),
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )

    def clear_health(self, portal: str, written: Mapping[str, Collection[str]]) -> None:
        """Delete the entries these clean writes resolve (the records' entries are found through
        their index items; a sort key left in an index after its entry is gone finds nothing)."""
        indexes = self._batch_get(keys.health_of(portal, record) for record in written)
        partition = keys.health_partition(portal)
        entries = self._batch_get(
            keys.Key(partition, sort_key)
            for item in indexes.values()
            for sort_key in item.get("entries", {}).get("SS", [])
        )
        requests: list[dict[str, Any]] = []
        for key, item in entries.items():
            entry = _health_from_item(item).entry
            if entry.record in written and resolved_by(entry, written[entry.record]):
                requests.append({"DeleteRequest": {"Key": _key(key)}})
        self._batch_write(requests)

    def _accumulate_health(self, update: HealthUpdate, now: int, expires_at: int | None) -> None:
        fields = _health_fields(update.latest)
        names = {f"#{name}": name for name in fields}
        values = {f":{name}": value for name, value in fields.items()}
        assignments = [f"#{name} = :{name}" for name in fields]
        assignments.append("#first_at = if_not_exists(#first_at, :first_at)")
        names |= {"#first_at": "first_at", "#count": "count", "#expires": "expires_at"}
        values |= {":first_at": {"S": update.first.at.isoformat()}, ":n": {"N": str(update.occurrences)}}
        values[":now"] = {"N": str(now)}
        expression = "SET " + ", ".join(assignments)
        removed = [] if update.latest.fields else ["#fields"]
        if removed:
            names["#fields"] = "fields"
        if expires_at is None:
            removed.append("#expires")
        else:
            expression += ", #expires = :expires"
            values[":expires"] = {"N": str(expires_at)}
        if removed:
            expression += " REMOVE " + ", ".join(removed)
        self.client.update_item(
            TableName=self.table_name,
            Key=_key(update.key),
            UpdateExpression=expression + " ADD #count :n",
            ConditionExpression="attribute_not_exists(#expires) OR #expires >= :now",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def health(self, portal: str, category: ErrorCategory | None = None) -> list[HealthEntry]:
        """The latest occurrence of each (record, code), newest first; optionally of one category."""
        return [summary.entry for summary in self.health_summaries(portal, category)]

    def health_summaries(self, portal: str, category: ErrorCategory | None = None) -> list[HealthSummary]:
        """As ``health``, with how often each entry occurred and when first."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": keys.health_partition(portal)}},
        }
        if category is not None:
            query["KeyConditionExpression"] += " AND begins_with(sk, :prefix)"
            query["ExpressionAttributeValues"][":prefix"] = {"S": keys.health_category_prefix(category.value)}
        now = epoch_seconds(self._clock())
        found: list[tuple[keys.Key, HealthSummary]] = []
        while True:
            page = self.client.query(**query)
            for item in page.get("Items", []):
                if not is_expired(_number(item, "expires_at"), now):
                    found.append((keys.Key(item["pk"]["S"], item["sk"]["S"]), _health_from_item(item)))
            if "LastEvaluatedKey" not in page:
                return newest_first(found)
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # counters

    def add_counters(self, portal: str, counters: Mapping[str, int]) -> None:
        key = keys.counters(portal)
        names = {f"#c{index}": keys.counter_attribute(name) for index, name in enumerate(counters)}
        if not names:
            return
        values = {f":c{index}": {"N": str(int(amount))} for index, amount in enumerate(counters.values())}
        self.client.update_item(
            TableName=self.table_name,
            Key=_key(key),
            UpdateExpression="ADD " + ", ".join(f"#c{index} :c{index}" for index in range(len(names))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def counters(self, portal: str) -> dict[str, int]:
        item = self._get(keys.counters(portal)) or {}
        prefix = keys.COUNTER_ATTRIBUTE_PREFIX
        return {
            name.removeprefix(prefix): int(value["N"])
            for name, value in item.items()
            if name.startswith(prefix)
        }

    # links removed, record statuses

    def remember_associated(self, portal: str, associated: Mapping[str, Link]) -> None:
        keys.component("portal", portal)

        def remember(entry: tuple[str, Link]) -> None:
            company_id, link = entry
            values = _associated_values(link)
            if not values:
                return
            _refused(  # a link deleted meanwhile: nothing to remember
                lambda: self.client.update_item(
                    TableName=self.table_name,
                    Key=_key(keys.link_by_hubspot(portal, company_id, COMPANIES)),
                    UpdateExpression="SET #associated = :associated, #associated_at = :associated_at",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#associated": "associated", "#associated_at": "associated_at"},
                    ExpressionAttributeValues={":associated": values["associated"],
                                               ":associated_at": values["associated_at"]},
                )
            )  # fmt: skip

        list(self._each(remember, list(associated.items())))

    def delete_links(self, portal: str, hubspot_ids: Sequence[str], *, kind: LinkKind = CONTACTS) -> None:
        contents = self._batch_get(keys.link_by_hubspot(portal, i, kind) for i in dict.fromkeys(hubspot_ids))
        requests: list[dict[str, Any]] = []
        for key, item in contents.items():
            requests.append({"DeleteRequest": {"Key": _key(key)}})
            sf_id = _text(item, "sf_id")
            if sf_id is not None:
                pointer = keys.link_by_salesforce(portal, sf_id, kind)
                current = self._get(pointer)
                if current is not None and _text(current, "hubspot_id") == _text(item, "hubspot_id"):
                    requests.append({"DeleteRequest": {"Key": _key(pointer)}})
        self._batch_write(requests)

    def set_statuses(self, portal: str, statuses: Mapping[str, str]) -> None:
        now = epoch_seconds(self._clock())
        ttl = self._timings.health_ttl
        items = []
        for record, reason in statuses.items():
            item: Item = {
                **_key(keys.status(portal, record)),
                "reason": {"S": reason},
                "at": {"N": str(now)},
            }
            if ttl is not None:
                item["expires_at"] = {"N": str(now + int(ttl.total_seconds()))}
            items.append({"PutRequest": {"Item": item}})
        self._batch_write(items)

    def clear_statuses(self, portal: str, records: Sequence[str]) -> None:
        """Deletes the statuses these records have. Most synced records have none: a read of a key
        costs a fifth of a delete's write unit, so the keys are read first and only those found are
        deleted (a pair that syncs clears two keys, mostly absent)."""
        found = self._batch_get(keys.status(portal, r) for r in records)
        self._batch_write([{"DeleteRequest": {"Key": _key(key)}} for key in found])

    def statuses(self, portal: str, records: Sequence[str]) -> dict[str, str]:
        found = self._batch_get(keys.status(portal, r) for r in records)
        return {key.sk: str(item["reason"]["S"]) for key, item in found.items()}

    def record_statuses(self, portal: str) -> list[RecordStatus]:
        """Every record skipped (and why), for the operator's view."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": keys.status_partition(portal)}},
        }
        now = epoch_seconds(self._clock())
        found: list[RecordStatus] = []
        while True:
            page = self.client.query(**query)
            found += [
                RecordStatus(
                    record=item["sk"]["S"],
                    reason=item["reason"]["S"],
                    at=dt.datetime.fromtimestamp(int(item["at"]["N"]), dt.UTC),
                )
                for item in page.get("Items", [])
                if not is_expired(_number(item, "expires_at"), now)
            ]
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # email events (shared.pipeline.email_events)

    def email_events_done(self, portal: str, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` already became a task."""
        found = self._batch_get(keys.email_event_done(portal, i) for i in event_ids)
        now = epoch_seconds(self._clock())
        return {
            key.pk.rsplit("#EMAILEVENT#", 1)[1]
            for key, item in found.items()
            if not is_expired(_number(item, "expires_at"), now)
        }

    def record_email_events_done(self, portal: str, tasks: Mapping[str, str], keep: dt.timedelta) -> None:
        """Event id -> the task it became, kept for ``keep``."""
        expires = str(epoch_seconds(self._clock()) + int(keep.total_seconds()))
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            **_key(keys.email_event_done(portal, event_id)),
                            "task_id": {"S": task_id},
                            "expires_at": {"N": expires},
                        }
                    }
                }
                for event_id, task_id in tasks.items()
            ]
        )

    def waiting_email_events(self, portal: str) -> list[WaitingEvent]:
        """The events kept for another try (their recipient was not synced)."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": keys.email_events_waiting(portal)}},
            "ConsistentRead": True,
        }
        found: list[WaitingEvent] = []
        while True:
            page = self.client.query(**query)
            for item in page.get("Items", []):
                found.append(
                    WaitingEvent(
                        event_id=item["sk"]["S"],
                        raw=item["event"]["S"],
                        first_skipped_ms=int(item["first_skipped"]["N"]),
                        reason=item["reason"]["S"],
                    )
                )
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def keep_waiting_email_events(
        self, portal: str, events: Sequence[WaitingEvent], keep: dt.timedelta
    ) -> None:
        partition = keys.email_events_waiting(portal)
        requests = []
        for event in events:
            expires = event.first_skipped_ms // 1000 + int(keep.total_seconds())
            item: Item = {
                "pk": {"S": partition},
                "sk": {"S": keys.require("event id", event.event_id)},
                "event": {"S": event.raw},
                "first_skipped": {"N": str(event.first_skipped_ms)},
                "reason": {"S": event.reason},
                "expires_at": {"N": str(expires)},
            }
            requests.append({"PutRequest": {"Item": item}})
        self._batch_write(requests)

    def drop_waiting_email_events(self, portal: str, event_ids: Sequence[str]) -> None:
        partition = keys.email_events_waiting(portal)
        self._batch_write(
            [
                {"DeleteRequest": {"Key": {"pk": {"S": partition}, "sk": {"S": i}}}}
                for i in dict.fromkeys(event_ids)
            ]
        )

    # table access

    def _get(self, key: keys.Key) -> Item | None:
        response = self.client.get_item(TableName=self.table_name, Key=_key(key), ConsistentRead=True)
        item: Item | None = response.get("Item")
        return item

    def _batch_get(self, wanted: Iterable[keys.Key]) -> dict[keys.Key, Item]:
        """Items by key, 100 keys per call, retrying unprocessed keys with back-off."""
        unique = list(dict.fromkeys(wanted))
        found: dict[keys.Key, Item] = {}
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [_key(key) for key in unique[start : start + BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                }
            }
            attempt = 0
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[keys.Key(item["pk"]["S"], item["sk"]["S"])] = item
                request = response.get("UnprocessedKeys") or {}
                if request:
                    if attempt + 1 >= self._max_attempts:
                        raise TransientApiError(
                            f"DynamoDB left keys unprocessed after {self._max_attempts} attempts"
                        )
                    self._backoff(attempt)
                    attempt += 1
        return found

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """Put/delete requests, 25 per call, retrying unprocessed items with back-off."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {self.table_name: requests[start : start + BATCH_WRITE_LIMIT]}
            attempt = 0
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if pending:
                    if attempt + 1 >= self._max_attempts:
                        raise TransientApiError(
                            f"DynamoDB left items unwritten after {self._max_attempts} attempts"
                        )
                    self._backoff(attempt)
                    attempt += 1

    def _backoff(self, attempt: int) -> None:
        """Exponential back-off with jitter: about 50 ms, 100 ms, 200 ms ... at most 2 s."""
        self._sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))


def _error_code(error: ClientError) -> str | None:
    code: str | None = error.response.get("Error", {}).get("Code")
    return code


def _refused(write: Callable[[], object]) -> ClientError | None:
    """Run a conditional write: None when it was accepted, its error when its condition did not hold
    (any other error is raised)."""
    try:
        write()
    except ClientError as error:
        if _error_code(error) != _CONDITION_FAILED:
            raise
        return error
    return None


def _returned_item(error: ClientError) -> Item | None:
    """The item a failed condition returned (``ReturnValuesOnConditionCheckFailure=ALL_OLD``)."""
    response: Mapping[str, Any] = error.response
    item: Item | None = response.get("Item")
    return item


def _earlier_intent(item: Item | None, now: dt.datetime) -> CreationIntent | None:
    """The intent a claim held before it was taken (kept a day)."""
    intent = intent_from_text(_text(item, "intent"))
    return intent if intent is not None and not intent.stale(now) else None


def _key(key: keys.Key) -> Item:
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}}


def _key_of(item: Item) -> keys.Key:
    return keys.Key(item["pk"]["S"], item["sk"]["S"])


def _pointer_key(content: Item, kind: LinkKind) -> keys.Key:
    return keys.link_by_salesforce(content["portal"]["S"], content["sf_id"]["S"], kind)


def _content_key(pointer: Item, kind: LinkKind) -> keys.Key:
    return keys.link_by_hubspot(pointer["portal"]["S"], pointer["hubspot_id"]["S"], kind)


def _agree(content: Item, pointer: Item | None) -> bool:
    """A link exists while its content item and its Salesforce pointer name each other."""
    return pointer is not None and _text(pointer, "hubspot_id") == _text(content, "hubspot_id")


def _text(item: Item | None, name: str) -> str | None:
    if item is None or name not in item:
        return None
    value: str | None = item[name].get("S")
    return value


def _number(item: Item, name: str) -> int | None:
    return int(item[name]["N"]) if name in item else None


def _rev(item: Item | None) -> int:
    """A stored link's revision (none stored, or saved before revisions existed: 0)."""
    return (_number(item, "rev") or 0) if item is not None else 0


def _nullable(value: str | None) -> AttributeValue:
    return {"NULL": True} if value is None else {"S": value}


def _from_nullable(value: AttributeValue) -> str | None:
    text: str | None = value.get("S")
    return text


def _link_item(key: keys.Key, link: Link, rev: int) -> Item:
    """A link's content item at revision ``rev``, without an intent."""
    item: Item = {
        **_key(key),
        "rev": {"N": str(rev)},
        "portal": {"S": link.portal},
        "hubspot_id": {"S": link.hubspot_id},
        "sf_object": {"S": link.sf_object},
        "sf_id": {"S": link.sf_id},
        "synced": {
            "M": {
                prop: {"L": [_nullable(hubspot), _nullable(salesforce)]}
                for prop, (hubspot, salesforce) in link.synced.items()
            }
        },
    }
    if link.duplicates:
        item["duplicates"] = {"L": [{"S": d} for d in link.duplicates]}
    item.update(_associated_values(link))
    if link.linked_at is not None:
        item["linked_at"] = {"S": link.linked_at.isoformat()}
    if link.updated_at is not None:
        item["updated_at"] = {"S": link.updated_at.isoformat()}
    return item


def _associated_values(link: Link) -> Item:
    """What a company link remembers of hssync's association writes, as item attributes."""
    if not link.associated or link.associated_at is None:
        return {}
    return {
        "associated": {"L": [{"S": c} for c in link.associated]},
        "associated_at": {"S": link.associated_at.isoformat()},
    }


def link_emails(link: Link) -> list[str]:
    """The emails a link is found by: both sides' synced email, normalised."""
    hubspot, salesforce = link.synced.get("email", (None, None))
    return list(dict.fromkeys(e for e in (normalize_email(hubspot), normalize_email(salesforce)) if e))


def _email_keys(link: Link, kind: LinkKind) -> list[keys.Key]:
    """Where a link is found by email: contact links only (a company is found through its contacts)."""
    if kind != CONTACTS:
        return []
    return [keys.link_by_email(link.portal, email) for email in link_emails(link)]


def _email_pointers(
    kept: Sequence[tuple[Link, tuple[keys.Key, keys.Key]]], current: Mapping[keys.Key, Item], kind: LinkKind
) -> list[Item]:
    """The links by email that are missing or lead elsewhere (two links with one email: the last)."""
    wanted = {key: _pointer_item(key, link) for link, _pair in kept for key in _email_keys(link, kind)}
    return [item for key, item in wanted.items() if current.get(key) != item]


def _pointer_item(key: keys.Key, link: Link) -> Item:
    return {**_key(key), "portal": {"S": link.portal}, "hubspot_id": {"S": link.hubspot_id}}


def _link_from_item(item: Item) -> Link:
    synced: dict[str, tuple[str | None, str | None]] = {}
    for prop, value in item["synced"]["M"].items():
        hubspot, salesforce = value["L"]
        synced[prop] = (_from_nullable(hubspot), _from_nullable(salesforce))
    return Link(
        portal=item["portal"]["S"],
        hubspot_id=item["hubspot_id"]["S"],
        sf_object=item["sf_object"]["S"],
        sf_id=item["sf_id"]["S"],
        synced=synced,
        linked_at=_datetime(item, "linked_at"),
        updated_at=_datetime(item, "updated_at"),
        duplicates=tuple(d["S"] for d in item.get("duplicates", {}).get("L", [])),
        associated=tuple(c["S"] for c in item.get("associated", {}).get("L", [])),
        associated_at=_datetime(item, "associated_at"),
        rev=_rev(item),
        intent=_intent_from(item["intent"]) if "intent" in item else None,
    )


def _may_write_condition(rev: int | None, plan_id: str, now: dt.datetime) -> tuple[str, dict[str, str], Item]:
    """``shared.state.base.may_write`` as a condition expression (a link saved before revisions
    existed counts as revision 0; decided with no link: none may be stored)."""
    at_rev = "(attribute_not_exists(#rev) OR #rev = :rev)" if rev == 0 else "#rev = :rev"
    if rev is None:
        at_rev = "attribute_not_exists(pk)"
    free = "(attribute_not_exists(#intent) OR #intent.#plan = :plan OR #intent.#until <= :now)"
    names = {"#rev": "rev", "#intent": "intent", "#plan": "plan", "#until": "until"}
    values: Item = {":plan": {"S": plan_id}, ":now": {"N": str(epoch_ms(now))}}
    if rev is not None:
        values[":rev"] = {"N": str(rev)}
    else:
        del names["#rev"]
    return f"{at_rev} AND {free}", names, values


def _intent_value(intent: WriteIntent) -> AttributeValue:
    return {
        "M": {
            "plan": {"S": intent.plan_id},
            "until": {"N": str(epoch_ms(intent.lease_until))},
            "values": {
                "M": {
                    prop: {"L": [{"S": v.side}, _nullable(v.hubspot), _nullable(v.salesforce)]}
                    for prop, v in intent.values.items()
                }
            },
        }
    }


def _intent_from(value: AttributeValue) -> WriteIntent:
    fields = value["M"]
    values: dict[str, IntendedValue] = {}
    for prop, entry in fields["values"]["M"].items():
        side, hubspot, salesforce = entry["L"]
        written: WrittenSide = "hubspot" if side["S"] == "hubspot" else "salesforce"
        values[prop] = IntendedValue(written, _from_nullable(hubspot), _from_nullable(salesforce))
    until = from_epoch_ms(int(fields["until"]["N"]))
    return WriteIntent(fields["plan"]["S"], until, values)


def _datetime(item: Item, name: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(item[name]["S"]) if name in item else None


def _health_fields(latest: HealthEntry) -> Item:
    """The attributes describing an entry's latest occurrence (``fields`` only when it has some:
    a string set cannot be empty)."""
    fields: Item = {"fields": {"SS": list(latest.fields)}} if latest.fields else {}
    return fields | {
        "portal": {"S": latest.portal},
        "system": {"S": latest.system},
        "record": {"S": latest.record},
        "category": {"S": latest.category.value},
        "code": {"S": latest.code},
        "message": {"S": latest.message},
        "at": {"S": latest.at.isoformat()},
        "resync": {"S": latest.resync},
    }


def _health_item(update: HealthUpdate, expires_at: int | None) -> Item:
    item: Item = {
        **_key(update.key),
        **_health_fields(update.latest),
        "first_at": {"S": update.first.at.isoformat()},
        "count": {"N": str(update.occurrences)},
    }
    if expires_at is not None:
        item["expires_at"] = {"N": str(expires_at)}
    return item


def _health_from_item(item: Item) -> HealthSummary:
    entry = HealthEntry(
        portal=item["portal"]["S"],
        system=item["system"]["S"],
        record=item["record"]["S"],
        category=ErrorCategory(item["category"]["S"]),
        code=item["code"]["S"],
        message=item["message"]["S"],
        at=dt.datetime.fromisoformat(item["at"]["S"]),
        resync=item["resync"]["S"],
        fields=tuple(sorted(item["fields"]["SS"])) if "fields" in item else (),
    )
    return HealthSummary(
        entry=entry, count=int(item["count"]["N"]), first_at=dt.datetime.fromisoformat(item["first_at"]["S"])
    )
