"""The echo race over in-memory CRMs (the e2e twin is tests/e2e/test_echo_race.py): a person's
second edit, decided while hssync's write of the first has landed but is not recorded yet, must
win; a write whose answer was lost is decided again, never repeated, and never creates twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from shared.config import parse_config
from shared.errors import TransientApiError
from shared.intents import WriteIntent
from shared.models import CONTACTS, ChangeEvent, LinkKind
from shared.pipeline.dedupe import DedupeResult
from shared.ports import ClaimDone, IntentRecord, Link, LinkCommit, RecordWrite, WriteOutcome
from tests.fakes import APP_ID, PORTAL, FakeSalesforce
from tests.unit.test_pipeline import World


@pytest.fixture
def world() -> World:
    return World(parse_config("portals: [1000001]"))


class AfterWrite(FakeSalesforce):
    """Runs ``before`` once while an update is on its way (the person's second edit, older than the
    write) and ``hook`` right after it landed, before its answer reaches apply."""

    before: Callable[[], None] | None = None
    hook: Callable[[], None] | None = None
    lose_next_create = False

    def update(self, sobject: str, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        before, self.before = self.before, None
        if before is not None:
            before()
        out = super().update(sobject, writes)
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return out

    def create(self, sobject: str, writes: Sequence[RecordWrite], **kwargs: Any) -> list[WriteOutcome]:
        out = super().create(sobject, writes, **kwargs)
        if self.lose_next_create:  # applied, then the answer is lost
            self.lose_next_create = False
            raise TransientApiError("read timeout")
        return out


def _linked_pair(world: World) -> tuple[str, str]:
    world.sf = AfterWrite(world.clock)
    contact = world.hs.add(email="race@example.com", lastname="Racer", jobtitle="U0")
    world.sync()
    link = world.link_of_hubspot(contact)
    assert link is not None
    return contact, link.sf_id


def _settle(world: World, pending: list[ChangeEvent]) -> None:
    """Deliver the held-back changes (as the queue would, after their delay), then everything else."""
    for _ in range(6):
        pending += world.hs.drain_events() + world.sf.drain_events()
        if not pending:
            return
        dedupe = world.deduper().process(pending)
        result = world.applier().apply(dedupe.plans)
        pending = [*dedupe.retry, *result.followups, *result.redecide]


def test_a_second_edit_decided_while_hssyncs_write_is_unrecorded_waits_and_wins(world: World) -> None:
    contact, lead = _linked_pair(world)
    seen: list[DedupeResult] = []

    def dedupe_in_the_gap() -> None:
        seen.append(world.deduper().process(world.hs.drain_events()))

    world.hs.edit(contact, jobtitle="U40")
    first = world.deduper().process(world.hs.drain_events())
    assert isinstance(world.sf, AfterWrite)
    world.sf.before = lambda: world.hs.edit(contact, jobtitle="U48")
    world.sf.hook = dedupe_in_the_gap
    world.applier().apply(first.plans)

    # the gap: Salesforce holds hssync's U40, newer than the person's U48; the pair waited
    [during] = seen
    assert during.plans == []
    assert len(during.retry) == 1
    _settle(world, list(during.retry))
    assert world.sf.rows[lead].fields["Title"] == "U48"
    assert world.hs.rows[contact].properties["jobtitle"] == "U48"


def test_a_plan_decided_on_the_link_before_hssyncs_write_is_decided_again(world: World) -> None:
    contact, lead = _linked_pair(world)
    before: dict[str, Link] = world.state.links_by_hubspot(PORTAL, [contact])
    stale: list[DedupeResult] = []

    def second_edit_read_with_the_old_link() -> None:
        deduper = world.deduper()
        deduper.state = _Frozen(world.state, before)  # the link was read before the intent was
        stale.append(deduper.process(world.hs.drain_events()))

    world.hs.edit(contact, jobtitle="U40")
    first = world.deduper().process(world.hs.drain_events())
    assert isinstance(world.sf, AfterWrite)
    world.sf.before = lambda: world.hs.edit(contact, jobtitle="U48")
    world.sf.hook = second_edit_read_with_the_old_link
    world.applier().apply(first.plans)

    [plan] = stale[0].plans
    assert plan.hubspot_writes == {"jobtitle": "U40"}  # what the old code wrote: hssync's own value
    result = world.applier().apply([plan])
    assert result.counters["decided again (the link changed)"] == 1
    assert world.hs.rows[contact].properties["jobtitle"] == "U48"  # not written
    _settle(world, list(result.followups))
    assert world.sf.rows[lead].fields["Title"] == "U48"
    assert world.hs.rows[contact].properties["jobtitle"] == "U48"


def test_a_create_whose_answer_was_lost_never_makes_a_second_record(world: World) -> None:
    world.sf = AfterWrite(world.clock)
    world.sf.lose_next_create = True
    contact = world.hs.add(email="lost@example.com", lastname="Lost")
    dedupe = world.deduper().process(world.hs.drain_events())
    result = world.applier().apply(dedupe.plans)
    assert len(world.sf.rows) == 1
    assert len(result.redecide) == 1
    _settle(world, list(result.redecide))
    assert len(world.sf.rows) == 1
    link = world.link_of_hubspot(contact)
    assert link is not None
    assert link.sf_id in world.sf.rows


class _Frozen:
    """The state store, except that links read as they were at one moment."""

    def __init__(self, state: Any, links: dict[str, Link]) -> None:
        self._state, self._links = state, links

    def links_by_hubspot(
        self, portal: str, ids: Sequence[str], *, kind: LinkKind = CONTACTS
    ) -> dict[str, Link]:
        if kind != CONTACTS:
            return self._state.links_by_hubspot(portal, ids, kind=kind)  # type: ignore[no-any-return]
        return {i: self._links[i] for i in ids if i in self._links}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


def test_a_record_hssync_created_is_not_linked_as_a_strangers_before_its_link_is_recorded(
    world: World,
) -> None:
    # hssync created the lead for this contact (claim completed), apply has not saved the link yet
    contact = world.hs.add(email="new@example.com", lastname="New", jobtitle="Old")
    world.hs.drain_events()
    lead = world.sf.add("Lead", Email="new@example.com", LastName="New", Title="Old", Company="C")
    world.sf.drain_events()
    world.state.claim_creation(PORTAL, "salesforce", "new@example.com", f"hubspot:{contact}:e0")
    world.state.complete_claims(
        PORTAL, [ClaimDone("salesforce", "new@example.com", f"hubspot:{contact}:e0", lead)]
    )
    world.hs.edit(contact, jobtitle="Edited")

    waiting = world.deduper().process(world.hs.drain_events())
    assert waiting.plans == []
    assert [e.record_id for e in waiting.retry] == [contact]
    # once it has waited its bounded time (the link deleted since, say), it is linked by email
    later = world.deduper().process([e.model_copy(update={"attempt": 99}) for e in waiting.retry])
    assert [p.linked_by_email for p in later.plans] == [True]


def test_a_record_found_by_email_that_hssync_did_not_create_is_linked_at_once(world: World) -> None:
    contact = world.hs.add(email="old@example.com", lastname="Old")
    world.hs.drain_events()
    world.sf.add("Lead", Email="old@example.com", LastName="Old", Company="C")
    other = world.sf.add("Lead", Email="elsewhere@example.com", LastName="X", Company="C")
    world.sf.drain_events()
    # a creation claim for the email that names another record (a link moved since) holds nothing back
    world.state.claim_creation(PORTAL, "salesforce", "old@example.com", "hubspot:1:e")
    world.state.complete_claims(PORTAL, [ClaimDone("salesforce", "old@example.com", "hubspot:1:e", other)])
    world.hs.edit(contact, jobtitle="Any")
    result = world.deduper().process(world.hs.drain_events())
    assert result.retry == []
    assert [p.linked_by_email for p in result.plans] == [True]


def test_a_plan_superseded_in_a_batch_is_decided_again_not_dropped(world: World) -> None:
    # two dedupe invocations' messages in one apply batch, in any order: the plan that comes later
    # may come from the earlier read (here: "already in sync", read before the person's edit)
    contact, lead = _linked_pair(world)
    world.hs.edit(contact, phone="1")
    older = world.deduper().process(world.hs.drain_events()).plans
    world.hs.edit(contact, jobtitle="Edited")
    newer = world.deduper().process(world.hs.drain_events()).plans
    result = world.applier().apply([*newer, *older])
    assert result.counters["superseded"] == 1
    assert [e.record_id for e in result.followups] == [contact]
    _settle(world, list(result.followups))
    assert world.sf.rows[lead].fields["Title"] == "Edited"


def test_every_change_of_a_pair_waits_for_a_write_in_flight_not_one_for_all(world: World) -> None:
    # a person's edit and the echo of hssync's owner write for the same contact, in one batch, while
    # apply holds the pair's write lease: both wait; had only the echo waited, it would have been
    # answered from the link on its retry and the person's edit would never reach Salesforce
    contact, lead = _linked_pair(world)
    link = world.link_of_hubspot(contact)
    assert link is not None
    lease = WriteIntent("owner-plan", world.clock() + dt.timedelta(minutes=5), {})
    assert world.state.record_intents(PORTAL, [IntentRecord(contact, link.rev, lease)]) == set()
    world.hs.edit(contact, jobtitle="Edited")
    [edit] = world.hs.drain_events()
    echo = edit.model_copy(
        update={
            "origin": "INTEGRATION",
            "origin_id": APP_ID,
            "source_event_id": "echo",
            "changed_fields": ("hubspot_owner_id",),
            "reported": {"hubspot_owner_id": "41000001"},
        }
    )
    waiting = world.deduper().process([edit, echo])
    assert waiting.plans == []
    assert sorted(e.source_event_id for e in waiting.retry) == sorted([edit.source_event_id, "echo"])
    # the write is recorded (the lease ends): the retried changes now reach Salesforce
    world.state.commit_links([LinkCommit(link, "owner-plan", link.rev)])
    _settle(world, list(waiting.retry))
    assert world.sf.rows[lead].fields["Title"] == "Edited"
