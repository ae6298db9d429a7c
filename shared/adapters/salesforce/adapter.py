"""The Salesforce port: the layers of the package put together, and built from a secret."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import requests

from shared.adapters.auth import SalesforceTokenProvider
from shared.adapters.retry import CallCounter, Retrier, RetryPolicy
from shared.adapters.salesforce.errors import SYSTEM
from shared.adapters.salesforce.opportunities import SalesforceOpportunities
from shared.adapters.salesforce.sobjects import SalesforceCollections
from shared.adapters.salesforce.transport import API_VERSION
from shared.adapters.secrets import SalesforceSecret
from shared.models import SALESFORCE_OBJECTS
from shared.state.cache import SharedCache
from shared.times import utc_now


class SalesforceAdapter(SalesforceCollections, SalesforceOpportunities):
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
        now: Callable[[], dt.datetime] = utc_now,
        describe_together: Sequence[str] = SALESFORCE_OBJECTS,
        cache: SharedCache | None = None,
    ) -> None:
        super().__init__(
            tokens,
            api_version=api_version,
            auto_assign=auto_assign,
            retrier=retrier,
            timeout=timeout,
            calls=calls,
        )
        self._now = now
        self._fields = {}
        self.describe_together = tuple(describe_together)
        self.cache = cache

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
