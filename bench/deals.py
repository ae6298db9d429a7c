"""The deals bench (issue 14): on a fresh stack with account and deal sync on, 1,000 new
Opportunities with 2 contact roles each from Salesforce (Closed Won: their contacts become
customers), and 1,000 new deals from HubSpot. The contacts and Accounts exist and are synced before
the measured part. Reports the API calls on each side per 1,000 records (lifecycle updates and
associations included) next to the floors the batch limits allow, and the targets (12 Salesforce,
25 HubSpot calls per 1,000 records). Records are created in-process (webhooks and change events as
their APIs publish them), so every call counted is the pipeline's."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.pipeline import SF_IMPORT_TRANSACTION, Direction, api_calls, fresh_world, print_progress
from bench.report import table
from infra.local_stack import LocalStack
from infra.sandbox.hubspot.store import WriteSource
from infra.sandbox.runner import Sandbox
from infra.sandbox.salesforce.store import Actor

OPPORTUNITIES = 1_000
ROLES_PER_OPPORTUNITY = 2
TARGET_SALESFORCE_PER_1000 = 12
TARGET_HUBSPOT_PER_1000 = 25
TIMEOUT = 900.0
SETUP_TIMEOUT = 900.0


def config_text(portal: int) -> str:
    settings = (
        "accounts: {enabled: true}\ncreation: {hubspot_to_salesforce: contact}\ndeals: {enabled: true}\n"
    )
    return f"version: 1\nportals: [{portal}]\n{settings}"


@dataclass
class DealsRun:
    direction: Direction
    opportunities: int
    roles: int
    seconds: float = float("nan")
    complete: bool = False
    salesforce_calls: int = 0
    hubspot_calls: int = 0
    salesforce_breakdown: dict[str, int] = field(default_factory=dict)
    hubspot_breakdown: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def per_1000(self, calls: int) -> float:
        return calls * 1000 / self.opportunities if self.opportunities else float("nan")

    @property
    def floor(self) -> tuple[int, int]:
        """(Salesforce, HubSpot) write calls the batch limits allow: the other side's new records (200
        a collection call, 100 a HubSpot batch), from Salesforce the contacts of the contact roles
        made customers (100 a batch), the deals' companies and the deals' contacts (2,000 pairs a
        call each)."""
        if self.direction == "salesforce_to_hubspot":
            deals, customers = _ceil(self.opportunities, 100), _ceil(self.roles, 100)
            return 0, deals + customers + _ceil(self.opportunities, 2000) + _ceil(self.roles, 2000)
        return _ceil(self.opportunities, 200), 0

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body.update(
            salesforce_calls_per_1000=self.per_1000(self.salesforce_calls),
            hubspot_calls_per_1000=self.per_1000(self.hubspot_calls),
            salesforce_floor_per_1000=self.per_1000(self.floor[0]),
            hubspot_floor_per_1000=self.per_1000(self.floor[1]),
        )
        return body


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _actor(sandbox: Sandbox) -> Actor:
    return Actor(sandbox.salesforce.integration_user_id, "59.0", None)  # another API client: not hssync


def create_people(sandbox: Sandbox, accounts: int, contacts: int) -> tuple[list[str], list[str]]:
    """Accounts and their Contacts, as an import tool writes them (one transaction per 200)."""
    emulator = sandbox.salesforce
    account_ids: list[str] = []
    contact_ids: list[str] = []
    with emulator.lock, emulator.store.transaction(_actor(sandbox)):
        for n in range(accounts):
            account_ids.append(emulator.store.create("Account", {"Name": f"Bench Deal Account {n}"}))
    for start in range(0, contacts, SF_IMPORT_TRANSACTION):
        with emulator.lock, emulator.store.transaction(_actor(sandbox)):
            for n in range(start, min(contacts, start + SF_IMPORT_TRANSACTION)):
                values = {
                    "LastName": f"Buyer{n}",
                    "Email": f"bench.deal.{n}@load.example",
                    "AccountId": account_ids[n % accounts],
                }
                contact_ids.append(emulator.store.create("Contact", values))
    return account_ids, contact_ids


def create_opportunities(sandbox: Sandbox, accounts: list[str], contacts: list[str], count: int) -> None:
    """Closed Won Opportunities, then their contact roles (the first primary), 200 a transaction."""
    emulator = sandbox.salesforce
    made: list[str] = []
    for start in range(0, count, SF_IMPORT_TRANSACTION):
        with emulator.lock, emulator.store.transaction(_actor(sandbox)):
            for n in range(start, min(count, start + SF_IMPORT_TRANSACTION)):
                values = {
                    "Name": f"Bench Opportunity {n}",
                    "StageName": "Closed Won",
                    "CloseDate": "2026-12-31",
                    "Amount": 1000 + n,
                    "AccountId": accounts[n % len(accounts)],
                }
                made.append(emulator.store.create("Opportunity", values))
    per = ROLES_PER_OPPORTUNITY
    roles = [
        (o, contacts[(i * per + r) % len(contacts)], r == 0) for i, o in enumerate(made) for r in range(per)
    ]
    for start in range(0, len(roles), SF_IMPORT_TRANSACTION):
        with emulator.lock, emulator.store.transaction(_actor(sandbox)):
            for opportunity, contact, primary in roles[start : start + SF_IMPORT_TRANSACTION]:
                values = {"OpportunityId": opportunity, "ContactId": contact, "IsPrimary": primary}
                emulator.store.create("OpportunityContactRole", values)


def create_hubspot_deals(sandbox: Sandbox, count: int) -> None:
    """New deals, as an import makes them."""
    source = WriteSource("IMPORT")
    for n in range(count):
        values = {
            "dealname": f"Bench Deal {n}",
            "amount": str(500 + n),
            "closedate": "2027-01-15T00:00:00Z",
            "pipeline": "default",
            "dealstage": "qualifiedtobuy",
        }
        sandbox.hubspot.store.create("deals", values, source=source)


def deals_run(
    direction: Direction,
    opportunities: int = OPPORTUNITIES,
    *,
    progress: Callable[[str], None] = print_progress,
) -> DealsRun:
    run = DealsRun(direction, opportunities, opportunities * ROLES_PER_OPPORTUNITY)
    with fresh_world() as (sandbox, stack):
        stack.set_config(config_text(sandbox.hs_creds.portal_id))
        accounts, contacts = create_people(sandbox, max(1, opportunities // 10), run.roles)
        if not stack.wait_idle(SETUP_TIMEOUT):
            raise TimeoutError("the deals bench's contacts and Accounts did not settle")
        _warm_up(sandbox, stack, accounts, contacts)
        sf_before, hs_before = api_calls(sandbox)
        before = dict(stack.counters())
        started = time.monotonic()
        if direction == "salesforce_to_hubspot":
            create_opportunities(sandbox, accounts, contacts, opportunities)
        else:
            create_hubspot_deals(sandbox, opportunities)
        run.complete = stack.wait_idle(TIMEOUT)
        run.seconds = time.monotonic() - started
        sf_after, hs_after = api_calls(sandbox)
        run.salesforce_calls = sum((sf_after - sf_before).values())
        run.hubspot_calls = sum((hs_after - hs_before).values())
        run.salesforce_breakdown = dict((sf_after - sf_before).most_common())
        run.hubspot_breakdown = dict((hs_after - hs_before).most_common())
        after = stack.counters()
        run.counters = {k: v - before.get(k, 0) for k, v in sorted(after.items()) if v != before.get(k, 0)}
        progress(
            f"deals {direction}: {opportunities:,} records in {run.seconds:.0f} s (complete: {run.complete})"
        )
    return run


def _warm_up(sandbox: Sandbox, stack: LocalStack, accounts: list[str], contacts: list[str]) -> None:
    """One Opportunity with a contact role and one deal through the fresh stack first (describes,
    property definitions, pipelines and owners, cached as any stack caches them)."""
    create_opportunities(sandbox, accounts, contacts, 1)
    create_hubspot_deals(sandbox, 1)
    if not stack.wait_idle(180):
        raise TimeoutError("the deals warm-up did not settle")


def render_deals(runs: list[DealsRun]) -> str:
    rows = [
        (
            f"{r.direction} ({r.opportunities:,}"
            + (f" + {r.roles:,} roles)" if r.direction == "salesforce_to_hubspot" else ")"),
            r.seconds,
            r.salesforce_calls,
            r.per_1000(r.salesforce_calls),
            r.per_1000(r.floor[0]),
            r.hubspot_calls,
            r.per_1000(r.hubspot_calls),
            r.per_1000(r.floor[1]),
            "yes" if r.complete else "NO",
        )
        for r in runs
    ]
    headers = (
        "run",
        "seconds",
        "SF calls",
        "SF /1000",
        "SF floor",
        "HS calls",
        "HS /1000",
        "HS floor",
        "idle",
    )
    target = (
        f"  targets per 1,000 records: Salesforce <= {TARGET_SALESFORCE_PER_1000}, "
        f"HubSpot <= {TARGET_HUBSPOT_PER_1000} (lifecycle updates included)"
    )
    breakdown = [
        f"  {r.direction}: Salesforce {r.salesforce_breakdown}; HubSpot {r.hubspot_breakdown}" for r in runs
    ]
    return "\n".join([table(headers, rows), target, *breakdown])
