"""Associations v4 between contacts and companies: batch read, batch create and batch archive.

- ``associations``: ``POST /crm/v4/associations/{from}/{to}/batch/read``, 1,000 ids per call; a
  record with more associations than a page holds is read on with its ``after`` cursor (batched
  too). An id with no association is reported by HubSpot as an error of a 207 answer: it has none.
- ``associate_primary``: ``POST /crm/v4/associations/contacts/companies/batch/create``, 2,000
  pairs per call, each with the unlabelled type and the Primary label (a contact has one primary
  company: labelling another moves the label);
- ``dissociate``: ``POST /crm/v4/associations/{from}/{to}/batch/archive``, 2,000 pairs per call.

Calls are counted as ``associations_<operation>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from shared.adapters.hubspot.errors import error_failure, retries_spent
from shared.adapters.hubspot.transport import ASSOCIATIONS, HubSpotTransport
from shared.adapters.retry import RequestRejected
from shared.chunking import chunks
from shared.errors import ApiFailure, TransientApiError
from shared.models import COMPANIES, CONTACTS, DEALS
from shared.ports import Association, AssociationPair, WriteOutcome

MAX_ASSOCIATION_READ = 1000
MAX_ASSOCIATION_WRITE = 2000
HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
# HubSpot-defined association types: (from, to) -> (unlabelled, Primary)
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, int]] = {
    (CONTACTS, COMPANIES): (279, 1),
    (COMPANIES, CONTACTS): (280, 2),
    (DEALS, COMPANIES): (341, 5),  # deal sync: a deal's primary company
    (DEALS, CONTACTS): (3, 0),  # deal sync: a deal's contacts (no Primary label: 0 is no type)
}
_PATH = "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/{operation}"


def pair_key(pair: AssociationPair) -> str:
    """How an association write is named in its outcome (``AssociationPair.key``)."""
    return pair.key


class HubSpotAssociations(HubSpotTransport):
    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[Association]]:
        """Each id's associations to ``to_type`` (ids with none are absent)."""
        primary = ASSOCIATION_TYPES[(from_type, to_type)][1]
        out: dict[str, list[Association]] = {}
        pending: list[tuple[str, str | None]] = [(i, None) for i in dict.fromkeys(str(x) for x in ids if x)]
        while pending:
            more: list[tuple[str, str | None]] = []
            for chunk in chunks(pending, MAX_ASSOCIATION_READ):
                answer = self._call("read", from_type, to_type, [_read_input(i, after) for i, after in chunk])
                for result in (answer or {}).get("results") or ():
                    from_id = str(result["from"]["id"])
                    out.setdefault(from_id, []).extend(
                        _association(to, primary) for to in result.get("to") or ()
                    )
                    after = ((result.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        more.append((from_id, str(after)))
            pending = more
        return out

    def associate_primary(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        """Associates each contact (``from_id``) with its company (``to_id``) as its primary company."""
        unlabelled, primary = ASSOCIATION_TYPES[(CONTACTS, COMPANIES)]
        types = [
            {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": t} for t in (unlabelled, primary)
        ]

        def body(chunk: Sequence[AssociationPair]) -> list[dict[str, Any]]:
            return [{"from": {"id": p.from_id}, "to": {"id": p.to_id}, "types": types} for p in chunk]

        return self._write_pairs("create", CONTACTS, COMPANIES, pairs, body)

    def dissociate(
        self, from_type: str, to_type: str, pairs: Sequence[AssociationPair]
    ) -> list[WriteOutcome]:
        """Removes every association of each pair (an association already gone is a success)."""

        def body(chunk: Sequence[AssociationPair]) -> list[dict[str, Any]]:
            grouped: dict[str, list[dict[str, str]]] = {}
            for p in chunk:
                grouped.setdefault(p.from_id, []).append({"id": p.to_id})
            return [{"from": {"id": from_id}, "to": to} for from_id, to in grouped.items()]

        return self._write_pairs("archive", from_type, to_type, pairs, body)

    def _write_pairs(
        self,
        operation: str,
        from_type: str,
        to_type: str,
        pairs: Sequence[AssociationPair],
        body: Any,
    ) -> list[WriteOutcome]:
        outcomes: list[WriteOutcome] = []
        for chunk in chunks(list(pairs), MAX_ASSOCIATION_WRITE):
            try:
                answer = self._call(operation, from_type, to_type, body(chunk))
            except RequestRejected as exc:
                outcomes += [WriteOutcome(pair_key(p), None, exc.failure) for p in chunk]
                continue
            except TransientApiError as exc:
                outcomes += [WriteOutcome(pair_key(p), None, retries_spent(exc)) for p in chunk]
                continue
            failed = _failures(answer)
            for p in chunk:
                failure = failed.get((p.from_id, p.to_id)) or failed.get((p.from_id, None))
                outcomes.append(WriteOutcome(pair_key(p), None if failure else pair_key(p), failure))
        return outcomes

    def _call(self, operation: str, from_type: str, to_type: str, inputs: list[dict[str, Any]]) -> Any:
        params = {"fromObjectType": from_type, "toObjectType": to_type, "operation": operation}
        call = partial(self._raw, ASSOCIATIONS, "POST", _PATH.format(**params), body={"inputs": inputs})
        return self._read(f"associations_{operation}", call, ASSOCIATIONS)


def _read_input(record_id: str, after: str | None) -> dict[str, str]:
    return {"id": record_id, "after": after} if after else {"id": record_id}


def _association(to: Mapping[str, Any], primary_type: int) -> Association:
    types = {int(t.get("typeId", 0)) for t in to.get("associationTypes") or ()}
    return Association(to_id=str(to["toObjectId"]), primary=primary_type in types)


def _failures(answer: Any) -> dict[tuple[str, str | None], ApiFailure]:
    """The pairs a 207 answer's errors name: (from id, to id), or (from id, None) for all of it."""
    out: dict[tuple[str, str | None], ApiFailure] = {}
    for error in (answer or {}).get("errors") or ():
        context = error.get("context") or {}
        failure = error_failure(error.get("category"), str(error.get("message") or ""))
        to_ids: list[str | None] = [str(t) for t in context.get("toObjectId") or ()] or [None]
        for from_id in context.get("fromObjectId") or ():
            for to_id in to_ids:
                out[(str(from_id), to_id)] = failure
    return out
