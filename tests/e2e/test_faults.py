"""Acceptance 5: with 10% faults in both emulators the end state equals the fault-free run's."""

from __future__ import annotations

from typing import Any

import pytest

from shared.matching import normalize_email
from tests.e2e.conftest import World, integration_user_is_a_hubspot_owner

PER_SIDE = 40
EDITS = 5
HUBSPOT_PROPS = ("email", "firstname", "lastname", "jobtitle", "company", "phone", "city")
LEAD_FIELDS = ("Email", "FirstName", "LastName", "Title", "Company", "Phone", "City")
# no "kinds": every kind the emulator supports (both: 429, 5xx, timeout; Salesforce also lock)
FAULTS = {"rate": 0.1, "seed": 20240611, "timeout_seconds": 0.5}
FAULTY_SETTLE = 240.0


def _scenario(world: World, settle_timeout: float) -> None:
    """New records on both sides, then edits of records that came from either side."""
    for n in range(PER_SIDE):
        world.hubspot_create(
            email=f"hs{n}@example.com",
            firstname=f"Hub{n}",
            lastname="Spotter",
            jobtitle="Marketer",
            company=f"Inbound {n % 7}",
            city="Boston",
        )
        world.salesforce_create(
            "Lead",
            Email=f"SF{n}@Example.com",
            FirstName=f"Sales{n}",
            LastName="Forcer",
            Title="Rep",
            Company=f"Outbound {n % 5}",
            City="San Francisco",
        )
    world.settle(settle_timeout)

    for n in range(EDITS):
        # each side edits records it created and records the other side created (different pairs)
        hs_contact = world.hubspot_with_email(f"hs{n}@example.com")[0].id
        world.hubspot_edit(hs_contact, jobtitle=f"Head of Inbound {n}")
        from_sf = world.hubspot_with_email(f"sf{n + 10}@example.com")[0].id
        world.hubspot_edit(from_sf, phone=f"+1 415 555 01{n:02d}")
        sf_lead = world.salesforce_with_email("Lead", f"sf{n}@example.com")[0]["Id"]
        world.salesforce_update("Lead", sf_lead, Title=f"Head of Outbound {n}")
        from_hs = world.salesforce_with_email("Lead", f"hs{n + 10}@example.com")[0]["Id"]
        world.salesforce_update("Lead", from_hs, Phone=f"+1 617 555 01{n:02d}", City="Cambridge")
    world.settle(settle_timeout)


def _final_state(world: World) -> dict[str, Any]:
    """Both CRMs, normalised: each email's mapped values on each side, counts, and the links."""
    contacts = world.hubspot_contacts()
    leads = world.salesforce_rows("Lead")
    hubspot = {
        normalize_email(c.properties.get("email")): tuple(
            c.properties.get(p) or None for p in HUBSPOT_PROPS[1:]
        )
        for c in contacts
    }
    salesforce = {
        normalize_email(r["Email"]): tuple(r.get(f) or None for f in LEAD_FIELDS[1:]) for r in leads
    }
    links = world.stack.state.links_by_hubspot(world.portal, [c.id for c in contacts])
    email_of_contact = {c.id: normalize_email(c.properties.get("email")) for c in contacts}
    email_of_lead = {r["Id"]: normalize_email(r["Email"]) for r in leads}
    return {
        "counts": {
            "hubspot contacts": len(contacts),
            "Salesforce leads": len(leads),
            "Salesforce contacts": len(world.salesforce_rows("Contact")),
            "links": len(links),
        },
        "hubspot": hubspot,
        "salesforce": salesforce,
        "links": sorted((email_of_contact[h], email_of_lead.get(link.sf_id)) for h, link in links.items()),
    }


@pytest.mark.slow
@pytest.mark.timeout(2 * FAULTY_SETTLE + 120)
def test_faults_in_both_emulators_change_nothing_in_the_end(world: World, e2e_stack: Any) -> None:
    world.salesforce  # noqa: B018  # the user logs in before any fault
    _scenario(world, 60.0)
    expected = _final_state(world)
    assert expected["counts"] == {
        "hubspot contacts": 2 * PER_SIDE,
        "Salesforce leads": 2 * PER_SIDE,
        "Salesforce contacts": 0,
        "links": 2 * PER_SIDE,
    }
    assert all(hs == sf for hs, sf in expected["links"])
    assert expected["hubspot"]["hs0@example.com"][2] == "Head of Inbound 0"
    assert expected["salesforce"]["hs10@example.com"][4:] == ("+1 617 555 0100", "Cambridge")
    assert world.health() == []

    e2e_stack.reset()
    integration_user_is_a_hubspot_owner(e2e_stack)
    faulty = World(e2e_stack)
    faulty.salesforce  # noqa: B018
    faulty.faults(FAULTS)
    try:
        _scenario(faulty, FAULTY_SETTLE)
    finally:
        injected = faulty.injected_faults()
        faulty.faults_off()
    faulty.settle(FAULTY_SETTLE)

    assert sum(injected["salesforce"].values()) > 0, injected
    assert sum(injected["hubspot"].values()) > 0, injected
    actual = _final_state(faulty)
    assert actual["counts"] == expected["counts"], injected
    assert actual["links"] == expected["links"]
    assert actual["hubspot"] == expected["hubspot"]
    assert actual["salesforce"] == expected["salesforce"]
    assert faulty.health() == []  # transient faults are retried, never reported as errors
    for queue in ("ChangesDeadLetterQueue", "WritesDeadLetterQueue"):
        assert faulty.queue_messages(queue) == [], f"{queue} is not empty"
