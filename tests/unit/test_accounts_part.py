"""The accounts part of dedupe and the company plans' apply, on in-memory fakes: off changes nothing;
a new Account creates its company associated with its Contacts' contacts; a company is linked
through its contacts' Accounts, never created twice; every read is one call per batch."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.accounts.creation_intents import Created
from shared.config import parse_config
from shared.models import ACCOUNT, COMPANIES, CONTACTS, ChangeEvent, ChangeType, System
from shared.pipeline.apply import Applier
from shared.pipeline.dedupe import Deduper
from shared.ports import (
    Association,
    AssociationPair,
    HubSpotContact,
    RecordWrite,
    SalesforceRecord,
    WriteOutcome,
)
from shared.state.keys import salesforce_id18
from tests import fakes
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState

ON = "portals: [1000001]\naccounts: {enabled: true}\ncreation: {hubspot_to_salesforce: contact}\n"


@dataclass
class FakeCompanies:
    """HubSpot companies and contact -> company associations (the primary one per contact)."""

    clock: Clock
    companies: dict[str, dict[str, str | None]] = field(default_factory=dict)
    primary: dict[str, str] = field(default_factory=dict)  # contact -> company
    calls: list[str] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    created_at: dict[str, dt.datetime] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9001))

    def add(self, **properties: str) -> str:
        company_id = str(next(self._ids))
        self.companies[company_id] = dict(properties)
        self._emit(company_id, ChangeType.CREATE, origin_id="userId:1")
        return company_id

    def _emit(
        self, company_id: str, change: ChangeType, *, origin_id: str, system_object: str = COMPANIES
    ) -> None:
        self.events.append(
            ChangeEvent(
                system=System.HUBSPOT,
                account=PORTAL,
                object_type=system_object,
                record_id=company_id,
                change_type=change,
                occurred_at=self.clock(),
                origin="INTEGRATION",
                origin_id=origin_id,
                source_event_id=f"c{len(self.events)}:{company_id}",
            )
        )

    def read_companies(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, HubSpotContact]:
        self.calls.append("read_companies")
        now = self.clock()
        return {i: HubSpotContact(i, dict(self.companies[i]), {}, now) for i in ids if i in self.companies}

    def companies_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[Any]:
        return []

    def create_companies(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self.calls.append("create_companies")
        out = []
        for write in writes:
            company_id = str(next(self._ids))
            self.companies[company_id] = {k: v for k, v in write.fields.items()}
            self.created_at[company_id] = self.clock()
            self._emit(company_id, ChangeType.CREATE, origin_id=APP_ID)
            out.append(WriteOutcome(write.key, company_id))
        return out

    def companies_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        self.calls.append("companies_created_since")
        wanted = {n.lower() for n in names}
        return [
            Created(i, dict(self.companies[i]), at)
            for i, at in self.created_at.items()
            if at >= since and i in self.companies and str(self.companies[i].get("name")).lower() in wanted
        ]

    def update_companies(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        self.calls.append("update_companies")
        for write in writes:
            self.companies[str(write.record_id)].update(write.fields)
        return [WriteOutcome(w.key, w.record_id) for w in writes]

    def archive_companies(self, ids: Sequence[str]) -> list[WriteOutcome]:
        self.calls.append("archive_companies")
        for i in ids:
            self.companies.pop(i, None)
        return [WriteOutcome(i, i) for i in ids]

    def company_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {}

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[Association]]:
        self.calls.append(f"associations:{from_type}")
        if from_type == CONTACTS:
            return {c: [Association(self.primary[c], True)] for c in ids if c in self.primary}
        out: dict[str, list[Association]] = {}
        for contact, company in self.primary.items():
            if company in ids:
                out.setdefault(company, []).append(Association(contact, True))
        return out

    def associate_primary(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        self.calls.append("associate_primary")
        for pair in pairs:
            self.primary[pair.from_id] = pair.to_id
        return [WriteOutcome(f"{p.from_id}:{p.to_id}", f"{p.from_id}:{p.to_id}") for p in pairs]

    def dissociate(
        self, from_type: str, to_type: str, pairs: Sequence[AssociationPair]
    ) -> list[WriteOutcome]:
        return []


@dataclass
class FakeAccounts:
    sf: FakeSalesforce
    calls: int = 0

    def contacts_of_accounts(
        self, account_ids: Sequence[str], fields: Sequence[str]
    ) -> list[SalesforceRecord]:
        self.calls += 1
        wanted = {salesforce_id18(i) for i in account_ids}
        return [
            self.sf._record(rid)
            for rid, row in self.sf.rows.items()
            if row.sobject == "Contact" and row.fields.get("AccountId") in wanted
        ]

    def accounts_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        self.calls += 1
        wanted = set(names)
        return [
            Created(rid, {"Name": row.fields.get("Name"), "Website": row.fields.get("Website")}, row.created)
            for rid, row in self.sf.rows.items()
            if row.sobject == ACCOUNT and row.created >= since and row.fields.get("Name") in wanted
        ]


@dataclass
class World:
    config_text: str
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.config = parse_config(self.config_text)
        self.sf = FakeSalesforce(self.clock)
        self.hs = FakeHubSpot(self.clock)
        self.companies = FakeCompanies(self.clock)
        self.accounts = FakeAccounts(self.sf)
        self.state = MemoryState(clock=self.clock)
        self.skipped: dict[str, int] = {}

    def sync(self, rounds: int = 8) -> None:
        pending: list[ChangeEvent] = []
        for _ in range(rounds):
            pending += self.hs.drain_events() + self.sf.drain_events() + self.companies.events
            self.companies.events = []
            if not pending:
                return
            deduper = Deduper(config=self.config, portal=PORTAL, salesforce=self.sf, hubspot=self.hs,
                              state=self.state, own_app_id=APP_ID, clock=self.clock, companies=self.companies,
                              accounts=self.accounts)  # fmt: skip
            result = deduper.process(pending)
            for reason, n in result.skipped.items():
                self.skipped[reason] = self.skipped.get(reason, 0) + n
            pending = [*result.retry, *result.held]
            applier = Applier(salesforce=self.sf, hubspot=self.hs, state=self.state, clock=self.clock,
                              companies=self.companies, accounts=self.accounts)  # fmt: skip
            applied = applier.apply(result.plans)
            pending += applied.followups + applied.redecide

    def company_link(self, company_id: str) -> Any:
        return self.state.links_by_hubspot(PORTAL, [company_id], kind=COMPANIES).get(company_id)


@pytest.fixture(autouse=True)
def accounts_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, ACCOUNT, "001")


def test_account_sync_off_leaves_accounts_and_companies_as_before() -> None:
    world = World("portals: [1000001]")
    world.sf.add(ACCOUNT, Name="Acme")
    world.companies.add(name="Acme")
    world.sync()
    assert world.skipped == {"salesforce Account not synced": 1, "hubspot companies not synced": 1}
    assert len(world.companies.companies) == 1
    assert world.companies.calls == []


def test_a_new_account_creates_its_company_with_its_contacts_associated_in_batches() -> None:
    world = World(ON)
    accounts = [world.sf.add(ACCOUNT, Name=f"Acme {n}", Phone="+1 555 0100") for n in range(20)]
    contacts = [
        world.sf.add("Contact", LastName=f"P{n}", Email=f"p{n}@acme.example", AccountId=accounts[n % 20])
        for n in range(40)
    ]
    world.sync()
    assert len(world.companies.companies) == 20
    for account in accounts:
        link = world.state.links_by_salesforce(PORTAL, [account], kind=COMPANIES)[account]
        assert str(world.companies.companies[link.hubspot_id]["name"]).startswith("Acme")
        assert world.companies.companies[link.hubspot_id]["phone"] == "+1 555 0100"
    for n, contact in enumerate(contacts):
        hubspot_contact = world.state.links_by_salesforce(PORTAL, [contact])[contact].hubspot_id
        company = world.companies.primary[hubspot_contact]
        assert world.company_link(company).sf_id == accounts[n % 20]
    # batched: one company create call, and associations in few calls, never one per record
    assert world.companies.calls.count("create_companies") == 1
    assert world.companies.calls.count("associate_primary") <= 3


def test_a_company_links_through_its_contacts_account_and_is_not_created_twice() -> None:
    world = World("portals: [1000001]")
    account = world.sf.add(ACCOUNT, Name="Old Name")
    contact = world.sf.add("Contact", LastName="Lin", Email="lin@example.com", AccountId=account)
    world.sync()  # account sync off: the contact syncs alone
    hubspot_contact = world.state.links_by_salesforce(PORTAL, [contact])[contact].hubspot_id
    world.config = parse_config(ON)
    company = world.companies.add(name="Another Name")
    world.companies.primary[hubspot_contact] = company
    world.sync()
    assert world.company_link(company).sf_id == account  # through the contact, not the name
    assert [r for r in world.sf.rows.values() if r.sobject == ACCOUNT and r.fields["Id"] != account] == []
    world.companies.add(name="Unrelated")  # no synced contacts: an Account is created for it
    world.sync()
    assert sum(1 for r in world.sf.rows.values() if r.sobject == ACCOUNT) == 2


def test_a_merges_master_decided_before_its_merged_accounts_deletion_waits_for_its_company() -> None:
    """A merge's change events may come in separate windows: the master's update first. The master
    (no company) waits for the deletion, which moves the merged Account's company to it, and never
    creates a second company."""
    world = World(ON)
    loser = world.sf.add(ACCOUNT, Name="Loser With Company")
    world.sync()
    (made,) = world.companies.companies
    master = world.sf.add(ACCOUNT, Name="Master Without Company")
    world.sf.drain_events()  # made before account sync saw it: unlinked
    world.sf.merged[loser] = master
    world.sf.remove(loser)
    deletion = world.sf.drain_events()
    world.sf.edit(master, Name="Master Without Company")  # the merge's update of its master
    world.sync(rounds=1)  # the master's update alone: it waits
    assert list(world.companies.companies) == [made]
    world.sf.events += deletion
    world.sync()
    assert world.company_link(made).sf_id == master
    assert list(world.companies.companies) == [made]


def test_company_records_are_resynced_by_id() -> None:
    from shared.state.keys import resync_command

    assert resync_command("hubspot:companies:9001") == "hssync resync hubspot:companies:9001"
    account = "salesforce:Account:001000000000001AAA"
    assert resync_command(account) == f"hssync resync {account}"
    assert resync_command("hubspot:contacts:7") == "hssync resync hubspot:contacts:7"
