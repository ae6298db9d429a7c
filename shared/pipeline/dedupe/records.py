"""The records dedupe speaks of: the synced Salesforce objects, the keys that name a record in
statuses and sync health, and the forms of their ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.ids import salesforce_id18, salesforce_id18_or_none
from shared.models import SALESFORCE_OBJECTS, ChangeType, SfObject
from shared.state.keys import hubspot_record_key, salesforce_record_key

SF_OBJECTS = SALESFORCE_OBJECTS

# the changes whose record is read (its current state decides); a deletion is handled apart
READABLE = frozenset(
    {ChangeType.CREATE, ChangeType.UPDATE, ChangeType.UNDELETE, ChangeType.RESYNC, ChangeType.MERGE}
)


# a record, as statuses and sync health name it
hs_key = hubspot_record_key
sf_key = salesforce_record_key


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
    return salesforce_id18_or_none(record_id) or record_id


def parse_duplicates(duplicates: Iterable[str]) -> list[tuple[SfObject, str]]:
    """A link's same-email duplicates ("Lead:00Q...", "Contact:003...") as (object, id) pairs."""
    out: list[tuple[SfObject, str]] = []
    for entry in duplicates:
        sobject, _, record_id = entry.partition(":")
        if sobject in SF_OBJECTS and record_id:
            out.append((sf_object(sobject), record_id))
    return out
