"""Field values of a deal pair: reconciling a linked pair field by field (the same sync rules and
echo suppression as contacts and companies, ``shared.rules``), its stage through ``deals.pipelines``
(``shared.deals.stages``), and the values of a record created on the other side. A value the other
side would refuse, or a stage with no entry, is kept out and reported; the rest of the deal syncs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.config import SyncRule
from shared.deals.settings import (
    DEAL_PIPELINE_PROPERTY,
    DEAL_STAGE_PROPERTY,
    OPPORTUNITY_STAGE_FIELD,
    DealMapping,
)
from shared.deals.stages import to_hubspot, to_salesforce
from shared.models import OPPORTUNITY
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY, OwnerState
from shared.pipeline.convert import ConversionError
from shared.pipeline.dedupe.deals.schema import DealSchema
from shared.pipeline.dedupe.object_fields import MappedField, ObjectWrites, reconcile_field
from shared.pipeline.dedupe.reconcile import whole_seconds
from shared.pipeline.dedupe.records import id_or_none
from shared.pipeline.fields import comparable
from shared.pipeline.plans import SyncedPair
from shared.ports import HubSpotContact, SalesforceRecord
from shared.rules import FieldState, Remembered, Side, decide

# a deal's stage is remembered under this key, as the StageName each side stands for
STAGE_KEY = DEAL_STAGE_PROPERTY


# associations left out because a record is not synced yet: reported on the Opportunity (the first
# two, read from Salesforce) or on the deal (the last two)
ACCOUNT_NOT_SYNCED = "ACCOUNT_NOT_SYNCED"  # an Opportunity's Account has no HubSpot company
ROLE_CONTACT_NOT_SYNCED = "ROLE_CONTACT_NOT_SYNCED"  # a contact role's Contact has no HubSpot contact
COMPANY_NOT_SYNCED = "COMPANY_NOT_SYNCED"  # a deal's company has no Salesforce Account
DEAL_CONTACT_NOT_SYNCED = "DEAL_CONTACT_NOT_SYNCED"  # a deal's contact has no Salesforce Contact
FROM_SALESFORCE_NOTES = (ACCOUNT_NOT_SYNCED, ROLE_CONTACT_NOT_SYNCED)


@dataclass
class DealWrites(ObjectWrites):
    """What reconciling (or creating) one deal pair writes, and what it will have synced."""

    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (side read, stage)
    company: str | None = None  # the deal's primary company to set (Opportunity.AccountId's)
    association_notes: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    deal_contacts: list[tuple[str, str | None]] = field(default_factory=list)  # (contact, role label)
    contact_roles: list[tuple[str, bool]] = field(default_factory=list)  # (Contact id, primary)
    contacts_removed: list[str] = field(default_factory=list)  # HubSpot contacts off the deal
    roles_deleted: list[str] = field(default_factory=list)  # contact role ids


def stage_of_deal(schema: DealSchema, deal: HubSpotContact, record_type: str | None = None) -> str | None:
    """The StageName a deal's pipeline and stage stand for (None: not mapped, or none)."""
    props = deal.properties
    return to_salesforce(
        schema.stages, props.get(DEAL_PIPELINE_PROPERTY), props.get(DEAL_STAGE_PROPERTY), record_type
    )


def reconcile_deal(
    schema: DealSchema,
    deal: HubSpotContact,
    opportunity: SalesforceRecord,
    synced: Mapping[str, SyncedPair] | None,
) -> DealWrites:
    """The writes that bring a deal and its Opportunity in line (``synced`` None: a first sync)."""
    writes = DealWrites(after=dict(synced or {}))
    for mapping in schema.mappings:
        mapped = MappedField(mapping.hubspot, OPPORTUNITY, mapping.opportunity, mapping.rule)
        reconcile_field(schema.types, mapped, deal, opportunity, synced, writes)
    _stage(schema, deal, opportunity, synced, writes)
    return writes


def _stage(
    schema: DealSchema,
    deal: HubSpotContact,
    opportunity: SalesforceRecord,
    synced: Mapping[str, SyncedPair] | None,
    writes: DealWrites,
) -> None:
    """The stage, two-way, compared as the StageName each side stands for; a stage with no entry is
    reported (``unmapped``) and left as it is."""
    record_type = schema.record_type(opportunity)
    hs_stage = stage_of_deal(schema, deal, record_type)
    sf_stage = comparable("", opportunity.fields.get(OPPORTUNITY_STAGE_FIELD))
    last = synced.get(STAGE_KEY) if synced is not None else None
    state = FieldState(
        hs_stage,
        sf_stage,
        whole_seconds(deal.property_changed_at.get(DEAL_STAGE_PROPERTY)),
        whole_seconds(opportunity.last_modified),
    )
    write = decide(SyncRule.TWO_WAY, state, Remembered(*last) if last is not None else None)
    if write is None:
        writes.after[STAGE_KEY] = (hs_stage, sf_stage)
        return
    if write.to is Side.SALESFORCE:
        if hs_stage is None:  # the deal's stage has no entry: never guessed, never cleared
            raw = deal.properties.get(DEAL_STAGE_PROPERTY)
            if raw:
                writes.unmapped.append(("hubspot", str(raw)))
            writes.after[STAGE_KEY] = (hs_stage, sf_stage)
            return
        writes.salesforce[OPPORTUNITY_STAGE_FIELD] = hs_stage
        writes.written[STAGE_KEY] = "salesforce"
    else:
        target = to_hubspot(schema.stages, sf_stage, record_type)
        if target is None:
            if sf_stage:
                writes.unmapped.append(("salesforce", sf_stage))
            writes.after[STAGE_KEY] = (hs_stage, sf_stage)
            return
        writes.hubspot.update(target.properties())
        writes.written[STAGE_KEY] = "hubspot"
    value = hs_stage if write.to is Side.SALESFORCE else sf_stage
    writes.after[STAGE_KEY] = (value, value)
    writes.reasons.append(f"{STAGE_KEY}: {write.reason}")


def opportunity_values(schema: DealSchema, deal: HubSpotContact) -> DealWrites:
    """The fields of an Opportunity created from ``deal`` (its stage from deals.pipelines)."""
    writes = DealWrites()
    for mapping in schema.mappings:
        raw = deal.properties.get(mapping.hubspot)
        if mapping.rule is SyncRule.ALWAYS_SALESFORCE or comparable("", raw) is None:
            continue
        _created_value(schema, writes, mapping, raw, Side.SALESFORCE)
    stage = stage_of_deal(schema, deal)
    if stage is None:
        raw = deal.properties.get(DEAL_STAGE_PROPERTY)
        writes.unmapped.append(("hubspot", str(raw or "")))
    else:
        writes.salesforce[OPPORTUNITY_STAGE_FIELD] = stage
        writes.after[STAGE_KEY] = (stage, stage)
        writes.written[STAGE_KEY] = "salesforce"
    return writes


def deal_values(schema: DealSchema, opportunity: SalesforceRecord) -> DealWrites:
    """The properties of a deal created from ``opportunity`` (its pipeline and stage mapped)."""
    writes = DealWrites()
    for mapping in schema.mappings:
        raw = opportunity.fields.get(mapping.opportunity)
        if comparable("", raw) is None:
            continue
        _created_value(schema, writes, mapping, raw, Side.HUBSPOT)
    sf_stage = comparable("", opportunity.fields.get(OPPORTUNITY_STAGE_FIELD))
    target = to_hubspot(schema.stages, sf_stage, schema.record_type(opportunity))
    if target is None:
        writes.unmapped.append(("salesforce", str(sf_stage or "")))
    else:
        writes.hubspot.update(target.properties())
        writes.after[STAGE_KEY] = (sf_stage, sf_stage)
        writes.written[STAGE_KEY] = "hubspot"
    return writes


def _created_value(schema: DealSchema, writes: DealWrites, mapping: DealMapping, raw: Any, to: Side) -> None:
    prop, sf_field = mapping.hubspot, mapping.opportunity
    try:
        if to is Side.SALESFORCE:
            writes.salesforce[sf_field] = schema.types.to_salesforce(prop, OPPORTUNITY, sf_field, raw)
        else:
            writes.hubspot[prop] = schema.types.to_hubspot(prop, OPPORTUNITY, sf_field, raw)
    except ConversionError as exc:
        writes.refused.append((prop, sf_field, exc.code, exc.message))
        return
    value = schema.comparable(mapping, raw)
    writes.after[prop] = (value, value)
    writes.written[prop] = "salesforce" if to is Side.SALESFORCE else "hubspot"


def owners_of(
    deal: HubSpotContact | None,
    opportunity: SalesforceRecord | None,
    synced: Mapping[str, SyncedPair] | None,
    creating: Literal["salesforce", "hubspot"] | None = None,
) -> OwnerState:
    """The pair's owners as read (Opportunity.OwnerId <-> hubspot_owner_id), for the owners stage (S17)."""
    hs_owner = (deal.properties.get(OWNER_PROPERTY) or None) if deal is not None else None
    sf_owner = id_or_none(opportunity.fields.get(OWNER_FIELD)) if opportunity is not None else None
    last = synced.get(OWNER_PROPERTY) if synced is not None else None
    changed_at: dt.datetime | None = deal.property_changed_at.get(OWNER_PROPERTY) if deal else None
    return OwnerState(
        hubspot=hs_owner,
        salesforce=sf_owner,
        remembered=last,
        hubspot_changed_at=changed_at,
        salesforce_changed_at=opportunity.last_modified if opportunity is not None else None,
        creating=creating,
    )
