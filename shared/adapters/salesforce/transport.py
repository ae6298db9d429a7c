"""One Salesforce request at a time, over simple-salesforce: the client (built on the first call),
the headers every request carries, a new token after an expired session, the retry policy around
reads, and Composite calls.

Every request carries ``Sforce-Call-Options: client=hssync``, so the change events of our own writes
carry ``changeOrigin: com/salesforce/api/rest/59.0;client=hssync`` and echo suppression can spot
them; ``Sforce-Auto-Assign`` is sent on writes when the adapter is told to. The ``Sforce-Limit-Info``
header of every answer keeps :meth:`SalesforceTransport.api_usage` current.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from shared.adapters.auth import SalesforceTokenProvider
from shared.adapters.retry import Budget, CallCounter, Retrier, Retryable, Transient, parse_retry_after
from shared.adapters.salesforce.errors import (
    call_failure,
    connection_failure,
    refreshable,
    session_refused,
)
from shared.adapters.salesforce.parse import SfError, parse_errors, parse_limit_info
from shared.models import SALESFORCE_CALL_OPTIONS, SALESFORCE_CLIENT_NAME

if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce

T = TypeVar("T")

CLIENT_NAME = SALESFORCE_CLIENT_NAME  # Sforce-Call-Options client=...; in changeOrigin of our writes
CALL_OPTIONS = SALESFORCE_CALL_OPTIONS
API_VERSION = "59.0"
MAX_COMPOSITE_SUBREQUESTS = 25  # subrequests per Composite call


class SalesforceTransport:
    """The requests of one org's adapter; not thread-safe (a Lambda handles one event at a time)."""

    def __init__(
        self,
        tokens: SalesforceTokenProvider,
        *,
        api_version: str = API_VERSION,
        auto_assign: bool | None = None,
        retrier: Retrier | None = None,
        timeout: float = 30.0,
        calls: CallCounter | None = None,
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
        self._sf: Salesforce | None = None
        self._usage: tuple[int, int] | None = None
        self._last_headers: Mapping[str, str] = {}
        self.session.hooks.setdefault("response", []).append(self._on_response)

    def api_usage(self) -> tuple[int, int] | None:
        return self._usage

    def probe(self) -> tuple[int, int] | None:
        """One cheap call (``limits``, no retry) to learn whether the org answers; the usage its
        answer reported."""
        self._attempt("limits", lambda sf: self._restful("limits", "GET", None, False, sf))
        return self._usage

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
                if exc.status == 401:
                    if not refreshed and refreshable(exc.status, errors):
                        refreshed = True
                        self._sf = None
                        self.tokens.refresh()
                        continue
                    raise session_refused(errors) from exc
                raise self._failure(exc.status, errors, exc.content) from exc
            except (requests.Timeout, requests.ConnectionError) as exc:
                retryable = connection_failure(exc)
                if retryable is None:
                    raise  # a certificate problem is configuration, not a transient failure
                raise retryable from exc

    def _failure(self, status: int, errors: Sequence[SfError], body: Any) -> Exception:
        retry_after = parse_retry_after(self._last_headers.get("Retry-After")) if status == 429 else None
        return call_failure(status, errors, body, retry_after=retry_after, usage=self._usage)

    def _read(self, operation: str, call: Callable[[Salesforce], T], budget: Budget | None = None) -> T:
        return self.retrier.run(
            lambda: self._attempt(operation, call), what=f"salesforce {operation}", budget=budget
        )

    def _restful(self, path: str, method: str, body: Any, write: bool, sf: Salesforce) -> Any:
        return sf.restful(path, method=method, json=body, **self._kwargs(write=write))

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

    def _subrequest_url(self, path: str) -> str:
        return f"/services/data/v{self.api_version}/{path}"
