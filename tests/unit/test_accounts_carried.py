"""A new contact's change of company or Account answered by the company plan that already carried it
(``shared.accounts.carried``): its Contact's Account is not read again once its first sync links it,
when its primary company's link remembers bringing it in line after the change; anything else is
read and decided as before."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.accounts.carried import carried_by_company, moved_mark
from shared.accounts.own_associations import ECHO_WINDOW
from shared.models import ACCOUNT, CONTACT, CONTACTS, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.accounts.moves import CARRIED, IN_LINE
from shared.ports import Link
from tests import fakes
from tests.fakes import PORTAL
from tests.unit.test_accounts_part import ON, World

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def _company(associated: tuple[str, ...], at: dt.datetime | None = NOW) -> Link:
    return Link(PORTAL, "9001", ACCOUNT, "001000000000001AAA", {}, associated=associated, associated_at=at)


def _contact(contact: str = "11", linked_at: dt.datetime | None = NOW - 5 * SECOND) -> Link:
    return Link(PORTAL, contact, CONTACT, "003000000000001AAA", {}, linked_at=linked_at)


def test_a_change_before_the_contacts_first_sync_and_its_companys_write_is_carried() -> None:
    changed = NOW - 10 * SECOND
    assert carried_by_company(_company(("11",)), _contact(), changed)  # associated in HubSpot
    assert carried_by_company(_company((moved_mark("11"),)), _contact(), changed)  # Contact moved
    assert carried_by_company(_company(("11",)), _contact(linked_at=changed), changed)


def test_anything_else_is_read_and_decided_as_before() -> None:
    changed = NOW - 10 * SECOND
    assert not carried_by_company(None, _contact(), changed)
    assert not carried_by_company(_company(("11",)), None, changed)
    assert not carried_by_company(_company(("12",)), _contact(), changed)  # not remembered
    assert not carried_by_company(_company(("11",)), _contact(linked_at=None), changed)
    # the contact was synced when it changed: a later move, not part of its first sync
    assert not carried_by_company(_company(("11",)), _contact(linked_at=changed - SECOND), changed)
    # the company wrote before the change, or long after it
    assert not carried_by_company(_company(("11",)), _contact(), NOW + SECOND)
    assert not carried_by_company(_company(("11",)), _contact(), NOW - ECHO_WINDOW - SECOND)
    assert not carried_by_company(_company(("11",), None), _contact(), changed)
    assert moved_mark("11") != "11"  # never taken for hssync's own association (own_associations)


@pytest.fixture(autouse=True)
def accounts_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, ACCOUNT, "001")


def test_new_contacts_of_a_new_account_are_not_read_again_once_linked() -> None:
    world = World(ON)
    accounts = [world.sf.add(ACCOUNT, Name=f"Acme {n}") for n in range(4)]
    contacts = [
        world.sf.add("Contact", LastName=f"P{n}", Email=f"p{n}@acme.example", AccountId=accounts[n % 4])
        for n in range(12)
    ]
    world.sync()
    for n, contact in enumerate(contacts):  # each contact shows its Account as its company (S13)
        hubspot_contact = world.state.links_by_salesforce(PORTAL, [contact])[contact].hubspot_id
        assert world.company_link(world.companies.primary[hubspot_contact]).sf_id == accounts[n % 4]
    assert world.skipped.get(CARRIED) == 12  # their changes answered by the Accounts' plans
    assert IN_LINE not in world.skipped  # none read again to find them in line


def _association(world: World, contact: str, company: str) -> ChangeEvent:
    return ChangeEvent(
        system=System.HUBSPOT,
        account=PORTAL,
        object_type=CONTACTS,
        record_id=contact,
        change_type=ChangeType.ASSOCIATION,
        occurred_at=world.clock(),
        origin="INTEGRATION",
        source_event_id=f"a:{contact}:{company}",
        related_ids=(company,),
    )


def test_new_contacts_of_a_new_company_are_not_read_again_once_linked() -> None:
    world = World(ON)
    company = world.companies.add(name="Acme")
    contacts = [world.hs.add(email=f"p{n}@acme.example", lastname=f"P{n}") for n in range(3)]
    for contact in contacts:
        world.companies.primary[contact] = company
        world.companies.events.append(_association(world, contact, company))
    world.sync()
    account = world.company_link(company).sf_id
    for contact in contacts:  # each Contact has the company's Account (S13)
        record = world.state.links_by_hubspot(PORTAL, [contact])[contact].sf_id
        assert world.sf.rows[record].fields["AccountId"] == account
    assert world.skipped.get(CARRIED) == 3
    assert IN_LINE not in world.skipped


def test_a_change_of_a_contact_synced_before_it_is_read_and_decided_as_before() -> None:
    world = World(ON)
    account = world.sf.add(ACCOUNT, Name="Acme")
    contact = world.sf.add("Contact", LastName="P", Email="p@acme.example", AccountId=account)
    world.sync()
    carried = world.skipped.get(CARRIED, 0)
    world.clock.tick(30)
    world.sf.events.append(  # its Account set again, after its first sync
        ChangeEvent(
            system=System.SALESFORCE,
            account=PORTAL,
            object_type=CONTACT,
            record_id=contact,
            change_type=ChangeType.UPDATE,
            occurred_at=world.clock(),
            origin="com/salesforce/api/rest/59.0;client=SfdcUI",
            source_event_id=f"{contact}:again",
            changed_fields=("AccountId",),
        )
    )
    calls = world.sf.calls
    world.sync()
    assert world.skipped.get(CARRIED, 0) == carried
    assert world.skipped.get(IN_LINE) == 1  # read (its Contact's Account) and found in line
    assert world.sf.calls > calls


def test_contacts_linked_before_their_companys_plan_are_remembered_by_contact() -> None:
    world = World(ON)
    company = world.companies.add(name="Acme")
    world.companies.events = []  # the company comes through its contacts' association changes
    contacts = [world.hs.add(email=f"p{n}@acme.example", lastname=f"P{n}") for n in range(3)]
    for contact in contacts:
        world.companies.primary[contact] = company
    changes = [_association(world, contact, company) for contact in contacts]
    world.sync()  # their first syncs: linked before their company has an Account
    world.companies.events = changes
    world.sync()
    account = world.company_link(company).sf_id
    for contact in contacts:
        record = world.state.links_by_hubspot(PORTAL, [contact])[contact].sf_id
        assert world.sf.rows[record].fields["AccountId"] == account
        assert moved_mark(contact) in world.company_link(company).associated
