"""The console page in a real headless browser (Playwright driving the distribution's Chromium;
nothing is downloaded): it loads, shows the entry of a real failing sync in its category card and
table, charts the API usage against the limit and the allocation, and the entry's resync button
makes the record sync."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.cli.target import local
from infra.console.app import Console
from shared.crm_state import CrmState, CrmStatus, UsageSample
from shared.models import System
from shared.state.crm import DynamoCrmStateStore
from tests.e2e.conftest import World, queue_owner


def chromium() -> str | None:
    """The distribution's Chromium (HSSYNC_CHROMIUM overrides where it is)."""
    candidates = (
        os.environ.get("HSSYNC_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    )
    return next((c for c in candidates if c and Path(c).exists()), None)


CHROMIUM = chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary: install the distribution's package (apt-get install chromium, as"
    " `make test-setup` does) or set HSSYNC_CHROMIUM",
)


@pytest.fixture
def state_dir(world: World, tmp_path: Path) -> Path:
    info = world.sandbox.info
    info.runtime = world.stack.info.to_dict()
    (tmp_path / "sandbox.json").write_text(info.to_json())
    return tmp_path


@pytest.fixture
def console_url(state_dir: Path) -> Iterator[str]:
    console = Console(local(state_dir))
    url = console.start()
    try:
        yield url
    finally:
        console.stop()


@pytest.fixture
def page(console_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1100})
            tab.set_default_timeout(30_000)
            yield tab
        finally:
            browser.close()


def _usage(world: World) -> None:
    """API usage as the guardrails record it: a few hours of samples and the allocation."""
    store = DynamoCrmStateStore(world.stack.info.state_table, world.stack._boto("dynamodb"))
    org = world.sandbox.sf_creds.org_id
    now = dt.datetime.now(dt.UTC)
    for hours_ago, used in ((5, 1200), (3, 2600), (1, 4100), (0, 4800)):
        store.record_usage(
            UsageSample(System.SALESFORCE, org, now - dt.timedelta(hours=hours_ago), used, 15000)
        )
    store.put_crm_state(
        CrmState(System.SALESFORCE, org, CrmStatus.RUNNING, since=now, updated_at=now, allocation_percent=50)
    )


def test_the_console_shows_each_kind_of_entry_and_its_resync_button_syncs_the_record(
    world: World, console_url: str, page: Any
) -> None:
    from playwright.sync_api import expect

    queue = queue_owner(world)  # before anything syncs: the owner directory is cached
    wordy = world.hubspot_create(email="wordy@example.com", lastname="Wordy", jobtitle="Chief " * 30)
    world.salesforce_create("Lead", LastName="First", Company="One", Email="twin@example.com")
    world.settle()
    twin = world.salesforce_create("Lead", LastName="Second", Company="Two", Email="twin@example.com")
    world.salesforce_create("Lead", LastName="Queued", Company="Q", Email="queued@example.com", OwnerId=queue)
    world.settle()
    _usage(world)

    page.goto(console_url)
    expect(page.locator("body[data-loaded=true]")).to_have_count(1)
    record = f"hubspot:contacts:{wordy}"
    row = page.locator(f'#entries tr[data-record="{record}"]')
    expect(row).to_contain_text("STRING_TOO_LONG")
    expect(row).to_contain_text("property_values")
    expect(page.locator('.card[data-category="property_values"] .errors')).to_have_text("1")
    # a duplicate and a queue owner, each in its category's card, with its record
    expect(page.locator('.card[data-category="duplicates"] .errors')).to_have_text("1")
    expect(page.locator('.card[data-category="owners"] .errors')).to_have_text("1")
    expect(page.locator(f'#entries tr[data-record="salesforce:Lead:{twin}"]')).to_contain_text(
        "DUPLICATE_EMAIL"
    )
    expect(page.locator(f'#entries tr[data-record="salesforce:Group:{queue}"]')).to_contain_text(
        "OWNER_NOT_IN_HUBSPOT"
    )
    salesforce = page.locator('.crm[data-system="salesforce"]')
    expect(salesforce).to_contain_text("4800 of 15000 (allocation 7500)")
    expect(salesforce.locator(".usage-bar")).to_have_count(4)
    expect(salesforce.locator(".usage-limit")).to_have_count(1)
    expect(salesforce.locator(".usage-allocation")).to_have_count(1)
    expect(page.locator('#queues tr[data-queue="changes"]')).to_have_count(1)
    expect(page.locator("#attention")).to_have_text("all well")
    if os.environ.get("HSSYNC_SCREENSHOT"):  # the README's picture: make console-screenshot
        page.screenshot(path=os.environ["HSSYNC_SCREENSHOT"], full_page=True)

    with world.events_paused():  # the HubSpot user shortens the title; hssync hears nothing
        world.hubspot_edit(wordy, jobtitle="Chief Wordsmith")
    row.locator("button.resync").click()
    expect(page.locator("#message")).to_contain_text("resync requested: 1 HubSpot contact")
    world.settle()

    [lead] = world.salesforce_with_email("Lead", "wordy@example.com")
    assert lead["Title"] == "Chief Wordsmith"
    expect(page.locator(f'#entries tr[data-record="{record}"]')).to_have_count(0)  # cleared
    expect(page.locator('.card[data-category="property_values"] .errors')).to_have_text("0")

    # the org's daily limit is spent (what the guardrails store): an API limit entry, and attention
    store = DynamoCrmStateStore(world.stack.info.state_table, world.stack._boto("dynamodb"))
    now = dt.datetime.now(dt.UTC)
    org = world.sandbox.sf_creds.org_id
    store.put_crm_state(
        CrmState(
            System.SALESFORCE,
            org,
            CrmStatus.PAUSED,
            since=now,
            updated_at=now,
            reason="REQUEST_LIMIT_EXCEEDED",
            allocation_percent=50,
        )
    )
    expect(page.locator('.card[data-category="api_limit"] .errors')).to_have_text("1")
    expect(page.locator(f'#entries tr[data-record="salesforce:org:{org}"]')).to_contain_text(
        "REQUEST_LIMIT_EXCEEDED"
    )
    expect(page.locator("#attention")).to_contain_text(f"salesforce {org} is paused: REQUEST_LIMIT_EXCEEDED")
    expect(salesforce).to_contain_text("paused")


def test_the_console_shows_a_dead_letter_with_its_reason_and_redrives_it_after_the_fix(
    world: World, state_dir: Path, page: Any, console_url: str
) -> None:
    from hubspot.crm.lists import ListCreateRequest
    from playwright.sync_api import expect

    from infra.cli import main

    with world.events_paused():
        member = world.hubspot_create(email="redrive@example.com", lastname="Redrive", company="Again")
    lists = world.hubspot.crm.lists
    created = lists.lists_api.create(
        ListCreateRequest(name="Redrive me", object_type_id="0-1", processing_type="MANUAL")
    )
    list_id = str(created.list.list_id)
    lists.memberships_api.add(list_id, [member])
    lists.lists_api.remove(list_id)
    assert main(["resync", "--list", list_id, "--no-wait", "--state-dir", str(state_dir)]) == 0
    world.settle()

    page.goto(console_url)
    row = page.locator('#dead-letters tr[data-queue="poll-requests"]')
    expect(row).to_contain_text(f"OBJECT_NOT_FOUND: List {list_id} does not exist.")
    expect(page.locator("#attention")).to_contain_text("1 dead letter(s) in poll-requests")
    lists.lists_api.restore(list_id)  # the fix
    row.locator("button.redrive").click()
    expect(page.locator("#message")).to_contain_text("redrove 1 message(s) from poll-requests; 0 left")
    world.settle()
    [lead] = world.salesforce_with_email("Lead", "redrive@example.com")
    assert lead["Company"] == "Again"
    expect(row.locator("td").nth(1)).to_have_text("0")
    expect(page.locator("#attention")).to_have_text("all well")
