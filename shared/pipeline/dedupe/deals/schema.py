"""What the deal decisions know of both sides' fields: the deal mappings and the field types of
HubSpot deals and Salesforce Opportunities, described once per deduper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config import SyncConfig, SyncRule
from shared.deals.ports import HubSpotDealsPort, SalesforceOpportunitiesPort
from shared.deals.settings import (
    DEAL_PIPELINE_PROPERTY,
    DEAL_STAGE_PROPERTY,
    OPPORTUNITY_ACCOUNT_FIELD,
    OPPORTUNITY_CLOSED_FIELD,
    OPPORTUNITY_RECORD_TYPE_FIELD,
    OPPORTUNITY_STAGE_FIELD,
    OPPORTUNITY_WON_FIELD,
    DealMapping,
    StageMapping,
)
from shared.ids import salesforce_id18
from shared.models import OPPORTUNITY
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY
from shared.pipeline.dedupe.records import id_or_none
from shared.pipeline.fields import FieldTypes
from shared.ports import SalesforcePort, SalesforceRecord

# read with every Opportunity besides the mapped fields (RecordTypeId only where the org has it)
OPPORTUNITY_SYSTEM_FIELDS = (
    "Id",
    "CreatedDate",
    "LastModifiedDate",
    OWNER_FIELD,
    OPPORTUNITY_STAGE_FIELD,
    OPPORTUNITY_CLOSED_FIELD,
    OPPORTUNITY_WON_FIELD,
    OPPORTUNITY_ACCOUNT_FIELD,
    OPPORTUNITY_RECORD_TYPE_FIELD,
)


def deal_properties(config: SyncConfig) -> list[str]:
    """The deal properties hssync reads and watches (webhooks): the mapped ones, the stage and the owner."""
    fixed = {DEAL_PIPELINE_PROPERTY, DEAL_STAGE_PROPERTY, OWNER_PROPERTY}
    return sorted({*fixed, *(m.hubspot for m in config.deal_mappings)})


class DealSchema:
    """The deal mappings of ``config``, its stage entries, and the types of the fields they map."""

    def __init__(
        self,
        config: SyncConfig,
        salesforce: SalesforcePort,
        deals: HubSpotDealsPort,
        opportunities: SalesforceOpportunitiesPort | None = None,
    ) -> None:
        """``opportunities``: the org's record types, for ``deals.pipelines`` entries that name one."""
        self.config = config
        self._salesforce = salesforce
        self._deals = deals
        self._opportunities = opportunities
        self._record_types: dict[str, str] | None = None
        self._types: FieldTypes | None = None
        self._mappings: tuple[DealMapping, ...] | None = None

    @property
    def stages(self) -> tuple[StageMapping, ...]:
        return self.config.deals.pipelines

    @property
    def hubspot_properties(self) -> list[str]:
        """What a deal is read with."""
        return deal_properties(self.config)

    @property
    def types(self) -> FieldTypes:
        if self._types is None:
            described = {OPPORTUNITY: self._salesforce.describe_fields(OPPORTUNITY)}
            hubspot = self._deals.deal_property_types(self.hubspot_properties)
            self._types = FieldTypes(hubspot, described)
        return self._types

    @property
    def mappings(self) -> tuple[DealMapping, ...]:
        """The synced mappings whose Opportunity field the org has, spelled as its describe spells it."""
        if self._mappings is None:
            types = self.types
            self._mappings = tuple(
                m.model_copy(update={"opportunity": types.salesforce_spelling(OPPORTUNITY, m.opportunity)})
                for m in self.config.deal_mappings
                if m.rule is not SyncRule.DONT_SYNC and types.has_field(OPPORTUNITY, m.opportunity)
            )
        return self._mappings

    @property
    def opportunity_fields(self) -> list[str]:
        """What an Opportunity is read with."""
        return sorted({*OPPORTUNITY_SYSTEM_FIELDS, *(m.opportunity for m in self.mappings)})

    def record_type(self, opportunity: SalesforceRecord | None) -> str | None:
        """The DeveloperName of an Opportunity's record type; None without one, or when no
        ``deals.pipelines`` entry names a record type (then the record types are never read)."""
        if opportunity is None:
            return None
        nested = opportunity.fields.get("RecordType")  # a query's relationship field, when read so
        if isinstance(nested, Mapping) and nested.get("DeveloperName"):
            return str(nested["DeveloperName"])
        type_id = id_or_none(opportunity.fields.get(OPPORTUNITY_RECORD_TYPE_FIELD))
        if type_id is None or self._opportunities is None or not any(s.record_type for s in self.stages):
            return None
        if self._record_types is None:
            self._record_types = self._opportunities.record_type_names()
        return self._record_types.get(salesforce_id18(type_id))

    def comparable(self, mapping: DealMapping, value: Any) -> str | None:
        return self.types.comparable(mapping.hubspot, OPPORTUNITY, mapping.opportunity, value)
