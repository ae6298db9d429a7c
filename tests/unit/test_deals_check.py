"""``config validate --check`` of the deal settings: mappings against the deal properties and the
Opportunity's describe, stage mappings against StageName's values and the deal pipelines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.config import parse_config
from shared.deals.ports import DealPipeline, PipelineStage
from shared.deals.settings import DEFAULT_DEAL_MAPPINGS, DEFAULT_STAGE_MAPPINGS, DealMapping, StageMapping
from shared.operations.deals_check import check_deals, mapping_problems, stage_problems

STAGES = tuple(m.salesforce for m in DEFAULT_STAGE_MAPPINGS)  # the standard sales process
HS_STAGES = tuple(dict.fromkeys(m.stage for m in DEFAULT_STAGE_MAPPINGS))
PIPELINE = DealPipeline(
    "default",
    "Sales Pipeline",
    tuple(PipelineStage(s, s, s.startswith("closed"), s == "closedwon") for s in HS_STAGES),
)


def _field(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **extra}


DESCRIBED: dict[str, Mapping[str, Any]] = {
    "name": _field("Name", "string", length=120),
    "amount": _field("Amount", "currency", precision=18, scale=2),
    "closedate": _field("CloseDate", "date"),
    "description": _field("Description", "textarea"),
    "type": _field("Type", "picklist", picklistValues=[{"value": "New Customer", "active": True}]),
    "stagename": _field(
        "StageName",
        "picklist",
        picklistValues=[{"value": s, "active": True} for s in STAGES] + [{"value": "Old", "active": False}],
    ),
}


def _prop(name: str, kind: str, field_type: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "fieldType": field_type, **extra}


PROPERTIES: dict[str, Mapping[str, Any]] = {
    "dealname": _prop("dealname", "string", "text"),
    "amount": _prop("amount", "number", "number"),
    "closedate": _prop("closedate", "datetime", "date"),
    "description": _prop("description", "string", "textarea"),
    "dealtype": _prop("dealtype", "enumeration", "radio", options=[{"value": "newbusiness"}]),
}


def test_the_default_settings_fit_the_standard_orgs_and_the_default_pipeline():
    assert mapping_problems(DEFAULT_DEAL_MAPPINGS, PROPERTIES, DESCRIBED) == []
    assert stage_problems(DEFAULT_STAGE_MAPPINGS, STAGES, [PIPELINE]) == []


def test_missing_properties_fields_and_different_kinds_are_each_reported():
    mappings = (
        DealMapping(hubspot="dealname", opportunity="Name"),
        DealMapping(hubspot="nosuch", opportunity="Amount"),
        DealMapping(hubspot="description", opportunity="Missing__c"),
        DealMapping(hubspot="amount", opportunity="CloseDate"),
    )
    assert mapping_problems(mappings, PROPERTIES, DESCRIBED) == [
        "deal_mappings: HubSpot deal property 'nosuch' does not exist",
        "deal_mappings: Salesforce field Opportunity.Missing__c does not exist",
        "deal_mappings: amount (number/number) and Opportunity.CloseDate (date) hold different kinds"
        " of values",
    ]


def test_unknown_stage_values_pipelines_stages_and_record_types_are_each_reported():
    entries = (
        StageMapping(salesforce="Closed Won", pipeline="default", stage="closedwon"),
        StageMapping(salesforce="Old", pipeline="default", stage="closedlost"),  # inactive value
        StageMapping(salesforce="Closed Won", record_type="Renewal", pipeline="77", stage="won"),
        StageMapping(salesforce="Prospecting", record_type="New", pipeline="default", stage="nosuch"),
    )
    assert stage_problems(entries, STAGES, [PIPELINE], record_types={"New"}) == [
        "deals.pipelines.1: 'Old' is not a value of Opportunity.StageName",
        "deals.pipelines.2: Opportunity record type 'Renewal' does not exist",
        "deals.pipelines.2: HubSpot deal pipeline '77' does not exist",
        "deals.pipelines.3: HubSpot pipeline 'Sales Pipeline' (default) has no stage 'nosuch'",
    ]


class _Salesforce:
    def __init__(self) -> None:
        self.described: list[str] = []

    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]:
        self.described.append(sobject)
        return dict(DESCRIBED) if sobject == "Opportunity" else {}


class _HubSpot:
    def __init__(self, pipelines: list[DealPipeline]) -> None:
        self.pipelines = pipelines
        self.reads = 0

    def deal_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.reads += 1
        return {n: dict(PROPERTIES[n]) for n in names if n in PROPERTIES}

    def deal_pipelines(self) -> list[DealPipeline]:
        self.reads += 1
        return list(self.pipelines)


def test_check_reads_nothing_when_deal_sync_is_off():
    salesforce, hubspot = _Salesforce(), _HubSpot([])
    assert check_deals(parse_config("portals: [1]"), salesforce, hubspot) == []  # type: ignore[arg-type]
    assert (salesforce.described, hubspot.reads) == ([], 0)


def test_check_with_deal_sync_on_reads_describe_and_the_pipelines():
    config = parse_config("portals: [1]\ndeals: {enabled: true}")
    salesforce = _Salesforce()
    assert check_deals(config, salesforce, _HubSpot([PIPELINE])) == []  # type: ignore[arg-type]
    assert salesforce.described == ["Opportunity"]
    problems = check_deals(config, salesforce, _HubSpot([]))  # type: ignore[arg-type]
    assert len(problems) == len(DEFAULT_STAGE_MAPPINGS)
    assert all("HubSpot deal pipeline 'default' does not exist" in p for p in problems)
