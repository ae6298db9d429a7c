"""sObject Collections: ``retrieve`` (up to 2,000 ids per call; SOQL ``Id IN`` would need several
calls for as many ids, because of the URL length), ``create`` / ``update`` / ``upsert`` by an
external-id field and ``delete`` (``DELETE composite/sobjects?ids=...``; a record already deleted
is deleted) (200 records per call, ``allOrNone`` false, each record's result mapped to a
:class:`~shared.ports.WriteOutcome`, see :mod:`shared.adapters.salesforce.settle`).

Writes never lose what already succeeded: records still failing when the retry budget is spent come
back as failures with ``retryable=True``. A create that could not be settled after an ambiguous
failure fails with code ``AMBIGUOUS_CREATE`` (retryable): whoever retries must find by email before
creating. An Account, Opportunity or OpportunityContactRole create has no email
(:data:`NOT_SENT_AGAIN`): after an ambiguous failure it is never sent again, it fails
``AMBIGUOUS_CREATE`` at once (``shared.accounts.creation_intents`` looks for an Account or an
Opportunity; a contact role's deal is decided again from fresh reads of its roles).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlencode

from shared.adapters.retry import Budget, RequestRejected, Retryable, Transient, WriteSuspended
from shared.adapters.salesforce.errors import gave_up
from shared.adapters.salesforce.parse import to_record
from shared.adapters.salesforce.query import SalesforceQueries
from shared.adapters.salesforce.settle import (
    MAX_WRITE,
    Pending,
    apply_results,
    by_email,
    payload,
    settle_by_content,
    settle_created,
    write_problem,
)
from shared.adapters.salesforce.soql import (
    BASE_FIELDS,
    check_name,
    created_since_queries,
    select_list,
    tasks_created_since_queries,
)
from shared.chunking import chunks
from shared.errors import SuspendedError, TransientApiError
from shared.ids import looks_like_salesforce_id, salesforce_id18_or_none
from shared.models import ACCOUNT, OPPORTUNITY, OPPORTUNITY_CONTACT_ROLE
from shared.ports import RecordWrite, SalesforceRecord, WriteOutcome

MAX_RETRIEVE = 2000  # ids per sObject Collections retrieve
# creates without an email to be found by after an ambiguous failure: apply looks for them instead
# (an Account, an Opportunity) or decides their deal again from fresh reads (a contact role)
NOT_SENT_AGAIN = frozenset({ACCOUNT, OPPORTUNITY, OPPORTUNITY_CONTACT_ROLE})
AMBIGUITY_MARGIN = dt.timedelta(minutes=5)
TASK = "Task"  # clock skew allowed when looking for our own creates


class SalesforceCollections(SalesforceQueries):
    _now: Callable[[], dt.datetime]

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, SalesforceRecord]:
        check_name(sobject)
        wanted = list(dict.fromkeys(i for i in (salesforce_id18_or_none(raw) for raw in ids) if i))
        if not wanted:
            return {}
        select = select_list(self.existing_fields(sobject, fields), BASE_FIELDS)
        out: dict[str, SalesforceRecord] = {}
        for chunk in chunks(wanted, MAX_RETRIEVE):
            body = {"ids": list(chunk), "fields": select}
            rows = self._read(
                "retrieve", partial(self._restful, f"composite/sobjects/{sobject}", "POST", body, False)
            )
            for row in rows or ():
                if isinstance(row, Mapping) and row.get("Id"):
                    record = to_record(sobject, row)
                    out[record.id] = record
        return out

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

    def upsert(self, sobject: str, external_field: str, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """Create or update each record by its value of ``external_field`` (an external-id field),
        200 per call. Sending a record again is harmless, so a call whose answer was lost is simply
        sent again: nothing is created twice."""
        check_name(external_field)
        self._assign = False if self.auto_assign is not None else None
        try:
            return self._write_all(sobject, writes, call=_upsert_call(sobject, external_field))
        finally:
            self._assign = self.auto_assign

    def delete(self, sobject: str, ids: Sequence[str]) -> list[WriteOutcome]:
        """Deletes these records (200 per call); a record already deleted is a success."""
        writes = [RecordWrite(i, i, {}) for i in ids]
        outcomes = self._write_all(sobject, writes, call=DELETE)
        return [
            WriteOutcome(o.key, o.key) if o.failure is not None and o.failure.code == ALREADY_DELETED else o
            for o in outcomes
        ]

    # -- writes --------------------------------------------------------------------------------
    def _write(
        self, sobject: str, writes: Sequence[RecordWrite], *, create: bool, assign: bool | None
    ) -> list[WriteOutcome]:
        self._assign = assign
        try:
            return self._write_all(sobject, writes, call=CREATE if create else UPDATE)
        finally:
            self._assign = self.auto_assign

    def _write_all(self, sobject: str, writes: Sequence[RecordWrite], *, call: _Call) -> list[WriteOutcome]:
        check_name(sobject)
        outcomes: dict[int, WriteOutcome] = {}
        valid: list[Pending] = []
        for index, write in enumerate(writes):
            problem = write_problem(write, create=call.creates, key_field=call.key_field)
            if problem is not None:
                outcomes[index] = WriteOutcome(write.key, None, problem)
            else:
                valid.append((index, write))
        for chunk in chunks(valid, MAX_WRITE):
            try:
                self._write_chunk(sobject, chunk, outcomes, call=call)
            except SuspendedError as exc:
                done = [outcomes[i] for i in sorted(outcomes)]
                raise WriteSuspended(exc, done) from exc
        return [outcomes[index] for index in range(len(writes))]

    def _write_chunk(
        self, sobject: str, chunk: Sequence[Pending], done: dict[int, WriteOutcome], *, call: _Call
    ) -> None:
        """One collection call (again for records that hit transient failures) for <= 200 records;
        each record's outcome goes into ``done`` as soon as it is known."""
        budget = self.retrier.budget()
        started = self._now()
        pending = list(chunk)
        ambiguous = False
        last: Transient | None = None
        while pending:
            path, body = _request(sobject, pending, call)
            try:
                results = self._attempt(call.operation, partial(self._restful, path, call.method, body, True))
            except Retryable as exc:
                last = exc.transient
                if not budget.wait(last):
                    break
                if call.settles and last.ambiguous:
                    ambiguous = True
                    try:
                        pending = self._settle_ambiguous(sobject, pending, started, budget, done)
                    except TransientApiError:
                        break
                continue
            except RequestRejected as exc:
                done.update({i: WriteOutcome(w.key, None, exc.failure) for i, w in pending})
                return
            pending = apply_results(pending, results, done)
            if pending:
                last = Transient("UNABLE_TO_LOCK_ROW")
                if not budget.wait(last):
                    break
        failure = gave_up(last, ambiguous)
        done.update({i: WriteOutcome(w.key, None, failure) for i, w in pending})

    def _settle_ambiguous(
        self,
        sobject: str,
        pending: Sequence[Pending],
        started: dt.datetime,
        budget: Budget,
        done: dict[int, WriteOutcome],
    ) -> list[Pending]:
        """Find the pending creates an unanswered attempt applied anyway; return the others."""
        if sobject == TASK:
            return self._settle_tasks(pending, started, budget, done)
        if sobject in NOT_SENT_AGAIN:  # no email to find it by: never sent again, its caller looks for it
            done.update({i: WriteOutcome(w.key, None, gave_up(None, True)) for i, w in pending})
            return []
        candidates = by_email(pending)
        if not candidates:
            return list(pending)
        user_id = self.tokens.token().user_id
        queries = created_since_queries(
            sobject,
            sorted(candidates),
            started - AMBIGUITY_MARGIN,
            user_id if user_id and looks_like_salesforce_id(user_id) else None,
        )
        settled = settle_created(self._query("find_created", queries, budget), candidates, done)
        return [(i, w) for i, w in pending if i not in settled]

    def _settle_tasks(
        self, pending: Sequence[Pending], started: dt.datetime, budget: Budget, done: dict[int, WriteOutcome]
    ) -> list[Pending]:
        """Tasks have no email: a pending create was applied when a task of the same record with the
        same subject and description was created by this user since the attempt began."""
        who = sorted({str(w.fields["WhoId"]) for _, w in pending if w.fields.get("WhoId")})
        if not who:
            return list(pending)
        user_id = self.tokens.token().user_id
        queries = tasks_created_since_queries(
            who,
            started - AMBIGUITY_MARGIN,
            user_id if user_id and looks_like_salesforce_id(user_id) else None,
        )
        settled = settle_by_content(self._query("find_created", queries, budget), pending, done)
        return [(i, w) for i, w in pending if i not in settled]


class _Call(NamedTuple):
    operation: str
    method: str
    path: str
    creates: bool
    settles: bool  # a create whose answer was lost is looked for before it is sent again
    key_field: str | None = None


CREATE = _Call("create", "POST", "composite/sobjects", creates=True, settles=True)
UPDATE = _Call("update", "PATCH", "composite/sobjects", creates=False, settles=False)
DELETE = _Call("delete", "DELETE", "composite/sobjects", creates=False, settles=False)
ALREADY_DELETED = "ENTITY_IS_DELETED"


def _request(sobject: str, pending: Sequence[Pending], call: _Call) -> tuple[str, dict[str, Any] | None]:
    """A collection call's path and body: a delete names its ids in the query string."""
    if call is DELETE:
        ids = ",".join(str(w.record_id) for _, w in pending)
        return f"{call.path}?{urlencode({'ids': ids, 'allOrNone': 'false'})}", None
    return call.path, {"allOrNone": False, "records": [payload(sobject, w) for _, w in pending]}


def _upsert_call(sobject: str, external_field: str) -> _Call:
    path = f"composite/sobjects/{sobject}/{external_field}"
    return _Call("upsert", "PATCH", path, creates=True, settles=False, key_field=external_field)
