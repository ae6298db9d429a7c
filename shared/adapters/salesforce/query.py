"""SOQL reads: find by email, the Contacts of Accounts, owners, merged-away records, and the poller's
``modified_since``.

``Email IN (...)`` lists are cut to keep each query URL under ~14,000 characters; several such
queries travel in one Composite call (at most 5 query subrequests each), so 1,000 emails cost one
call. Every query's further pages (``nextRecordsUrl``) are read too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from shared.accounts.creation_intents import IDENTIFYING, Created, CreatedKind
from shared.adapters.retry import Budget
from shared.adapters.salesforce.describe import SalesforceDescribe
from shared.adapters.salesforce.parse import text, to_record
from shared.adapters.salesforce.soql import (
    BASE_FIELDS,
    SYSTEM_FIELDS,
    by_account_queries,
    by_email_queries,
    check_name,
    merged_away_queries,
    merged_into_queries,
    modified_after_query,
    modified_at_query,
    named_created_since_queries,
    owned_by_query,
    owner_queries,
    select_list,
)
from shared.chunking import chunks
from shared.ids import looks_like_salesforce_id, salesforce_id18, salesforce_id18_or_none
from shared.matching import normalize_email
from shared.models import ACCOUNT, COMPANIES, DEALS, OPPORTUNITY
from shared.owners.directory import SalesforceOwner
from shared.ports import ModifiedRead, SalesforceRecord
from shared.times import parse_timestamp

if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce

MAX_COMPOSITE_QUERIES = 5  # of which query subrequests


class SalesforceQueries(SalesforceDescribe):
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
        queries: list[tuple[str, str]] = []
        for sobject, fields in fields_by_object.items():
            select = select_list(self.existing_fields(sobject, fields), (*BASE_FIELDS, "Email"))
            queries += [(sobject, q) for q in by_email_queries(sobject, select, wanted)]
        found = set(wanted)
        records: list[SalesforceRecord] = []
        pages = self._query_pages("find_by_email", [q for _, q in queries])
        for (sobject, _), rows in zip(queries, pages, strict=True):
            records += [to_record(sobject, row) for row in rows]
        return [r for r in records if normalize_email(text(r.fields.get("Email"))) in found]

    def contacts_of_accounts(
        self, account_ids: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        """The Contacts whose AccountId is one of ``account_ids``: ``AccountId IN (...)`` queries cut
        like the email lists, travelling together in Composite calls (1,000 Accounts: one call)."""
        wanted = list(dict.fromkeys(i for i in (salesforce_id18_or_none(raw) for raw in account_ids) if i))
        if not wanted:
            return []
        self._describe_all(["Contact"])
        select = select_list(self.existing_fields("Contact", fields), (*BASE_FIELDS, "AccountId"))
        return [
            to_record("Contact", row)
            for row in self._query("contacts_of_accounts", by_account_queries(select, wanted))
        ]

    def accounts_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """The Accounts the integration user created at or after ``since`` named one of ``names``:
        ``Name IN (...)`` queries cut like the email lists, in one Composite call."""
        return self._created_since(COMPANIES, ACCOUNT, names, since)

    def opportunities_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """:meth:`accounts_created_since` for Opportunities, with their Name, Amount and CloseDate."""
        return self._created_since(DEALS, OPPORTUNITY, names, since)

    def _created_since(
        self, kind: CreatedKind, sobject: str, names: Sequence[str], since: dt.datetime
    ) -> list[Created]:
        """Records the integration user created at or after ``since`` named one of ``names``, with
        the values that identify them (``shared.accounts.creation_intents.IDENTIFYING``)."""
        wanted = sorted({n for n in names if n})
        if not wanted:
            return []
        user_id = self.tokens.token().user_id
        fields = IDENTIFYING[(kind, "salesforce")]
        queries = named_created_since_queries(
            sobject, fields, wanted, since, user_id if user_id and looks_like_salesforce_id(user_id) else None
        )
        operation = "accounts_created_since" if kind == COMPANIES else "opportunities_created_since"
        return [
            Created(
                salesforce_id18(str(row["Id"])),
                {f: row.get(f) for f in fields},
                parse_timestamp(str(row["CreatedDate"])),
            )
            for row in self._query(operation, queries)
        ]

    def owners(self) -> list[SalesforceOwner]:
        """The users that can own synced records (Standard, PowerPartner, Guest) and the queues: one
        Composite call with both queries (then further pages, if any)."""
        users, queues = self._query_pages("owners", owner_queries())
        out = [
            SalesforceOwner(
                id=salesforce_id18(str(u["Id"])),
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
                id=salesforce_id18(str(q["Id"])),
                kind="Queue",
                name=str(q.get("Name") or ""),
                email=q.get("Email"),
            )
            for q in queues
        ]
        return out

    def merge_masters(self, sobject: str, ids: Sequence[str]) -> dict[str, str]:
        """Deleted records that a merge folded into another: deleted id -> master id (queryAll)."""
        check_name(sobject)
        wanted = list(dict.fromkeys(i for i in (salesforce_id18_or_none(raw) for raw in ids) if i))
        if not wanted:
            return {}
        return self._merged("merge_masters", merged_away_queries(sobject, wanted))

    def merged_into(self, sobject: str, master_ids: Sequence[str]) -> dict[str, str]:
        """Deleted records merged into one of ``master_ids``: deleted id -> master id (queryAll)."""
        check_name(sobject)
        wanted = list(dict.fromkeys(i for i in (salesforce_id18_or_none(raw) for raw in master_ids) if i))
        return self._merged("merged_into", merged_into_queries(sobject, wanted)) if wanted else {}

    def _merged(self, operation: str, queries: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for soql in queries:
            for row in self._pages(operation, partial(self._soql_all, soql)):
                if row.get("MasterRecordId"):
                    out[salesforce_id18(str(row["Id"]))] = salesforce_id18(str(row["MasterRecordId"]))
        return out

    def modified_since(
        self, sobject: str, since: dt.datetime, fields: Sequence[str], limit: int
    ) -> list[SalesforceRecord]:
        """Records with ``SystemModstamp > since``, oldest first (``ORDER BY SystemModstamp, Id``).

        May return more than ``limit`` records: the records sharing the last one's ``SystemModstamp``
        are all included, so that a cursor kept as "the newest timestamp processed" never skips any.
        """
        return self.modified_since_each([ModifiedRead(sobject, since, fields)], limit)[0]

    def modified_since_each(self, reads: Sequence[ModifiedRead], limit: int) -> list[list[SalesforceRecord]]:
        """``modified_since`` of each of ``reads``: the first queries of up to 5 objects in one
        Composite call, then, for an object whose page was full, the rest of its last timestamp."""
        if limit < 1:
            raise ValueError("limit must be positive")
        described = [check_name(read.sobject) for read in reads if not _system_fields_only(read.fields)]
        self._describe_all(described)  # one describe call for all that need one
        selects = [self._modified_select(read) for read in reads]
        queries = [
            modified_after_query(read.sobject, select, read.since, limit)
            for read, select in zip(reads, selects, strict=True)
        ]
        pages = self._query_pages("modified_since", queries)
        ties = {
            index: modified_at_query(
                read.sobject, select, parse_timestamp(str(rows[-1]["SystemModstamp"])), str(rows[-1]["Id"])
            )
            for index, (read, select, rows) in enumerate(zip(reads, selects, pages, strict=True))
            if len(rows) >= limit
        }
        for index, rows in zip(ties, self._query_pages("modified_since", list(ties.values())), strict=True):
            pages[index] = pages[index] + rows
        return [
            [to_record(read.sobject, row) for row in rows] for read, rows in zip(reads, pages, strict=True)
        ]

    def _modified_select(self, read: ModifiedRead) -> list[str]:
        fields = (
            read.fields
            if _system_fields_only(read.fields)
            else self.existing_fields(read.sobject, read.fields)
        )
        return select_list(fields, (*BASE_FIELDS, "SystemModstamp"))

    def owned_by(self, sobject: str, owner_id: str) -> list[str]:
        """The ids of the records of ``sobject`` that this user or queue owns (every page)."""
        rows = self._query("owned_by", [owned_by_query(sobject, salesforce_id18(owner_id))])
        return [salesforce_id18(str(row["Id"])) for row in rows]

    # -- running queries -----------------------------------------------------------------------
    def _query(self, operation: str, queries: Sequence[str], budget: Budget | None = None) -> list[Any]:
        return [row for rows in self._query_pages(operation, queries, budget) for row in rows]

    def _query_pages(
        self, operation: str, queries: Sequence[str], budget: Budget | None = None
    ) -> list[list[Any]]:
        """The rows of each of ``queries``: one query alone, or up to 5 per Composite call; then
        the further pages of each."""
        out: list[list[Any]] = []
        for group in chunks(list(queries), MAX_COMPOSITE_QUERIES):
            if len(group) == 1:
                pages = [self._read(operation, partial(self._soql, group[0]), budget)]
            else:
                pages = self._read(operation, partial(self._composite_queries, group), budget)
            out += [self._rest_of(operation, page, budget) for page in pages]
        return out

    def _pages(self, operation: str, first: Callable[[Salesforce], Any]) -> list[Any]:
        """The rows of a query whose first page ``first`` reads, and of its further pages."""
        return self._rest_of(operation, self._read(operation, first))

    def _rest_of(self, operation: str, page: Any, budget: Budget | None = None) -> list[Any]:
        """The rows of ``page`` and of the pages that follow it."""
        rows = list(page.get("records") or ())
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            url = str(page["nextRecordsUrl"])
            page = self._read(operation, partial(self._query_more, url), budget)
            rows.extend(page.get("records") or ())
        return rows

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
                "url": self._subrequest_url(f"query?{urlencode({'q': q})}"),
                "referenceId": f"q{index}",
            }
            for index, q in enumerate(queries)
        ]
        return self._composite(subrequests, sf)


def _system_fields_only(fields: Sequence[str]) -> bool:
    return all(name.lower() in SYSTEM_FIELDS for name in fields)
