"""One mapped field of a company or deal pair reconciled (the rule of ``shared.rules`` applied to
both sides' current values and what was last synced): the part the account and deal parts share.
Contacts have their own, with opt-out and placeholders (``shared.pipeline.dedupe.reconcile``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.config import SyncRule
from shared.intents import WrittenSide
from shared.pipeline.convert import ConversionError
from shared.pipeline.dedupe.reconcile import whole_seconds
from shared.pipeline.fields import FieldTypes
from shared.pipeline.plans import SyncedPair
from shared.ports import HubSpotContact, SalesforceRecord
from shared.rules import FieldState, Remembered, Side, decide


@dataclass
class ObjectWrites:
    """What reconciling (or creating) one pair writes, and what it will have synced."""

    after: dict[str, SyncedPair] = field(default_factory=dict)
    hubspot: dict[str, str | None] = field(default_factory=dict)
    salesforce: dict[str, Any] = field(default_factory=dict)
    written: dict[str, WrittenSide] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    refused: list[tuple[str, str, str, str]] = field(default_factory=list)  # (prop, field, code, message)


@dataclass(frozen=True)
class MappedField:
    """A HubSpot property and the Salesforce field of ``sf_object`` it maps to, with its rule."""

    prop: str
    sf_object: str
    sf_field: str
    rule: SyncRule


def reconcile_field(
    types: FieldTypes,
    mapped: MappedField,
    record: HubSpotContact,
    sf_record: SalesforceRecord,
    synced: Mapping[str, SyncedPair] | None,
    writes: ObjectWrites,
) -> None:
    prop, sf_object, sf_field = mapped.prop, mapped.sf_object, mapped.sf_field
    hs_raw, sf_raw = record.properties.get(prop), sf_record.fields.get(sf_field)
    hs_value = types.comparable(prop, sf_object, sf_field, hs_raw)
    sf_value = types.comparable(prop, sf_object, sf_field, sf_raw)
    last = synced.get(prop) if synced is not None else None
    state = FieldState(
        hs_value,
        sf_value,
        whole_seconds(record.property_changed_at.get(prop)),
        whole_seconds(sf_record.last_modified),
    )
    write = decide(mapped.rule, state, Remembered(*last) if last is not None else None)
    if write is None:
        writes.after[prop] = (hs_value, sf_value)
        return
    try:
        if write.to is Side.SALESFORCE:
            writes.salesforce[sf_field] = types.to_salesforce(prop, sf_object, sf_field, hs_raw)
            writes.after[prop] = (hs_value, hs_value)
        else:
            writes.hubspot[prop] = types.to_hubspot(prop, sf_object, sf_field, sf_raw)
            writes.after[prop] = (sf_value, sf_value)
    except ConversionError as exc:
        writes.refused.append((prop, sf_field, exc.code, exc.message))
        writes.after[prop] = (hs_value, sf_value)
        return
    writes.written[prop] = "salesforce" if write.to is Side.SALESFORCE else "hubspot"
    writes.reasons.append(f"{prop}: {write.reason}")
