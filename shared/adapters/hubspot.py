"""The HubSpot port over hubspot-api-client. Each API module (``hubspot.crm.contacts``, and for the
methods that need them ``hubspot.crm.lists``, ``hubspot.crm.properties`` and
``hubspot.communication_preferences``) is imported only when its first call is made.

Calls per batch:

- ``read_contacts``: batch read with ``properties`` and ``propertiesWithHistory``; HubSpot accepts at
  most 50 inputs per batch read that asks for history ("The maximum number of inputs supported in a
  batch request for property histories is 50"), so 50 ids per call. ``property_changed_at`` is the
  newest history timestamp of each property; ``updatedAt`` when HubSpot gives no history for it.
- ``contacts_by_email``: batch read with ``idProperty=email``, 100 emails per call, without history
  (``updatedAt`` stands for every property) unless ``history_in_email_lookup`` is set (50 per call).
- ``contacts_modified_since``: search on ``hs_lastmodifieddate`` (``GT``, ascending, 200 per page,
  paged with ``after``). Search stops at 10,000 results per query: the adapter then starts a new
  query from the last timestamp seen (``GTE``, skipping the ids already returned). Search calls are
  paced: 3 per second by default, a margin under HubSpot's 4-5 per token (a 429 is still honoured).
- ``create_contacts`` / ``update_contacts``: batch create / update, 100 inputs per call, never two
  inputs with the same email (create) or id (update) in one call.
- ``archive_contacts``: batch archive, 100 ids per call; an id already gone is archived, not a failure.
- ``list_members``: lists v3 ``records/memberships/batch/read``, 100 contacts per call (the client
  has no method for it: the lists module's ``ApiClient.call_api``); ``list_member_ids`` pages
  ``GET /crm/v3/lists/{listId}/memberships`` 250 at a time (the maximum ``limit``);
  ``list_members_joined_since`` pages ``.../memberships/join-order`` the same way (every page: the
  endpoint has no time filter) and keeps the joins at or after ``since``.
- ``contact_property_types``: ``GET /crm/v3/properties/contacts``, once per adapter instance.
- ``unsubscribe_from_all``: communication preferences v4 ``POST .../statuses/{email}/unsubscribe-all``
  (channel ``EMAIL``), one call per distinct address: the batch form
  (``statuses/batch/unsubscribe-all``) needs Marketing Hub Enterprise scopes. An address that had
  already opted out is a success. ``unsubscribed_from_all`` reads ``hs_email_optout`` (HubSpot's
  reflection of the opt-out) by batch read by email, 100 per call, and asks the v4
  ``GET .../unsubscribe-all`` status only for addresses without a contact. HubSpot updates the
  property shortly after an opt-out, so a read right after ``unsubscribe_from_all`` may lag.

HubSpot refuses a whole batch for one bad input (400 ``VALIDATION_ERROR``, or 409 for an existing
email). The adapter sets the culprits aside and sends the rest again: a 409 is explained by one
batch read by email (every input whose email already exists fails with ``existing_id``); a
validation error names the property and usually the value, which points at the input (several
candidates, or none, and the batch is halved until each bad input fails alone).

Retries: 429 waits for ``Retry-After`` (the daily limit suspends instead); 5xx, timeouts and dropped
connections back off (:mod:`shared.adapters.retry`). A create whose answer was lost may have been
applied: when the next attempt answers 409 for that email, the existing id *is* the created contact
and the outcome is a success.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import importlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from shared.adapters.retry import (
    CallCounter,
    RequestRejected,
    Retrier,
    Retryable,
    RetryPolicy,
    Transient,
    WriteSuspended,
    parse_retry_after,
)
from shared.adapters.secrets import HubSpotSecret
from shared.errors import (
    ApiFailure,
    AuthenticationError,
    ErrorCategory,
    SuspendedError,
    TransientApiError,
    classify_hubspot,
)
from shared.matching import normalize_email
from shared.owners.directory import HubSpotOwner
from shared.ports import HubSpotContact, RecordWrite, WriteOutcome
from shared.state.cache import SharedCache, cache_name

T = TypeVar("T")
Item = tuple[int, RecordWrite]  # (position in the caller's list, the write)

SYSTEM = "hubspot"
DEFAULT_HOST = "https://api.hubapi.com"
MAX_BATCH = 100
MAX_HISTORY_BATCH = 50
SEARCH_PAGE = 200
SEARCH_MAX_RESULTS = 10_000
SEARCH_PER_SECOND = 3.0
MODIFIED = "hs_lastmodifieddate"
OPTOUT = "hs_email_optout"
CONTACT_TYPE_ID = "0-1"
MAX_MEMBERSHIP_BATCH = 100  # lists v3 records/memberships/batch/read
MEMBERSHIP_PAGE = 250  # GET /crm/v3/lists/{listId}/memberships: "The maximum limit is 250"
CONTACTS = "hubspot.crm.contacts"
LISTS = "hubspot.crm.lists"
PROPERTIES = "hubspot.crm.properties"
COMM_PREFS = "hubspot.communication_preferences"
OWNERS = "hubspot.crm.owners"
PROPERTIES_CACHE_SECONDS = 60 * 60  # a property created or changed meanwhile is seen within the hour
OWNERS_PAGE = 500  # GET /crm/v3/owners: the maximum limit
MEMBERSHIPS_BATCH_READ = "/crm/v3/lists/records/memberships/batch/read"
UNSUBSCRIBE_ALL = "/communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all"
USER_AGENT = "hssync"
DAILY_LIMIT_REASON = (
    "The HubSpot portal has used all of its daily API calls. hssync is suspended until the limit "
    "resets at midnight (portal time zone) or the limit is raised."
)
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)", re.IGNORECASE)
_INVALID_PREFIX = "Property values were not valid:"
# Property validation codes whose failure does not depend on the value.
_VALUE_INDEPENDENT = frozenset({"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"})


# -- pure helpers ------------------------------------------------------------------------------
def parse_existing_id(message: str | None, context: Mapping[str, Any] | None = None) -> str | None:
    """The contact id of HubSpot's 409 ("Contact already exists. Existing ID: 123")."""
    values = (context or {}).get("existingId")
    if isinstance(values, list) and values:
        return str(values[0])
    match = _EXISTING_ID.search(message or "")
    return match[1] if match else None


@dataclass(frozen=True)
class PropertyIssue:
    name: str
    code: str
    message: str


def parse_property_issues(body: Mapping[str, Any]) -> list[PropertyIssue]:
    """The invalid properties of a 400: from ``errors[].context.propertyName``, or else from the
    JSON list in the historical ``"Property values were not valid: [...]"`` message."""
    issues = []
    for error in body.get("errors") or ():
        names = ((error or {}).get("context") or {}).get("propertyName") or ()
        for name in names:
            issues.append(
                PropertyIssue(str(name), str(error.get("code") or ""), str(error.get("message") or ""))
            )
    if issues:
        return issues
    message = str(body.get("message") or "")
    if message.startswith(_INVALID_PREFIX):
        try:
            listed = json.loads(message[len(_INVALID_PREFIX) :].strip())
        except ValueError:
            return []
        for item in listed if isinstance(listed, list) else ():
            if isinstance(item, Mapping) and item.get("name"):
                issues.append(
                    PropertyIssue(
                        str(item["name"]), str(item.get("error") or ""), str(item.get("message") or "")
                    )
                )
    return issues


def _mentions(message: str, value: str) -> bool:
    """True when ``value`` appears in ``message`` as a whole token (not inside a longer word)."""
    if not value:
        return False
    pattern = r"(?<![\w@.\-])" + re.escape(value) + r"(?![\w@\-]|\.\w)"
    return re.search(pattern, message) is not None


def culprits(items: Sequence[Item], issues: Sequence[PropertyIssue]) -> list[Item]:
    """The inputs a validation error points at: those setting an invalid property to the value the
    message quotes (or, for value-independent problems, setting that property at all)."""
    found: dict[int, Item] = {}
    for issue in issues:
        for index, write in items:
            if issue.name not in write.fields:
                continue
            value = hubspot_value(write.fields[issue.name])
            if issue.code in _VALUE_INDEPENDENT or _mentions(issue.message, value):
                found[index] = (index, write)
    return list(found.values())


def hubspot_value(value: Any) -> str:
    """A property value as HubSpot takes it: strings; ``None`` clears (empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _aware(value: Any) -> dt.datetime:
    """A UTC datetime from the client's parsed value (or an ISO 8601 string); naive means UTC."""
    parsed = (
        value
        if isinstance(value, dt.datetime)
        else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def to_contact(obj: Any, requested: Iterable[str]) -> HubSpotContact:
    """A ``SimplePublicObject`` as a :class:`HubSpotContact`."""
    updated = _aware(obj.updated_at)
    history = obj.properties_with_history or {}
    changed: dict[str, dt.datetime] = {}
    for name in requested:
        stamps = [_aware(entry.timestamp) for entry in history.get(name) or () if entry.timestamp]
        changed[name] = max(stamps) if stamps else updated
    return HubSpotContact(
        id=str(obj.id),
        properties=dict(obj.properties or {}),
        property_changed_at=changed,
        updated_at=updated,
        archived=bool(obj.archived),
    )


def _batches(items: Sequence[Item], size: int, key: Callable[[RecordWrite], str | None]) -> list[list[Item]]:
    """Batches of at most ``size`` in which no two writes share a (non-empty) key."""
    batches: list[tuple[list[Item], set[str]]] = []
    for item in items:
        value = key(item[1])
        for batch, keys in batches:
            if len(batch) < size and (value is None or value not in keys):
                batch.append(item)
                if value is not None:
                    keys.add(value)
                break
        else:
            batches.append(([item], {value} if value is not None else set()))
    return [batch for batch, _ in batches]


def _email_of(write: RecordWrite) -> str | None:
    value = write.fields.get("email")
    return normalize_email(value) if isinstance(value, str) else None


def _json_body(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        body = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {"message": str(raw)[:500]}
    return body if isinstance(body, dict) else {}


def call_failure(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str], reason: str | None = None
) -> Exception:
    """The exception for a failed call: a suspension, a retryable failure, or a rejection."""
    message = str(body.get("message") or reason or f"HTTP {status}")
    if status == 429:
        if body.get("policyName") == "DAILY":
            return SuspendedError(SYSTEM, "DAILY_LIMIT", DAILY_LIMIT_REASON)
        retry_after = parse_retry_after(headers.get("Retry-After"))
        return Retryable(Transient(f"429 {body.get('policyName') or 'RATE_LIMIT'}", retry_after=retry_after))
    if status >= 500:
        return Retryable(Transient(f"{status}", ambiguous=True))
    if status == 401:
        return AuthenticationError(f"HubSpot refused the private-app token: {message}")
    code = str(body.get("category") or f"HTTP_{status}")
    failure = ApiFailure(
        system=SYSTEM,
        code=code,
        message=message,
        category=classify_hubspot(code, status).category,
        http_status=status or None,
        existing_id=parse_existing_id(message, body.get("context")) if status == 409 else None,
    )
    return RequestRejected(failure, body)


class Pacer:
    """Spaces calls at least ``1/per_second`` apart (HubSpot's search limit is per token)."""

    def __init__(
        self, per_second: float, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")

    def wait(self) -> None:
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


# -- the adapter -------------------------------------------------------------------------------
class HubSpotAdapter:
    """:class:`~shared.ports.HubSpotPort` over hubspot-api-client, for one portal's private-app
    token. Not thread-safe (a Lambda handles one event at a time)."""

    def __init__(
        self,
        access_token: str,
        *,
        host: str = DEFAULT_HOST,
        retrier: Retrier | None = None,
        timeout: float = 30.0,
        calls: CallCounter | None = None,
        search_per_second: float = SEARCH_PER_SECOND,
        history_in_email_lookup: bool = False,
        ca_bundle: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        cache: SharedCache | None = None,
    ) -> None:
        self.cache = cache
        self.host = host.rstrip("/")
        self.retrier = retrier or Retrier()
        self.timeout = timeout
        self.calls = calls or CallCounter(SYSTEM)
        self.history_in_email_lookup = history_in_email_lookup
        self._token = access_token
        self._ca_bundle = ca_bundle
        self._pacer = Pacer(search_per_second, clock=clock, sleep=self.retrier.sleep)
        self._batch_api: Any = None
        self._search_api: Any = None
        self._clients: dict[str, Any] = {}  # API package -> its ApiClient
        self._memberships_api: Any = None
        self._properties_api: Any = None
        self._property_types: dict[str, dict[str, Any]] | None = None
        self._types_of: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}  # names -> definitions

    @classmethod
    def from_secret(
        cls, secret: HubSpotSecret, *, policy: RetryPolicy | None = None, **kwargs: Any
    ) -> HubSpotAdapter:
        kwargs.setdefault("retrier", Retrier(policy or RetryPolicy.from_env()))
        return cls(secret.access_token.get_secret_value(), host=secret.api_url, **kwargs)

    # -- HubSpotPort: reads --------------------------------------------------------------------
    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, HubSpotContact]:
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
        props = list(dict.fromkeys(properties))
        out: dict[str, HubSpotContact] = {}
        for chunk in _chunks(wanted, MAX_HISTORY_BATCH if props else MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=props,
                properties_with_history=props or None,
            )
            answer = self._read("read", partial(self._batch_read, body))
            for obj in answer.results or ():
                contact = to_contact(obj, props)
                if not contact.archived:
                    out[contact.id] = contact
        return out

    def contacts_by_email(
        self, emails: Sequence[str], properties: Sequence[str]
    ) -> dict[str, HubSpotContact]:
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        wanted = sorted({e for e in (normalize_email(x) for x in emails) if e})
        props = list(dict.fromkeys([*properties, "email"]))
        history = self.history_in_email_lookup
        out: dict[str, HubSpotContact] = {}
        for chunk in _chunks(wanted, MAX_HISTORY_BATCH if history else MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=e) for e in chunk],
                id_property="email",
                properties=props,
                properties_with_history=props if history else None,
            )
            answer = self._read("read_by_email", partial(self._batch_read, body))
            for obj in answer.results or ():
                contact = to_contact(obj, props)
                email = normalize_email(contact.properties.get("email"))
                if email and not contact.archived:
                    out[email] = contact
        return out

    def contacts_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotContact]:
        """Contacts with ``hs_lastmodifieddate > since``, oldest first.

        May return more than ``limit`` contacts: those sharing the last one's modification time are
        all included, so that a cursor kept as "the newest timestamp processed" never skips any.
        """
        if limit < 1:
            raise ValueError("limit must be positive")
        props = list(dict.fromkeys([*properties, MODIFIED]))
        collected: list[HubSpotContact] = []
        seen: set[str] = set()
        operator, floor, after = "GT", _millis(since), 0
        while True:
            page = self._search(props, operator, floor, after)
            fresh = [to_contact(o, props) for o in page.results or () if str(o.id) not in seen]
            seen.update(c.id for c in fresh)
            collected.extend(fresh)
            if _complete(collected, limit):
                break
            next_after = int(page.paging.next.after) if page.paging and page.paging.next else None
            if next_after is not None and next_after < SEARCH_MAX_RESULTS:
                after = next_after
                continue
            if (page.total or 0) <= after + len(page.results or ()) or not fresh:
                break  # the end, or a restart that found nothing new
            operator, floor, after = "GTE", _millis(_modified(collected[-1])), 0  # past the 10,000 cap
        return _trim(collected, limit)

    # -- HubSpotPort: writes -------------------------------------------------------------------
    def create_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """Creates; a 409 for an existing email is a failure with ``existing_id`` (a success when an
        earlier attempt of this very call may have created it)."""
        return self._write(writes, create=True)

    def update_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        return self._write(writes, create=False)

    def archive_contacts(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """Archives (100 per call); an id that is already archived or unknown is a success."""
        settled: dict[str, ApiFailure | None] = {}
        wanted = list(dict.fromkeys(s for s in (str(i).strip() for i in ids) if s))

        blank = ApiFailure(SYSTEM, "INVALID_WRITE", "needs a contact id", ErrorCategory.OTHER)

        def outcomes() -> list[WriteOutcome]:  # for the ids settled so far, in the caller's order
            keyed = [(str(raw), str(raw).strip()) for raw in ids]
            return [
                WriteOutcome(raw, None, blank)
                if not key
                else WriteOutcome(raw, None if settled[key] else key, settled[key])
                for raw, key in keyed
                if not key or key in settled
            ]

        try:
            for chunk in _chunks(wanted, MAX_BATCH):
                self._archive_batch(list(chunk), settled)
        except SuspendedError as exc:
            raise WriteSuspended(exc, outcomes()) from exc
        return outcomes()

    # -- HubSpotPort: lists --------------------------------------------------------------------
    def list_members(self, list_id: str, contact_ids: Sequence[str]) -> set[str]:
        """Which of ``contact_ids`` are members of the list: one batch read per 100 contacts."""
        wanted = list(dict.fromkeys(s for s in (str(i).strip() for i in contact_ids) if s))
        members: set[str] = set()
        for chunk in _chunks(wanted, MAX_MEMBERSHIP_BATCH):
            body = {"inputs": [{"objectTypeId": CONTACT_TYPE_ID, "recordId": i} for i in chunk]}
            call = partial(self._raw, LISTS, "POST", MEMBERSHIPS_BATCH_READ, body=body)
            answer = self._read("list_memberships", call, package=LISTS) or {}
            for result in answer.get("results") or ():
                lists = result.get("recordListMemberships") or ()
                if any(str(m.get("listId")) == str(list_id) for m in lists):
                    members.add(str(result.get("recordId")))
        return members & set(wanted)

    def owners(self) -> list[HubSpotOwner]:
        """Every active owner (owners API, read-only), 500 per call."""
        from hubspot.crm.owners import OwnersApi

        api = OwnersApi(self._client(OWNERS))
        owners: list[HubSpotOwner] = []
        after: str | None = None
        while True:
            call = partial(api.get_page, limit=OWNERS_PAGE, after=after, archived=False, **self._opts())
            page = self._read("owners", call, package=OWNERS)
            for owner in page.results or ():
                owners.append(
                    HubSpotOwner(
                        id=str(owner.id),
                        email=owner.email,
                        first_name=owner.first_name,
                        last_name=owner.last_name,
                        user_id=None if owner.user_id is None else str(owner.user_id),
                        archived=bool(owner.archived),
                    )
                )
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return owners

    def list_member_ids(self, list_id: str) -> list[str]:
        """Every member of the list (contact ids, in HubSpot's order), 250 per call."""
        api = self._memberships()
        ids: list[str] = []
        after: str | None = None
        while True:
            call = partial(api.get_page, str(list_id), after=after, limit=MEMBERSHIP_PAGE, **self._opts())
            page = self._read("list_members", call, package=LISTS)
            ids.extend(str(r.record_id) for r in page.results or ())
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return list(dict.fromkeys(ids))

    def list_members_joined_since(self, list_id: str, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
        """Members that joined at or after ``since``, oldest join first: the memberships in join order
        (``GET /crm/v3/lists/{listId}/memberships/join-order``), 250 per call. The API cannot start at
        a time, so every page is read; what joined before ``since`` is dropped here."""
        api = self._memberships()
        joined: dict[str, dt.datetime] = {}
        after: str | None = None
        while True:
            call = partial(
                api.get_page_ordered_by_added_to_list_date,
                str(list_id),
                after=after,
                limit=MEMBERSHIP_PAGE,
                **self._opts(),
            )
            page = self._read("list_joins", call, package=LISTS)
            for result in page.results or ():
                stamp = _aware(result.membership_timestamp)
                if stamp >= since:
                    joined[str(result.record_id)] = stamp
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return sorted(joined.items(), key=lambda item: item[1])

    # -- HubSpotPort: communication preferences ------------------------------------------------
    def unsubscribe_from_all(self, emails: Sequence[str]) -> list[WriteOutcome]:
        """Opts each address out of all email (v4 ``unsubscribe-all``, channel EMAIL); ``record_id``
        is the normalised address. Already opted out is a success; failures are per address."""
        settled: dict[str, ApiFailure | None] = {}
        out: list[WriteOutcome] = []
        try:
            for raw in emails:
                email = normalize_email(raw)
                if not email or "@" not in email:
                    failure: ApiFailure | None = ApiFailure(
                        SYSTEM,
                        "INVALID_EMAIL",
                        f"not an email address: {raw!r}",
                        ErrorCategory.PROPERTY_VALUES,
                    )
                else:
                    if email not in settled:
                        settled[email] = self._unsubscribe_one(email)
                    failure = settled[email]
                out.append(WriteOutcome(str(raw), None if failure else email, failure))
        except SuspendedError as exc:
            raise WriteSuspended(exc, out) from exc
        return out

    def unsubscribed_from_all(self, emails: Sequence[str]) -> dict[str, bool]:
        """Whether each address has opted out of all email, keyed by normalised address."""
        wanted = sorted({e for e in (normalize_email(x) for x in emails) if e})
        found = self.contacts_by_email([e for e in wanted if "@" in e], [OPTOUT])
        status = {e: (c.properties.get(OPTOUT) or "").strip().lower() == "true" for e, c in found.items()}
        for email in wanted:
            if email not in status:
                status[email] = "@" in email and self._opted_out_of_all(email)
        return {email: status[email] for email in wanted}

    # -- HubSpotPort: property definitions -----------------------------------------------------
    def contact_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Definitions (``type``, ``fieldType``, ``options``, ``modificationMetadata``... as HubSpot's
        JSON names them) of the named contact properties that exist; one call per adapter, or none
        when another container shared them."""
        wanted = tuple(sorted(set(names)))
        if wanted not in self._types_of:
            self._types_of[wanted] = self._load_property_types(wanted)
        return copy.deepcopy(self._types_of[wanted])

    def _load_property_types(self, wanted: Sequence[str]) -> dict[str, dict[str, Any]]:
        key = cache_name(
            "hubspot-properties", self.host, hashlib.sha256(self._token.encode()).hexdigest(), *wanted
        )
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            return {name: cached[name] for name in wanted if name in cached}
        if self._property_types is None:
            api = self._properties()
            call = partial(api.get_all, "contacts", archived=False, **self._opts())
            answer = self._read("properties", call, package=PROPERTIES)
            serialize = api.api_client.sanitize_for_serialization
            self._property_types = {str(p.name): serialize(p) for p in answer.results or ()}
        known = self._property_types
        found = {name: copy.deepcopy(known[name]) for name in wanted if name in known}
        if self.cache is not None:  # the definitions this stack uses, for the other containers
            self.cache.put(key, found, PROPERTIES_CACHE_SECONDS)
        return found

    # -- plumbing ------------------------------------------------------------------------------
    def _opts(self) -> dict[str, Any]:
        return {"_request_timeout": self.timeout}

    def _client(self, package: str) -> Any:
        """The ``ApiClient`` of one API package of hubspot-api-client (imported on first use)."""
        client = self._clients.get(package)
        if client is None:
            module: Any = importlib.import_module(package)
            config = module.Configuration(host=self.host)
            config.access_token = self._token
            config.retries = False  # shared.adapters.retry is the only retry mechanism
            if self._ca_bundle:
                config.ssl_ca_cert = self._ca_bundle
            client = module.ApiClient(configuration=config)
            client.user_agent = USER_AGENT
            self._clients[package] = client
        return client

    def _apis(self) -> None:
        from hubspot.crm.contacts import BatchApi, SearchApi

        client = self._client(CONTACTS)
        self._batch_api = BatchApi(client)
        self._search_api = SearchApi(client)

    def _memberships(self) -> Any:
        if self._memberships_api is None:
            from hubspot.crm.lists import MembershipsApi

            self._memberships_api = MembershipsApi(self._client(LISTS))
        return self._memberships_api

    def _properties(self) -> Any:
        if self._properties_api is None:
            from hubspot.crm.properties import CoreApi

            self._properties_api = CoreApi(self._client(PROPERTIES))
        return self._properties_api

    def _raw(
        self,
        package: str,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
    ) -> Any:
        """A call the client has no method for, through that package's ``ApiClient`` (same auth,
        host, timeout and errors as its generated methods); the decoded JSON body."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self._client(package).call_api(
            path,
            method,
            dict(path_params or {}),
            list(query),
            headers,
            body=body,
            response_types_map={200: "object", 207: "object"},
            auth_settings=["oauth2"],
            _return_http_data_only=True,
            **self._opts(),
        )

    def _batch(self) -> Any:
        if self._batch_api is None:
            self._apis()
        return self._batch_api

    def _batch_read(self, body: Any) -> Any:
        return self._batch().read(body, archived=False, **self._opts())

    def _batch_call(self, method: str, body: Any) -> Any:
        return getattr(self._batch(), method)(body, **self._opts())

    def _searcher(self) -> Any:
        if self._search_api is None:
            self._apis()
        return self._search_api

    def _attempt(self, operation: str, call: Callable[[], T], package: str = CONTACTS) -> T:
        """One attempt; ``package`` is the API package whose ``ApiException`` the call raises."""
        from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

        ApiException = importlib.import_module(f"{package}.exceptions").ApiException
        self.calls.record(operation)
        try:
            return call()
        except ApiException as exc:
            raise self._failure(exc) from exc
        except ConnectTimeoutError as exc:
            raise Retryable(Transient("connect timeout")) from exc
        except NewConnectionError as exc:
            raise Retryable(Transient("connection refused")) from exc
        except HTTPError as exc:  # read timeouts, dropped connections: the request may have run
            raise Retryable(Transient(f"{exc.__class__.__name__}", ambiguous=True)) from exc

    @staticmethod
    def _failure(exc: Any) -> Exception:
        return call_failure(int(exc.status or 0), _json_body(exc.body), exc.headers or {}, exc.reason)

    def _read(self, operation: str, call: Callable[[], T], package: str = CONTACTS) -> T:
        return self.retrier.run(lambda: self._attempt(operation, call, package), what=f"hubspot {operation}")

    def _search(self, props: list[str], operator: str, floor: int, after: int) -> Any:
        from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest

        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(filters=[Filter(property_name=MODIFIED, operator=operator, value=str(floor))])
            ],
            sorts=[{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            properties=props,
            limit=SEARCH_PAGE,
            after=str(after) if after else None,
        )

        def call() -> Any:
            self._pacer.wait()
            return self._searcher().do_search(request, **self._opts())

        return self._read("search", call)

    # -- archive, unsubscribe ------------------------------------------------------------------
    def _archive_batch(self, ids: list[str], settled: dict[str, ApiFailure | None]) -> None:
        """Archive one batch; a batch refused for its inputs (400/404) is halved until each bad id
        fails alone (a lone 404 means it is already gone: a success)."""
        from hubspot.crm.contacts import BatchInputSimplePublicObjectId, SimplePublicObjectId

        queue = [ids]
        while queue:
            group = queue.pop()
            body = BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=i) for i in group])
            try:
                self._read("archive", partial(self._batch_call, "archive", body))
            except RequestRejected as exc:
                status = exc.failure.http_status
                if len(group) > 1 and status in (400, 404):
                    middle = len(group) // 2
                    queue.extend([group[middle:], group[:middle]])
                else:
                    settled.update(dict.fromkeys(group, None if status == 404 else exc.failure))
                continue
            except TransientApiError as exc:  # retries spent: these ids may be archived later
                failure = ApiFailure(SYSTEM, "TRANSIENT", str(exc), ErrorCategory.OTHER, retryable=True)
                settled.update(dict.fromkeys(group, failure))
                continue
            settled.update(dict.fromkeys(group))

    def _unsubscribe_one(self, email: str) -> ApiFailure | None:
        """Opt one address out of all email; None when it is (now or already) opted out."""
        call = partial(
            self._raw,
            COMM_PREFS,
            "POST",
            UNSUBSCRIBE_ALL,
            path_params={"subscriberIdString": email},
            query=[("channel", "EMAIL")],
        )
        try:
            answer = self._read("unsubscribe_all", call, package=COMM_PREFS) or {}
        except RequestRejected as exc:
            return None if _already_opted_out(exc.failure.message) else exc.failure
        except TransientApiError as exc:
            return ApiFailure(SYSTEM, "TRANSIENT", str(exc), ErrorCategory.OTHER, retryable=True)
        for error in answer.get("errors") or ():
            message = str(error.get("message") or "")
            if not _already_opted_out(message):
                code = str(error.get("category") or "ERROR")
                return ApiFailure(SYSTEM, code, message or code, classify_hubspot(code).category)
        return None

    def _opted_out_of_all(self, email: str) -> bool:
        """The v4 wide status of one address: opted out of all email (on any brand) or not."""
        call = partial(
            self._raw,
            COMM_PREFS,
            "GET",
            UNSUBSCRIBE_ALL,
            path_params={"subscriberIdString": email},
            query=[("channel", "EMAIL")],
        )
        answer = self._read("unsubscribe_all_status", call, package=COMM_PREFS) or {}
        return any(
            str(r.get("status")) == "UNSUBSCRIBED" and str(r.get("channel") or "EMAIL") == "EMAIL"
            for r in answer.get("results") or ()
        )

    # -- writes --------------------------------------------------------------------------------
    def _write(self, writes: Sequence[RecordWrite], *, create: bool) -> list[WriteOutcome]:
        done: dict[int, WriteOutcome] = {}
        valid: list[Item] = []
        for index, write in enumerate(writes):
            if create != (write.record_id is None):
                wanted = "without" if create else "with"
                failure = ApiFailure(
                    SYSTEM, "INVALID_WRITE", f"needs writes {wanted} record_id", ErrorCategory.OTHER
                )
                done[index] = WriteOutcome(write.key, None, failure)
            else:
                valid.append((index, write))
        key = _email_of if create else (lambda w: str(w.record_id))
        try:
            for batch in _batches(valid, MAX_BATCH, key):
                self._write_batch(batch, done, create=create)
        except SuspendedError as exc:
            raise WriteSuspended(exc, [done[i] for i in sorted(done)]) from exc
        return [done[index] for index in range(len(writes))]

    def _write_batch(self, batch: list[Item], done: dict[int, WriteOutcome], *, create: bool) -> None:
        """Write one batch; refused batches are split (see the module docstring) until settled."""
        ambiguous: set[int] = set()
        queue = [batch]
        while queue:
            group = queue.pop()
            if not group:
                continue
            try:
                try:
                    answer = self._send(group, ambiguous, create=create)
                except RequestRejected as exc:
                    queue.extend(self._isolate(group, exc, done, ambiguous, create=create))
                    continue
            except TransientApiError as exc:  # retries spent: these inputs may succeed later
                failure = ApiFailure(SYSTEM, "TRANSIENT", str(exc), ErrorCategory.OTHER, retryable=True)
                done.update({i: WriteOutcome(w.key, None, failure) for i, w in group if i not in done})
                continue
            queue.extend(self._settle(group, answer, done, ambiguous, create=create))

    def _send(self, group: list[Item], ambiguous: set[int], *, create: bool) -> Any:
        from hubspot.crm.contacts import (
            BatchInputSimplePublicObjectBatchInput,
            BatchInputSimplePublicObjectBatchInputForCreate,
            SimplePublicObjectBatchInput,
            SimplePublicObjectBatchInputForCreate,
        )

        def values(write: RecordWrite) -> dict[str, str]:
            return {name: hubspot_value(value) for name, value in write.fields.items()}

        if create:
            body: Any = BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(
                        properties=values(w), object_write_trace_id=str(i), associations=[]
                    )
                    for i, w in group
                ]
            )
            call = partial(self._batch_call, "create", body)
        else:
            body = BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    SimplePublicObjectBatchInput(
                        id=str(w.record_id), properties=values(w), object_write_trace_id=str(i)
                    )
                    for i, w in group
                ]
            )
            call = partial(self._batch_call, "update", body)

        def note(transient: Transient) -> None:
            if create and transient.ambiguous:
                ambiguous.update(i for i, _ in group)

        operation = "create" if create else "update"
        return self.retrier.run(
            lambda: self._attempt(operation, call), what=f"hubspot {operation}", on_retryable=note
        )

    def _settle(
        self,
        group: list[Item],
        answer: Any,
        done: dict[int, WriteOutcome],
        ambiguous: set[int],
        *,
        create: bool,
    ) -> list[list[Item]]:
        """Map a batch answer to the inputs; returns what must be sent again."""
        results = list(answer.results or ())
        by_trace = {
            str(r.object_write_trace_id): r for r in results if getattr(r, "object_write_trace_id", None)
        }
        if create:
            by_key = {normalize_email((r.properties or {}).get("email")): r for r in results}
        else:
            by_key = {str(r.id): r for r in results}
        used: set[str] = set()
        unmatched: list[Item] = []
        for index, write in group:
            result = by_trace.get(str(index)) or by_key.get(
                _email_of(write) if create else str(write.record_id)
            )
            if result is not None and str(result.id) not in used:
                used.add(str(result.id))
                done[index] = WriteOutcome(write.key, str(result.id))
            else:
                unmatched.append((index, write))
        leftovers = [r for r in results if str(r.id) not in used]
        if unmatched and len(leftovers) == len(unmatched):
            for (index, write), result in zip(unmatched, leftovers, strict=True):
                done[index] = WriteOutcome(write.key, str(result.id))
            return []
        again: list[Item] = []
        for index, write in unmatched:
            failure = self._batch_error_for(write, getattr(answer, "errors", None) or ())
            if failure is not None:
                done[index] = WriteOutcome(write.key, None, failure)
            elif create and _email_of(write):
                ambiguous.add(index)  # no word on it: send again; a 409 then means it was created
                again.append((index, write))
            else:
                failure = ApiFailure(
                    SYSTEM,
                    "NO_RESULT",
                    "HubSpot returned no result for this input",
                    ErrorCategory.OTHER,
                    retryable=not create,
                )
                done[index] = WriteOutcome(write.key, None, failure)
        return [again] if again else []

    @staticmethod
    def _batch_error_for(write: RecordWrite, errors: Iterable[Any]) -> ApiFailure | None:
        """The error of a 207 answer that names this input (by id, email or trace id)."""
        keys = {k for k in (str(write.record_id) if write.record_id else None, _email_of(write)) if k}
        for error in errors:
            context = getattr(error, "context", None) or {}
            named = {str(v).lower() for values in context.values() for v in (values or ())}
            message = str(getattr(error, "message", "") or "")
            if keys & named or any(_mentions(message, k) for k in keys if write.record_id):
                code = str(getattr(error, "category", None) or "ERROR")
                return ApiFailure(SYSTEM, code, message or code, classify_hubspot(code).category)
        return None

    def _isolate(
        self,
        group: list[Item],
        rejected: RequestRejected,
        done: dict[int, WriteOutcome],
        ambiguous: set[int],
        *,
        create: bool,
    ) -> list[list[Item]]:
        """Settle the inputs a refused batch blames; returns the groups to send again."""
        failure = rejected.failure
        body = rejected.body if isinstance(rejected.body, Mapping) else {}
        if failure.http_status == 409:
            return self._isolate_conflict(group, failure, done, ambiguous)
        if failure.http_status == 400 and failure.code == "VALIDATION_ERROR":
            issues = parse_property_issues(body)
            if len(group) == 1:
                index, write = group[0]
                done[index] = WriteOutcome(write.key, None, _issue_failure(failure, issues))
                return []
            blamed = culprits(group, issues)
            if len(blamed) == 1:
                index, write = blamed[0]
                done[index] = WriteOutcome(write.key, None, _issue_failure(failure, issues))
                return [[item for item in group if item[0] != index]]
            if 1 < len(blamed) < len(group):
                blamed_ids = {i for i, _ in blamed}
                return [[item for item in group if item[0] not in blamed_ids], blamed]
            middle = len(group) // 2
            return [group[:middle], group[middle:]]
        done.update({i: WriteOutcome(w.key, None, failure) for i, w in group})
        return []

    def _isolate_conflict(
        self, group: list[Item], failure: ApiFailure, done: dict[int, WriteOutcome], ambiguous: set[int]
    ) -> list[list[Item]]:
        if len(group) == 1:
            existing = {(_email_of(group[0][1]) or ""): failure.existing_id} if failure.existing_id else {}
        else:
            emails = [e for e in (_email_of(w) for _, w in group) if e]
            existing = {email: c.id for email, c in self.contacts_by_email(emails, []).items()}
        rest: list[Item] = []
        for index, write in group:
            owner = existing.get(_email_of(write) or "")
            if owner is None or owner == write.record_id:
                rest.append((index, write))
            elif index in ambiguous:
                done[index] = WriteOutcome(write.key, owner)  # our own earlier, unanswered attempt
            else:
                conflict = ApiFailure(
                    system=SYSTEM,
                    code="CONFLICT",
                    message=f"Contact already exists. Existing ID: {owner}",
                    category=ErrorCategory.DUPLICATES,
                    http_status=409,
                    existing_id=owner,
                )
                done[index] = WriteOutcome(write.key, None, conflict)
        if len(rest) == len(group):  # nothing explained the conflict
            if len(group) == 1:
                index, write = group[0]
                done[index] = WriteOutcome(write.key, None, failure)
                return []
            middle = len(group) // 2
            return [group[:middle], group[middle:]]
        return [rest] if rest else []


def _issue_failure(failure: ApiFailure, issues: Sequence[PropertyIssue]) -> ApiFailure:
    """A validation failure named by its first property issue (INVALID_OPTION, INVALID_EMAIL...)."""
    if not issues:
        return failure
    first = issues[0]
    code = first.code or failure.code
    return ApiFailure(
        system=SYSTEM,
        code=code,
        message="; ".join(i.message for i in issues if i.message) or failure.message,
        category=classify_hubspot(code, failure.http_status).category,
        fields=tuple(dict.fromkeys(i.name for i in issues)),
        http_status=failure.http_status,
    )


def _already_opted_out(message: str) -> bool:
    """HubSpot's refusal to change an address that is already unsubscribed (v3 answers
    "... is already unsubscribed from subscription ..."), which for an opt-out is a success."""
    text = message.lower()
    return "already" in text and ("unsubscribed" in text or "opted out" in text)


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _millis(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(value.timestamp() * 1000)


def _modified(contact: HubSpotContact) -> dt.datetime:
    raw = contact.properties.get(MODIFIED)
    return _aware(raw) if raw else contact.updated_at


def _complete(collected: Sequence[HubSpotContact], limit: int) -> bool:
    """True once ``limit`` contacts are in and a later timestamp shows the last one's is complete."""
    if len(collected) <= limit:
        return False
    boundary = _modified(collected[limit - 1])
    return any(_modified(c) > boundary for c in collected[limit:])


def _trim(collected: Sequence[HubSpotContact], limit: int) -> list[HubSpotContact]:
    if len(collected) <= limit:
        return list(collected)
    boundary = _modified(collected[limit - 1])
    return [*collected[:limit], *(c for c in collected[limit:] if _modified(c) <= boundary)]
