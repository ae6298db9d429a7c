"""The stage rule of deal sync: Opportunity ``StageName`` (and record type) <-> HubSpot pipeline and
stage, by the ``deals.pipelines`` setting only, never guessed (DESIGN S8; issue 14).

Salesforce -> HubSpot: the entry of the opportunity's record type, else the entry without one.
HubSpot -> Salesforce: the first entry (in the setting's order) with the deal's pipeline and stage
that fits its record type (of that record type, or of none). No entry: ``None``, which the caller
reports as a ``property_values`` sync-health entry while the rest of the deal syncs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.deals.settings import (
    DEAL_PIPELINE_PROPERTY,
    DEAL_STAGE_PROPERTY,
    OPPORTUNITY_STAGE_FIELD,
    StageMapping,
)

UNMAPPED_STAGE = "UNMAPPED_STAGE"  # the sync-health code of a stage with no deals.pipelines entry


@dataclass(frozen=True)
class HubSpotStage:
    pipeline: str
    stage: str

    def properties(self) -> dict[str, str | None]:
        """The deal properties that set this stage."""
        return {DEAL_PIPELINE_PROPERTY: self.pipeline, DEAL_STAGE_PROPERTY: self.stage}


def to_hubspot(
    entries: Sequence[StageMapping], stage_name: str | None, record_type: str | None = None
) -> HubSpotStage | None:
    """The HubSpot pipeline and stage of an Opportunity's stage; None: not mapped."""
    if not stage_name:
        return None
    general: StageMapping | None = None
    for entry in entries:
        if entry.salesforce != stage_name:
            continue
        if record_type is not None and entry.record_type == record_type:
            return HubSpotStage(entry.pipeline, entry.stage)
        if entry.record_type is None and general is None:
            general = entry
    return HubSpotStage(general.pipeline, general.stage) if general is not None else None


def to_salesforce(
    entries: Sequence[StageMapping], pipeline: str | None, stage: str | None, record_type: str | None = None
) -> str | None:
    """The Opportunity StageName of a deal's pipeline and stage; None: not mapped."""
    if not pipeline or not stage:
        return None
    for entry in entries:
        if (entry.pipeline, entry.stage) != (pipeline, stage):
            continue
        if entry.record_type is None or entry.record_type == record_type:
            return entry.salesforce
    return None


def unmapped_message(stage: str, side: str) -> str:
    """What sync health says of a stage with no entry (``side``: where the stage was read)."""
    if side == "salesforce":
        return (
            f"Opportunity {OPPORTUNITY_STAGE_FIELD} {stage!r} has no deals.pipelines entry: the deal's stage "
            "is left as it is (the rest of the deal syncs)"
        )
    return (
        f"deal stage {stage!r} has no deals.pipelines entry: the Opportunity's {OPPORTUNITY_STAGE_FIELD} is "
        "left as it is (the rest of the deal syncs)"
    )
