"""The owners API (read-only): every active owner, 500 per call."""

from __future__ import annotations

from functools import partial

from shared.adapters.hubspot.transport import OWNERS, HubSpotTransport
from shared.owners.directory import HubSpotOwner

OWNERS_PAGE = 500  # GET /crm/v3/owners: the maximum limit


class HubSpotOwners(HubSpotTransport):
    def probe(self) -> tuple[int, int] | None:
        """One cheap call (a one-owner page, no retry) to learn whether the portal answers; the
        daily usage its answer reported."""
        from hubspot.crm.owners import OwnersApi

        api = OwnersApi(self._client(OWNERS))
        self._attempt("probe", partial(api.get_page, limit=1, archived=False, **self._opts()), package=OWNERS)
        return self.api_usage()

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
