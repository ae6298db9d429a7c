"""The ports of deal sync: HubSpot deals and their pipelines (adapters in shared.adapters.hubspot)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.accounts.creation_intents import Created
from shared.ports import Association, AssociationPair, HubSpotContact, RecordWrite, WriteOutcome

# a HubSpot deal reads as a contact does (properties, their change times, updatedAt)
HubSpotDeal = HubSpotContact


@dataclass(frozen=True)
class PipelineStage:
    """A stage of a HubSpot deal pipeline: closed stages are won (probability 1) or lost."""

    id: str
    label: str
    closed: bool
    won: bool


@dataclass(frozen=True)
class DealPipeline:
    id: str
    label: str
    stages: tuple[PipelineStage, ...]

    def stage(self, stage_id: str) -> PipelineStage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


@dataclass(frozen=True)
class ContactRole:
    """An OpportunityContactRole row: a Contact's role on an Opportunity (ids in 18 characters)."""

    opportunity_id: str
    contact_id: str
    primary: bool = False
    role: str | None = None
    role_id: str | None = field(default=None, compare=False)  # the row's own id (to delete it)


@dataclass(frozen=True)
class ChangedRole:
    """A contact role read by its own id, with what lifecycle stages need of its Opportunity (its
    state and Account): a role's change is decided from this alone when its Opportunity is linked."""

    role_id: str
    role: ContactRole
    closed: bool = False
    won: bool = False
    account_id: str | None = None


class SalesforceOpportunitiesPort(Protocol):
    def contact_roles(self, opportunity_ids: Sequence[str]) -> list[ContactRole]:
        """The contact roles of these Opportunities, the primary one first for each (batched queries)."""
        ...

    def changed_roles(self, role_ids: Sequence[str]) -> list[ChangedRole]:
        """These contact roles (ids that no longer exist are absent), each with its Opportunity's
        ``IsClosed``, ``IsWon`` and ``AccountId``; the primary one first per Opportunity (batched
        queries)."""
        ...

    def deleted_roles(self, role_ids: Sequence[str]) -> list[ContactRole]:
        """These contact roles as they were when deleted (``queryAll``; ids not deleted, or gone from
        the recycle bin, are absent), batched queries."""
        ...

    def record_type_names(self) -> dict[str, str]:
        """The org's Opportunity record types: id (18 characters) -> DeveloperName (one query)."""
        ...


class LostOpportunitiesPort(Protocol):
    """Where apply looks for an Opportunity whose create's answer was lost (the Salesforce adapter)."""

    def opportunities_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """The Opportunities the integration user created at or after ``since`` whose Name is one of
        ``names``, with their Name, Amount and CloseDate (``shared.accounts.creation_intents``)."""
        ...


class HubSpotDealsPort(Protocol):
    """Deals (CRM v3 objects: batch read, create, update, archive) and the deal pipelines."""

    def read_deals(
        self, ids: Sequence[str], properties: Sequence[str], *, history: bool = True
    ) -> dict[str, HubSpotDeal]:
        """Current deals by id; missing or archived ids are absent. ``history``: with each property's
        change time (``propertiesWithHistory``); without it a property's time is the deal's
        ``updatedAt``."""
        ...

    def deals_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotDeal]:
        """Deals with hs_lastmodifieddate > since, oldest first (the poller's read)."""
        ...

    def create_deals(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]: ...

    def deals_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """The deals created at or after ``since`` whose dealname is one of ``names``, with their
        dealname, amount and closedate (one search; ``shared.accounts.creation_intents``)."""
        ...

    def associate_deal_companies(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        """Makes each company (``to_id``) its deal's (``from_id``) primary company."""
        ...

    def associate_deal_contacts(
        self, labelled: Sequence[tuple[AssociationPair, str | None]]
    ) -> list[WriteOutcome]:
        """Associates each contact (``to_id``) with its deal (``from_id``), with the association label
        of the given name where the portal has one."""
        ...

    def dissociate_deal_contacts(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        """Removes each contact (``to_id``) from its deal (``from_id``), every label of it (one
        already gone is a success)."""
        ...

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[Association]]:
        """Each deal's associations to ``to_type`` (the primary one marked)."""
        ...

    def update_deals(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]: ...

    def lifecycle_stages(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        """The contacts' current lifecycle stages (lifecycle stages from opportunities, S15), read
        without property history; missing or archived contacts are absent."""
        ...

    def archive_deals(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """Archives; an id already archived or unknown is a success."""
        ...

    def deal_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Definitions of the named deal properties that exist (as HubSpot's JSON has them)."""
        ...

    def deal_pipelines(self) -> list[DealPipeline]:
        """The portal's deal pipelines with their stages (archived ones left out)."""
        ...
