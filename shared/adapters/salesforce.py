"""The Salesforce port over simple-salesforce: batched reads and writes, retries, classification.

Calls per batch (the API-frugal part):

- ``retrieve``: sObject Collections retrieve, up to 2,000 ids per call (SOQL ``Id IN`` would need
  several calls for as many ids, because of the URL length);
- ``find_by_email`` / ``modified_since``: SOQL. ``Email IN (...)`` lists are cut to keep each query
  URL under ~14,000 characters; several such queries travel in one Composite call (at most 5 query
  subrequests each), so 1,000 emails cost one call;
- ``create`` / ``update``: sObject Collections, 200 records per call, ``allOrNone`` false, each
  record's result mapped to a :class:`~shared.ports.WriteOutcome`.

Every request carries ``Sforce-Call-Options: client=hssync``, so the change events of our own writes
carry ``changeOrigin: com/salesforce/api/rest/59.0;client=hssync`` and echo suppression can spot
them; ``Sforce-Auto-Assign`` is sent on writes when the adapter is told to.

Failures:

- ``401 INVALID_SESSION_ID``: one new token, then the call again; a second 401 is an
  :class:`~shared.errors.AuthenticationError`.
- ``API_DISABLED_FOR_ORG``, ``API_CURRENTLY_DISABLED``, ``REQUEST_LIMIT_EXCEEDED``:
  :class:`~shared.errors.SuspendedError` with what the admin must do.
- 429, 5xx, timeouts, dropped connections, ``UNABLE_TO_LOCK_ROW`` (whole call or per record):
  retried under the shared policy (:mod:`shared.adapters.retry`). Reads then raise
  :class:`~shared.errors.TransientApiError`. Writes never lose what already succeeded: records still
  failing when the budget is spent come back as failures with ``retryable=True``.
- Creates after an ambiguous failure (timeout, dropped connection, 500): before sending again, the
  records are looked for by email among records the integration user created since the first
  attempt; those found are successes, only the others are sent again. If that cannot be settled,
  the record fails with code ``AMBIGUOUS_CREATE`` (retryable): whoever retries must find by email
  before creating.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote_plus, urlencode

import requests

from shared.adapters.auth import SalesforceTokenProvider
from shared.adapters.retry import (
    Budget,
    CallCounter,
    RequestRejected,
    Retrier,
    Retryable,
    RetryPolicy,
    Transient,
    WriteSuspended,
    parse_retry_after,
)
from shared.adapters.secrets import SalesforceSecret
from shared.errors import (
    ApiFailure,
    AuthenticationError,
    ErrorCategory,
    SuspendedError,
    TransientApiError,
    classify_salesforce,
)
from shared.matching import normalize_email
from shared.owners.directory import OWNER_USER_TYPES, SalesforceOwner
from shared.ports import RecordWrite, SalesforceRecord, WriteOutcome
from shared.state.cache import SharedCache, cache_name

if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce

T = TypeVar("T")

SYSTEM = "salesforce"
CLIENT_NAME = "hssync"  # Sforce-Call-Options client=...; appears in changeOrigin of our writes
CALL_OPTIONS = f"client={CLIENT_NAME}"
API_VERSION = "59.0"
MAX_WRITE = 200  # sObject Collections create/update
MAX_RETRIEVE = 2000  # sObject Collections retrieve
MAX_COMPOSITE_SUBREQUESTS = 25  # subrequests per Composite call
DESCRIBE_CACHE_SECONDS = 60 * 60  # a field deployed meanwhile is seen within the hour
MAX_COMPOSITE_QUERIES = 5  # of which query subrequests
MAX_QUERY_URL_CHARS = 14_000  # the encoded q= parameter; REST URIs are limited to 16,384 characters
AMBIGUITY_MARGIN = dt.timedelta(minutes=5)  # clock skew allowed when looking for our own creates
BASE_FIELDS = ("Id", "CreatedDate", "LastModifiedDate")

SUSPEND_REASONS = {
    "API_DISABLED_FOR_ORG": (
        "This Salesforce edition has no API access (Group/Professional without API). "
        "hssync is suspended: enable API access or upgrade."
    ),
    "API_CURRENTLY_DISABLED": (
        "API access is disabled for the integration user. hssync is suspended: give the connected "
        "app's user the 'API Enabled' permission."
    ),
    "REQUEST_LIMIT_EXCEEDED": (
        "The org has used all of its daily API requests{usage}. hssync is suspended until usage falls "
        "below the limit (rolling 24 hours) or the limit is raised."
    ),
}

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*$")
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_LIMIT_INFO = re.compile(r"(?:^|[\s;,])api-usage=(\d+)/(\d+)")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


# -- pure helpers ------------------------------------------------------------------------------
def soql_literal(value: str) -> str:
    """A SOQL string literal: quotes, backslashes and control characters escaped."""
    return "'" + "".join(_SOQL_ESCAPES.get(char, char) for char in value) + "'"


def soql_datetime(value: dt.datetime) -> str:
    """A SOQL datetime literal in UTC (``2026-11-28T20:18:04Z``; milliseconds only when non-zero)."""
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    utc = value.astimezone(dt.UTC)
    millis = utc.microsecond // 1000
    base = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def parse_datetime(text: str) -> dt.datetime:
    """``2026-11-28T20:18:04.000+0000`` (the REST API's form) or ISO 8601 -> an aware datetime."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = re.search(r"([+-])(\d{2})(\d{2})$", value)
    if match and value[match.start() - 1 : match.start()] != ":":
        value = f"{value[: match.start()]}{match[1]}{match[2]}:{match[3]}"
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """(used, max) from ``Sforce-Limit-Info: api-usage=18/5000[; per-app-api-usage=...]``."""
    match = _LIMIT_INFO.search(header or "")
    return (int(match[1]), int(match[2])) if match else None


def to_18(record_id: str) -> str:
    """The 18-character case-safe form of a 15- or 18-character id."""
    if not _ID.match(record_id):
        raise ValueError(f"not a Salesforce id: {record_id!r}")
    base = record_id[:15]
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << pos for pos, char in enumerate(base[chunk * 5 : chunk * 5 + 5]) if "A" <= char <= "Z")
        suffix += _CHECKSUM_ALPHABET[bits]
    return base + suffix


def in_lists(
    literals: Sequence[str], *, fixed_chars: int, budget: int = MAX_QUERY_URL_CHARS
) -> list[list[str]]:
    """Split literals into ``IN (...)`` lists whose URL-encoded query stays within ``budget``.

    ``fixed_chars`` is the encoded length of the rest of the query. A literal too long to share a
    list gets one of its own.
    """
    separator = len(quote_plus(", "))
    lists: list[list[str]] = []
    current: list[str] = []
    size = 0
    for literal in literals:
        cost = len(quote_plus(literal))
        if current and fixed_chars + size + separator + cost > budget:
            lists.append(current)
            current, size = [], 0
        size += cost + (separator if current else 0)
        current.append(literal)
    if current:
        lists.append(current)
    return lists


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not an sObject or field name: {name!r}")
    return name


def _select_list(fields: Iterable[str], required: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for name in (*required, *fields):
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(_check_name(name))
    return out


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _strip_attributes(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_attributes(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [_strip_attributes(v) for v in value]
    return value


def to_record(sobject: str, row: Mapping[str, Any]) -> SalesforceRecord:
    return SalesforceRecord(
        sobject=sobject,
        id=to_18(str(row["Id"])),
        fields=_strip_attributes(row),
        created=parse_datetime(str(row["CreatedDate"])),
        last_modified=parse_datetime(str(row["LastModifiedDate"])),
    )


# -- errors ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SfError:
    code: str
    message: str
    fields: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_errors(content: Any) -> list[SfError]:
    """Salesforce error bodies in all their shapes: a list of ``{errorCode|statusCode, message,
    fields}``, a single such object, or an OAuth ``{error, error_description}``."""
    items = content if isinstance(content, list) else [content]
    errors = []
    for item in items:
        if isinstance(item, Mapping):
            code = item.get("errorCode") or item.get("statusCode") or item.get("error") or "UNKNOWN"
            message = item.get("message") or item.get("error_description") or ""
            fields = tuple(str(f) for f in item.get("fields") or ())
            known = {"errorCode", "statusCode", "error", "message", "error_description", "fields"}
            extra = {k: v for k, v in item.items() if k not in known}
            errors.append(SfError(str(code), str(message), fields, extra))
        elif isinstance(item, str) and item:
            errors.append(SfError("UNKNOWN", item))
    return errors


def _duplicate_of(error: SfError) -> str | None:
    """The first matching record id of a ``DUPLICATES_DETECTED`` error's ``duplicateResult``."""
    result = error.extra.get("duplicateResult")
    if not isinstance(result, Mapping):
        return None
    for match in result.get("matchResults") or ():
        for candidate in (match or {}).get("matchRecords") or ():
            record = (candidate or {}).get("record") or {}
            if record.get("Id"):
                return str(record["Id"])
    return None


def to_failure(errors: Sequence[SfError], http_status: int | None = None) -> ApiFailure:
    """One record's (or request's) errors as an :class:`ApiFailure`; the first error names it."""
    if not errors:
        errors = [SfError("UNKNOWN", "Salesforce reported a failure without details")]
    first = errors[0]
    classified = classify_salesforce(first.code, http_status)
    fields = tuple(dict.fromkeys(f for e in errors for f in e.fields))
    return ApiFailure(
        system=SYSTEM,
        code=first.code,
        message="; ".join(e.message for e in errors if e.message) or first.code,
        category=classified.category,
        retryable=classified.retryable,
        fields=fields,
        http_status=http_status,
        existing_id=_duplicate_of(first),
    )


def call_failure(
    status: int,
    errors: Sequence[SfError],
    body: Any = None,
    *,
    retry_after: float | None = None,
    usage: tuple[int, int] | None = None,
) -> Exception:
    """The exception for a failed call: a suspension, a retryable failure, or a rejection."""
    code = errors[0].code if errors else f"HTTP_{status}"
    if code == "REQUEST_LIMIT_EXCEEDED" and "concurrent" in errors[0].message.lower():
        return Retryable(Transient(f"{code} (concurrent long-running requests)"))  # not the daily limit
    if classify_salesforce(code, status).suspend:
        shown = f" ({usage[0]}/{usage[1]})" if usage else ""
        reason = SUSPEND_REASONS.get(code, "Salesforce refuses API calls{usage}.").format(usage=shown)
        return SuspendedError(SYSTEM, code, reason)
    if status == 429:
        return Retryable(Transient(f"429 {code}", retry_after=retry_after))
    if status >= 500:
        return Retryable(Transient(f"{status} {code}", ambiguous=status != 503))
    if code == "UNABLE_TO_LOCK_ROW":
        return Retryable(Transient(code))
    return RequestRejected(to_failure(errors, status), body)


def _gave_up(transient: Transient | None, ambiguous: bool) -> ApiFailure:
    if ambiguous:
        return ApiFailure(
            system=SYSTEM,
            code="AMBIGUOUS_CREATE",
            message=(
                "The create timed out or failed with a server error and could not be confirmed; the "
                "record may exist. Find it by email before creating it again."
            ),
            category=ErrorCategory.OTHER,
            retryable=True,
        )
    reason = transient.reason if transient is not None else "transient failure"
    return ApiFailure(
        system=SYSTEM,
        code=reason.split()[-1] if reason.split() else "TRANSIENT",
        message=f"Retries spent: {reason}",
        category=ErrorCategory.API_LIMIT if reason.startswith("429") else ErrorCategory.OTHER,
        retryable=True,
    )


# -- the adapter -------------------------------------------------------------------------------
class SalesforceAdapter:
    """:class:`~shared.ports.SalesforcePort` over simple-salesforce. One instance per process and org;
    not thread-safe (a Lambda handles one event at a time)."""

    def __init__(
        self,
        tokens: SalesforceTokenProvider,
        *,
        api_version: str = API_VERSION,
        auto_assign: bool | None = None,
        retrier: Retrier | None = None,
        timeout: float = 30.0,
        calls: CallCounter | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        describe_together: Sequence[str] = ("Lead", "Contact"),
        cache: SharedCache | None = None,
    ) -> None:
        if not re.fullmatch(r"\d{2,3}\.0", api_version):
            raise ValueError(f"api_version must look like '59.0', got {api_version!r}")
        self.tokens = tokens
        self.session = tokens.session
        self.api_version = api_version
        self.auto_assign = auto_assign
        self._assign = auto_assign  # the header of the write being made
        self.retrier = retrier or tokens.retrier
        self.timeout = timeout
        self.calls = calls or tokens.calls
        self._now = now
        self._sf: Salesforce | None = None
        self._fields: dict[str, dict[str, Mapping[str, Any]]] = {}
        self.describe_together = tuple(describe_together)
        self.cache = cache
        self._usage: tuple[int, int] | None = None
        self._last_headers: Mapping[str, str] = {}
        self.session.hooks.setdefault("response", []).append(self._on_response)

    @classmethod
    def from_secret(
        cls,
        secret: SalesforceSecret,
        *,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        calls: CallCounter | None = None,
        cache: SharedCache | None = None,
        **kwargs: Any,
    ) -> SalesforceAdapter:
        retrier = Retrier(policy or RetryPolicy.from_env())
        tokens = SalesforceTokenProvider(
            secret,
            session=session,
            retrier=retrier,
            timeout=timeout,
            calls=calls or CallCounter(SYSTEM),
            cache=cache,
        )
        return cls(tokens, timeout=timeout, cache=cache, **kwargs)

    # -- SalesforcePort ------------------------------------------------------------------------
    def api_usage(self) -> tuple[int, int] | None:
        return self._usage

    def existing_fields(self, sobject: str, fields: Sequence[str]) -> list[str]:
        """``fields`` without the ones this org's ``sobject`` lacks (custom fields not deployed,
        person-account fields in an org without them)."""
        names = self.describe_fields(sobject)
        return [f for f in fields if "." in f or f.lower() in names]

    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]:
        """The describe entries of ``sobject``'s fields by lower-case name. Described once per
        process, together with the objects named in ``describe_together`` (one Composite call)."""
        self._describe_all([sobject])
        return self._fields[sobject]

    def _describe_all(self, sobjects: Sequence[str]) -> None:
        missing = [o for o in dict.fromkeys([*sobjects, *self.describe_together]) if o not in self._fields]
        if not any(o in missing for o in sobjects):
            return
        for name in missing:
            _check_name(name)
        key = cache_name("salesforce-describe", self.tokens.secret.login_url, *sorted(missing))
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None and all(name in cached for name in missing):
            for name in missing:
                self._fields[name] = cached[name]
            return
        for group in _chunks(missing, MAX_COMPOSITE_SUBREQUESTS):
            if len(group) == 1:
                path = f"sobjects/{group[0]}/describe"
                bodies = [self._read("describe", partial(self._restful, path, "GET", None, False))]
            else:
                bodies = self._read("describe", partial(self._composite_describes, group))
            for name, body in zip(group, bodies, strict=True):
                self._fields[name] = {
                    str(f["name"]).lower(): _compact_field(f) for f in (body or {}).get("fields", [])
                }
        if self.cache is not None:
            self.cache.put(key, {name: self._fields[name] for name in missing}, DESCRIBE_CACHE_SECONDS)

    def _composite_describes(self, sobjects: Sequence[str], sf: Salesforce) -> list[Mapping[str, Any]]:
        base = f"/services/data/v{self.api_version}/sobjects"
        subrequests = [
            {"method": "GET", "url": f"{base}/{name}/describe", "referenceId": f"d{index}"}
            for index, name in enumerate(sobjects)
        ]
        return self._composite(subrequests, sf)

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, SalesforceRecord]:
        _check_name(sobject)
        wanted = list(dict.fromkeys(to_18(i) for i in ids if _ID.match(i)))
        if not wanted:
            return {}
        select = _select_list(self.existing_fields(sobject, fields), BASE_FIELDS)
        out: dict[str, SalesforceRecord] = {}
        for chunk in _chunks(wanted, MAX_RETRIEVE):
            body = {"ids": list(chunk), "fields": select}
            rows = self._read(
                "retrieve", partial(self._restful, f"composite/sobjects/{sobject}", "POST", body, False)
            )
            for row in rows or ():
                if isinstance(row, Mapping) and row.get("Id"):
                    record = to_record(sobject, row)
                    out[record.id] = record
        return out

    def find_by_email(
        self, sobject: str, emails: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        return self.find_people_by_email(emails, {sobject: fields})

    def find_people_by_email(
        self, emails: Sequence[str], fields_by_object: Mapping[str, Sequence[str]]
    ) -> list[SalesforceRecord]:
        """Records of each object whose Email is one of ``emails`` (unconverted Leads only), read
        with one call: the queries of all objects travel together in a Composite request."""
        wanted = sorted({e for e in (normalize_email(x) for x in emails) if e})
        if not wanted or not fields_by_object:
            return []
        self._describe_all(list(fields_by_object))
        literals = [soql_literal(e) for e in wanted]
        queries: list[tuple[str, str]] = []
        for sobject, fields in fields_by_object.items():
            _check_name(sobject)
            select = ", ".join(_select_list(self.existing_fields(sobject, fields), (*BASE_FIELDS, "Email")))
            suffix = " AND IsConverted = false" if sobject.lower() == "lead" else ""
            head = f"SELECT {select} FROM {sobject} WHERE Email IN ("  # noqa: S608 (names checked)
            fixed = len(quote_plus(head + ")" + suffix))
            queries += [
                (sobject, f"{head}{', '.join(chunk)}){suffix}")
                for chunk in in_lists(literals, fixed_chars=fixed)
            ]
        found = set(wanted)
        records: list[SalesforceRecord] = []
        pages = self._query_pages("find_by_email", [q for _, q in queries])
        for (sobject, _), rows in zip(queries, pages, strict=True):
            records += [to_record(sobject, row) for row in rows]
        return [r for r in records if normalize_email(_text(r.fields.get("Email"))) in found]

    def owners(self) -> list[SalesforceOwner]:
        """The users that can own synced records (Standard, PowerPartner, Guest) and the queues: one
        Composite call with both queries (then further pages, if any)."""
        types = ", ".join(soql_literal(t) for t in OWNER_USER_TYPES)
        users, queues = self._query_pages(
            "owners",
            [
                "SELECT Id, Name, FirstName, LastName, Email, UserType, IsActive FROM User "  # noqa: S608
                f"WHERE UserType IN ({types})",
                "SELECT Id, Name, Email FROM Group WHERE Type = 'Queue'",
            ],
        )
        out = [
            SalesforceOwner(
                id=to_18(str(u["Id"])),
                kind="User",
                name=str(u.get("Name") or ""),
                email=u.get("Email"),
                first_name=u.get("FirstName"),
                last_name=u.get("LastName"),
                user_type=u.get("UserType"),
                active=bool(u.get("IsActive")),
            )
            for u in users
        ]
        out += [
            SalesforceOwner(
                id=to_18(str(q["Id"])), kind="Queue", name=str(q.get("Name") or ""), email=q.get("Email")
            )
            for q in queues
        ]
        return out

    def merge_masters(self, sobject: str, ids: Sequence[str]) -> dict[str, str]:
        """Deleted records that a merge folded into another: deleted id -> master id (queryAll)."""
        _check_name(sobject)
        wanted = list(dict.fromkeys(to_18(i) for i in ids if _ID.match(i)))
        if not wanted:
            return {}
        head = f"SELECT Id, MasterRecordId FROM {sobject} WHERE IsDeleted = true AND Id IN ("  # noqa: S608
        fixed = len(quote_plus(head + ")"))
        out: dict[str, str] = {}
        for chunk in in_lists([soql_literal(i) for i in wanted], fixed_chars=fixed):
            soql = f"{head}{', '.join(chunk)})"
            page = self._read("merge_masters", partial(self._soql_all, soql))
            rows = list(page.get("records") or ())
            while not page.get("done", True) and page.get("nextRecordsUrl"):
                page = self._read("merge_masters", partial(self._query_more, str(page["nextRecordsUrl"])))
                rows.extend(page.get("records") or ())
            for row in rows:
                if row.get("MasterRecordId"):
                    out[to_18(str(row["Id"]))] = to_18(str(row["MasterRecordId"]))
        return out

    def modified_since(
        self, sobject: str, since: dt.datetime, fields: Sequence[str], limit: int
    ) -> list[SalesforceRecord]:
        """Records with ``SystemModstamp > since``, oldest first (``ORDER BY SystemModstamp, Id``).

        May return more than ``limit`` records: the records sharing the last one's ``SystemModstamp``
        are all included, so that a cursor kept as "the newest timestamp processed" never skips any.
        """
        _check_name(sobject)
        if limit < 1:
            raise ValueError("limit must be positive")
        select = ", ".join(
            _select_list(self.existing_fields(sobject, fields), (*BASE_FIELDS, "SystemModstamp"))
        )
        base = f"SELECT {select} FROM {sobject} WHERE "  # noqa: S608 (names checked, literals escaped)
        rows = self._query(
            "modified_since",
            [f"{base}SystemModstamp > {soql_datetime(since)} ORDER BY SystemModstamp, Id LIMIT {limit}"],
        )
        if len(rows) >= limit:
            last = rows[-1]
            stamp = soql_datetime(parse_datetime(str(last["SystemModstamp"])))
            rows += self._query(
                "modified_since",
                [f"{base}SystemModstamp = {stamp} AND Id > {soql_literal(str(last['Id']))} ORDER BY Id"],
            )
        return [to_record(sobject, row) for row in rows]

    def create(
        self, sobject: str, writes: Sequence[RecordWrite], *, assign: bool | None = None
    ) -> list[WriteOutcome]:
        """``assign``: whether Salesforce's assignment rules choose the owner (``Sforce-Auto-Assign``);
        None: as the adapter was configured."""
        return self._write(
            sobject, writes, create=True, assign=self.auto_assign if assign is None else assign
        )

    def update(self, sobject: str, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """Updates never run assignment rules: an owner hssync did not write stays."""
        return self._write(
            sobject, writes, create=False, assign=False if self.auto_assign is not None else None
        )

    # -- plumbing ------------------------------------------------------------------------------
    def _on_response(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self._last_headers = response.headers
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self._usage = usage

    def _headers(self, *, write: bool = False) -> dict[str, str]:
        headers = {"Sforce-Call-Options": CALL_OPTIONS}
        if write and self._assign is not None:
            headers["Sforce-Auto-Assign"] = "TRUE" if self._assign else "FALSE"
        return headers

    def _kwargs(self, *, write: bool = False) -> dict[str, Any]:
        return {"headers": self._headers(write=write), "timeout": self.timeout}

    def _client(self) -> Salesforce:
        if self._sf is None:
            from simple_salesforce.api import Salesforce

            token = self.tokens.token()
            self._sf = Salesforce(
                instance_url=token.instance_url,
                session_id=token.access_token,
                session=self.session,
                version=self.api_version,
            )
        return self._sf

    def _attempt(self, operation: str, call: Callable[[Salesforce], T]) -> T:
        """One request (plus one after a token refresh); failures become Retryable or final errors."""
        from simple_salesforce.exceptions import SalesforceError

        refreshed = False
        while True:
            client = self._client()
            self.calls.record(operation)
            try:
                return call(client)
            except SalesforceError as exc:
                errors = parse_errors(exc.content)
                code = errors[0].code if errors else ""
                if exc.status == 401:
                    if not refreshed and code in ("INVALID_SESSION_ID", "", "UNKNOWN"):
                        refreshed = True
                        self._sf = None
                        self.tokens.refresh()
                        continue
                    raise AuthenticationError(
                        f"Salesforce refused a fresh session ({code or 'HTTP 401'}): check the connected "
                        "app and its user"
                    ) from exc
                raise self._failure(exc.status, errors, exc.content) from exc
            except requests.exceptions.SSLError:
                raise  # a certificate problem is configuration, not a transient failure
            except requests.ConnectTimeout as exc:
                raise Retryable(Transient("connect timeout")) from exc
            except requests.Timeout as exc:
                raise Retryable(Transient("timeout", ambiguous=True)) from exc
            except requests.ConnectionError as exc:
                raise Retryable(
                    Transient(f"connection error ({exc.__class__.__name__})", ambiguous=True)
                ) from exc

    def _failure(self, status: int, errors: Sequence[SfError], body: Any) -> Exception:
        retry_after = parse_retry_after(self._last_headers.get("Retry-After")) if status == 429 else None
        return call_failure(status, errors, body, retry_after=retry_after, usage=self._usage)

    def _read(self, operation: str, call: Callable[[Salesforce], T], budget: Budget | None = None) -> T:
        return self.retrier.run(
            lambda: self._attempt(operation, call), what=f"salesforce {operation}", budget=budget
        )

    def _query(self, operation: str, queries: Sequence[str], budget: Budget | None = None) -> list[Any]:
        return [row for rows in self._query_pages(operation, queries, budget) for row in rows]

    def _query_pages(
        self, operation: str, queries: Sequence[str], budget: Budget | None = None
    ) -> list[list[Any]]:
        """The rows of each of ``queries``: one query alone, or up to 5 per Composite call; then
        the further pages of each."""
        out: list[list[Any]] = []
        for group in _chunks(list(queries), MAX_COMPOSITE_QUERIES):
            if len(group) == 1:
                pages = [self._read(operation, partial(self._soql, group[0]), budget)]
            else:
                pages = self._read(operation, partial(self._composite_queries, group), budget)
            for page in pages:
                rows = list(page.get("records") or ())
                while not page.get("done", True) and page.get("nextRecordsUrl"):
                    url = str(page["nextRecordsUrl"])
                    page = self._read(operation, partial(self._query_more, url), budget)
                    rows.extend(page.get("records") or ())
                out.append(rows)
        return out

    def _restful(self, path: str, method: str, body: Any, write: bool, sf: Salesforce) -> Any:
        return sf.restful(path, method=method, json=body, **self._kwargs(write=write))

    def _soql(self, soql: str, sf: Salesforce) -> Any:
        return sf.query(soql, **self._kwargs())

    def _soql_all(self, soql: str, sf: Salesforce) -> Any:
        return sf.query(soql, include_deleted=True, **self._kwargs())

    def _query_more(self, url: str, sf: Salesforce) -> Any:
        return sf.query_more(url, identifier_is_url=True, **self._kwargs())

    def _composite_queries(self, queries: Sequence[str], sf: Salesforce) -> list[Mapping[str, Any]]:
        subrequests = [
            {
                "method": "GET",
                "url": f"/services/data/v{self.api_version}/query?{urlencode({'q': q})}",
                "referenceId": f"q{index}",
            }
            for index, q in enumerate(queries)
        ]
        return self._composite(subrequests, sf)

    def _composite(self, subrequests: list[dict[str, Any]], sf: Salesforce) -> list[Mapping[str, Any]]:
        """Independent read subrequests in one Composite call: their bodies, in order. Any failed
        subrequest fails the whole read (it is retried or classified like a direct call)."""
        body = {"allOrNone": False, "compositeRequest": subrequests}
        answer = self._restful("composite", "POST", body, False, sf)
        bodies: list[Mapping[str, Any]] = []
        for item in (answer or {}).get("compositeResponse") or ():
            status = int(item.get("httpStatusCode", 500))
            if status >= 300:
                raise self._failure(status, parse_errors(item.get("body")), item.get("body"))
            bodies.append(item.get("body") or {})
        if len(bodies) != len(subrequests):
            raise Retryable(Transient("composite answered fewer subrequests than sent"))
        return bodies

    # -- writes --------------------------------------------------------------------------------
    def _write(
        self, sobject: str, writes: Sequence[RecordWrite], *, create: bool, assign: bool | None
    ) -> list[WriteOutcome]:
        self._assign = assign
        try:
            return self._write_all(sobject, writes, create=create)
        finally:
            self._assign = self.auto_assign

    def _write_all(self, sobject: str, writes: Sequence[RecordWrite], *, create: bool) -> list[WriteOutcome]:
        _check_name(sobject)
        outcomes: dict[int, WriteOutcome] = {}
        valid: list[tuple[int, RecordWrite]] = []
        for index, write in enumerate(writes):
            problem = self._invalid_write(write, create=create)
            if problem is not None:
                outcomes[index] = WriteOutcome(write.key, None, problem)
            else:
                valid.append((index, write))
        for chunk in _chunks(valid, MAX_WRITE):
            try:
                self._write_chunk(sobject, chunk, outcomes, create=create)
            except SuspendedError as exc:
                done = [outcomes[i] for i in sorted(outcomes)]
                raise WriteSuspended(exc, done) from exc
        return [outcomes[index] for index in range(len(writes))]

    @staticmethod
    def _invalid_write(write: RecordWrite, *, create: bool) -> ApiFailure | None:
        if create == (write.record_id is None):
            for name in write.fields:
                if not _NAME.match(name) or name.lower() == "id":
                    return ApiFailure(
                        SYSTEM,
                        "INVALID_FIELD",
                        f"not a writable field name: {name!r}",
                        ErrorCategory.PROPERTY_VALUES,
                    )
            if write.record_id is not None and not _ID.match(write.record_id):
                return ApiFailure(
                    SYSTEM,
                    "MALFORMED_ID",
                    f"not a Salesforce id: {write.record_id!r}",
                    ErrorCategory.PROPERTY_VALUES,
                )
            return None
        wanted = "without" if create else "with"
        operation = "create" if create else "update"
        return ApiFailure(
            SYSTEM, "INVALID_WRITE", f"{operation} needs writes {wanted} record_id", ErrorCategory.OTHER
        )

    def _payload(self, sobject: str, write: RecordWrite) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": {"type": sobject}, **write.fields}
        if write.record_id is not None:
            record["Id"] = write.record_id
        return record

    def _write_chunk(
        self,
        sobject: str,
        chunk: Sequence[tuple[int, RecordWrite]],
        done: dict[int, WriteOutcome],
        *,
        create: bool,
    ) -> None:
        """One collection call (again for records that hit transient failures) for <= 200 records;
        each record's outcome goes into ``done`` as soon as it is known."""
        operation = "create" if create else "update"
        budget = self.retrier.budget()
        started = self._now()
        pending = list(chunk)
        ambiguous = False
        last: Transient | None = None
        while pending:
            body = {"allOrNone": False, "records": [self._payload(sobject, w) for _, w in pending]}
            try:
                method = "POST" if create else "PATCH"
                results = self._attempt(
                    operation, partial(self._restful, "composite/sobjects", method, body, True)
                )
            except Retryable as exc:
                last = exc.transient
                if not budget.wait(last):
                    break
                if create and last.ambiguous:
                    ambiguous = True
                    try:
                        pending = self._settle_ambiguous(sobject, pending, started, budget, done)
                    except TransientApiError:
                        break
                continue
            except RequestRejected as exc:
                done.update({i: WriteOutcome(w.key, None, exc.failure) for i, w in pending})
                return
            pending = self._apply_results(pending, results, done)
            if pending:
                last = Transient("UNABLE_TO_LOCK_ROW")
                if not budget.wait(last):
                    break
        failure = _gave_up(last, ambiguous)
        done.update({i: WriteOutcome(w.key, None, failure) for i, w in pending})

    @staticmethod
    def _apply_results(
        pending: Sequence[tuple[int, RecordWrite]], results: Any, done: dict[int, WriteOutcome]
    ) -> list[tuple[int, RecordWrite]]:
        """Record each result; the records that hit a row lock are returned, to be sent again."""
        answers = list(results) if isinstance(results, list) else []
        locked = []
        for position, (index, write) in enumerate(pending):
            result = answers[position] if position < len(answers) else None
            if not isinstance(result, Mapping):
                failure = ApiFailure(
                    SYSTEM,
                    "NO_RESULT",
                    "Salesforce returned no result for this record",
                    ErrorCategory.OTHER,
                    retryable=True,
                )
                done[index] = WriteOutcome(write.key, None, failure)
            elif result.get("success"):
                done[index] = WriteOutcome(write.key, to_18(str(result.get("id") or write.record_id)))
            else:
                errors = parse_errors(result.get("errors"))
                if errors and all(e.code == "UNABLE_TO_LOCK_ROW" for e in errors):
                    locked.append((index, write))
                else:
                    done[index] = WriteOutcome(write.key, None, to_failure(errors))
        return locked

    def _settle_ambiguous(
        self,
        sobject: str,
        pending: Sequence[tuple[int, RecordWrite]],
        started: dt.datetime,
        budget: Budget,
        done: dict[int, WriteOutcome],
    ) -> list[tuple[int, RecordWrite]]:
        """Find the pending creates an unanswered attempt applied anyway; return the others."""
        by_email: dict[str, list[tuple[int, RecordWrite]]] = {}
        for index, write in pending:
            email = normalize_email(_text(write.fields.get("Email")))
            if email:
                by_email.setdefault(email, []).append((index, write))
        if not by_email:
            return list(pending)
        conditions = f" AND CreatedDate >= {soql_datetime(started - AMBIGUITY_MARGIN)}"
        user_id = self.tokens.token().user_id
        if user_id and _ID.match(user_id):
            conditions += f" AND CreatedById = {soql_literal(user_id)}"
        head = f"SELECT Id, Email, CreatedDate FROM {sobject} WHERE Email IN ("  # noqa: S608 (name checked)
        tail = f"){conditions} ORDER BY CreatedDate, Id"
        literals = [soql_literal(e) for e in sorted(by_email)]
        queries = [
            f"{head}{', '.join(c)}{tail}"
            for c in in_lists(literals, fixed_chars=len(quote_plus(head + tail)))
        ]
        settled: set[int] = set()
        for row in self._query("find_created", queries, budget):
            candidates = by_email.get(normalize_email(_text(row.get("Email"))) or "", [])
            if candidates:
                index, write = candidates.pop(0)
                done[index] = WriteOutcome(write.key, to_18(str(row["Id"])))
                settled.add(index)
        return [(i, w) for i, w in pending if i not in settled]


_DESCRIBE_KEYS = (
    "name", "type", "label", "length", "precision", "scale", "digits", "nillable", "createable",
    "updateable", "restrictedPicklist", "externalId", "unique", "calculated",
)  # fmt: skip


def _compact_field(field: Mapping[str, Any]) -> dict[str, Any]:
    """What hssync uses of a describe entry (a full describe of Lead and Contact would not fit the
    shared cache): the type information and the active picklist values."""
    compact = {k: field[k] for k in _DESCRIBE_KEYS if k in field}
    values = [
        {"value": p["value"], "active": True}
        for p in field.get("picklistValues") or ()
        if isinstance(p, Mapping) and p.get("value") is not None and p.get("active", True)
    ]
    if values:
        compact["picklistValues"] = values
    return compact


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
