"""What the deal decisions know of both sides' fields: the deal mappings and the field types of
HubSpot deals and Salesforce Opportunities, described once per deduper."""

from __future__ import annotations

from typing import Any

from shared.config import SyncConfig, SyncRule
from shared.deals.ports import HubSpotDealsPort
from shared.deals.settings import (
    DEAL_PIPELINE_PROPERTY,
    DEAL_STAGE_PROPERTY,
    OPPORTUNITY_ACCOUNT_FIELD,
    OPPORTUNITY_CLOSED_FIELD,
    OPPORTUNITY_STAGE_FIELD,
    OPPORTUNITY_WON_FIELD,
    DealMapping,
    StageMapping,
)
from shared.models import OPPORTUNITY
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY
from shared.pipeline.fields import FieldTypes
from shared.ports import SalesforcePort

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
)


def deal_properties(config: SyncConfig) -> list[str]:
    """The deal properties hssync reads and watches (webhooks): the mapped ones, the stage and the owner."""
    fixed = {DEAL_PIPELINE_PROPERTY, DEAL_STAGE_PROPERTY, OWNER_PROPERTY}
    return sorted({*fixed, *(m.hubspot for m in config.deal_mappings)})


class DealSchema:
    """The deal mappings of ``config``, its stage entries, and the types of the fields they map."""

    def __init__(self, config: SyncConfig, salesforce: SalesforcePort, deals: HubSpotDealsPort) -> None:
        self.config = config
        self._salesforce = salesforce
        self._deals = deals
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

    def comparable(self, mapping: DealMapping, value: Any) -> str | None:
        return self.types.comparable(mapping.hubspot, OPPORTUNITY, mapping.opportunity, value)
