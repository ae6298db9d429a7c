"""A newer edit never loses to hssync's own write: the echo race, made deterministic.

Apply writes edit 1 to one CRM; the write is committed, but its answer is slow (a one-shot delay on
the emulator), so apply has not yet saved the link's synced values. Meanwhile the user makes edit 2
on the same fields, older than hssync's write, and its notification (held back, as delivery latency
can) reaches dedupe only once the write has landed. Dedupe then reads hssync's own write of edit 1
while the link still remembers the values from before it: unless hssync knows the write is its own,
both sides look changed and "the newer change wins" lets edit 1 (written later) beat edit 2.

The user's edit 2 must end on both sides, and nothing may be written after the world settles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from tests.e2e.conftest import World, quiet

# the one-shot delay of apply's write: held before it is handled (edit 2 happens then, so it is
# older than the write), then its answer is held (dedupe for edit 2 runs then, after the commit)
BEFORE_SECONDS = 2.0
AFTER_SECONDS = 5.0
WAIT_SECONDS = 30.0
SF_UPDATE = {"method": "PATCH", "path": r"^/services/data/v\d+\.\d+/composite/sobjects$"}
HS_UPDATE = {"method": "POST", "path": r"^/crm/v3/objects/contacts/batch/update$"}


def control(world: World, system: str, method: str, path: str, body: Any = None) -> Any:
    base = world.sandbox.salesforce_url if system == "salesforce" else world.sandbox.hubspot_url
    response = requests.request(
        method, f"{base}/_sandbox/{path}", json=body, verify=str(world.sandbox.tls.ca_cert), timeout=10
    )
    response.raise_for_status()
    return response.json() if response.content else None


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def delay_next_update(world: World, system: str, rule: dict[str, str]) -> None:
    body = {**rule, "before_seconds": BEFORE_SECONDS, "after_seconds": AFTER_SECONDS, "count": 1}
    control(world, system, "POST", "delays", body)


def update_held_before_commit(world: World, system: str) -> Callable[[], bool]:
    return lambda: control(world, system, "GET", "delays")["waiting"] == 1


def hubspot_to_salesforce_pair(world: World) -> tuple[str, str]:
    contact_id = world.hubspot_create(
        email="echo.race@example.com", firstname="F0H", lastname="Racer", jobtitle="U0-H", company="Races"
    )
    world.settle()
    link = world.link_of(contact_id)
    assert link is not None
    assert link.sf_object == "Lead"
    return contact_id, link.sf_id


def salesforce_to_hubspot_pair(world: World) -> tuple[str, str]:
    lead_id = world.salesforce_create(
        "Lead",
        Email="race.echo@example.com",
        FirstName="F0S",
        LastName="Racer",
        Title="U0-S",
        Company="Races",
    )
    world.settle()
    contacts = world.hubspot_with_email("race.echo@example.com")
    assert len(contacts) == 1
    link = world.link_of(contacts[0].id)
    assert link is not None
    assert link.sf_id == lead_id
    return str(contacts[0].id), lead_id


def assert_both_sides(world: World, contact_id: str, lead_id: str, title: str, first: str) -> None:
    contact = world.hubspot_contact(contact_id)
    lead = world.salesforce_row("Lead", lead_id)
    both = {
        "hubspot (jobtitle, firstname)": (contact["jobtitle"], contact["firstname"]),
        "salesforce (Title, FirstName)": (lead["Title"], lead["FirstName"]),
    }
    assert both == {
        "hubspot (jobtitle, firstname)": (title, first),
        "salesforce (Title, FirstName)": (title, first),
    }, "the user's newer edit 2 must end on both sides"


def test_hubspot_edit_newer_than_hssyncs_write_to_salesforce_wins(world: World) -> None:
    contact_id, lead_id = hubspot_to_salesforce_pair(world)
    delay_next_update(world, "salesforce", SF_UPDATE)
    world.hubspot_edit(contact_id, jobtitle="U40-H", firstname="F40H")  # edit 1
    wait_for(update_held_before_commit(world, "salesforce"), "apply's Lead update to be held")
    control(world, "hubspot", "POST", "webhooks/hold")
    try:
        world.hubspot_edit(contact_id, jobtitle="U48-H", firstname="F48H")  # edit 2, before the write
        wait_for(lambda: world.salesforce_row("Lead", lead_id)["Title"] == "U40-H", "the write of edit 1")
        assert control(world, "salesforce", "GET", "delays")["committed"] == 1  # apply still waits
    finally:
        control(world, "hubspot", "POST", "webhooks/release")
    world.settle()

    assert_both_sides(world, contact_id, lead_id, "U48-H", "F48H")
    quiet(world, "the user's newer HubSpot edit")
    assert_both_sides(world, contact_id, lead_id, "U48-H", "F48H")


def test_salesforce_edit_newer_than_hssyncs_write_to_hubspot_wins(world: World) -> None:
    contact_id, lead_id = salesforce_to_hubspot_pair(world)
    delay_next_update(world, "hubspot", HS_UPDATE)
    world.salesforce_update("Lead", lead_id, Title="U40-S", FirstName="F40S")  # edit 1
    wait_for(update_held_before_commit(world, "hubspot"), "apply's contact update to be held")
    control(world, "salesforce", "POST", "change-events/hold")
    try:
        world.salesforce_update("Lead", lead_id, Title="U48-S", FirstName="F48S")  # edit 2
        wait_for(lambda: world.hubspot_contact(contact_id)["jobtitle"] == "U40-S", "the write of edit 1")
        assert control(world, "hubspot", "GET", "delays")["committed"] == 1  # apply still waits
    finally:
        control(world, "salesforce", "POST", "change-events/release")
    world.settle()

    assert_both_sides(world, contact_id, lead_id, "U48-S", "F48S")
    quiet(world, "the user's newer Salesforce edit")
    assert_both_sides(world, contact_id, lead_id, "U48-S", "F48S")
