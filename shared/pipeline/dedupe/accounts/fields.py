"""Field values of a company pair: reconciling a linked pair field by field (the same sync rules and
echo suppression as contacts, ``shared.rules``), and the values of a record created on the other
side. A value the other side would refuse is kept out and reported, never retried."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.config import ACCOUNT_NAME_FIELD, CompanyMapping, SyncRule
from shared.models import ACCOUNT
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY, OwnerState
from shared.pipeline.convert import ConversionError
from shared.pipeline.dedupe.accounts.schema import CompanySchema
from shared.pipeline.dedupe.object_fields import MappedField, ObjectWrites, reconcile_field
from shared.pipeline.dedupe.records import id_or_none
from shared.pipeline.fields import NOT_PROVIDED, comparable
from shared.pipeline.plans import SyncedPair
from shared.ports import HubSpotCompany, SalesforceRecord
from shared.rules import Side


@dataclass
class CompanyWrites(ObjectWrites):
    """What reconciling (or creating) one company pair writes, and what it will have synced."""


def reconcile_company(
    schema: CompanySchema,
    company: HubSpotCompany,
    account: SalesforceRecord,
    synced: Mapping[str, SyncedPair] | None,
) -> CompanyWrites:
    """The writes that bring a company and its Account in line (``synced`` None: a first sync)."""
    writes = CompanyWrites(after=dict(synced or {}))
    for mapping in schema.mappings:
        mapped = MappedField(mapping.hubspot, ACCOUNT, mapping.account, mapping.rule)
        reconcile_field(schema.types, mapped, company, account, synced, writes)
    if writes.salesforce.get(ACCOUNT_NAME_FIELD, "") is None:
        writes.salesforce[ACCOUNT_NAME_FIELD] = NOT_PROVIDED  # an Account's Name is never cleared
    return writes


def account_values(schema: CompanySchema, company: HubSpotCompany) -> CompanyWrites:
    """The fields of an Account created from ``company`` (its Name never blank)."""
    writes = CompanyWrites()
    for mapping in schema.mappings:
        raw = company.properties.get(mapping.hubspot)
        if mapping.rule is SyncRule.ALWAYS_SALESFORCE or comparable("", raw) is None:
            continue
        _created_value(schema, writes, mapping, raw, Side.SALESFORCE)
    writes.salesforce.setdefault(ACCOUNT_NAME_FIELD, NOT_PROVIDED)
    return writes


def company_values(schema: CompanySchema, account: SalesforceRecord) -> CompanyWrites:
    """The properties of a company created from ``account``."""
    writes = CompanyWrites()
    for mapping in schema.mappings:
        raw = account.fields.get(mapping.account)
        if comparable("", raw) is None:
            continue
        _created_value(schema, writes, mapping, raw, Side.HUBSPOT)
    return writes


def _created_value(
    schema: CompanySchema, writes: CompanyWrites, mapping: CompanyMapping, raw: Any, to: Side
) -> None:
    """The value of a new record's field (``to``: the side created), converted from ``raw``; a value
    the side would refuse is reported, not written."""
    try:
        if to is Side.SALESFORCE:
            converted = schema.types.to_salesforce(mapping.hubspot, ACCOUNT, mapping.account, raw)
            writes.salesforce[mapping.account] = converted
        else:
            writes.hubspot[mapping.hubspot] = schema.types.to_hubspot(
                mapping.hubspot, ACCOUNT, mapping.account, raw
            )
    except ConversionError as exc:
        writes.refused.append((mapping.hubspot, mapping.account, exc.code, exc.message))
        return
    value = schema.comparable(mapping, raw)
    writes.after[mapping.hubspot] = (value, value)
    writes.written[mapping.hubspot] = "salesforce" if to is Side.SALESFORCE else "hubspot"


def owners_of(
    company: HubSpotCompany | None,
    account: SalesforceRecord | None,
    synced: Mapping[str, SyncedPair] | None,
    creating: Literal["salesforce", "hubspot"] | None = None,
) -> OwnerState:
    """The pair's owners as read (Account.OwnerId <-> hubspot_owner_id), for the owners stage (S17)."""
    hs_owner = (company.properties.get(OWNER_PROPERTY) or None) if company is not None else None
    sf_owner = id_or_none(account.fields.get(OWNER_FIELD)) if account is not None else None
    last = synced.get(OWNER_PROPERTY) if synced is not None else None
    changed_at: dt.datetime | None = company.property_changed_at.get(OWNER_PROPERTY) if company else None
    return OwnerState(
        hubspot=hs_owner,
        salesforce=sf_owner,
        remembered=last,
        hubspot_changed_at=changed_at,
        salesforce_changed_at=account.last_modified if account is not None else None,
        creating=creating,
    )
