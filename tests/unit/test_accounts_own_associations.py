"""hssync's own association writes coming back (HubSpot sends them with no sourceId): the company
link remembers the contacts hssync made primary contacts of its company, and their association
changes are answered without a CRM read; a removal, a company hssync did not write, or an old write
is read and decided as before."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.accounts.own_associations import ECHO_WINDOW, MAX_REMEMBERED, is_own_association, remembered
from shared.models import ACCOUNT, COMPANIES, CONTACTS, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.echo import ECHO
from shared.ports import Link
from tests import fakes
from tests.fakes import PORTAL
from tests.unit.test_accounts_part import ON, World

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _link(associated: tuple[str, ...], at: dt.datetime | None = NOW) -> Link:
    return Link(PORTAL, "9001", ACCOUNT, "001000000000001AAA", {}, associated=associated, associated_at=at)


def test_an_added_association_of_a_remembered_contact_soon_after_is_hssyncs_own() -> None:
    link = _link(("11", "12"))
    assert is_own_association(link, "11", NOW - dt.timedelta(seconds=2))  # before the link was saved
    assert is_own_association(link, "12", NOW + dt.timedelta(minutes=5))
    assert not is_own_association(link, "13", NOW)  # not written by hssync
    assert not is_own_association(link, "11", NOW + ECHO_WINDOW + dt.timedelta(seconds=1))  # too late
    assert not is_own_association(None, "11", NOW)
    assert not is_own_association(_link(("11",), None), "11", NOW)


def test_a_link_remembers_its_recent_writes_newest_last_and_at_most_a_bound() -> None:
    assert remembered(None, ["1", "2", "2"], NOW) == (("1", "2"), NOW)
    earlier = NOW - dt.timedelta(minutes=1)
    recent = _link(("1", "2"), earlier)
    assert remembered(recent, ["3", "1"], NOW) == (("2", "3", "1"), NOW)
    assert remembered(recent, [], NOW) == (("1", "2"), earlier)  # kept while recent
    old = _link(("1", "2"), NOW - ECHO_WINDOW - dt.timedelta(minutes=1))
    assert remembered(old, ["3"], NOW) == (("3",), NOW)
    assert remembered(old, [], NOW) == ((), None)
    many = [str(n) for n in range(MAX_REMEMBERED + 5)]
    assert remembered(None, many, NOW) == (tuple(many[5:]), NOW)


@pytest.fixture(autouse=True)
def accounts_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, ACCOUNT, "001")


def _association(world: World, contact: str, company: str, *, removed: bool = False) -> list[ChangeEvent]:
    """Both notifications HubSpot sends for one association change (no sourceId)."""
    return [
        ChangeEvent(
            system=System.HUBSPOT,
            account=PORTAL,
            object_type=object_type,
            record_id=record,
            change_type=ChangeType.ASSOCIATION,
            occurred_at=world.clock(),
            origin="INTEGRATION",
            source_event_id=f"a:{object_type}:{record}:{other}:{removed}",
            related_ids=(other,),
            association_removed=removed,
        )
        for object_type, record, other in ((CONTACTS, contact, company), (COMPANIES, company, contact))
    ]


def _synced_world() -> tuple[World, list[str], str]:
    world = World(ON)
    account = world.sf.add(ACCOUNT, Name="Acme")
    for n in range(3):
        world.sf.add("Contact", LastName=f"P{n}", Email=f"p{n}@acme.example", AccountId=account)
    world.sync()
    contacts = sorted(world.companies.primary)
    company = world.companies.primary[contacts[0]]
    assert len(contacts) == 3
    assert set(world.companies.primary.values()) == {company}
    link = world.company_link(company)
    assert set(link.associated) == set(contacts)
    assert link.associated_at is not None
    return world, contacts, company


def test_hssyncs_own_association_writes_coming_back_are_answered_without_a_crm_read() -> None:
    world, contacts, company = _synced_world()
    world.companies.calls.clear()
    sf_calls = world.sf.calls
    world.companies.events = [e for c in contacts for e in _association(world, c, company)]
    world.sync()
    assert world.skipped.get(ECHO, 0) >= 3
    assert world.companies.calls == []  # no association read
    assert world.sf.calls == sf_calls  # no Contact read


def test_a_removed_association_of_a_remembered_contact_is_read_and_decided() -> None:
    world, contacts, company = _synced_world()
    world.companies.calls.clear()
    echoes = world.skipped.get(ECHO, 0)
    world.companies.events = _association(world, contacts[0], company, removed=True)
    world.sync()
    assert world.skipped.get(ECHO, 0) == echoes
    assert "associations:contacts" in world.companies.calls  # read as before
