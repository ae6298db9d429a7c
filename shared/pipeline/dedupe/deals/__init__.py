"""The deals part of dedupe (deal sync on): HubSpot deals <-> Salesforce Opportunities (DESIGN S8).

It takes a batch's changes of deals and Opportunities and decides them in this order: deleted
Opportunities, deleted deals, changed Opportunities, changed deals, each group read in batched
calls first. Changes hssync's own writes made are answered as echoes. Nothing is de-duplicated: only
a link hssync made joins a deal and an Opportunity. With deal sync off it takes nothing: every such
change is answered as before (not synced).
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.deals.ports import HubSpotDealsPort, SalesforceOpportunitiesPort
from shared.deals.settings import ROLE_OPPORTUNITY_FIELD
from shared.ids import salesforce_id18
from shared.models import DEALS, OPPORTUNITY, OPPORTUNITY_CONTACT_ROLE, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.deals.associations import (
    DEAL_ASSOCIATION,
    DealContactChanges,
    deal_and_contact,
    with_a_deal,
)
from shared.pipeline.dedupe.deals.decide import (
    deals_deleted,
    from_hubspot,
    from_salesforce,
    opportunities_deleted,
)
from shared.pipeline.dedupe.deals.roles import ROLE_GONE, roles_changed, roles_deleted
from shared.pipeline.dedupe.deals.schema import DealSchema
from shared.pipeline.dedupe.deals.tools import DealTools
from shared.pipeline.dedupe.echo import ECHO, made_in_hubspot_by_hssync, made_in_salesforce_by_hssync
from shared.pipeline.dedupe.outcome import Decision, Skip
from shared.pipeline.dedupe.parts import Batch
from shared.pipeline.dedupe.records import READABLE, id_or_none
from shared.ports import HubSpotCompaniesPort

__all__ = ["DealSchema", "DealsPart"]

ROLE_OPPORTUNITY = ROLE_OPPORTUNITY_FIELD


class DealsPart:
    """One batch's changes of deals and Opportunities."""

    def __init__(
        self,
        batch: Batch,
        schema: DealSchema,
        deals: HubSpotDealsPort,
        opportunities: SalesforceOpportunitiesPort | None = None,
        companies: HubSpotCompaniesPort | None = None,
    ) -> None:
        """``opportunities`` and ``companies``: the reads of lifecycle stages from opportunities
        (contact roles, a company's contacts); without them no lifecycle stage moves."""
        self.tools = DealTools(batch, schema, deals, opportunities, companies)
        self.own_app_id = batch.own_app_id
        self.enabled = batch.config.deals.enabled
        self.opportunities: dict[str, ChangeEvent] = {}
        self.deals: dict[str, ChangeEvent] = {}
        self.opportunities_gone: dict[str, ChangeEvent] = {}
        self.deals_gone: dict[str, ChangeEvent] = {}
        self.roles: dict[str, ChangeEvent] = {}  # contact roles changed: their Opportunities decide again
        self.roles_gone: dict[str, ChangeEvent] = {}  # contact roles deleted
        self.deal_contacts = DealContactChanges()  # deal <-> contact association changes

    def take(self, event: ChangeEvent) -> Decision | bool:
        if not self.enabled:
            return False
        pair = deal_and_contact(event)
        if pair is not None:
            self.deal_contacts.note(*pair, event)
            return True
        if with_a_deal(event) or (event.object_type == DEALS and event.change_type is ChangeType.ASSOCIATION):
            return Skip(DEAL_ASSOCIATION)  # a deal's company: synced with the deal's changes
        if event.system is System.HUBSPOT and event.object_type == DEALS:
            return self._take(event, self.deals, self.deals_gone, event.record_id)
        if event.system is System.SALESFORCE and event.object_type == OPPORTUNITY:
            return self._take(
                event, self.opportunities, self.opportunities_gone, salesforce_id18(event.record_id)
            )
        if event.system is System.SALESFORCE and event.object_type == OPPORTUNITY_CONTACT_ROLE:
            return self._take_role(event)
        return False

    def _take_role(self, event: ChangeEvent) -> Decision | bool:
        """A contact role changed: decided from the role, or with its Opportunity (lifecycle stages,
        S15); a deleted role with its Opportunity's contacts."""
        if made_in_salesforce_by_hssync(event):
            return Skip(ECHO)
        role = salesforce_id18(event.record_id)
        if event.change_type is ChangeType.DELETE:
            self.roles_gone[role] = event
            self.roles.pop(role, None)
            return True
        if event.change_type not in READABLE:
            return False
        if role not in self.roles_gone:
            self.roles[role] = event
        return True

    def _take(
        self,
        event: ChangeEvent,
        changed: dict[str, ChangeEvent],
        gone: dict[str, ChangeEvent],
        record_id: str,
    ) -> Decision | bool:
        if event.change_type is ChangeType.DELETE:
            gone[record_id] = event
            changed.pop(record_id, None)
            return True
        if event.change_type not in READABLE:
            return False
        if event.system is System.HUBSPOT and made_in_hubspot_by_hssync(event, self.own_app_id):
            return Skip(ECHO)  # hssync's own deal write (its link is recorded by apply)
        if event.system is System.SALESFORCE and made_in_salesforce_by_hssync(event):
            return Skip(ECHO)
        if record_id not in gone:
            changed[record_id] = event
        return True

    def _roles_changed(self) -> Iterator[Decision]:
        """The changed contact roles: those of linked Opportunities decided from the roles alone, the
        Opportunities not linked yet joining the batch's changed Opportunities
        (``shared.pipeline.dedupe.deals.roles``)."""
        port = self.tools.opportunities
        if port is None:  # contact roles cannot be read: their Opportunities are decided again
            yield from self._opportunities_of_roles()
            return
        covered = self.opportunities.keys() | self.opportunities_gone.keys()
        found = roles_changed(self.tools, port, self.roles, covered)
        yield from found.decisions
        for opportunity, event in found.opportunities.items():
            self.opportunities.setdefault(opportunity, event)

    def _roles_deleted(self) -> Iterator[Decision]:
        """The deleted contact roles (``shared.pipeline.dedupe.deals.roles``): without the reads of
        contact roles nothing of them can be carried."""
        port = self.tools.opportunities
        if port is None:
            yield from (Skip(ROLE_GONE) for _ in self.roles_gone)
            return
        covered = self.opportunities.keys() | self.opportunities_gone.keys()
        yield from roles_deleted(self.tools, port, self.roles_gone, covered)

    def _opportunities_of_roles(self) -> Iterator[Decision]:
        """The Opportunities of the changed contact roles join the batch's changed Opportunities."""
        salesforce = self.tools.batch.salesforce
        rows = salesforce.retrieve(OPPORTUNITY_CONTACT_ROLE, list(self.roles), ["Id", ROLE_OPPORTUNITY])
        for role_id, event in self.roles.items():
            row = rows.get(role_id)
            opportunity = id_or_none(row.fields.get(ROLE_OPPORTUNITY)) if row is not None else None
            if opportunity is None:
                yield Skip(ROLE_GONE)
            elif opportunity not in self.opportunities_gone:
                self.opportunities.setdefault(opportunity, event)

    def decide(self) -> Iterator[Decision]:
        if self.opportunities_gone:
            yield from opportunities_deleted(self.tools, self.opportunities_gone)
        if self.deals_gone:
            yield from deals_deleted(self.tools, self.deals_gone)
        if self.roles:
            yield from self._roles_changed()
        if self.roles_gone:
            yield from self._roles_deleted()
        if self.deal_contacts.changes:
            yield from self.deal_contacts.answer(self.tools, self.deals, self.deals_gone)
        if self.opportunities:
            yield from from_salesforce(self.tools, self.opportunities)
        if self.deals:
            yield from from_hubspot(self.tools, self.deals)
