"""Adaptive batching in the local runtime (issue 17, ``shared.pacing``): on an org whose budget is
small, a trickle of people's edits shares its dedupe windows instead of spending calls per edit, and
every edit still arrives, with no write after the settle."""

from __future__ import annotations

import time
from collections import Counter

from tests.e2e.conftest import World, config_text, quiet

SF_UPDATE = "PATCH /services/data/{version}/composite/sobjects"
EDITS = 16
EDIT_EVERY_SECONDS = 1.5  # longer than the changes queue's one-second batching window


def salesforce_updates(world: World) -> int:
    return Counter(world.sandbox.salesforce.stats.snapshot()["calls"])[SF_UPDATE]


def test_a_trickle_on_a_small_org_shares_windows_and_every_edit_arrives(world: World) -> None:
    # 2,000 calls a day, 50 % allocated, half of it for windows: 500 a day, a window of 2 calls
    # every 6 minutes once the idle bucket (10 calls) is spent; no change waits more than 20 s
    world.sandbox_post("salesforce", "settings", {"daily_api_limit": 2_000})
    portal = world.stack.sandbox.hs_creds.portal_id
    world.use_config(config_text(portal) + "batching:\n  max_wait_seconds: 20\n")
    contacts = [world.hubspot_create(email=f"trickle{i}@example.com", lastname=f"T{i}") for i in range(EDITS)]
    quiet(world, "the pairs")

    before = salesforce_updates(world)
    for i, contact in enumerate(contacts):
        world.hubspot_edit(contact, jobtitle=f"Edit {i}")
        time.sleep(EDIT_EVERY_SECONDS)
    quiet(world, "the trickle")

    titles = {row["Email"]: row["Title"] for row in world.salesforce_rows("Lead")}
    assert titles == {f"trickle{i}@example.com": f"Edit {i}" for i in range(EDITS)}
    # one window per edit would make 16 updates; the budget lets 5 windows go at once, then the
    # edits of the next 20 s share one
    assert salesforce_updates(world) - before <= 8
