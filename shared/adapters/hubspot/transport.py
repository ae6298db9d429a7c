"""One HubSpot request at a time, over hubspot-api-client: the API packages' clients (each imported
and built on its first call, with the client's own retries off), the retry policy around every call,
raw calls for endpoints the client has no method for, and the pacing of search calls.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from shared.adapters.hubspot.errors import SYSTEM, call_failure, connection_failure
from shared.adapters.hubspot.parse import json_body, parse_daily_usage
from shared.adapters.retry import CallCounter, Retrier

T = TypeVar("T")

DEFAULT_HOST = "https://api.hubapi.com"
USER_AGENT = "hssync"
CONTACTS = "hubspot.crm.contacts"
COMPANIES = "hubspot.crm.companies"
ASSOCIATIONS = "hubspot.crm.associations.v4"
LISTS = "hubspot.crm.lists"
PROPERTIES = "hubspot.crm.properties"
COMM_PREFS = "hubspot.communication_preferences"
OWNERS = "hubspot.crm.owners"
DEALS = "hubspot.crm.deals"
PIPELINES = "hubspot.crm.pipelines"


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


class HubSpotTransport:
    """The requests of one portal's adapter, with its private-app token. Not thread-safe (a Lambda
    handles one event at a time)."""

    def __init__(
        self,
        access_token: str,
        *,
        host: str = DEFAULT_HOST,
        retrier: Retrier | None = None,
        timeout: float = 30.0,
        calls: CallCounter | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.retrier = retrier or Retrier()
        self.timeout = timeout
        self.calls = calls or CallCounter(SYSTEM)
        self._token = access_token
        self._ca_bundle = ca_bundle
        self._clients: dict[str, Any] = {}  # API package -> its ApiClient
        self._batch_api: Any = None
        self._search_api: Any = None
        self._memberships_api: Any = None
        self._properties_api: Any = None
        self._other_batch_apis: dict[str, Any] = {}  # API package (companies, associations) -> BatchApi
        self._usage: tuple[int, int] | None = None

    def api_usage(self) -> tuple[int, int] | None:
        """(used, daily limit) from the daily headers of the last answer, if any."""
        return self._usage

    def _note_usage(self, headers: Any) -> None:
        usage = parse_daily_usage(headers)
        if usage is not None:
            self._usage = usage

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

    def _batch(self) -> Any:
        if self._batch_api is None:
            self._apis()
        return self._batch_api

    def _searcher(self) -> Any:
        if self._search_api is None:
            self._apis()
        return self._search_api

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

    def _batch_of(self, package: str) -> Any:
        """The ``BatchApi`` of an API package (contacts, companies, associations v4)."""
        if package == CONTACTS:
            return self._batch()
        api = self._other_batch_apis.get(package)
        if api is None:
            api = importlib.import_module(package).BatchApi(self._client(package))
            self._other_batch_apis[package] = api
        return api

    def _batch_read(self, body: Any, package: str = CONTACTS) -> Any:
        return self._batch_of(package).read(body, archived=False, **self._opts())

    def _batch_call(self, method: str, body: Any, package: str = CONTACTS) -> Any:
        return getattr(self._batch_of(package), method)(body, **self._opts())

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

    def _attempt(self, operation: str, call: Callable[[], T], package: str = CONTACTS) -> T:
        """One attempt; ``package`` is the API package whose ``ApiException`` the call raises."""
        from urllib3.exceptions import HTTPError

        ApiException = importlib.import_module(f"{package}.exceptions").ApiException
        self.calls.record(operation)
        try:
            answer = call()
        except ApiException as exc:
            self._note_usage(exc.headers)
            raise self._failure(exc) from exc
        except HTTPError as exc:  # timeouts, refused or dropped connections
            raise connection_failure(exc) from exc
        last = getattr(self._clients.get(package), "last_response", None)
        self._note_usage(getattr(getattr(last, "urllib3_response", None), "headers", None))
        return answer

    @staticmethod
    def _failure(exc: Any) -> Exception:
        return call_failure(int(exc.status or 0), json_body(exc.body), exc.headers or {}, exc.reason)

    def _read(self, operation: str, call: Callable[[], T], package: str = CONTACTS) -> T:
        return self.retrier.run(lambda: self._attempt(operation, call, package), what=f"hubspot {operation}")
