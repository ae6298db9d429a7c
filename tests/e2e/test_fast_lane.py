"""Issue 17, the fast lane for people: a person's edit made while a bulk load is being synced reaches
the other CRM while the load is still being worked on, instead of waiting behind it; then
everything settles, with no write after it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bench.pipeline import create_hubspot_contacts, create_salesforce_leads
from tests.e2e.conftest import World, quiet

LOAD = 1_000  # new records of a load: many seconds of work on this machine
LOAD_TIMEOUT = 900.0  # seconds the whole load may take to settle (a bound, not a measure)
EDIT_TIMEOUT = LOAD_TIMEOUT  # a bound only: what the test checks is the load still being worked on


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.05)


def _in_hubspot(world: World, tag: str) -> int:
    emails = (str(c.properties.get("email") or "") for c in world.hubspot_contacts())
    return sum(1 for email in emails if email.startswith(f"bench.{tag}."))


def _in_salesforce(world: World, tag: str) -> int:
    rows = world.salesforce_rows("Lead")
    return sum(1 for r in rows if str(r.get("Email") or "").startswith(f"bench.{tag}."))


def _linked_pair(world: World, email: str) -> tuple[str, str, str]:
    contact_id = world.hubspot_create(email=email, firstname="Fast", lastname="Lane")
    world.settle()
    link = world.link_of(contact_id)
    assert link is not None
    assert link.sf_id is not None
    return contact_id, link.sf_object, link.sf_id


@pytest.mark.slow
@pytest.mark.timeout(LOAD_TIMEOUT + 300)
def test_a_persons_edits_pass_a_bulk_load_from_salesforce(world: World) -> None:
    contact_id, sobject, sf_id = _linked_pair(world, "fast.lane@example.com")

    # an import tool writes LOAD new leads (200 per transaction: change events naming 200 records)
    create_salesforce_leads(world.sandbox, LOAD, "lane")
    # a HubSpot user edits the linked contact; a Salesforce user edits its lead
    world.hubspot_edit(contact_id, jobtitle="Edited during the load")
    world.salesforce_update(sobject, sf_id, City="Edited City")

    _until(lambda: world.salesforce_row(sobject, sf_id).get("Title") == "Edited during the load",
           EDIT_TIMEOUT, "the HubSpot user's edit in Salesforce")  # fmt: skip
    _until(lambda: world.hubspot_contact(contact_id).get("city") == "Edited City",
           EDIT_TIMEOUT, "the Salesforce user's edit in HubSpot")  # fmt: skip
    # both edits are visible while the load is still being worked on
    assert _in_hubspot(world, "lane") < LOAD

    world.settle(LOAD_TIMEOUT)
    quiet(world, "the load and the edits")
    assert _in_hubspot(world, "lane") == LOAD
    assert world.salesforce_row(sobject, sf_id)["Title"] == "Edited during the load"
    assert world.hubspot_contact(contact_id)["city"] == "Edited City"


@pytest.mark.slow
@pytest.mark.timeout(LOAD_TIMEOUT + 300)
def test_a_persons_edit_passes_an_import_into_hubspot(world: World) -> None:
    contact_id, sobject, sf_id = _linked_pair(world, "fast.import@example.com")

    # an import into the portal: LOAD new contacts (webhooks say IMPORT)
    create_hubspot_contacts(world.sandbox, LOAD, "import")
    world.hubspot_edit(contact_id, jobtitle="Edited during the import")

    _until(lambda: world.salesforce_row(sobject, sf_id).get("Title") == "Edited during the import",
           EDIT_TIMEOUT, "the HubSpot user's edit in Salesforce")  # fmt: skip
    assert _in_salesforce(world, "import") < LOAD

    world.settle(LOAD_TIMEOUT)
    quiet(world, "the import and the edit")
    assert _in_salesforce(world, "import") == LOAD
    assert world.salesforce_row(sobject, sf_id)["Title"] == "Edited during the import"
