"""Linking by email (shared.pipeline.dedupe.linking, S6): link to the oldest record with the email,
sync with the most recently updated, report the others as duplicates."""

from __future__ import annotations

from shared.models import ChangeType
from shared.pipeline.dedupe.linking import duplicate_note, email_pair, first_link, matches, with_duplicate
from tests.fakes import PORTAL
from tests.unit.dedupe_support import CONTACT, LEAD, LEAD_2, at, contact, hs_event, link, record


def test_the_oldest_record_is_linked_the_newest_syncs_and_the_others_are_reported():
    oldest = record(LEAD, Email="ada@example.com", created=at(0), modified=at(1))
    newest = record(CONTACT, "Contact", Email=" ADA@example.com", created=at(5), modified=at(9))
    person = record(LEAD_2, Email="ada@example.com", IsPersonAccount=True, created=at(-5), modified=at(20))
    found = matches([oldest, newest, person])
    assert list(found) == ["ada@example.com"]
    match = found["ada@example.com"]
    assert (match.link_to, match.sync_with) == (oldest, newest)
    assert match.duplicates == (f"Contact:{CONTACT}",)  # the person account syncs through its account
    assert match.notes == (duplicate_note("Contact", CONTACT, "Lead", LEAD),)
    [note] = match.notes
    assert (note.system, note.record, note.category, note.code) == (
        "salesforce",
        f"salesforce:Contact:{CONTACT}",
        "duplicates",
        "DUPLICATE_EMAIL",
    )
    assert matches([record(LEAD)]) == {}  # no email, no match


def test_a_first_link_goes_to_the_oldest_and_its_first_sync_is_with_the_newest():
    oldest = record(LEAD, Email="ada@example.com", created=at(0), modified=at(1))
    newest = record(LEAD_2, Email="ada@example.com", created=at(5), modified=at(9))
    match = matches([newest, oldest])["ada@example.com"]
    ada = contact(email="ada@example.com")
    target = first_link(PORTAL, ada, match)
    assert (target.hubspot_id, target.sf_object, target.sf_id, target.duplicates) == (
        "101",
        "Lead",
        LEAD,
        (f"Lead:{LEAD_2}",),
    )
    event = hs_event(change=ChangeType.CREATE)
    pair = email_pair(PORTAL, ada, match, event)
    assert (pair.record, pair.synced, pair.link, pair.new_link, pair.notes) == (
        newest,
        None,
        target,
        True,
        match.notes,
    )


def test_a_linked_contacts_link_learns_each_same_email_record_once():
    pair_link = link(sf_id=LEAD)
    once = with_duplicate(pair_link, "Contact", CONTACT)
    assert once.duplicates == (f"Contact:{CONTACT}",)
    assert with_duplicate(once, "Contact", CONTACT).duplicates == once.duplicates
    assert pair_link.duplicates == ()
