"""The deals part of dedupe and the deal plans' apply, on in-memory fakes: off changes nothing; an
Opportunity creates its deal with its stage mapped; two identical Opportunities are two deals (S8);
a deal creates its Opportunity; an unmapped stage is reported while the rest syncs; deletes; no
write after the settle."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.accounts.creation_intents import Created
from shared.config import parse_config
from shared.deals.ports import ChangedRole, ContactRole, DealPipeline, HubSpotDeal
from shared.deals.stages import UNMAPPED_STAGE
from shared.ids import salesforce_id18
from shared.models import COMPANIES, DEALS, OPPORTUNITY, ChangeEvent, ChangeType, System
from shared.pipeline.apply import Applier
from shared.pipeline.dedupe import Deduper
from shared.ports import Association, AssociationPair, HubSpotContact, Link, RecordWrite, WriteOutcome
from tests import fakes
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState

ON = "portals: [1000001]\ndeals: {enabled: true}\n"


@dataclass
class FakeDeals:
    clock: Clock
    deals: dict[str, dict[str, str | None]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    primary: dict[str, str] = field(default_factory=dict)  # deal -> its primary company
    contacts: dict[str, list[tuple[str, str | None]]] = field(
        default_factory=dict
    )  # deal -> (contact, label)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9_000_001))
    people: FakeHubSpot | None = None  # the contacts whose lifecycle stages are read
    created_at: dict[str, dt.datetime] = field(default_factory=dict)  # deal -> when it was created

    def lifecycle_stages(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        self.calls.append("lifecycle_stages")
        read = self.people.read_contacts(contact_ids, ["lifecyclestage"]) if self.people is not None else {}
        return {c: contact.properties.get("lifecyclestage") for c, contact in read.items()}

    def add(self, **properties: str) -> str:
        deal_id = str(next(self._ids))
        self.deals[deal_id] = {"pipeline": "default", **properties}
        self.created_at[deal_id] = self.clock()
        self.emit(deal_id, ChangeType.CREATE, origin_id="userId:1")
        return deal_id

    def edit(self, deal_id: str, **properties: str | None) -> None:
        self.deals[deal_id].update(properties)
        self.emit(deal_id, ChangeType.UPDATE, origin_id="userId:1")

    def emit(self, deal_id: str, change: ChangeType, *, origin_id: str) -> None:
        self.events.append(
            ChangeEvent(
                system=System.HUBSPOT,
                account=PORTAL,
                object_type=DEALS,
                record_id=deal_id,
                change_type=change,
                occurred_at=self.clock.tick(),
                origin="INTEGRATION",
                origin_id=origin_id,
                source_event_id=f"d{len(self.events)}:{deal_id}",
            )
        )

    def read_deals(
        self, ids: Sequence[str], properties: Sequence[str], *, history: bool = True
    ) -> dict[str, HubSpotDeal]:
        self.calls.append("read_deals" if history else "read_deals_now")
        now = self.clock()
        return {i: HubSpotContact(i, dict(self.deals[i]), {}, now) for i in ids if i in self.deals}

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[Association]]:
        self.calls.append("associations")
        if to_type == "contacts":
            return {d: [Association(c) for c, _ in self.contacts[d]] for d in ids if self.contacts.get(d)}
        return {d: [Association(self.primary[d], True)] for d in ids if d in self.primary}

    def associate_deal_contacts(
        self, labelled: Sequence[tuple[AssociationPair, str | None]]
    ) -> list[WriteOutcome]:
        self.calls.append("associate_deal_contacts")
        for pair, label in labelled:
            self.contacts.setdefault(pair.from_id, []).append((pair.to_id, label))
        return [WriteOutcome(p.key, p.key) for p, _ in labelled]

    def dissociate_deal_contacts(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        self.calls.append("dissociate_deal_contacts")
        for pair in pairs:
            kept = [(c, label) for c, label in self.contacts.get(pair.from_id, []) if c != pair.to_id]
            self.contacts[pair.from_id] = kept
        return [WriteOutcome(p.key, p.key) for p in pairs]

    def associate_deal_companies(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        self.calls.append("associate_deal_companies")
        for pair in pairs:
            self.primary[pair.from_id] = pair.to_id
        return [WriteOutcome(f"{p.from_id}:{p.to_id}", f"{p.from_id}:{p.to_id}") for p in pairs]

    def deals_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotDeal]:
        return []

    def create_deals(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self.calls.append("create_deals")
        out = []
        for write in writes:
            deal_id = str(next(self._ids))
            self.deals[deal_id] = dict(write.fields)
            self.created_at[deal_id] = self.clock()
            self.emit(deal_id, ChangeType.CREATE, origin_id=APP_ID)
            out.append(WriteOutcome(write.key, deal_id))
        return out

    def deals_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        self.calls.append("deals_created_since")
        wanted = {n.lower() for n in names}
        return [
            Created(i, {p: self.deals[i].get(p) for p in ("dealname", "amount", "closedate")}, at)
            for i, at in self.created_at.items()
            if at >= since and i in self.deals and str(self.deals[i].get("dealname")).lower() in wanted
        ]

    def update_deals(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self.calls.append("update_deals")
        for write in writes:
            self.deals[str(write.record_id)].update(write.fields)
            self.emit(str(write.record_id), ChangeType.UPDATE, origin_id=APP_ID)
        return [WriteOutcome(w.key, w.record_id) for w in writes]

    def archive_deals(self, ids: Sequence[str]) -> list[WriteOutcome]:
        self.calls.append("archive_deals")
        for i in ids:
            self.deals.pop(i, None)
        return [WriteOutcome(i, i) for i in ids]

    def deal_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {}

    def deal_pipelines(self) -> list[DealPipeline]:
        return []


@dataclass
class FakeRoles:
    """OpportunityContactRole rows (Salesforce's contact roles)."""

    roles: list[ContactRole] = field(default_factory=list)
    calls: int = 0
    record_types: dict[str, str] = field(default_factory=dict)
    record_type_reads: int = 0
    sf: FakeSalesforce | None = None  # the rows changed roles are read from, with their Opportunity
    changed_reads: int = 0
    lookups: int = 0  # opportunities_created_since calls

    def opportunities_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        self.lookups += 1
        wanted = set(names)
        rows = self.sf.rows if self.sf is not None else {}
        return [
            Created(rid, {f: row.fields.get(f) for f in ("Name", "Amount", "CloseDate")}, row.created)
            for rid, row in rows.items()
            if row.sobject == OPPORTUNITY and row.created >= since and row.fields.get("Name") in wanted
        ]

    def record_type_names(self) -> dict[str, str]:
        self.record_type_reads += 1
        return dict(self.record_types)

    def changed_roles(self, role_ids: Sequence[str]) -> list[ChangedRole]:
        self.changed_reads += 1
        rows = self.sf.rows if self.sf is not None else {}
        out = []
        for role_id in role_ids:
            row = rows.get(role_id)
            if row is None or row.sobject != "OpportunityContactRole":
                continue
            role = ContactRole(row.fields["OpportunityId"], row.fields["ContactId"],
                               bool(row.fields.get("IsPrimary")), row.fields.get("Role"))  # fmt: skip
            opportunity = rows[role.opportunity_id].fields
            state = (bool(opportunity.get("IsClosed")), bool(opportunity.get("IsWon")))
            out.append(ChangedRole(role_id, role, *state, opportunity.get("AccountId")))
        return out

    def deleted_roles(self, role_ids: Sequence[str]) -> list[ContactRole]:
        self.changed_reads += 1
        gone = self.sf.deleted if self.sf is not None else {}
        return [
            ContactRole(row.fields["OpportunityId"], row.fields["ContactId"], role_id=role_id)
            for role_id in role_ids
            if (row := gone.get(role_id)) is not None and row.sobject == "OpportunityContactRole"
        ]

    def contact_roles(self, opportunity_ids: Sequence[str]) -> list[ContactRole]:
        self.calls += 1
        wanted = set(opportunity_ids)
        return sorted(
            (r for r in self.roles if r.opportunity_id in wanted),
            key=lambda r: (r.opportunity_id, not r.primary),
        )


@dataclass
class World:
    config_text: str
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.config = parse_config(self.config_text)
        self.sf = FakeSalesforce(self.clock)
        self.hs = FakeHubSpot(self.clock)
        self.deals = FakeDeals(self.clock, people=self.hs)
        self.roles = FakeRoles(sf=self.sf)
        self.state = MemoryState(clock=self.clock)
        self.skipped: dict[str, int] = {}
        self.plans = 0

    def sync(self, rounds: int = 8) -> None:
        pending: list[ChangeEvent] = []
        for _ in range(rounds):
            pending += self.hs.drain_events() + self.sf.drain_events() + self.deals.events
            self.deals.events = []
            if not pending:
                return
            deduper = Deduper(config=self.config, portal=PORTAL, salesforce=self.sf, hubspot=self.hs,
                              state=self.state, own_app_id=APP_ID, clock=self.clock, deals=self.deals,
                              opportunities=self.roles)  # fmt: skip
            result = deduper.process(pending)
            for reason, n in result.skipped.items():
                self.skipped[reason] = self.skipped.get(reason, 0) + n
            pending = [*result.retry, *result.held]
            self.plans += sum(1 for p in result.plans if p.has_writes)
            applier = Applier(salesforce=self.sf, hubspot=self.hs, state=self.state, clock=self.clock,
                              deals=self.deals, opportunities=self.roles)  # fmt: skip
            applied = applier.apply(result.plans)
            pending += applied.followups + applied.redecide

    def link_of_deal(self, deal_id: str) -> Any:
        return self.state.links_by_hubspot(PORTAL, [deal_id], kind=DEALS).get(deal_id)

    def opportunities(self) -> dict[str, dict[str, Any]]:
        return {i: r.fields for i, r in self.sf.rows.items() if r.sobject == OPPORTUNITY}

    def delete_opportunity(self, record_id: str) -> None:
        del self.sf.rows[record_id]
        self.sf._emit(OPPORTUNITY, record_id, ChangeType.DELETE, origin="client=SfdcUI")


@pytest.fixture(autouse=True)
def opportunities_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, OPPORTUNITY, "006")


def _opportunity(world: World, name: str = "Big deal", stage: str = "Closed Won") -> str:
    return world.sf.add(OPPORTUNITY, Name=name, Amount=5000, CloseDate="2026-12-31", StageName=stage)


def test_deal_sync_off_leaves_deals_and_opportunities_as_before() -> None:
    world = World("portals: [1000001]")
    _opportunity(world)
    world.deals.add(dealname="Other", dealstage="closedwon")
    world.sync()
    assert list(world.deals.deals.values()) == [
        {"pipeline": "default", "dealname": "Other", "dealstage": "closedwon"}
    ]
    assert len(world.opportunities()) == 1
    assert world.deals.calls == []


def test_an_opportunity_creates_its_deal_with_its_stage_amount_and_close_date() -> None:
    world = World(ON)
    opportunity = _opportunity(world)
    world.sync()
    ((deal_id, deal),) = world.deals.deals.items()
    assert deal["dealname"] == "Big deal"
    assert (deal["pipeline"], deal["dealstage"]) == ("default", "closedwon")
    assert deal["amount"] == "5000"
    assert deal["closedate"] is not None
    assert deal["closedate"].startswith("2026-12-31")
    assert world.link_of_deal(deal_id).sf_id == opportunity
    assert world.deals.calls.count("create_deals") == 1
    written = world.plans
    world.sync()
    assert world.plans == written  # no write after the settle


def test_two_identical_opportunities_are_two_deals() -> None:
    world = World(ON)
    first, second = _opportunity(world), _opportunity(world)
    world.sync()
    assert len(world.deals.deals) == 2
    linked = {world.link_of_deal(d).sf_id for d in world.deals.deals}
    assert linked == {first, second}
    assert world.deals.calls.count("create_deals") == 1  # one batched call


def test_a_deal_creates_its_opportunity_and_later_edits_sync_both_ways() -> None:
    world = World(ON)
    deal_id = world.deals.add(
        dealname="From HubSpot", amount="1200", closedate="2027-01-15", dealstage="qualifiedtobuy"
    )
    world.sync()
    ((opportunity_id, fields),) = world.opportunities().items()
    assert (fields["Name"], fields["StageName"]) == ("From HubSpot", "Qualification")
    assert world.link_of_deal(deal_id).sf_id == opportunity_id
    world.clock.tick(60)
    world.sf.edit(opportunity_id, StageName="Closed Won", Amount=1500)
    world.sync()
    assert world.deals.deals[deal_id]["dealstage"] == "closedwon"
    assert world.deals.deals[deal_id]["amount"] == "1500"
    world.clock.tick(60)
    world.deals.edit(deal_id, dealname="Renamed")
    world.sync()
    assert world.opportunities()[opportunity_id]["Name"] == "Renamed"
    assert world.opportunities()[opportunity_id]["StageName"] == "Closed Won"


def test_deal_creation_settings_leave_unlinked_records_alone() -> None:
    world = World(ON.replace("{enabled: true}", "{enabled: true, opportunities_to_hubspot: do_nothing, "
                             "deals_to_salesforce: do_nothing}"))  # fmt: skip
    _opportunity(world)
    world.deals.add(dealname="Alone", dealstage="closedwon", closedate="2027-01-01")
    world.sync()
    assert len(world.deals.deals) == 1
    assert len(world.opportunities()) == 1
    assert world.skipped["Opportunity without a deal (deals.opportunities_to_hubspot: do_nothing)"] == 1
    assert world.skipped["deal without an Opportunity (deals.deals_to_salesforce: do_nothing)"] == 1


def test_an_unmapped_stage_is_a_sync_health_entry_and_the_rest_of_the_deal_syncs() -> None:
    world = World(
        "portals: [1000001]\ndeals:\n  enabled: true\n"
        "  pipelines: [{salesforce: Closed Won, pipeline: default, stage: closedwon}]\n"
    )
    opportunity = _opportunity(world, stage="Prospecting")
    world.sync()
    ((deal_id, deal),) = world.deals.deals.items()
    assert deal["dealname"] == "Big deal"
    assert "dealstage" not in deal
    (entry,) = world.state.health(PORTAL)
    assert (entry.category, entry.code) == ("property_values", UNMAPPED_STAGE)
    assert entry.record == f"salesforce:Opportunity:{opportunity}"
    assert "'Prospecting'" in entry.message
    world.clock.tick(60)
    world.sf.edit(opportunity, StageName="Closed Won")
    world.sync()
    assert world.deals.deals[deal_id]["dealstage"] == "closedwon"


def test_an_opportunity_delete_archives_its_deal() -> None:
    world = World(ON)
    opportunity = _opportunity(world)
    world.sync()
    (deal_id,) = world.deals.deals
    world.delete_opportunity(opportunity)
    world.sync()
    assert world.deals.deals == {}
    assert world.link_of_deal(deal_id) is None


def test_a_deal_delete_keeps_the_opportunity_drops_the_link_and_reports_it() -> None:
    world = World(ON)
    opportunity = _opportunity(world)
    world.sync()
    (deal_id,) = world.deals.deals
    del world.deals.deals[deal_id]
    world.deals.emit(deal_id, ChangeType.DELETE, origin_id="userId:1")
    world.sync()
    assert opportunity in world.opportunities()
    assert world.link_of_deal(deal_id) is None
    (entry,) = world.state.health(PORTAL)
    assert (entry.code, entry.record) == ("DEAL_DELETED", f"hubspot:deals:{deal_id}")


LIFECYCLE_ON = "portals: [1000001]\naccounts: {enabled: true}\ndeals: {enabled: true}\n"


def _synced_contact(world: World, stage: str | None) -> tuple[str, str]:
    """A HubSpot contact at ``stage`` linked to a Salesforce Contact (synced before the test)."""
    contact = world.hs.add(email=f"p{len(world.hs.rows)}@example.com", lifecyclestage=stage)
    record = world.sf.add("Contact", LastName="P", Email=f"p{len(world.hs.rows)}@example.com")
    world.state.save_links([Link(portal=PORTAL, hubspot_id=contact, sf_object="Contact", sf_id=record)])
    world.hs.drain_events()
    world.sf.drain_events()
    return contact, record


def _stage(world: World, contact: str) -> str | None:
    return world.hs.rows[contact].properties.get("lifecyclestage")


def test_closed_won_makes_the_contact_roles_customers_in_one_batched_write() -> None:
    world = World(LIFECYCLE_ON)
    people = [_synced_contact(world, stage) for stage in ("lead", "opportunity", None)]
    won = world.sf.add(OPPORTUNITY, Name="Won", CloseDate="2026-12-31", StageName="Closed Won", IsClosed=True,
                       IsWon=True)  # fmt: skip
    world.roles.roles = [ContactRole(won, record, primary=n == 0) for n, (_, record) in enumerate(people)]
    calls = world.hs.calls
    world.sync()
    assert [_stage(world, c) for c, _ in people] == ["customer"] * 3
    assert world.hs.calls - calls <= 2  # one read of the stages, one batched write
    assert world.roles.calls == 1


def test_an_open_opportunity_makes_them_opportunities_and_never_moves_a_customer_back() -> None:
    world = World(LIFECYCLE_ON)
    (lead, lead_record), (customer, customer_record) = (
        _synced_contact(world, s) for s in ("lead", "customer")
    )
    opened = world.sf.add(OPPORTUNITY, Name="Open", CloseDate="2026-12-31", StageName="Prospecting",
                          IsClosed=False, IsWon=False)  # fmt: skip
    world.roles.roles = [ContactRole(opened, lead_record), ContactRole(opened, customer_record)]
    world.sync()
    assert (_stage(world, lead), _stage(world, customer)) == ("opportunity", "customer")


def test_no_contact_roles_a_lost_opportunity_or_lifecycle_off_change_nothing() -> None:
    for config, stage, with_roles in (
        (LIFECYCLE_ON, "Closed Won", False),
        (LIFECYCLE_ON, "Closed Lost", True),
        (ON, "Closed Won", True),  # account sync off
        (LIFECYCLE_ON + "lifecycle: {automatic_transitions: false}\n", "Closed Won", True),
    ):
        world = World(config)
        contact, record = _synced_contact(world, "lead")
        closed = world.sf.add(OPPORTUNITY, Name="X", CloseDate="2026-12-31", StageName=stage, IsClosed=True,
                              IsWon=stage == "Closed Won")  # fmt: skip
        world.roles.roles = [ContactRole(closed, record)] if with_roles else []
        world.sync()
        assert _stage(world, contact) == "lead", (config, stage, with_roles)


def test_a_contact_role_added_later_brings_its_opportunitys_lifecycle_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(fakes.PREFIX, "OpportunityContactRole", "00K")
    world = World(LIFECYCLE_ON)
    contact, record = _synced_contact(world, "lead")
    won = world.sf.add(OPPORTUNITY, Name="Won", CloseDate="2026-12-31", StageName="Closed Won", IsClosed=True,
                       IsWon=True)  # fmt: skip
    world.sync()
    assert _stage(world, contact) == "lead"  # no contact roles yet
    world.clock.tick(60)
    world.sf.add("OpportunityContactRole", OpportunityId=won, ContactId=record)
    world.roles.roles = [ContactRole(won, record, primary=True)]
    world.sync()
    assert _stage(world, contact) == "customer"


def test_the_opportunitys_account_is_the_deals_company_and_an_unsynced_account_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(fakes.PREFIX, "Account", "001")
    world = World(LIFECYCLE_ON)
    synced, unsynced = world.sf.add("Account", Name="Synced"), world.sf.add("Account", Name="Not yet")
    world.sf.drain_events()
    world.state.save_links([Link(portal=PORTAL, hubspot_id="5000001", sf_object="Account", sf_id=synced)],
                           kind=COMPANIES)  # fmt: skip
    with_company = _opportunity(world, name="With company")
    world.sf.rows[with_company].fields["AccountId"] = synced
    without = _opportunity(world, name="Without")
    world.sf.rows[without].fields["AccountId"] = unsynced
    world.sync()
    by_name = {props["dealname"]: deal_id for deal_id, props in world.deals.deals.items()}
    assert world.deals.primary == {by_name["With company"]: "5000001"}
    assert world.deals.calls.count("associate_deal_companies") == 1
    (entry,) = world.state.health(PORTAL)
    assert (entry.category, entry.code, entry.record) == (
        "associations",
        "ACCOUNT_NOT_SYNCED",
        f"salesforce:Opportunity:{without}",
    )


def test_a_deals_company_sets_the_opportunitys_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, "Account", "001")
    world = World(LIFECYCLE_ON)
    account = world.sf.add("Account", Name="Synced")
    world.sf.drain_events()
    world.state.save_links([Link(portal=PORTAL, hubspot_id="5000001", sf_object="Account", sf_id=account)],
                           kind=COMPANIES)  # fmt: skip
    deal_id = world.deals.add(dealname="Deal", closedate="2027-01-01", dealstage="closedwon")
    world.deals.primary[deal_id] = "5000001"
    world.sync()
    ((_, fields),) = world.opportunities().items()
    assert fields["AccountId"] == account


def test_a_hubspot_deal_merge_moves_the_link_to_the_surviving_deal() -> None:
    world = World(ON)
    made = _opportunity(world)
    world.sync()
    (merged,) = world.deals.deals
    other = world.deals.add(dealname="Other", dealstage="closedwon")  # no Opportunity for it
    world.deals.deals.clear()
    survivor = str(next(world.deals._ids))
    world.deals.deals[survivor] = {"dealname": "Big deal", "pipeline": "default", "dealstage": "closedwon"}
    world.deals.events = [e for e in world.deals.events if e.record_id != other]
    world.deals.events.append(
        ChangeEvent(system=System.HUBSPOT, account=PORTAL, object_type=DEALS, record_id=survivor,
                    change_type=ChangeType.MERGE, occurred_at=world.clock.tick(), origin="CRM_UI",
                    origin_id="userId:1", source_event_id=f"merge:{survivor}", related_ids=(merged, other))
    )  # fmt: skip
    world.sync()
    assert list(world.opportunities()) == [made]  # no Opportunity made for the survivor
    links = world.state.links_by_salesforce(PORTAL, [made], kind=DEALS)
    assert links[made].hubspot_id == survivor
    assert world.link_of_deal(merged) is None


def test_contact_roles_become_the_deals_contacts_primary_first_and_an_unsynced_contact_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(ON)
    (buyer, buyer_record), (user, user_record) = (_synced_contact(world, "lead") for _ in range(2))
    unsynced = world.sf.add("Contact", LastName="Not synced", Email="no@example.com")
    world.sf.drain_events()
    made = _opportunity(world)
    world.roles.roles = [
        ContactRole(made, user_record),
        ContactRole(made, buyer_record, primary=True, role="Decision Maker"),
        ContactRole(made, unsynced),
    ]
    world.sync()
    (deal_id,) = world.deals.deals
    assert world.deals.contacts[deal_id] == [(buyer, "Decision Maker"), (user, None)]
    assert world.deals.calls.count("associate_deal_contacts") == 1
    (entry,) = world.state.health(PORTAL)
    assert (entry.category, entry.code, entry.record) == (
        "associations",
        "ROLE_CONTACT_NOT_SYNCED",
        f"salesforce:Opportunity:{made}",
    )
    world.sf.edit(made, Amount=6000)  # decided again: the associations are there, nothing is added
    world.sync()
    assert world.deals.calls.count("associate_deal_contacts") == 1


def test_a_deals_contacts_become_contact_roles_and_a_contact_without_a_contact_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(fakes.PREFIX, "OpportunityContactRole", "00K")
    world = World(ON)
    (first, first_record), (second, second_record) = (_synced_contact(world, "lead") for _ in range(2))
    lone = world.hs.add(email="lone@example.com")
    world.hs.drain_events()
    deal_id = world.deals.add(
        dealname="From HubSpot", dealstage="appointmentscheduled", closedate="2027-01-15"
    )
    world.deals.contacts[deal_id] = [(first, None), (lone, None), (second, None)]
    world.sync()
    (made,) = world.opportunities()
    roles = [r.fields for r in world.sf.rows.values() if r.sobject == "OpportunityContactRole"]
    assert [(r["OpportunityId"], r["ContactId"], r["IsPrimary"]) for r in roles] == [
        (made, first_record, True),
        (made, second_record, False),
    ]
    assert [(h.code, h.record) for h in world.state.health(PORTAL)] == [
        ("DEAL_CONTACT_NOT_SYNCED", f"hubspot:deals:{deal_id}")
    ]


def test_an_opportunity_is_read_with_its_record_type_so_an_entry_of_that_type_applies() -> None:
    renewal = salesforce_id18("0125g0000000001")
    world = World(
        "portals: [1000001]\ndeals:\n  enabled: true\n  pipelines:\n"
        "    - {salesforce: Closed Won, record_type: Renewal, pipeline: default, stage: contractsent}\n"
        "    - {salesforce: Closed Won, pipeline: default, stage: closedwon}\n"
    )
    world.roles.record_types = {renewal: "Renewal"}
    world.sf.add(OPPORTUNITY, Name="Renewed", CloseDate="2026-12-31", StageName="Closed Won",
                         RecordTypeId=renewal)  # fmt: skip
    _opportunity(world, name="Plain")
    world.sync()
    stages = {props["dealname"]: props["dealstage"] for props in world.deals.deals.values()}
    assert stages == {"Renewed": "contractsent", "Plain": "closedwon"}
    assert world.roles.record_type_reads == 1  # once, however many Opportunities
