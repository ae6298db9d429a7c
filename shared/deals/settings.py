"""The deal sync settings (DESIGN S8, S15, S17): HubSpot deals <-> Salesforce Opportunities.

Off unless ``deals.enabled``; off, none of these settings changes anything. Deals are never
de-duplicated (S8): only a link hssync made joins a deal and an Opportunity.

- ``deal_mappings``: deal property <-> Opportunity field, with the sync rules and the typed
  conversion of the contact and company mappings. Ids, owners (the owners stage), the stage (the
  pipelines below) and the account (an association) are not field mappings.
- ``deals.pipelines``: each Salesforce ``StageName`` (optionally of one record type) <-> a HubSpot
  pipeline id and stage id. Salesforce -> HubSpot takes the entry of the record type, else the one
  without; HubSpot -> Salesforce takes the first entry of the deal's pipeline and stage. A stage
  with no entry is never guessed: it is a ``property_values`` sync-health entry and the rest of the
  deal syncs. The defaults map Salesforce's standard sales process onto HubSpot's default pipeline.
- ``lifecycle``: lifecycle stages from opportunities (S15), with account sync on.
"""

from __future__ import annotations

from pydantic import Field, StrictBool, StrictStr, model_validator

from shared.settings_base import CreationMode, Strict, SyncRule, same_salesforce_field

OPPORTUNITY_NAME_FIELD = "Name"
OPPORTUNITY_CLOSE_DATE_FIELD = "CloseDate"
OPPORTUNITY_STAGE_FIELD = "StageName"
OPPORTUNITY_ACCOUNT_FIELD = "AccountId"
OPPORTUNITY_CLOSED_FIELD = "IsClosed"
OPPORTUNITY_WON_FIELD = "IsWon"
OPPORTUNITY_RECORD_TYPE_FIELD = "RecordTypeId"  # where the org has record types
# an OpportunityContactRole row: its Opportunity, its Contact, whether it is the primary one
ROLE_OPPORTUNITY_FIELD = "OpportunityId"
ROLE_CONTACT_FIELD = "ContactId"
ROLE_PRIMARY_FIELD = "IsPrimary"
DEAL_STAGE_PROPERTY = "dealstage"
DEAL_PIPELINE_PROPERTY = "pipeline"
# not field mappings: ids, the owner (owners stage, S17), the stage (deals.pipelines), the account and
# contact roles (associations), and the values Salesforce derives from the stage
RESERVED_OPPORTUNITY_FIELDS = (
    "Id",
    "OwnerId",
    OPPORTUNITY_ACCOUNT_FIELD,
    OPPORTUNITY_STAGE_FIELD,
    OPPORTUNITY_RECORD_TYPE_FIELD,
    OPPORTUNITY_CLOSED_FIELD,
    OPPORTUNITY_WON_FIELD,
    "Probability",
)
RESERVED_DEAL_PROPERTIES = ("hs_object_id", "hubspot_owner_id", DEAL_STAGE_PROPERTY, DEAL_PIPELINE_PROPERTY)
# an Opportunity cannot be created without them (StageName comes from the pipelines)
REQUIRED_OPPORTUNITY_FIELDS = (OPPORTUNITY_NAME_FIELD, OPPORTUNITY_CLOSE_DATE_FIELD)
DEFAULT_PIPELINE = "default"


class DealMapping(Strict):
    """A HubSpot deal property <-> a Salesforce Opportunity field, with its sync rule."""

    hubspot: StrictStr = Field(min_length=1, description="HubSpot deal property name")
    opportunity: StrictStr = Field(min_length=1, description="Salesforce Opportunity field")
    rule: SyncRule = SyncRule.TWO_WAY


DEFAULT_DEAL_MAPPINGS: tuple[DealMapping, ...] = (
    DealMapping(hubspot="dealname", opportunity=OPPORTUNITY_NAME_FIELD),
    DealMapping(hubspot="amount", opportunity="Amount"),
    DealMapping(hubspot="closedate", opportunity=OPPORTUNITY_CLOSE_DATE_FIELD),
    DealMapping(hubspot="description", opportunity="Description"),
    DealMapping(hubspot="dealtype", opportunity="Type"),
)


def check_deal_mappings(mappings: tuple[DealMapping, ...]) -> tuple[DealMapping, ...]:
    """The deal mappings, or ValueError: each property and each field mapped once, none of the
    reserved ones, and the Opportunity's Name and CloseDate synced (it cannot exist without them)."""
    properties: set[str] = set()
    fields: set[str] = set()
    for m in mappings:
        if m.hubspot in RESERVED_DEAL_PROPERTIES or any(
            same_salesforce_field(m.opportunity, f) for f in RESERVED_OPPORTUNITY_FIELDS
        ):
            raise ValueError(
                f"{m.hubspot!r} <-> {m.opportunity!r} cannot be mapped: ids, owners (synced by the owners "
                "stage), the stage (deals.pipelines) and the account (an association) are not field mappings"
            )
        if m.hubspot in properties:
            raise ValueError(f"HubSpot deal property {m.hubspot!r} is mapped twice")
        if m.opportunity.lower() in fields:
            raise ValueError(f"Opportunity field {m.opportunity!r} is mapped twice")
        properties.add(m.hubspot)
        fields.add(m.opportunity.lower())
    for required in REQUIRED_OPPORTUNITY_FIELDS:
        if not any(
            same_salesforce_field(m.opportunity, required) and m.rule is not SyncRule.DONT_SYNC
            for m in mappings
        ):
            raise ValueError(
                f"a mapping to the Opportunity's {required} is required: an Opportunity needs it"
            )
    return mappings


class StageMapping(Strict):
    """A Salesforce opportunity stage (of one record type, or of all) <-> a HubSpot pipeline stage."""

    salesforce: StrictStr = Field(min_length=1, description="a value of Opportunity.StageName")
    record_type: StrictStr | None = Field(
        default=None,
        min_length=1,
        description="the DeveloperName of an Opportunity record type; omitted: every record type",
    )
    pipeline: StrictStr = Field(min_length=1, description="a HubSpot deal pipeline id")
    stage: StrictStr = Field(min_length=1, description="a stage id of that pipeline")


def _standard(salesforce: str, stage: str) -> StageMapping:
    return StageMapping(salesforce=salesforce, pipeline=DEFAULT_PIPELINE, stage=stage)


# Salesforce's standard sales process onto HubSpot's default sales pipeline; HubSpot -> Salesforce
# takes the first of the stages that share a HubSpot stage
DEFAULT_STAGE_MAPPINGS: tuple[StageMapping, ...] = (
    _standard("Prospecting", "appointmentscheduled"),
    _standard("Qualification", "qualifiedtobuy"),
    _standard("Needs Analysis", "qualifiedtobuy"),
    _standard("Value Proposition", "presentationscheduled"),
    _standard("Id. Decision Makers", "decisionmakerboughtin"),
    _standard("Perception Analysis", "decisionmakerboughtin"),
    _standard("Proposal/Price Quote", "contractsent"),
    _standard("Negotiation/Review", "contractsent"),
    _standard("Closed Won", "closedwon"),
    _standard("Closed Lost", "closedlost"),
)


class DealsSettings(Strict):
    """Deal sync: HubSpot deals <-> Salesforce Opportunities, their stages, associations and owners."""

    enabled: StrictBool = Field(
        default=False,
        description="sync deals with Opportunities (stages, amounts, close dates, the account and the "
        "contact roles as associations, owners); false: nothing of deals syncs",
    )
    pipelines: tuple[StageMapping, ...] = Field(
        default=DEFAULT_STAGE_MAPPINGS,
        min_length=1,
        description="Opportunity StageName (and record type) <-> HubSpot pipeline id + stage id; an "
        "unmapped stage is a sync-health entry (property_values), never a guess",
    )
    opportunities_to_hubspot: CreationMode = Field(
        default="create_or_update",
        description="an Opportunity with no deal creates one (do_nothing: only linked deals are updated)",
    )
    deals_to_salesforce: CreationMode = Field(
        default="create_or_update",
        description="a deal with no Opportunity creates one "
        "(do_nothing: only linked Opportunities are updated)",
    )

    @model_validator(mode="after")
    def _each_stage_once(self) -> DealsSettings:
        seen: set[tuple[str | None, str]] = set()
        for entry in self.pipelines:
            key = (entry.record_type, entry.salesforce)
            if key in seen:
                kind = f" of record type {entry.record_type!r}" if entry.record_type else ""
                raise ValueError(f"Salesforce stage {entry.salesforce!r}{kind} is mapped twice")
            seen.add(key)
        return self


class LifecycleSettings(Strict):
    """Lifecycle stages from opportunities (S15): with account and deal sync on and automatic
    transitions on, an open opportunity makes the contacts of its contact roles "opportunity" and a
    Closed Won one makes them "customer"; stages never move backwards."""

    automatic_transitions: StrictBool = Field(
        default=True,
        description="contacts of an opportunity's contact roles become 'opportunity' (open) or "
        "'customer' (Closed Won); needs account sync",
    )
    sync_to_company_contacts: StrictBool = Field(
        default=False,
        description="the same change for every contact associated with the opportunity's HubSpot company",
    )
