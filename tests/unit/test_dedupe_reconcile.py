"""Field reconciliation of one pair (shared.pipeline.dedupe.reconcile): writes by sync rule and
echo suppression, the echo-race invariant of write intents, opt-out (S14), required fields, owners
(S17) and the plan's direction."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.intents import IntendedValue, WriteIntent
from shared.models import ChangeType
from shared.pipeline.dedupe.reconcile import Pair, Reconciler, direction, whole_seconds
from shared.pipeline.fields import NOT_PROVIDED
from tests.fakes import PORTAL, Clock, FakeSalesforce
from tests.unit.dedupe_support import (
    LEAD,
    NOW,
    USER,
    USER_2,
    at,
    config,
    contact,
    hs_event,
    link,
    record,
    schema,
    sf_event,
)

RECONCILER = Reconciler(schema(), PORTAL)
BASE = {"email": ("ada@example.com", "ada@example.com"), "hs_email_optout": ("false", "false")}


def _synced(**pairs: tuple[str | None, str | None]) -> dict[str, tuple[str | None, str | None]]:
    return {**BASE, **pairs}


def _plan(hs, sf, synced, *, event=None, reconciler=RECONCILER, **pair_args):
    pair_link = pair_args.pop("link", None) or link(synced=synced)
    return reconciler.plan(Pair(hs, sf, synced, event or hs_event(), link=pair_link, **pair_args))


def test_a_hubspot_edit_since_the_last_sync_is_written_to_salesforce():
    synced = _synced(jobtitle=("Eng", "Eng"))
    plan = _plan(
        contact(email="ada@example.com", jobtitle="CTO", changed_at=at(10)),
        record(Email="ada@example.com", Title="Eng", modified=at(0)),
        synced,
    )
    assert plan.salesforce_writes == {"Title": "CTO"}
    assert plan.hubspot_writes == {}
    assert plan.written == {"jobtitle": "salesforce"}
    assert plan.synced_after["jobtitle"] == ("CTO", "CTO")
    assert plan.synced_before == synced
    assert plan.reasons == ("jobtitle: changed in HubSpot",)
    assert plan.direction == "hubspot_to_salesforce"
    assert plan.link_rev == 3
    assert (plan.hubspot_id, plan.sf_object, plan.sf_id) == ("101", "Lead", LEAD)


def test_values_hssync_already_synced_are_no_change_so_nothing_ping_pongs():
    plan = _plan(
        contact(email="ada@example.com", jobtitle="CTO", changed_at=at(10)),
        record(Email="ada@example.com", Title="CTO", modified=at(20)),
        _synced(jobtitle=("CTO", "CTO")),
    )
    assert not plan.has_writes
    assert plan.reasons == ("already in sync",)
    assert plan.direction == "none"


def test_a_salesforce_edit_goes_to_hubspot_and_clearing_propagates():
    plan = _plan(
        contact(email="ada@example.com", jobtitle="CTO", city="Oslo"),
        record(Email="ada@example.com", Title="CEO", City=None, modified=at(5)),
        _synced(jobtitle=("CTO", "CTO"), city=("Oslo", "Oslo")),
        event=sf_event(),
    )
    assert plan.hubspot_writes == {"jobtitle": "CEO", "city": None}
    assert plan.written == {"jobtitle": "hubspot", "city": "hubspot"}
    assert plan.direction == "salesforce_to_hubspot"
    assert plan.source == "salesforce"


def test_a_value_hssync_wrote_is_never_taken_for_a_persons_newer_change():
    # hssync is writing HubSpot's "U40" to Salesforce (the intent); the person's second edit "U48"
    # (at 38 s) is older than the write landing in Salesforce (at 41 s)
    synced = _synced(jobtitle=("Old", "Old"))
    pair_link = link(synced=synced)
    pair_link.intent = WriteIntent("p1", NOW, {"jobtitle": IntendedValue("salesforce", "U40", "U40")})
    hs = contact(email="ada@example.com", jobtitle="U48", changed_at=at(38))
    sf = record(Email="ada@example.com", Title="U40", modified=at(41))
    plan = _plan(hs, sf, synced, link=pair_link)
    assert plan.salesforce_writes == {"Title": "U48"}  # the person's edit wins
    assert plan.hubspot_writes == {}
    # without the intent, the same reads would let hssync's own older value win
    assert _plan(hs, sf, synced).hubspot_writes == {"jobtitle": "U40"}
    # a first sync has no intent to weigh
    assert Pair(hs, sf, None, hs_event(), link=pair_link).intent is None


def test_a_hubspot_change_in_the_same_second_as_a_salesforce_edit_is_a_tie_to_salesforce():
    moment = NOW + dt.timedelta(milliseconds=700)
    assert whole_seconds(moment) == NOW
    assert whole_seconds(None) is None
    plan = _plan(
        contact(email="ada@example.com", jobtitle="HS", changed_at=moment),
        record(Email="ada@example.com", Title="SF", modified=NOW),
        _synced(jobtitle=("Old", "Old")),
    )
    assert plan.hubspot_writes == {"jobtitle": "SF"}


def test_an_opt_out_on_either_side_opts_out_the_other_and_clearing_never_resubscribes():
    hubspot_out = _plan(
        contact(email="ada@example.com", hs_email_optout="true"),
        record(Email="ada@example.com", HasOptedOutOfEmail=False),
        _synced(),
    )
    assert hubspot_out.salesforce_writes == {"HasOptedOutOfEmail": True}
    assert hubspot_out.written == {"hs_email_optout": "salesforce"}
    assert hubspot_out.synced_after["hs_email_optout"] == ("true", "true")
    salesforce_out = _plan(
        contact(email="Ada@Example.com"), record(Email="ada@example.com", HasOptedOutOfEmail=True), _synced()
    )
    assert salesforce_out.unsubscribe_email == "ada@example.com"  # not a property write
    assert salesforce_out.hubspot_writes == {}
    assert salesforce_out.direction == "salesforce_to_hubspot"
    # cleared in Salesforce after both opted out: HubSpot's opt-out goes back to Salesforce
    cleared = _plan(
        contact(email="ada@example.com", hs_email_optout="true"),
        record(Email="ada@example.com", HasOptedOutOfEmail=False),
        _synced(hs_email_optout=("true", "true")),
    )
    assert cleared.salesforce_writes == {"HasOptedOutOfEmail": True}
    assert cleared.unsubscribe_email is None


def test_required_salesforce_fields_are_never_cleared():
    synced = _synced(lastname=("Lovelace", "Lovelace"), company=("Engines", "Engines"))
    hs = contact(email="ada@example.com", lastname="", company=None, changed_at=at(10))
    sf = record(Email="ada@example.com", LastName="Lovelace", Company="Engines")
    plan = _plan(hs, sf, synced)
    assert plan.salesforce_writes == {"LastName": NOT_PROVIDED, "Company": "[not provided]"}
    # in an org with person accounts a Lead may have no Company (S10)
    org = FakeSalesforce(Clock(NOW))
    org.field_types[("Contact", "IsPersonAccount")] = {"name": "IsPersonAccount", "type": "boolean"}
    person_accounts = Reconciler(schema(salesforce=org), PORTAL)
    assert _plan(hs, sf, synced, reconciler=person_accounts).salesforce_writes == {
        "LastName": NOT_PROVIDED,
        "Company": None,
    }


def test_a_value_the_other_side_would_refuse_is_reported_not_written():
    org = FakeSalesforce(Clock(NOW))
    for name, entry in {
        "Email": {"type": "email", "length": 80},
        "Title": {"type": "string", "length": 6},
        "LastName": {"type": "string", "length": 80},
    }.items():
        org.field_types[("Lead", name)] = {"name": name, **entry}
    described = Reconciler(schema(salesforce=org), PORTAL)
    plan = _plan(
        contact(email="ada@example.com", jobtitle="Chief Technology Officer", city="Oslo", changed_at=at(10)),
        record(Email="ada@example.com", Title="CTO"),
        _synced(jobtitle=("CTO", "CTO")),
        reconciler=described,
    )
    assert plan.salesforce_writes == {}  # City is not deployed on this org's Lead: not compared
    [note] = plan.notes
    assert (note.system, note.record, note.category, note.code) == (
        "salesforce",
        "hubspot:contacts:101",
        "property_values",
        "STRING_TOO_LONG",
    )
    assert plan.synced_after["jobtitle"] == ("Chief Technology Officer", "CTO")
    assert "city" not in plan.synced_after


def test_owners_are_read_for_the_owners_stage_with_what_was_synced():
    synced = _synced(hubspot_owner_id=("7", USER))
    plan = _plan(
        contact(email="ada@example.com", hubspot_owner_id="8", changed_at=at(3)),
        record(Email="ada@example.com", OwnerId=USER_2[:15], modified=at(4)),
        synced,
    )
    assert plan.owner is not None
    assert (plan.owner.hubspot, plan.owner.salesforce, plan.owner.remembered) == ("8", USER_2, ("7", USER))
    assert (plan.owner.hubspot_changed_at, plan.owner.salesforce_changed_at) == (at(3), at(4))
    assert plan.synced_after["hubspot_owner_id"] == ("7", USER)
    first = _plan(contact(email="ada@example.com"), record(Email="ada@example.com"), None)
    assert first.owner is not None
    assert first.owner.remembered is None


def test_a_pair_only_linked_writes_nothing_and_remembers_nothing():
    plan = _plan(
        contact(email="ada@example.com", jobtitle="CTO", hs_email_optout="true"),
        record(Email="ada@example.com", Title="CEO"),
        None,
        link=link(),
        new_link=True,
        link_only=True,
    )
    assert not plan.has_writes
    assert plan.synced_after == {}
    assert plan.owner is None
    assert plan.reasons == ("linked; outside the inclusion list",)
    assert (plan.link_only, plan.linked_by_email, plan.link_rev) == (True, True, None)


def test_a_first_link_by_email_fills_blanks_and_keeps_the_notes_it_was_found_with():
    plan = _plan(
        contact(email="ada@example.com", firstname="Ada"),
        record(Email="ada@example.com", Title="CTO"),
        None,
        event=hs_event(change=ChangeType.CREATE),
        link=link(sf_id=LEAD),
        new_link=True,
    )
    assert plan.salesforce_writes == {"FirstName": "Ada"}
    assert plan.hubspot_writes == {"jobtitle": "CTO"}
    assert plan.direction == "both"
    assert plan.linked_by_email
    assert plan.link_rev is None


@pytest.mark.parametrize(
    ("hubspot", "salesforce", "expected"),
    [(True, True, "both"), (False, True, "hubspot_to_salesforce"), (True, False, "salesforce_to_hubspot")],
)
def test_the_direction_says_which_sides_a_plan_writes(hubspot, salesforce, expected):
    assert direction(writes_hubspot=hubspot, writes_salesforce=salesforce) == expected
    assert direction(writes_hubspot=False, writes_salesforce=False) == "none"


def test_the_configured_rules_apply_per_field():
    rules = config(
        "contact_mappings: [{hubspot: email, lead: Email, contact: Email}, "
        "{hubspot: jobtitle, lead: Title, contact: Title, rule: always_salesforce}, "
        "{hubspot: lastname, lead: LastName, contact: LastName, rule: prefer_salesforce_unless_blank}, "
        "{hubspot: city, lead: City, contact: MailingCity, rule: dont_sync}]"
    )
    plan = _plan(
        contact(email="ada@example.com", jobtitle="HS", lastname="Lovelace", city="Oslo", changed_at=at(9)),
        record(Email="ada@example.com", Title="SF", LastName=None, City="Bergen"),
        _synced(jobtitle=("SF", "SF"), lastname=(None, None), city=("Bergen", "Bergen")),
        reconciler=Reconciler(schema(rules), PORTAL),
    )
    assert plan.hubspot_writes == {"jobtitle": "SF"}
    assert plan.salesforce_writes == {"LastName": "Lovelace"}


def test_a_mapping_naming_a_field_in_another_letter_case_reads_and_writes_the_described_field():
    # the configuration says lead: title; Salesforce answers (and takes writes) as Title (issue 11)
    org = FakeSalesforce(Clock(NOW))
    for name in ("Email", "Title", "LastName"):
        org.field_types[("Lead", name)] = {"name": name, "type": "string", "length": 80}
    lowercase = config(
        "contact_mappings:\n  - {hubspot: email, lead: email}\n  - {hubspot: jobtitle, lead: title}\n"
    )
    reconciler = Reconciler(schema(lowercase, salesforce=org), PORTAL)
    assert reconciler.schema.fields.salesforce_fields("Lead").count("Email") == 1
    edited_in_salesforce = _plan(
        contact(email="ada@example.com", jobtitle="CTO", changed_at=at(0)),
        record(Email="ada@example.com", Title="VP", modified=at(10)),
        _synced(jobtitle=("CTO", "CTO")),
        reconciler=reconciler,
    )
    assert edited_in_salesforce.hubspot_writes == {"jobtitle": "VP"}  # not a clearing: Title was read
    edited_in_hubspot = _plan(
        contact(email="ada@example.com", jobtitle="CEO", changed_at=at(10)),
        record(Email="ada@example.com", Title="CTO", modified=at(0)),
        _synced(jobtitle=("CTO", "CTO")),
        reconciler=reconciler,
    )
    assert edited_in_hubspot.salesforce_writes == {"Title": "CEO"}
