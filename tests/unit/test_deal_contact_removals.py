"""Removals of contact roles and deal contacts carried both ways through dedupe and apply (``shared.
pipeline.dedupe.deals.roles`` for a deleted role, ``shared.pipeline.dedupe.deals.associations`` for a
deal's contact association change): a deleted role removes its contact from the deal, a contact
removed from the deal deletes its roles, a contact added to the deal alone becomes a role, each in
one batched write; hssync's own writes coming back are answered without a read. A role create whose
answer is lost is never sent again blindly: its deal is decided again from fresh reads of its roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from shared.deals.ports import ContactRole
from shared.errors import ApiFailure, ErrorCategory
from shared.models import COMPANIES, CONTACTS, DEALS, OPPORTUNITY, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.deals.associations import DEAL_ASSOCIATION
from shared.pipeline.dedupe.echo import ECHO
from shared.ports import RecordWrite, WriteOutcome
from tests import fakes
from tests.fakes import PORTAL
from tests.unit.test_deals_part import ON, FakeRoles, World, _synced_contact

ROLE = "OpportunityContactRole"
LOST = ApiFailure("salesforce", "AMBIGUOUS_CREATE", "no answer", ErrorCategory.OTHER, retryable=True)


@pytest.fixture(autouse=True)
def records_have_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fakes.PREFIX, OPPORTUNITY, "006")
    monkeypatch.setitem(fakes.PREFIX, ROLE, "00K")


@dataclass
class RowRoles(FakeRoles):
    """Contact roles read from the Salesforce rows (with their ids)."""

    def contact_roles(self, opportunity_ids: Sequence[str]) -> list[ContactRole]:
        self.calls += 1
        rows = self.sf.rows if self.sf is not None else {}
        found = [
            ContactRole(
                r.fields["OpportunityId"],
                r.fields["ContactId"],
                bool(r.fields.get("IsPrimary")),
                r.fields.get("Role"),
                role_id=i,
            )
            for i, r in rows.items()
            if r.sobject == ROLE and r.fields["OpportunityId"] in set(opportunity_ids)
        ]
        return sorted(found, key=lambda r: (r.opportunity_id, not r.primary))


def _world() -> World:
    world = World(ON)
    world.roles = RowRoles(sf=world.sf)
    return world


def _association(world: World, deal: str, contact: str, *, removed: bool, n: int) -> ChangeEvent:
    """A HubSpot user's association change, as the contact's notification names it."""
    return ChangeEvent(system=System.HUBSPOT, account=PORTAL, object_type=CONTACTS, record_id=contact,
                       change_type=ChangeType.ASSOCIATION, occurred_at=world.clock.tick(), origin="CRM_UI",
                       source_event_id=f"as{n}", related_ids=(deal,), related_type=DEALS,
                       association_removed=removed)  # fmt: skip


def _synced_pair(world: World, people: int) -> tuple[str, str, list[tuple[str, str]], list[str]]:
    """An Opportunity with a role of each of ``people`` synced contacts, synced to a deal."""
    contacts = [_synced_contact(world, None) for _ in range(people)]
    made = world.sf.add(OPPORTUNITY, Name="Roles", CloseDate="2026-12-31", StageName="Prospecting")
    roles = [
        world.sf.add(ROLE, OpportunityId=made, ContactId=record, IsPrimary=n == 0)
        for n, (_, record) in enumerate(contacts)
    ]
    world.sync()
    (deal,) = world.deals.deals
    assert sorted(c for c, _ in world.deals.contacts[deal]) == sorted(c for c, _ in contacts)
    return made, deal, contacts, roles


def _roles_of(world: World, opportunity: str) -> list[str]:
    rows = world.sf.rows.values()
    return sorted(
        r.fields["ContactId"] for r in rows if r.sobject == ROLE and r.fields["OpportunityId"] == opportunity
    )


def test_a_deleted_role_removes_its_contact_from_the_deal_unless_another_role_of_it_remains() -> None:
    world = _world()
    made, deal, ((kept, kept_record), (gone, _)), roles = _synced_pair(world, 2)
    second = world.sf.add(ROLE, OpportunityId=made, ContactId=kept_record, Role="Economic Buyer")
    world.sync()
    world.sf.remove(second)
    world.sync()
    assert "dissociate_deal_contacts" not in world.deals.calls  # the contact has another role
    world.sf.remove(roles[1])
    world.deals.calls.clear()
    world.sync()
    assert world.deals.calls.count("dissociate_deal_contacts") == 1
    assert [c for c, _ in world.deals.contacts[deal]] == [kept]
    plans = world.plans
    world.sync()
    assert world.plans == plans  # no write after the settle
    assert gone not in world.link_of_deal(deal).synced["@contacts"][0]


def test_a_contact_removed_from_the_deal_deletes_its_roles_and_the_deletion_coming_back_is_an_echo() -> None:
    world = _world()
    made, deal, ((kept, kept_record), (gone, gone_record)), _ = _synced_pair(world, 2)
    world.sf.add(ROLE, OpportunityId=made, ContactId=gone_record, Role="Evaluator")  # a second role
    world.sync()
    world.deals.contacts[deal] = [(c, label) for c, label in world.deals.contacts[deal] if c != gone]
    world.deals.events.append(_association(world, deal, gone, removed=True, n=1))
    deletes = sum(1 for op, _, _ in world.sf.writes if op == "delete")
    world.sync()
    assert _roles_of(world, made) == [kept_record]
    assert [c for c, _ in world.deals.contacts[deal]] == [kept]
    assert sum(1 for op, _, _ in world.sf.writes if op == "delete") == deletes + 2  # both its roles
    assert world.skipped.get(ECHO, 0) >= 2  # the deletions coming back
    plans = world.plans
    world.sync()
    assert world.plans == plans


def test_a_contact_added_to_the_deal_alone_becomes_a_contact_role_at_once() -> None:
    world = _world()
    made, deal, ((first, first_record),), _ = _synced_pair(world, 1)
    added, added_record = _synced_contact(world, None)
    world.deals.contacts[deal].append((added, None))
    world.deals.events.append(_association(world, deal, added, removed=False, n=1))
    world.sync()
    assert _roles_of(world, made) == sorted([first_record, added_record])
    roles = [r.fields for r in world.sf.rows.values() if r.sobject == ROLE]
    assert [r["ContactId"] for r in roles if r.get("IsPrimary")] == [first_record]
    assert [c for c, _ in world.deals.contacts[deal]] == [first, added]


def test_an_association_change_the_link_remembers_is_answered_without_a_read() -> None:
    world = _world()
    _, deal, ((contact, _),), _ = _synced_pair(world, 1)
    world.deals.calls.clear()
    world.deals.events.append(_association(world, deal, contact, removed=False, n=1))
    echoes = world.skipped.get(ECHO, 0)
    world.sync()
    assert world.deals.calls == []
    assert world.skipped.get(ECHO, 0) == echoes + 1


def test_a_deals_company_association_change_and_an_unlinked_deals_contact_change_are_not_read() -> None:
    world = _world()
    company_change = ChangeEvent(
        system=System.HUBSPOT,
        account=PORTAL,
        object_type=DEALS,
        record_id="9000009",
        change_type=ChangeType.ASSOCIATION,
        occurred_at=world.clock.tick(),
        source_event_id="dc1",
        related_ids=("77",),
        related_type=COMPANIES,
    )
    contact, _ = _synced_contact(world, None)
    world.deals.events += [company_change, _association(world, "9000009", contact, removed=False, n=2)]
    world.sync()
    assert world.skipped == {DEAL_ASSOCIATION: 2}
    assert world.deals.calls == []
    assert world.plans == 0


def _lose_role_answers(world: World, *, lands: bool) -> None:
    """The next contact role create is applied (when ``lands``), its answer lost, as the adapter
    fails it (``AMBIGUOUS_CREATE``, never sent again)."""
    create = world.sf.create
    left = [1]

    def lossy(
        sobject: str, writes: Sequence[RecordWrite], *, assign: bool | None = None
    ) -> list[WriteOutcome]:
        if sobject != ROLE or left[0] <= 0:
            return create(sobject, writes, assign=assign)
        left[0] -= 1
        if lands:
            create(sobject, writes, assign=assign)
        return [WriteOutcome(w.key, None, LOST) for w in writes]

    world.sf.create = lossy  # type: ignore[method-assign]


@pytest.mark.parametrize("lands", [True, False])
def test_a_role_create_whose_answer_was_lost_is_decided_again_from_fresh_reads(lands: bool) -> None:
    world = _world()
    made, deal, ((_, first_record),), _ = _synced_pair(world, 1)
    added, added_record = _synced_contact(world, None)
    world.deals.contacts[deal].append((added, None))
    world.deals.events.append(_association(world, deal, added, removed=False, n=1))
    _lose_role_answers(world, lands=lands)
    reads = world.roles.calls
    world.sync()
    assert _roles_of(world, made) == sorted([first_record, added_record])  # never created twice
    role_creates = [
        f for op, _, f in world.sf.writes if op == "create" and f.get("ContactId") == added_record
    ]
    assert len(role_creates) == 1  # landed: seen by the fresh read; else created once when decided again
    assert world.roles.calls >= reads + 2  # the deal was decided again, its roles read again
    assert world.state.health(PORTAL) == []  # a transient outcome is no sync-health entry
    assert added in world.link_of_deal(deal).synced["@contacts"][0]
    plans = world.plans
    world.sync()
    assert world.plans == plans  # no write after the settle
