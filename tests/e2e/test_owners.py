"""Owners between the CRMs (S16, S17), end to end: Salesforce users of each type and a queue own
synced records; HubSpot owners match by email (and, towards Salesforce, by name and an active user);
rejected HubSpot owners snap back without an echo; new leads without a valid owner are assigned by
Salesforce's rules."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World

OWNER = "hubspot_owner_id"


def _setup(world: World) -> dict[str, str]:
    """Salesforce users (Standard, PowerPartner, Guest, an inactive one, a namesake) and a queue;
    HubSpot owners for most of them. Returns ids by short name (Salesforce) and "hs_" + name."""
    users = [
        {"FirstName": "Mina", "LastName": "Kato", "Email": "mina@owners.example", "UserType": "Standard"},
        {
            "FirstName": "Pat",
            "LastName": "Partner",
            "Email": "pat@owners.example",
            "UserType": "PowerPartner",
        },
        {"FirstName": "Gus", "LastName": "Guest", "Email": "gus@owners.example", "UserType": "Guest"},
        {"FirstName": "Otto", "LastName": "Old", "Email": "otto@owners.example", "IsActive": False},
        {"FirstName": "Robert", "LastName": "Smith", "Email": "bob@owners.example"},
        {"Type": "Queue", "Name": "Inbound Leads", "Email": "queue@owners.example"},
    ]
    ids = world.sandbox_post("salesforce", "users", {"users": users})["ids"]
    out = dict(zip(["mina", "pat", "gus", "otto", "bob", "queue"], ids, strict=True))
    owners = [
        {"email": "MINA@owners.example", "firstName": "Mina", "lastName": "Kato"},
        {"email": "pat@owners.example", "firstName": "Pat", "lastName": "Partner"},
        {"email": "gus@owners.example", "firstName": "Gus", "lastName": "Guest"},
        {"email": "otto@owners.example", "firstName": "Otto", "lastName": "Old"},  # inactive in Salesforce
        {"email": "bob@owners.example", "firstName": "Bob", "lastName": "Smith"},  # another name
        {"email": "nora@owners.example", "firstName": "Nora", "lastName": "Quinn"},  # no Salesforce user
    ]
    made = world.sandbox_post("hubspot", "owners", {"owners": owners})["owners"]
    for name, owner in zip(["mina", "pat", "gus", "otto", "bob", "nora"], made, strict=True):
        out[f"hs_{name}"] = str(owner["id"])
    return out


def _lead(world: World, email: str, owner: str) -> str:
    return world.salesforce_create(
        "Lead", LastName=email.split("@")[0], Company="Owners", Email=email, OwnerId=owner
    )


def _contact_of(world: World, email: str) -> tuple[str, dict[str, Any]]:
    (contact,) = world.hubspot_with_email(email)
    return str(contact.id), dict(contact.properties)


def _owner_health(world: World) -> dict[str, tuple[str, str]]:
    return {h.record: (h.code, h.message) for h in world.health() if h.category.value == "owners"}


def test_salesforce_owners_of_every_kind_become_hubspot_owners_or_are_reported(world: World) -> None:
    ids = _setup(world)
    leads = {
        kind: _lead(world, f"{kind}-owned@example.com", ids[kind]) for kind in ("mina", "pat", "gus", "queue")
    }
    world.settle()

    for kind in ("mina", "pat", "gus"):  # Standard, PowerPartner, Guest: matched by email
        _, props = _contact_of(world, f"{kind}-owned@example.com")
        assert props.get(OWNER) == ids[f"hs_{kind}"], kind
    _, queued = _contact_of(world, "queue-owned@example.com")
    assert not queued.get(OWNER)  # a queue is no HubSpot owner: left as it is
    health = _owner_health(world)
    # one entry per owner (a queue may own thousands of records), naming an example record
    code, message = health[f"salesforce:Group:{ids['queue']}"]
    assert code == "OWNER_NOT_IN_HUBSPOT"
    assert "queue" in message
    assert leads["queue"] in message
    assert set(health) == {f"salesforce:Group:{ids['queue']}"}

    before = world.pipeline_writes()
    world.settle()
    assert world.pipeline_writes() == before  # no echo writes


def test_a_salesforce_owner_change_flows_and_a_valid_hubspot_owner_change_flows_back(world: World) -> None:
    ids = _setup(world)
    lead = _lead(world, "moves@example.com", ids["mina"])
    world.settle()
    contact_id, props = _contact_of(world, "moves@example.com")
    assert props[OWNER] == ids["hs_mina"]

    world.salesforce_update("Lead", lead, OwnerId=ids["pat"])
    world.settle()
    assert world.hubspot_contact(contact_id)[OWNER] == ids["hs_pat"]

    before = world.pipeline_writes()
    world.hubspot_edit(contact_id, **{OWNER: ids["hs_gus"]})  # matches an active user by name and email
    world.settle()
    assert world.salesforce_row("Lead", lead)["OwnerId"] == ids["gus"]
    assert world.hubspot_contact(contact_id)[OWNER] == ids["hs_gus"]
    after = world.pipeline_writes()
    assert after["salesforce"] - before["salesforce"] == 1  # the owner, once
    assert after["hubspot"] == before["hubspot"]  # and no echo back to HubSpot
    assert _owner_health(world) == {}


def test_a_hubspot_owner_salesforce_cannot_take_is_reset_without_an_echo(world: World) -> None:
    ids = _setup(world)
    lead = _lead(world, "snaps@example.com", ids["mina"])
    world.settle()
    contact_id, _ = _contact_of(world, "snaps@example.com")

    for rejected, why in (
        ("hs_otto", "inactive"),
        ("hs_bob", "another name"),
        ("hs_nora", "no Salesforce user"),
    ):
        before = world.pipeline_writes()
        world.hubspot_edit(contact_id, **{OWNER: ids[rejected]})
        world.settle()
        assert world.salesforce_row("Lead", lead)["OwnerId"] == ids["mina"], rejected  # Salesforce keeps it
        assert world.hubspot_contact(contact_id)[OWNER] == ids["hs_mina"], rejected  # reset (S17)
        after = world.pipeline_writes()
        assert (after["salesforce"] - before["salesforce"], after["hubspot"] - before["hubspot"]) == (0, 1)
        code, message = _owner_health(world)[f"hubspot:contacts:{contact_id}"]
        assert code == "OWNER_REJECTED"
        assert why in message, message
    before = world.pipeline_writes()
    world.settle()
    assert world.pipeline_writes() == before


def test_new_leads_from_hubspot_take_a_valid_owner_or_the_assignment_rules(world: World) -> None:
    ids = _setup(world)
    world.sandbox_post("salesforce", "settings", {"lead_assignment_owner": ids["queue"]})
    owned = world.hubspot_create(email="owned@example.com", lastname="Owned", **{OWNER: ids["hs_gus"]})
    unowned = world.hubspot_create(email="unowned@example.com", lastname="Unowned", **{OWNER: ids["hs_nora"]})
    world.settle()
    (owned_lead,) = world.salesforce_with_email("Lead", "owned@example.com")
    (unowned_lead,) = world.salesforce_with_email("Lead", "unowned@example.com")
    assert owned_lead["OwnerId"] == ids["gus"]  # written, with assignment rules off for it
    assert unowned_lead["OwnerId"] == ids["queue"]  # Salesforce's assignment rule, not the integration user
    code, _ = _owner_health(world)[f"hubspot:contacts:{unowned}"]
    assert code == "OWNER_NOT_IN_SALESFORCE"
    assert world.link_of(owned) is not None


def test_a_warm_owner_cache_makes_no_owner_calls(world: World) -> None:
    ids = _setup(world)
    _lead(world, "first@example.com", ids["mina"])
    world.settle()  # the first batch reads both sides' owners once
    stats = {
        s: (world.sandbox.salesforce if s == "salesforce" else world.sandbox.hubspot).stats.snapshot()[
            "calls"
        ]
        for s in ("salesforce", "hubspot")
    }
    for i in range(5):
        _lead(world, f"warm{i}@example.com", ids["pat"])
    world.settle()
    hubspot_now = world.sandbox.hubspot.stats.snapshot()["calls"]
    assert hubspot_now.get("GET /crm/v3/owners", 0) == stats["hubspot"].get("GET /crm/v3/owners", 0)
    assert len(world.hubspot_contacts()) == 6
    assert all(dict(c.properties).get(OWNER) for c in world.hubspot_contacts())
