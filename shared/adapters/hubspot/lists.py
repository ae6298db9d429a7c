"""Lists v3 memberships: which contacts are in a list, and who joined it since a time.

``list_members``: ``records/memberships/batch/read``, 100 contacts per call (the client has no method
for it: the lists module's ``ApiClient.call_api``); ``list_member_ids`` pages
``GET /crm/v3/lists/{listId}/memberships`` 250 at a time (the maximum ``limit``);
``list_members_joined_since`` pages ``.../memberships/join-order`` the same way (every page: the
endpoint has no time filter) and keeps the joins at or after ``since``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from shared.adapters.hubspot.transport import LISTS, HubSpotTransport
from shared.chunking import chunks
from shared.times import as_utc

CONTACT_TYPE_ID = "0-1"
MAX_MEMBERSHIP_BATCH = 100  # lists v3 records/memberships/batch/read
MEMBERSHIP_PAGE = 250  # GET /crm/v3/lists/{listId}/memberships: "The maximum limit is 250"
MEMBERSHIPS_BATCH_READ = "/crm/v3/lists/records/memberships/batch/read"


class HubSpotLists(HubSpotTransport):
    def list_members(self, list_id: str, contact_ids: Sequence[str]) -> set[str]:
        """Which of ``contact_ids`` are members of the list: one batch read per 100 contacts."""
        wanted = list(dict.fromkeys(s for s in (str(i).strip() for i in contact_ids) if s))
        members: set[str] = set()
        for chunk in chunks(wanted, MAX_MEMBERSHIP_BATCH):
            body = {"inputs": [{"objectTypeId": CONTACT_TYPE_ID, "recordId": i} for i in chunk]}
            call = partial(self._raw, LISTS, "POST", MEMBERSHIPS_BATCH_READ, body=body)
            answer = self._read("list_memberships", call, package=LISTS) or {}
            for result in answer.get("results") or ():
                lists = result.get("recordListMemberships") or ()
                if any(str(m.get("listId")) == str(list_id) for m in lists):
                    members.add(str(result.get("recordId")))
        return members & set(wanted)

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
                stamp = as_utc(result.membership_timestamp)
                if stamp >= since:
                    joined[str(result.record_id)] = stamp
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return sorted(joined.items(), key=lambda item: item[1])
