"""``hssync config validate --check``: a configuration checked against the live CRMs. Every mapped
HubSpot property and Salesforce field must exist, the two sides of a mapping must hold the same
kind of value (a text property can carry any kind, its values are read as they come), and the
inclusion list must exist. Every problem is reported, not only the first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from shared.adapters.retry import RequestRejected
from shared.config import SyncConfig
from shared.models import CONTACT, LEAD
from shared.pipeline.convert.kinds import ValueKind, hubspot_kind, salesforce_kind
from shared.pipeline.convert.metadata import HubSpotPropertyType, SalesforceFieldType
from shared.ports import HubSpotPort, SalesforcePort

# kinds that read each other's values: a date and a datetime, one option and a set of options
_NEIGHBOURS: set[frozenset[ValueKind]] = {frozenset({"date", "datetime"}), frozenset({"single", "multi"})}


def compatible(hs: HubSpotPropertyType, sf: SalesforceFieldType) -> bool:
    """Whether values of the HubSpot property can be written to the Salesforce field and back."""
    typed = salesforce_kind(sf, hs.type)
    if typed is None:
        return True  # a Salesforce text field takes anything
    kind = hubspot_kind(hs)
    return kind == "text" or kind == typed or frozenset({kind, typed}) in _NEIGHBOURS


def _sides(config: SyncConfig) -> list[tuple[str, str, str]]:
    """(HubSpot property, Salesforce object, field) of every mapping."""
    return [
        (m.hubspot, sobject, field)
        for m in config.contact_mappings
        for sobject, field in ((LEAD, m.lead), (CONTACT, m.contact))
        if field
    ]


def _field_problems(
    config: SyncConfig,
    properties: Mapping[str, Mapping[str, Any]],
    described: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    problems = [
        f"contact_mappings: HubSpot contact property {m.hubspot!r} does not exist"
        for m in config.contact_mappings
        if m.hubspot not in properties
    ]
    for prop, sobject, field in _sides(config):
        found = {name.lower(): data for name, data in described[sobject].items()}.get(field.lower())
        if found is None:
            problems.append(f"contact_mappings: Salesforce field {sobject}.{field} does not exist")
            continue
        if prop not in properties:
            continue
        hs, sf = HubSpotPropertyType.from_api(properties[prop]), SalesforceFieldType.from_describe(found)
        if not compatible(hs, sf):
            problems.append(
                f"contact_mappings: {prop} ({hs.type}/{hs.field_type}) and {sobject}.{sf.name} ({sf.type})"
                " hold different kinds of values"
            )
    return problems


def check_config(config: SyncConfig, salesforce: SalesforcePort, hubspot: HubSpotPort) -> list[str]:
    """Every problem of ``config`` with these CRMs (an empty list: none)."""
    properties = hubspot.contact_property_types([m.hubspot for m in config.contact_mappings])
    described = {sobject: salesforce.describe_fields(sobject) for sobject in (LEAD, CONTACT)}
    problems = _field_problems(config, properties, described)
    list_id = config.inclusion.list_id
    if list_id:
        try:
            hubspot.list_members_joined_since(list_id, dt.datetime.now(dt.UTC))
        except RequestRejected as exc:
            problems.append(
                f"inclusion.list_id: HubSpot list {list_id} cannot be read ({exc.failure.message})"
            )
    return problems
