"""The HubSpot port: the API parts of the package put together, and built from a secret."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.adapters.hubspot.associations import HubSpotAssociations
from shared.adapters.hubspot.companies import HubSpotCompanies
from shared.adapters.hubspot.deals import HubSpotDeals
from shared.adapters.hubspot.email_events import HubSpotEmailEvents
from shared.adapters.hubspot.lists import HubSpotLists
from shared.adapters.hubspot.owners import HubSpotOwners
from shared.adapters.hubspot.preferences import HubSpotPreferences
from shared.adapters.hubspot.properties import HubSpotProperties
from shared.adapters.hubspot.search import SEARCH_PER_SECOND, HubSpotSearch
from shared.adapters.hubspot.transport import DEFAULT_HOST, Pacer
from shared.adapters.retry import CallCounter, Retrier, RetryPolicy
from shared.adapters.secrets import HubSpotSecret
from shared.state.cache import SharedCache


class HubSpotAdapter(
    HubSpotPreferences,
    HubSpotCompanies,
    HubSpotDeals,
    HubSpotAssociations,
    HubSpotSearch,
    HubSpotLists,
    HubSpotOwners,
    HubSpotProperties,
    HubSpotEmailEvents,
):
    """:class:`~shared.ports.HubSpotPort` (and :class:`~shared.ports.HubSpotCompaniesPort`) over
    hubspot-api-client, for one portal's private-app token. Not thread-safe (a Lambda handles one
    event at a time)."""

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
        super().__init__(
            access_token, host=host, retrier=retrier, timeout=timeout, calls=calls, ca_bundle=ca_bundle
        )
        self.cache = cache
        self.history_in_email_lookup = history_in_email_lookup
        self._pacer = Pacer(search_per_second, clock=clock, sleep=self.retrier.sleep)
        self._property_types = None
        self._types_of = {}

    @classmethod
    def from_secret(
        cls,
        secret: HubSpotSecret,
        *,
        portal: str | None = None,
        policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> HubSpotAdapter:
        """The adapter of ``portal`` (its token in the secret; see ``shared.adapters.secrets``)."""
        kwargs.setdefault("retrier", Retrier(policy or RetryPolicy.from_env()))
        return cls(secret.token(portal).get_secret_value(), host=secret.api_url, **kwargs)
