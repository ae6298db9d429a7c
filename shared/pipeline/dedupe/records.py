"""The records dedupe speaks of: the synced Salesforce objects, the keys that name a record in
statuses and sync health, and the forms of their ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.models import ChangeType
from shared.pipeline.fields import SfObject
from shared.state.keys import salesforce_id18

SF_OBJECTS: tuple[SfObject, ...] = ("Lead", "Contact")

# the changes whose record is read (its current state decides); a deletion is handled apart
READABLE = frozenset(
    {ChangeType.CREATE, ChangeType.UPDATE, ChangeType.UNDELETE, ChangeType.RESYNC, ChangeType.MERGE}
)


def hs_key(contact_id: str) -> str:
    """A HubSpot contact, as statuses and sync health name it."""
    return f"hubspot:contacts:{contact_id}"


def sf_key(sobject: str, record_id: str) -> str:
    """A Salesforce record, as statuses and sync health name it."""
    return f"salesforce:{sobject}:{record_id}"


def sf_object(name: str) -> SfObject:
    """``name`` as one of the synced Salesforce objects; ValueError for any other."""
    if name not in SF_OBJECTS:
        raise ValueError(f"not a synced Salesforce object: {name}")
    return name


def id_or_none(value: Any) -> str | None:
    """A Salesforce id field's value in 18 characters; None when blank."""
    return salesforce_id18(str(value)) if value else None


def same_id(record_id: str, ids: Iterable[str]) -> bool:
    """Whether ``record_id`` (a HubSpot id, or a Salesforce id in 15 or 18 characters) is among ``ids``."""
    wanted = {_id18_or_same(i) for i in ids}
    return _id18_or_same(record_id) in wanted


def _id18_or_same(record_id: str) -> str:
    try:
        return salesforce_id18(record_id)
    except ValueError:
        return record_id


def parse_duplicates(duplicates: Iterable[str]) -> list[tuple[SfObject, str]]:
    """A link's same-email duplicates ("Lead:00Q...", "Contact:003...") as (object, id) pairs."""
    out: list[tuple[SfObject, str]] = []
    for entry in duplicates:
        sobject, _, record_id = entry.partition(":")
        if sobject in SF_OBJECTS and record_id:
            out.append((sf_object(sobject), record_id))
    return out
