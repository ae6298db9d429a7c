"""``hssync config validate --check`` for deal sync: the deal settings against the live CRMs.

With ``deals.enabled``: every mapped deal property and Opportunity field exists and both sides hold
the same kind of value (as for contacts); every ``deals.pipelines`` entry names a value of
``Opportunity.StageName`` (describe), an existing HubSpot deal pipeline and a stage of it (the
pipelines API), and a record type the org has. Deal sync off: nothing is checked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from shared.config import SyncConfig
from shared.deals.ports import DealPipeline, HubSpotDealsPort
from shared.deals.settings import OPPORTUNITY_STAGE_FIELD, DealMapping, StageMapping
from shared.operations.config_check import compatible
from shared.pipeline.convert.metadata import HubSpotPropertyType, SalesforceFieldType
from shared.ports import SalesforcePort

OPPORTUNITY = "Opportunity"


def _by_lower(described: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {name.lower(): data for name, data in described.items()}


def mapping_problems(
    mappings: Sequence[DealMapping],
    properties: Mapping[str, Mapping[str, Any]],
    described: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Deal mappings whose property or field does not exist, or whose sides hold different kinds."""
    fields = _by_lower(described)
    problems: list[str] = []
    for m in mappings:
        found = fields.get(m.opportunity.lower())
        if m.hubspot not in properties:
            problems.append(f"deal_mappings: HubSpot deal property {m.hubspot!r} does not exist")
        if found is None:
            problems.append(f"deal_mappings: Salesforce field {OPPORTUNITY}.{m.opportunity} does not exist")
        if found is None or m.hubspot not in properties:
            continue
        hs, sf = HubSpotPropertyType.from_api(properties[m.hubspot]), SalesforceFieldType.from_describe(found)
        if not compatible(hs, sf):
            problems.append(
                f"deal_mappings: {m.hubspot} ({hs.type}/{hs.field_type}) and {OPPORTUNITY}.{sf.name} "
                f"({sf.type}) hold different kinds of values"
            )
    return problems


def _stage_values(described: Mapping[str, Mapping[str, Any]]) -> set[str]:
    field = _by_lower(described).get(OPPORTUNITY_STAGE_FIELD.lower())
    return set(SalesforceFieldType.from_describe(field).picklist_values) if field is not None else set()


def stage_problems(
    entries: Sequence[StageMapping],
    stage_values: Collection[str],
    pipelines: Sequence[DealPipeline],
    record_types: Collection[str] | None = None,
) -> list[str]:
    """``deals.pipelines`` entries naming a StageName value, a pipeline, a stage or a record type
    that does not exist (``record_types`` None: the org's record types were not read)."""
    by_id = {p.id: p for p in pipelines}
    problems: list[str] = []
    for i, entry in enumerate(entries):
        where = f"deals.pipelines.{i}"
        if entry.salesforce not in stage_values:
            problems.append(f"{where}: {entry.salesforce!r} is not a value of {OPPORTUNITY}.StageName")
        if (
            entry.record_type is not None
            and record_types is not None
            and entry.record_type not in record_types
        ):
            problems.append(f"{where}: Opportunity record type {entry.record_type!r} does not exist")
        pipeline = by_id.get(entry.pipeline)
        if pipeline is None:
            problems.append(f"{where}: HubSpot deal pipeline {entry.pipeline!r} does not exist")
        elif pipeline.stage(entry.stage) is None:
            problems.append(
                f"{where}: HubSpot pipeline {pipeline.label!r} ({pipeline.id}) has no stage {entry.stage!r}"
            )
    return problems


def check_deals(config: SyncConfig, salesforce: SalesforcePort, hubspot: HubSpotDealsPort) -> list[str]:
    """Every problem of the deal settings of ``config`` with these CRMs (none when deal sync is off)."""
    if not config.deals.enabled:
        return []
    properties = hubspot.deal_property_types([m.hubspot for m in config.deal_mappings])
    described = salesforce.describe_fields(OPPORTUNITY)
    problems = mapping_problems(config.deal_mappings, properties, described)
    return problems + stage_problems(
        config.deals.pipelines, _stage_values(described), hubspot.deal_pipelines()
    )
