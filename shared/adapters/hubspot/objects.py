"""The contacts objects' batch API: read, read by email, create, update, archive.

- ``read_contacts``: batch read with ``properties`` and ``propertiesWithHistory``; HubSpot accepts at
  most 50 inputs per batch read that asks for history ("The maximum number of inputs supported in a
  batch request for property histories is 50"), so 50 ids per call.
- ``contacts_by_email``: batch read with ``idProperty=email``, 100 emails per call, without history
  (``updatedAt`` stands for every property) unless ``history_in_email_lookup`` is set (50 per call).
- ``create_contacts`` / ``update_contacts``: batch create / update, 100 inputs per call, never two
  inputs with the same email (create) or id (update) in one call; refused batches are settled by
  :mod:`shared.adapters.hubspot.batch`.
- ``archive_contacts``: batch archive, 100 ids per call; an id already gone is archived, not a failure.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from shared.adapters.hubspot.batch import (
    Done,
    Item,
    batches,
    email_of,
    hubspot_value,
    isolate,
    settle,
)
from shared.adapters.hubspot.errors import blank_id, invalid_write, retries_spent
from shared.adapters.hubspot.parse import to_contact
from shared.adapters.hubspot.transport import CONTACTS, HubSpotTransport
from shared.adapters.retry import RequestRejected, Transient, WriteSuspended
from shared.chunking import chunks
from shared.errors import ApiFailure, SuspendedError, TransientApiError
from shared.matching import normalize_email
from shared.ports import HubSpotContact, RecordWrite, WriteOutcome

MAX_BATCH = 100
MAX_HISTORY_BATCH = 50


def operation_name(operation: str, package: str) -> str:
    """How calls are counted: contacts' by the operation ("create"), other objects' prefixed with
    the object ("companies_create")."""
    return operation if package == CONTACTS else f"{package.rsplit('.', 1)[-1]}_{operation}"


class HubSpotObjects(HubSpotTransport):
    history_in_email_lookup: bool

    # -- reads ---------------------------------------------------------------------------------
    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, HubSpotContact]:
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
        props = list(dict.fromkeys(properties))
        out: dict[str, HubSpotContact] = {}
        for chunk in chunks(wanted, MAX_HISTORY_BATCH if props else MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=props,
                properties_with_history=props or None,
            )
            answer = self._read("read", partial(self._batch_read, body))
            for obj in answer.results or ():
                contact = to_contact(obj, props)
                if not contact.archived:
                    out[contact.id] = contact
        return out

    def contacts_by_email(
        self, emails: Sequence[str], properties: Sequence[str]
    ) -> dict[str, HubSpotContact]:
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        wanted = sorted({e for e in (normalize_email(x) for x in emails) if e})
        props = list(dict.fromkeys([*properties, "email"]))
        history = self.history_in_email_lookup
        out: dict[str, HubSpotContact] = {}
        for chunk in chunks(wanted, MAX_HISTORY_BATCH if history else MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=e) for e in chunk],
                id_property="email",
                properties=props,
                properties_with_history=props if history else None,
            )
            answer = self._read("read_by_email", partial(self._batch_read, body))
            for obj in answer.results or ():
                contact = to_contact(obj, props)
                email = normalize_email(contact.properties.get("email"))
                if email and not contact.archived:
                    out[email] = contact
        return out

    def _contact_ids(self, emails: list[str]) -> Mapping[str, str]:
        """Email -> the id of the contact that has it (for a refused batch's conflict)."""
        return {email: c.id for email, c in self.contacts_by_email(emails, []).items()}

    # -- writes --------------------------------------------------------------------------------
    def create_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """Creates; a 409 for an existing email is a failure with ``existing_id`` (a success when an
        earlier attempt of this very call may have created it)."""
        return self._write(writes, create=True)

    def update_contacts(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        return self._write(writes, create=False)

    def archive_contacts(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """Archives (100 per call); an id that is already archived or unknown is a success."""
        return self._archive(ids, CONTACTS)

    def _archive(self, ids: Sequence[str], package: str) -> list[WriteOutcome]:
        settled: dict[str, ApiFailure | None] = {}
        wanted = list(dict.fromkeys(s for s in (str(i).strip() for i in ids) if s))

        def outcomes() -> list[WriteOutcome]:  # for the ids settled so far, in the caller's order
            keyed = [(str(raw), str(raw).strip()) for raw in ids]
            return [
                WriteOutcome(raw, None, blank_id())
                if not key
                else WriteOutcome(raw, None if settled[key] else key, settled[key])
                for raw, key in keyed
                if not key or key in settled
            ]

        try:
            for chunk in chunks(wanted, MAX_BATCH):
                self._archive_batch(list(chunk), settled, package)
        except SuspendedError as exc:
            raise WriteSuspended(exc, outcomes()) from exc
        return outcomes()

    def _write(
        self, writes: Sequence[RecordWrite], *, create: bool, package: str = CONTACTS
    ) -> list[WriteOutcome]:
        done: Done = {}
        valid: list[Item] = []
        for index, write in enumerate(writes):
            if create != (write.record_id is None):
                done[index] = WriteOutcome(write.key, None, invalid_write(create=create))
            else:
                valid.append((index, write))
        key = email_of if create else (lambda w: str(w.record_id))
        try:
            for batch in batches(valid, MAX_BATCH, key):
                self._write_batch(batch, done, create=create, package=package)
        except SuspendedError as exc:
            raise WriteSuspended(exc, [done[i] for i in sorted(done)]) from exc
        return [done[index] for index in range(len(writes))]

    def _write_batch(self, batch: list[Item], done: Done, *, create: bool, package: str) -> None:
        """Write one batch; refused batches are split (see :mod:`.batch`) until settled."""
        ambiguous: set[int] = set()
        queue = [batch]
        while queue:
            group = queue.pop()
            if not group:
                continue
            try:
                try:
                    answer = self._send(group, ambiguous, create=create, package=package)
                except RequestRejected as exc:
                    queue.extend(isolate(group, exc, done, ambiguous, self._contact_ids))
                    continue
            except TransientApiError as exc:  # retries spent: these inputs may succeed later
                failure = retries_spent(exc)
                done.update({i: WriteOutcome(w.key, None, failure) for i, w in group if i not in done})
                continue
            queue.extend(settle(group, answer, done, ambiguous, create=create))

    def _send(self, group: list[Item], ambiguous: set[int], *, create: bool, package: str) -> Any:
        """One batch create or update (retried); a create whose attempt may have been applied
        without an answer is marked ``ambiguous``."""
        method = "create" if create else "update"
        body = _create_body(group, package) if create else _update_body(group, package)
        call = partial(self._batch_call, method, body, package)
        operation = operation_name(method, package)

        def note(transient: Transient) -> None:
            if create and transient.ambiguous:
                if package != CONTACTS:  # no unique property tells a lost create: never sent blindly again
                    raise TransientApiError(
                        f"hubspot {operation}: no answer ({transient.reason}); not resent"
                    )
                ambiguous.update(i for i, _ in group)

        return self.retrier.run(
            lambda: self._attempt(operation, call, package), what=f"hubspot {operation}", on_retryable=note
        )

    def _archive_batch(self, ids: list[str], settled: dict[str, ApiFailure | None], package: str) -> None:
        """Archive one batch; a batch refused for its inputs (400/404) is halved until each bad id
        fails alone (a lone 404 means it is already gone: a success)."""
        models: Any = importlib.import_module(package)
        operation = operation_name("archive", package)
        queue = [ids]
        while queue:
            group = queue.pop()
            body = models.BatchInputSimplePublicObjectId(
                inputs=[models.SimplePublicObjectId(id=i) for i in group]
            )
            try:
                self._read(operation, partial(self._batch_call, "archive", body, package), package)
            except RequestRejected as exc:
                status = exc.failure.http_status
                if len(group) > 1 and status in (400, 404):
                    middle = len(group) // 2
                    queue.extend([group[middle:], group[:middle]])
                else:
                    settled.update(dict.fromkeys(group, None if status == 404 else exc.failure))
                continue
            except TransientApiError as exc:  # retries spent: these ids may be archived later
                settled.update(dict.fromkeys(group, retries_spent(exc)))
                continue
            settled.update(dict.fromkeys(group))


def _values(write: RecordWrite) -> dict[str, str]:
    return {name: hubspot_value(value) for name, value in write.fields.items()}


def _create_body(group: list[Item], package: str) -> Any:
    """A batch create of the package's objects (contacts and companies share the model names)."""
    models: Any = importlib.import_module(package)
    return models.BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[
            models.SimplePublicObjectBatchInputForCreate(
                properties=_values(w), object_write_trace_id=str(i), associations=[]
            )
            for i, w in group
        ]
    )


def _update_body(group: list[Item], package: str) -> Any:
    models: Any = importlib.import_module(package)
    return models.BatchInputSimplePublicObjectBatchInput(
        inputs=[
            models.SimplePublicObjectBatchInput(
                id=str(w.record_id), properties=_values(w), object_write_trace_id=str(i)
            )
            for i, w in group
        ]
    )
