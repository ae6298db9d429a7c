"""Links that move (shared.pipeline.dedupe.moves): lead conversion, merges on either side, and
deletions."""

from __future__ import annotations

import dataclasses
from typing import Any

from shared.intents import IntendedValue, WriteIntent
from shared.models import ChangeType
from shared.pipeline.dedupe import moves
from shared.pipeline.dedupe.outcome import Planned, Skip
from shared.pipeline.dedupe.reconcile import Reconciler
from tests.fakes import PORTAL
from tests.unit.dedupe_support import (
    CONTACT,
    CONTACT_2,
    LEAD,
    LEAD_2,
    LEAD_3,
    NOW,
    contact,
    hs_event,
    link,
    record,
    schema,
    sf_event,
)

RECONCILER = Reconciler(schema(), PORTAL)
SYNCED = {"jobtitle": ("CTO", "CTO")}


def _everyone(_contact) -> bool:
    return True


def _nobody(_contact) -> bool:
    return False


def _converted(lead_id: str = LEAD, contact_id: str | None = CONTACT[:15]):
    return record(lead_id, IsConverted=True, ConvertedContactId=contact_id)


def test_a_converted_lead_names_the_contact_it_became_in_18_characters():
    assert moves.converted_contact(_converted()) == CONTACT
    assert moves.converted_contact(_converted(contact_id=None)) is None
    assert moves.converted_contact(record(LEAD)) is None
    assert (
        moves.converted_contact(record(CONTACT, "Contact", IsConverted=True, ConvertedContactId=LEAD)) is None
    )
    assert moves.conversions({LEAD: _converted(), LEAD_2: record(LEAD_2)}) == {LEAD: CONTACT}


def test_the_contact_a_lead_became_stands_in_for_it_under_both_ids():
    became = record(CONTACT, "Contact", Title="CTO")
    records = {LEAD: _converted(), LEAD_2: _converted(LEAD_2, CONTACT_2)}
    out = moves.standing_in(records, {LEAD: CONTACT}, {CONTACT: became})
    assert out == {LEAD: became, CONTACT: became}  # the other converted lead is left out
    assert moves.standing_in({LEAD: _converted()}, {LEAD: CONTACT}, {}) == {}  # its contact is gone
    assert moves.converted_from(out, LEAD[:15]) == CONTACT
    assert moves.converted_from({LEAD: record(LEAD)}, LEAD) is None


def test_changed_records_are_sorted_into_live_converted_and_person_accounts():
    person = record(CONTACT, "Contact", IsPersonAccount=True)
    live, converted, skips = moves.sort_changed(
        "Lead", {LEAD: _converted(), LEAD_2: _converted(LEAD_2, contact_id=None), LEAD_3: record(LEAD_3)}
    )
    assert (list(live), converted, skips) == ([LEAD_3], {LEAD: CONTACT}, [])
    live, converted, skips = moves.sort_changed("Contact", {CONTACT: person})
    assert (live, converted) == ({}, {})
    assert skips == [Skip(moves.PERSON_ACCOUNT, f"salesforce:Contact:{CONTACT}")]


def test_a_pair_linked_to_a_lead_follows_the_contact_it_became():
    became = record(CONTACT, "Contact")
    pair_link = link(sf_id=LEAD)
    moved = moves.following_conversion(pair_link, became, {LEAD: became, CONTACT: became})
    assert (moved.sf_object, moved.sf_id) == ("Contact", CONTACT)
    # a same-email duplicate updated later syncs, but the link stays where it is
    duplicate = record(LEAD_2)
    assert (
        moves.following_conversion(pair_link, duplicate, {LEAD: record(LEAD), LEAD_2: duplicate}) is pair_link
    )


def test_a_converted_lead_moves_its_link_and_syncs_from_what_it_synced():
    pair_link = link(sf_id=LEAD, synced=SYNCED)
    became = record(CONTACT, "Contact", Title="CEO")
    decision = moves.converted(
        LEAD, pair_link, sf_event(), (contact(jobtitle="CTO"), became), RECONCILER, included=_everyone
    )
    assert isinstance(decision, Planned)
    plan = decision.plan
    assert (plan.sf_object, plan.sf_id, plan.link_sf_object, plan.link_sf_id) == (
        "Contact",
        CONTACT,
        "Contact",
        CONTACT,
    )
    assert plan.hubspot_writes == {"jobtitle": "CEO"}  # changed in Salesforce since the last sync
    assert plan.link_rev == 3
    outside = moves.converted(
        LEAD, pair_link, sf_event(), (contact(jobtitle="CTO"), became), RECONCILER, included=_nobody
    )
    assert isinstance(outside, Planned)
    assert outside.plan.link_only
    gone = moves.converted(LEAD, pair_link, sf_event(), (None, became), RECONCILER, included=_everyone)
    assert gone == Skip(moves.CONVERTED_GONE, f"salesforce:Lead:{LEAD}")


def test_a_hubspot_merge_hands_the_merged_contacts_link_to_a_survivor_without_one():
    merge = hs_event("101", ChangeType.MERGE).model_copy(update={"related_ids": ("202", "101")})
    events = {"101": merge, "303": hs_event("303")}
    assert moves.merged_contacts(events, {}) == {"202": "101"}
    assert moves.merged_contacts(events, {"101": link("101")}) == {}  # the survivor has its own
    merged = link("202", rev=9)
    merged.intent = WriteIntent("p", NOW, {"jobtitle": IntendedValue("hubspot", "A", "A")})
    links = {"303": link("303", LEAD_2)}
    moves.taking_over(links, {"202": "101"}, {"202": merged})
    survivor = links["101"]
    assert (survivor.hubspot_id, survivor.sf_id, survivor.rev, survivor.intent) == ("101", LEAD, 0, None)
    assert merged.hubspot_id == "202"  # the found link itself is not changed
    kept = {"101": link("101", LEAD_2)}
    moves.taking_over(kept, {"202": "101"}, {"202": merged})
    assert kept["101"].sf_id == LEAD_2


DELETION = moves.Deletion(
    sf_object="Lead",
    record_id=LEAD,
    link=link(sf_id=LEAD, synced=SYNCED),
    event=sf_event(change=ChangeType.DELETE),
    contact=contact(jobtitle="CTO"),
    master=None,
    master_link=None,
)


def _deletion(**overrides: Any) -> moves.Deletion:
    return dataclasses.replace(DELETION, **overrides)


def test_a_record_merged_away_in_salesforce_moves_its_link_to_the_master():
    master = record(LEAD_2, Title="CTO")
    decision = moves.deleted(_deletion(master=master), RECONCILER, archive=False, included=_everyone)
    assert isinstance(decision, Planned)
    assert (decision.plan.sf_id, decision.plan.link_sf_id) == (LEAD_2, LEAD_2)
    assert decision.plan.synced_before == SYNCED
    same_contact = _deletion(master=master, master_link=link("101", LEAD_2))
    assert isinstance(moves.deleted(same_contact, RECONCILER, archive=False, included=_everyone), Planned)
    elsewhere = _deletion(master=master, master_link=link("999", LEAD_2))
    skipped = Skip(moves.MERGED_ELSEWHERE, f"salesforce:Lead:{LEAD}")
    assert moves.deleted(elsewhere, RECONCILER, archive=False, included=_everyone) == skipped
    assert (
        moves.deleted(_deletion(master=master, contact=None), RECONCILER, archive=True, included=_everyone)
        == skipped
    )


def test_a_deleted_record_keeps_its_hubspot_contact_unless_the_setting_archives_it():
    kept = Skip(moves.DELETED_KEPT, f"salesforce:Lead:{LEAD}")
    assert moves.deleted(_deletion(), RECONCILER, archive=False, included=_everyone) == kept
    assert moves.deleted(_deletion(contact=None), RECONCILER, archive=True, included=_everyone) == kept
    archived = moves.deleted(_deletion(), RECONCILER, archive=True, included=_nobody)
    assert isinstance(archived, Planned)
    plan = archived.plan
    assert (plan.archive_hubspot, plan.hubspot_id, plan.sf_id) == (True, "101", LEAD)
    assert (plan.direction, plan.source) == ("salesforce_to_hubspot", "salesforce")
    assert plan.salesforce_writes == {}
