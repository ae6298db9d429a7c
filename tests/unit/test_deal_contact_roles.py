"""The rule of contact roles <-> a deal's contacts (``shared.deals.contact_roles``): what a decision
adds and removes, judged against the contacts the link remembers agreed."""

from __future__ import annotations

from shared.deals.contact_roles import (
    CONTACTS_KEY,
    PairContacts,
    decide_contacts,
    entry_of,
    remembered,
)
from shared.deals.ports import ContactRole

OPP = "006000000000001AAA"
LINKS = {"C1": "h1", "C2": "h2", "C3": "h3"}
BACK = {h: c for c, h in LINKS.items()}


def _role(contact: str, role_id: str | None = None, *, primary: bool = False) -> ContactRole:
    return ContactRole(OPP, contact, primary=primary, role_id=role_id or f"R-{contact}")


def _pair(roles: list[ContactRole], associated: list[str]) -> PairContacts:
    return PairContacts(roles=roles, associated=associated, contact_of=LINKS, sf_contact_of=BACK)


def test_the_remembered_contacts_round_trip_through_the_links_entry():
    entry = entry_of([("h2", "C2"), ("h1", "C1"), ("h1", "C1")])
    assert entry == ("h1=C1,h2=C2", "h1=C1,h2=C2")
    assert remembered({CONTACTS_KEY: entry}) == frozenset({("h1", "C1"), ("h2", "C2")})
    assert entry_of([]) == (None, None)
    assert remembered({CONTACTS_KEY: (None, None)}) == frozenset()  # remembered: none agreed
    assert remembered({"amount": ("1", "1")}) is None
    assert remembered(None) is None


def test_nothing_remembered_adds_only_what_is_missing_both_ways():
    pair = _pair([_role("C1", primary=True)], ["h2"])
    to_hubspot = decide_contacts(pair, None, to_hubspot=True)
    assert (to_hubspot.associate, to_hubspot.dissociate) == ([("h1", None)], [])
    assert to_hubspot.agreed == {("h1", "C1")}  # h2 has no role yet: not agreed
    to_salesforce = decide_contacts(pair, None, to_hubspot=False)
    assert (to_salesforce.add_roles, to_salesforce.delete_roles) == ([("C2", False)], [])
    assert to_salesforce.agreed == {("h2", "C2")}


def test_a_role_removed_in_salesforce_removes_its_contact_from_the_deal():
    known = frozenset({("h1", "C1"), ("h2", "C2")})
    changes = decide_contacts(_pair([_role("C1")], ["h1", "h2"]), known, to_hubspot=True)
    assert changes.dissociate == ["h2"]
    assert changes.associate == []
    assert changes.agreed == {("h1", "C1")}


def test_a_contact_with_another_role_left_on_the_opportunity_stays_on_the_deal():
    known = frozenset({("h1", "C1")})
    roles = [_role("C1", "R-a")]  # its other role R-b was deleted
    changes = decide_contacts(_pair(roles, ["h1"]), known, to_hubspot=True)
    assert (changes.dissociate, changes.associate) == ([], [])
    assert changes.agreed == {("h1", "C1")}


def test_a_contact_removed_in_hubspot_deletes_every_role_of_it():
    known = frozenset({("h1", "C1"), ("h2", "C2")})
    roles = [_role("C1"), _role("C2", "R-a"), _role("C2", "R-b")]
    changes = decide_contacts(_pair(roles, ["h1"]), known, to_hubspot=False)
    assert changes.delete_roles == ["R-a", "R-b"]
    assert changes.add_roles == []
    assert changes.agreed == {("h1", "C1")}


def test_nothing_is_removed_that_hssync_never_synced():
    # h3 was added in HubSpot and C2's role in Salesforce, neither synced yet: a decision of the other
    # side leaves them for their own side's change
    known = frozenset({("h1", "C1")})
    pair = _pair([_role("C1"), _role("C2")], ["h1", "h3"])
    to_hubspot = decide_contacts(pair, known, to_hubspot=True)
    assert to_hubspot.dissociate == []
    assert to_hubspot.associate == [("h2", None)]
    to_salesforce = decide_contacts(pair, known, to_hubspot=False)
    assert to_salesforce.delete_roles == []
    assert to_salesforce.add_roles == [("C3", True)]


def test_a_removal_on_the_target_is_never_added_back_by_the_sources_decision():
    known = frozenset({("h1", "C1"), ("h2", "C2")})
    pair = _pair([_role("C1"), _role("C2")], ["h1"])  # h2 removed in HubSpot, not carried yet
    to_hubspot = decide_contacts(pair, known, to_hubspot=True)
    assert to_hubspot.associate == []
    assert to_hubspot.dissociate == []
    assert to_hubspot.agreed == known  # still judged by the HubSpot side's decision
    to_salesforce = decide_contacts(pair, known, to_hubspot=False)
    assert to_salesforce.delete_roles == ["R-C2"]


def test_the_writes_coming_back_find_the_pair_agreed():
    known = frozenset({("h1", "C1")})
    agreed = _pair([_role("C1")], ["h1"])
    for to_hubspot in (True, False):
        changes = decide_contacts(agreed, known, to_hubspot=to_hubspot)
        assert (changes.associate, changes.dissociate, changes.add_roles, changes.delete_roles) == (
            [],
            [],
            [],
            [],
        )
        assert changes.agreed == known
    gone = decide_contacts(_pair([], []), known, to_hubspot=True)  # removed on both sides
    assert gone.dissociate == []
    assert gone.agreed == set()


def test_changed_roles_alone_judge_only_their_contacts():
    known = frozenset({("h1", "C1"), ("h2", "C2")})
    changes = decide_contacts(_pair([_role("C3")], ["h1", "h2"]), known, to_hubspot=True, complete=False)
    assert changes.associate == [("h3", None)]
    assert changes.dissociate == []  # C1's and C2's roles were not read: not removed
    assert changes.agreed == {("h1", "C1"), ("h2", "C2"), ("h3", "C3")}


def test_one_contact_for_two_contacts_is_associated_once_and_kept_while_one_has_a_role():
    links = {"C1": "h1", "C4": "h1"}
    pair = PairContacts(roles=[_role("C1"), _role("C4")], associated=[], contact_of=links, sf_contact_of={})
    assert decide_contacts(pair, None, to_hubspot=True).associate == [("h1", None)]
    known = frozenset({("h1", "C1"), ("h1", "C4")})
    left = PairContacts(roles=[_role("C4")], associated=["h1"], contact_of=links, sf_contact_of={})
    changes = decide_contacts(left, known, to_hubspot=True)
    assert changes.dissociate == []
    assert changes.agreed == {("h1", "C4")}


def test_the_first_role_added_is_primary_only_when_the_opportunity_has_no_primary_role():
    pair = _pair([], ["h1", "h2"])
    assert decide_contacts(pair, None, to_hubspot=False).add_roles == [("C1", True), ("C2", False)]
    with_primary = _pair([_role("C3", primary=True)], ["h1", "h3"])
    assert decide_contacts(with_primary, None, to_hubspot=False).add_roles == [("C1", False)]


def test_contacts_without_a_counterpart_are_reported_not_written():
    pair = PairContacts(roles=[_role("C9")], associated=["h9"], contact_of={}, sf_contact_of={})
    assert decide_contacts(pair, None, to_hubspot=True).unsynced == ["C9"]
    assert decide_contacts(pair, None, to_hubspot=False).unsynced == ["h9"]
