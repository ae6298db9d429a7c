"""The rule of contact roles <-> deal contacts (shared.pipeline.dedupe.deals.contacts): only what is
missing is added, the primary role first, unsynced records reported, never created."""

from __future__ import annotations

from shared.deals.ports import ContactRole
from shared.pipeline.dedupe.deals.contacts import DealContacts, contacts_to_hubspot, roles_to_salesforce
from shared.pipeline.dedupe.deals.fields import DEAL_CONTACT_NOT_SYNCED, ROLE_CONTACT_NOT_SYNCED, DealWrites

OPP, DEAL = "006000000000001AAA", "9000001"


def test_roles_add_only_the_missing_deal_contacts_in_role_order_with_their_labels() -> None:
    found = DealContacts(
        roles={
            OPP: [
                ContactRole(OPP, "C1", primary=True, role="Decision Maker"),
                ContactRole(OPP, "C2"),
                ContactRole(OPP, "C3"),
                ContactRole(OPP, "C4"),
            ]
        },
        associated={DEAL: ["h2"]},
        contact_of={"C1": "h1", "C2": "h2", "C4": "h1"},
    )
    writes = DealWrites()
    contacts_to_hubspot(found, writes, DEAL, OPP)
    assert writes.deal_contacts == [("h1", "Decision Maker")]  # h2 is there; C4 is h1 again
    assert [code for code, _ in writes.association_notes] == [ROLE_CONTACT_NOT_SYNCED]  # C3
    new = DealWrites()
    contacts_to_hubspot(found, new, None, OPP)  # a new deal: every synced role
    assert new.deal_contacts == [("h1", "Decision Maker"), ("h2", None)]


def test_deal_contacts_add_only_the_missing_roles_the_first_primary_only_without_one() -> None:
    found = DealContacts(
        roles={OPP: [ContactRole(OPP, "C1")]},
        associated={DEAL: ["h1", "h2", "h3"]},
        sf_contact_of={"h1": "C1", "h2": "C2"},
    )
    writes = DealWrites()
    roles_to_salesforce(found, writes, DEAL, OPP)
    assert writes.contact_roles == [("C2", True)]  # no primary role yet: the first added is
    assert [code for code, _ in writes.association_notes] == [DEAL_CONTACT_NOT_SYNCED]  # h3
    with_primary = DealContacts(
        roles={OPP: [ContactRole(OPP, "C1", primary=True)]},
        associated=found.associated,
        sf_contact_of=found.sf_contact_of,
    )
    again = DealWrites()
    roles_to_salesforce(with_primary, again, DEAL, OPP)
    assert again.contact_roles == [("C2", False)]
    new = DealWrites()
    roles_to_salesforce(found, new, DEAL, None)  # a new Opportunity: every synced contact
    assert new.contact_roles == [("C1", True), ("C2", False)]
