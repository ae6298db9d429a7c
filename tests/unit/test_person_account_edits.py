"""A HubSpot edit of a person account's contact (S9, shared.pipeline.dedupe.contacts.persons): the
pair is reconciled with the person's Contact, and its Salesforce writes go to the person account
(Salesforce refuses a direct update of that Contact), in one Collections call with the write intent
on the contact's link; the Account is then read again so that its company follows."""

from __future__ import annotations

from typing import Any

from shared.config import parse_config
from shared.ids import salesforce_id18
from shared.intents import remembered
from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.apply import Applier, ApplyResult
from shared.pipeline.dedupe import Deduper
from shared.pipeline.dedupe.contacts.persons import NO_PERSON_FIELD, person_account_of, through_account
from shared.pipeline.dedupe.reconcile import Pair, Reconciler
from shared.pipeline.plans import SyncPlan
from shared.ports import Link, LinkCommit, RecordWrite, WriteOutcome
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce, _SfRow
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import CONTACT, at, contact, hs_event, link, record, schema

ACCOUNT = salesforce_id18("001000000000001")
SYNCED: dict[str, tuple[str | None, str | None]] = {
    "email": ("mary@example.com", "mary@example.com"),
    "hs_email_optout": ("false", "false"),
    "firstname": ("Mary", "Mary"),
    "lastname": ("Somerville", "Somerville"),
    "jobtitle": ("Author", "Author"),
}
PERSON: dict[str, Any] = {
    "Email": "mary@example.com",
    "FirstName": "Mary",
    "LastName": "Somerville",
    "Title": "Author",
    "IsPersonAccount": True,
    "AccountId": ACCOUNT,
}


def _person_plan(**hubspot: str | None) -> SyncPlan:
    props: dict[str, Any] = {
        "email": "mary@example.com",
        "firstname": "Mary",
        "lastname": "Somerville",
        "jobtitle": "Author",
        **hubspot,
    }
    pair = Pair(
        contact(changed_at=at(10), **props),
        record(CONTACT, "Contact", modified=at(0), **PERSON),
        SYNCED,
        hs_event(),
        link=link(sf_id=CONTACT, sf_object="Contact", synced=SYNCED),
    )
    return Reconciler(schema(), PORTAL).plan(pair)


def test_only_a_person_accounts_contact_is_written_through_its_account():
    assert person_account_of(record(CONTACT, "Contact", **PERSON)) == ACCOUNT
    assert person_account_of(record(CONTACT, "Contact", **{**PERSON, "IsPersonAccount": False})) is None
    assert person_account_of(record(CONTACT, "Lead", **PERSON)) is None


def test_the_plan_writes_the_person_account_and_keeps_the_link_with_the_contact():
    plan = _person_plan(jobtitle="Astronomer", lastname="Fairfax")
    assert plan.salesforce_writes == {"Title": "Astronomer", "LastName": "Fairfax"}
    moved = through_account(plan, ACCOUNT, {"persontitle", "lastname"}, schema().fields)
    assert (moved.sf_object, moved.sf_id) == ("Account", ACCOUNT)
    assert (moved.link_sf_object, moved.link_sf_id) == ("Contact", CONTACT)
    assert moved.salesforce_writes == {"PersonTitle": "Astronomer", "LastName": "Fairfax"}
    # the write intent is by HubSpot property, as for any pair
    assert moved.written == plan.written == {"jobtitle": "salesforce", "lastname": "salesforce"}
    assert moved.synced_after["jobtitle"] == ("Astronomer", "Astronomer")
    assert moved.direction == "hubspot_to_salesforce"
    assert moved.notes == ()


def test_a_field_the_person_account_lacks_is_reported_and_not_remembered():
    plan = _person_plan(jobtitle="Astronomer")
    moved = through_account(plan, ACCOUNT, {"lastname"}, schema().fields)
    assert moved.salesforce_writes == {}
    assert moved.written == {}
    assert moved.synced_after["jobtitle"] == ("Author", "Author")  # the edit still counts as one later
    assert moved.direction == "none"
    [note] = moved.notes
    assert (note.system, note.record, note.category, note.code) == (
        "salesforce",
        "hubspot:contacts:101",
        "property_values",
        NO_PERSON_FIELD,
    )
    assert note.fields == ("Title",)


class _Refusing(FakeSalesforce):
    """Salesforce refuses a direct update of a person account's Contact, as the real API does."""

    def update(self, sobject: str, writes: list[RecordWrite]) -> list[WriteOutcome]:  # type: ignore[override]
        assert sobject != "Contact" or not any(
            self.rows[salesforce_id18(str(w.record_id))].fields.get("IsPersonAccount") for w in writes
        ), "a person account's Contact was updated directly"
        return super().update(sobject, writes)


def _world() -> tuple[Clock, _Refusing, FakeHubSpot, MemoryState]:
    clock = Clock()
    sf, hs, state = _Refusing(clock), FakeHubSpot(clock), MemoryState(clock=clock)
    now = clock.tick()
    sf.rows[ACCOUNT] = _SfRow(
        "Account",
        {"Id": ACCOUNT, "IsPersonAccount": True, "FirstName": "Mary", "LastName": "Somerville",
         "PersonEmail": "mary@example.com", "PersonTitle": "Author", "PersonContactId": CONTACT},
        now,
        now,
    )  # fmt: skip
    sf.rows[CONTACT] = _SfRow("Contact", {"Id": CONTACT, **PERSON}, now, now)
    return clock, sf, hs, state


def _decide_and_apply(clock, sf, hs, state, events: list[ChangeEvent]) -> tuple[list[SyncPlan], ApplyResult]:
    config = parse_config(f"portals: [{PORTAL}]")
    deduper = Deduper(
        config=config, portal=PORTAL, salesforce=sf, hubspot=hs, state=state, own_app_id=APP_ID, clock=clock
    )
    plans = deduper.process(events).plans
    return plans, Applier(salesforce=sf, hubspot=hs, state=state, clock=clock).apply(plans)


def test_a_hubspot_edit_of_a_persons_contact_updates_the_person_account_in_one_call():
    clock, sf, hs, state = _world()
    contact_id = hs.add(email="mary@example.com", firstname="Mary", lastname="Somerville", jobtitle="Author")
    hs.drain_events()
    # linked as the accounts part links a person's contact: to the person account's Contact
    state.commit_links([LinkCommit(Link(PORTAL, contact_id, "Contact", CONTACT, SYNCED), "person", None)])

    hs.edit(contact_id, jobtitle="Astronomer", firstname="Maria")
    calls = sf.calls
    plans, result = _decide_and_apply(clock, sf, hs, state, hs.drain_events())

    [plan] = plans
    assert (plan.sf_object, plan.sf_id) == ("Account", ACCOUNT)
    assert sf.writes == [("update", ACCOUNT, {"PersonTitle": "Astronomer", "FirstName": "Maria"})]
    assert result.health == []
    assert sf.calls - calls == 2  # the linked Contact read, one Collections update
    after: Link = state.links_by_hubspot(PORTAL, [contact_id])[contact_id]
    assert (after.sf_object, after.sf_id) == ("Contact", CONTACT)
    assert after.synced["jobtitle"] == ("Astronomer", "Astronomer")
    assert remembered("jobtitle", after.synced, after.intent, hubspot="Astronomer", salesforce="Astronomer")
    # the Account is read again, so that its company (named after the person) follows
    [again] = result.followups
    assert (again.system, again.object_type, again.record_id) == (System.SALESFORCE, "Account", ACCOUNT)
    assert again.change_type is ChangeType.RESYNC
    # the Account's change event of hssync's write brings nothing more to write
    echo = sf.drain_events()
    assert [e.object_type for e in echo] == ["Account"]
    writes = len(sf.writes) + len(hs.writes)
    plans, _ = _decide_and_apply(clock, sf, hs, state, echo)
    assert plans == []
    assert len(sf.writes) + len(hs.writes) == writes
