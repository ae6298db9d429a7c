"""Creation (shared.pipeline.dedupe.creation, S5/S10): one record per email whatever the
concurrency, a wait for hssync's own new record instead of linking it as a stranger, and the
owner Salesforce gives a record hssync created."""

from __future__ import annotations

from shared.models import RESYNC_ORIGIN, ChangeType
from shared.pipeline.dedupe.creation import (
    LINK_WAIT_DEFERRALS,
    RESYNC_TAKEOVER_DEFERRALS,
    Creator,
    assigned_owner,
    creation_pending,
)
from shared.pipeline.dedupe.echo import ECHO
from shared.pipeline.dedupe.outcome import Planned, Retry, Skip
from shared.ports import ClaimDone
from tests.fakes import PORTAL, Clock
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import (
    LEAD,
    NOW,
    USER,
    USER_2,
    config,
    contact,
    hs_event,
    link,
    record,
    schema,
    sf_event,
)

EMAIL = "ada@example.com"


def _state() -> MemoryState:
    return MemoryState(clock=Clock(NOW))


def _creator(state: MemoryState, text: str = "") -> Creator:
    sync_config = config(text)
    return Creator(schema(sync_config), sync_config, PORTAL, state)


def test_nobody_creating_means_no_wait_and_the_lookup_leaves_no_claim_behind():
    state = _state()
    assert not creation_pending(state, PORTAL, EMAIL, {"salesforce": {LEAD}}, hs_event())
    for target in ("salesforce", "hubspot"):
        assert state.claim_creation(PORTAL, target, EMAIL, "hubspot:202:x") is None  # free


def test_a_creation_in_progress_or_done_by_hssync_and_not_linked_yet_is_waited_for():
    state = _state()
    state.claim_creation(PORTAL, "salesforce", EMAIL, "hubspot:101:e1")  # another change is creating
    assert creation_pending(state, PORTAL, EMAIL, {}, sf_event())
    done = _state()
    done.claim_creation(PORTAL, "hubspot", EMAIL, "salesforce:x:e1")
    done.complete_claims(PORTAL, [ClaimDone("hubspot", EMAIL, "salesforce:x:e1", "101")])
    assert creation_pending(done, PORTAL, EMAIL, {"hubspot": {"101"}}, sf_event())
    # created by hssync, but not one of the records found: someone else's, linked as usual
    assert not creation_pending(done, PORTAL, EMAIL, {"hubspot": {"102"}}, sf_event())


def test_a_created_salesforce_record_is_recognised_in_either_id_form():
    state = _state()
    state.claim_creation(PORTAL, "salesforce", EMAIL, "hubspot:101:e1")
    state.complete_claims(PORTAL, [ClaimDone("salesforce", EMAIL, "hubspot:101:e1", LEAD[:15])])
    assert creation_pending(state, PORTAL, EMAIL, {"salesforce": {LEAD}}, hs_event())


def test_the_wait_is_bounded_for_a_link_deleted_since_its_creation():
    state = _state()
    state.claim_creation(PORTAL, "salesforce", EMAIL, "hubspot:101:e1")
    late = hs_event(attempt=LINK_WAIT_DEFERRALS)
    assert not creation_pending(state, PORTAL, EMAIL, {}, late)
    assert state.claim_creation(PORTAL, "salesforce", EMAIL, "hubspot:101:e1") is None  # untouched


def test_a_new_hubspot_contact_creates_a_lead_under_its_claim_and_a_second_change_waits():
    state = _state()
    creator = _creator(state)
    event = hs_event(change=ChangeType.CREATE)
    new = contact(email=EMAIL, lastname="Lovelace", hs_email_optout="true", hubspot_owner_id="7")
    decision = creator.in_salesforce(new, EMAIL, event)
    assert isinstance(decision, Planned)
    plan = decision.plan
    assert (plan.create, plan.sf_object, plan.sf_id, plan.hubspot_id) == ("salesforce", "Lead", None, "101")
    assert (plan.claim_email, plan.claimant) == (EMAIL, f"hubspot:101:{event.change_id}")
    assert plan.salesforce_writes == {
        "Email": EMAIL,
        "LastName": "Lovelace",
        "HasOptedOutOfEmail": True,
        "Company": "[not provided]",
    }
    assert plan.synced_after["lastname"] == ("Lovelace", "Lovelace")
    assert plan.synced_after["hs_email_optout"] == ("true", "true")
    assert plan.owner is not None
    assert (plan.owner.hubspot, plan.owner.creating) == ("7", "salesforce")
    # the same contact's next change, decided in parallel, waits and links on its retry
    second = hs_event(jobtitle="CTO")
    assert creator.in_salesforce(new, EMAIL, second) == Retry(second)


def test_the_creation_setting_chooses_a_contact():
    decision = _creator(_state(), "creation: {hubspot_to_salesforce: contact}").in_salesforce(
        contact(email=EMAIL), EMAIL, hs_event()
    )
    assert isinstance(decision, Planned)
    assert decision.plan.sf_object == "Contact"
    assert "Company" not in decision.plan.salesforce_writes


def test_a_new_salesforce_record_creates_a_hubspot_contact_unsubscribed_when_it_opted_out():
    state = _state()
    creator = _creator(state)
    event = sf_event(change=ChangeType.CREATE)
    lead = record(Email=" Ada@Example.com", LastName="Lovelace", HasOptedOutOfEmail=True, OwnerId=USER[:15])
    decision = creator.in_hubspot("Lead", lead, EMAIL, event)
    assert isinstance(decision, Planned)
    plan = decision.plan
    assert (plan.create, plan.hubspot_id, plan.sf_id, plan.source) == ("hubspot", None, LEAD, "salesforce")
    assert plan.hubspot_writes == {"email": EMAIL, "lastname": "Lovelace"}
    assert plan.unsubscribe_email == EMAIL  # not a property write
    assert plan.synced_after["hs_email_optout"] == ("true", "true")
    assert plan.owner is not None
    assert (plan.owner.salesforce, plan.owner.creating) == (USER, "hubspot")
    assert creator.in_hubspot("Lead", lead, EMAIL, sf_event(n=1)) == Retry(sf_event(n=1))


def test_the_owner_salesforce_gave_hssyncs_new_record_is_a_change_for_the_owners_stage():
    created = sf_event(change=ChangeType.CREATE, reported={"OwnerId": USER_2[:15]})
    pair = link(synced={"hubspot_owner_id": ("7", USER)})
    decision = assigned_owner(PORTAL, LEAD, created, pair)
    assert isinstance(decision, Planned)
    plan = decision.plan
    assert plan.owner is not None
    assert (plan.owner.hubspot, plan.owner.salesforce, plan.owner.remembered) == ("7", USER_2, ("7", USER))
    assert plan.owner.salesforce_changed_at == created.occurred_at
    assert (plan.hubspot_id, plan.sf_id, plan.link_rev) == ("101", LEAD, 3)
    assert not plan.has_writes


def test_an_owner_already_known_or_a_record_not_linked_is_the_echo_of_hssyncs_write():
    created = sf_event(change=ChangeType.CREATE, reported={"OwnerId": USER})
    assert assigned_owner(PORTAL, LEAD, created, link(synced={"hubspot_owner_id": ("7", USER)})) == Skip(ECHO)
    assert assigned_owner(PORTAL, LEAD, created, None) == Skip(ECHO)
    blank = sf_event(change=ChangeType.CREATE, reported={"OwnerId": None})
    assert assigned_owner(PORTAL, LEAD, blank, link()) == Skip(ECHO)


def test_a_resync_that_waited_long_enough_wins_over_a_stale_claim():
    state = _state()
    creator = _creator(state)
    new = contact(email=EMAIL, lastname="Lovelace")
    # a change's claim, its plan stranded (e.g. sent to wait while the CRM refused)
    assert state.claim_creation(PORTAL, "salesforce", EMAIL, "hubspot:101:stranded") is None
    early = hs_event(origin=RESYNC_ORIGIN, attempt=RESYNC_TAKEOVER_DEFERRALS - 1)
    assert creator.in_salesforce(new, EMAIL, early) == Retry(early)  # a claim in flight is respected
    edit = hs_event(attempt=RESYNC_TAKEOVER_DEFERRALS)
    assert creator.in_salesforce(new, EMAIL, edit) == Retry(edit)  # only a resync takes over
    resync = hs_event(origin=RESYNC_ORIGIN, attempt=RESYNC_TAKEOVER_DEFERRALS)
    decision = creator.in_salesforce(new, EMAIL, resync)
    assert isinstance(decision, Planned)
    assert decision.plan.claimant == f"hubspot:101:{resync.change_id}"
    # the stranded plan, should it reach apply, finds the claim taken
    assert state.claim_creation(PORTAL, "salesforce", EMAIL, "hubspot:101:stranded") == decision.plan.claimant


def test_a_resync_never_takes_over_a_record_already_created():
    state = _state()
    state.claim_creation(PORTAL, "salesforce", EMAIL, "hubspot:101:e1")
    state.complete_claims(PORTAL, [ClaimDone("salesforce", EMAIL, "hubspot:101:e1", LEAD)])
    resync = hs_event(origin=RESYNC_ORIGIN, attempt=RESYNC_TAKEOVER_DEFERRALS)
    assert _creator(state).in_salesforce(contact(email=EMAIL), EMAIL, resync) == Retry(resync)
