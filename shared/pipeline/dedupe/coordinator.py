"""The dedupe coordinator: a batch of change events in, a :class:`DedupeResult` out.

It holds part of a bulk load back for the next batch (``batching``), offers every other event to
the object parts (``parts``), answers the events no part takes, and gathers the parts' decisions in
order. It reads and writes nothing itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from shared.config import SyncConfig
from shared.deals.ports import HubSpotDealsPort, SalesforceOpportunitiesPort
from shared.models import ACCOUNT, DEALS, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.accounts import AccountsPart, CompanySchema
from shared.pipeline.dedupe.batching import fill_batches
from shared.pipeline.dedupe.contacts import ContactSchema, ContactsPart
from shared.pipeline.dedupe.deals import DealSchema, DealsPart
from shared.pipeline.dedupe.deals.batches import DEAL_CHUNKS
from shared.pipeline.dedupe.outcome import Decision, DedupeResult, Skip
from shared.pipeline.dedupe.parts import Batch, ObjectPart, PartFactory
from shared.pipeline.dedupe.records import READABLE, SF_OBJECTS, hs_key
from shared.pipeline.fields import FieldTypes
from shared.ports import HubSpotCompaniesPort, HubSpotPort, SalesforceAccountsPort, SalesforcePort, StatePort

HUBSPOT_DELETION = "HubSpot deletion (never deletes in Salesforce)"


class Deduper:
    def __init__(
        self,
        *,
        config: SyncConfig,
        portal: str,
        salesforce: SalesforcePort,
        hubspot: HubSpotPort,
        state: StatePort,
        own_app_id: str | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        companies: HubSpotCompaniesPort | None = None,
        accounts: SalesforceAccountsPort | None = None,
        deals: HubSpotDealsPort | None = None,
        opportunities: SalesforceOpportunitiesPort | None = None,
    ) -> None:
        """``companies`` and ``accounts``: the account sync ports (the same adapters); without
        them, or with account sync off, companies and Accounts are not synced."""
        self.clock = clock
        self.config = config
        self.own_app_id = own_app_id
        self.portal = portal
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.state = state
        self._contact_schema: ContactSchema | None = None
        self._company_schema: CompanySchema | None = None
        self.companies = companies
        self.accounts = accounts
        # the kinds of synced objects, each offered every change in this order (the accounts part
        # notes the Contacts whose Account changed and leaves them to the contacts part)
        self.parts: tuple[PartFactory, ...] = (self._contacts,)
        self.bulk_objects: tuple[str, ...] = SF_OBJECTS  # the objects whose bulk loads fill batches
        if companies is not None and accounts is not None:
            self.parts = (self._accounts, self._contacts)
            if config.accounts.enabled:
                self.bulk_objects = (*SF_OBJECTS, ACCOUNT)
        self.deals = deals  # the deal sync port (the same adapter); without it deals are not synced
        self.opportunities = opportunities  # contact roles, for lifecycle stages from opportunities
        self._deal_schema: DealSchema | None = None
        self.bulk_chunks: dict[str, int] = {}  # objects whose whole chunk is not HUBSPOT_CHUNK
        if deals is not None:
            self.parts = (*self.parts, self._deals)
            if config.deals.enabled:
                self.bulk_objects, self.bulk_chunks = (*self.bulk_objects, *DEAL_CHUNKS), DEAL_CHUNKS

    @property
    def contact_schema(self) -> ContactSchema:
        """The contact mappings and field types (described once per deduper)."""
        if self._contact_schema is None:
            self._contact_schema = ContactSchema(self.config, self.salesforce, self.hubspot)
        return self._contact_schema

    @property
    def types(self) -> FieldTypes:
        """The contact field types of both sides (described once per process by the adapters)."""
        return self.contact_schema.types

    def _contacts(self, batch: Batch) -> ObjectPart:
        return ContactsPart(batch, self.contact_schema)

    def _accounts(self, batch: Batch) -> ObjectPart:
        companies, accounts = self.companies, self.accounts
        if companies is None or accounts is None:  # not offered as a part without them (__init__)
            raise RuntimeError("account sync needs the companies and accounts ports")
        if self._company_schema is None:
            self._company_schema = CompanySchema(self.config, self.salesforce, companies)
        return AccountsPart(batch, self._company_schema, companies, accounts)

    def _deals(self, batch: Batch) -> ObjectPart:
        if self.deals is None:  # not offered as a part without it (__init__)
            raise RuntimeError("deal sync needs the deals port")
        if self._deal_schema is None:
            self._deal_schema = DealSchema(self.config, self.salesforce, self.deals, self.opportunities)
        return DealsPart(batch, self._deal_schema, self.deals, self.opportunities, self.companies)

    def process(self, events: Sequence[ChangeEvent]) -> DedupeResult:
        result = DedupeResult()
        events, result.held = fill_batches(events, objects=self.bulk_objects, chunks=self.bulk_chunks)
        batch = Batch(
            config=self.config,
            portal=self.portal,
            salesforce=self.salesforce,
            hubspot=self.hubspot,
            state=self.state,
            own_app_id=self.own_app_id,
            clock=self.clock,
        )
        parts = [make(batch) for make in self.parts]
        # the deals part is offered each change first (it answers contacts' and companies' association
        # changes with a deal, which are not contact <-> company ones); decisions keep the parts' order
        takers = sorted(parts, key=lambda part: not isinstance(part, DealsPart))
        for event in events:
            result.record(_sort(event, takers))
        for part in parts:
            for decision in part.decide():
                result.record(decision)
        return result


def _sort(event: ChangeEvent, parts: Sequence[ObjectPart]) -> Decision:
    """Hands ``event`` to the part it is about; answers it when no part takes it."""
    hubspot_deletion = event.change_type is ChangeType.DELETE and event.system is System.HUBSPOT
    if hubspot_deletion and event.object_type != DEALS:
        # HubSpot never deletes Salesforce leads or contacts (nor Accounts)
        return Skip(HUBSPOT_DELETION, hs_key(event.record_id))
    for part in parts:
        taken = part.take(event)
        if not isinstance(taken, bool):
            return taken  # answered from the event alone
        if taken:
            return None
    if hubspot_deletion:  # a deal's, with deal sync off: it never deletes an Opportunity either
        return Skip(HUBSPOT_DELETION, hs_key(event.record_id))
    if event.change_type not in READABLE:
        return Skip(f"{event.change_type.value} not synced")
    return Skip(f"{event.system.value} {event.object_type} not synced")
