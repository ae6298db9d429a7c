"""The accounts bench (issue 13): on a fresh stack with account sync on, 1,000 new Accounts with
3,000 Contacts from Salesforce, and 1,000 new companies with 3,000 contacts (each the primary company
of three) from HubSpot. Reports the API calls on each side per 1,000 records (associations included)
next to the floors the batch limits allow, and the targets (12 Salesforce, 25 HubSpot calls per
1,000 records). Records are created in-process (webhooks and change events as their APIs publish
them), so every call counted is the pipeline's."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.pipeline import (
    SF_IMPORT_TRANSACTION,
    Direction,
    api_calls,
    fresh_world,
    print_progress,
)
from bench.report import table
from infra.local_stack import LocalStack
from infra.sandbox.hubspot.store import WriteSource
from infra.sandbox.runner import Sandbox
from infra.sandbox.salesforce.store import Actor

ACCOUNTS = 1_000
CONTACTS_PER_ACCOUNT = 3
TARGET_SALESFORCE_PER_1000 = 12
TARGET_HUBSPOT_PER_1000 = 25
PRIMARY = 1  # contact -> company, the Primary label
TIMEOUT = 900.0


def config_text(portal: int) -> str:
    settings = "accounts: {enabled: true}\ncreation: {hubspot_to_salesforce: contact}\n"
    return f"version: 1\nportals: [{portal}]\n{settings}"


@dataclass
class AccountsRun:
    direction: Direction
    accounts: int
    contacts: int
    seconds: float = float("nan")
    complete: bool = False
    salesforce_calls: int = 0
    hubspot_calls: int = 0
    salesforce_breakdown: dict[str, int] = field(default_factory=dict)
    hubspot_breakdown: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return self.accounts + self.contacts

    def per_1000(self, calls: int) -> float:
        return calls * 1000 / self.records if self.records else float("nan")

    @property
    def floor(self) -> tuple[int, int]:
        """(Salesforce, HubSpot) write calls the batch limits allow: the other side's new records
        (200 a collection call, 100 a HubSpot batch) and the associations (2,000 a call); a new
        Contact could carry its AccountId when created."""
        if self.direction == "salesforce_to_hubspot":
            return 0, _ceil(self.accounts, 100) + _ceil(self.contacts, 100) + _ceil(self.contacts, 2000)
        return _ceil(self.accounts, 200) + _ceil(self.contacts, 200), 0

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


def create_salesforce_accounts(sandbox: Sandbox, accounts: int, per_account: int) -> None:
    """New Accounts, then their Contacts, as an import tool writes them (one transaction per 200)."""
    emulator = sandbox.salesforce
    actor = Actor(emulator.integration_user_id, "59.0", None)  # another API client: not hssync
    ids: list[str] = []
    for start in range(0, accounts, SF_IMPORT_TRANSACTION):
        with emulator.lock, emulator.store.transaction(actor):
            for n in range(start, min(accounts, start + SF_IMPORT_TRANSACTION)):
                ids.append(
                    emulator.store.create(
                        "Account", {"Name": f"Bench Account {n}", "Phone": f"+1 555 {n:07d}"}
                    )
                )
    people = [(ids[n // per_account], n) for n in range(accounts * per_account)]
    for start in range(0, len(people), SF_IMPORT_TRANSACTION):
        with emulator.lock, emulator.store.transaction(actor):
            for account, n in people[start : start + SF_IMPORT_TRANSACTION]:
                values = {
                    "LastName": f"Person{n}",
                    "Email": f"bench.acct.{n}@load.example",
                    "AccountId": account,
                }
                emulator.store.create("Contact", values)


def create_hubspot_companies(sandbox: Sandbox, companies: int, per_company: int) -> None:
    """New companies and contacts, each contact's primary company set, as an import makes them."""
    hubspot = sandbox.hubspot
    source = WriteSource("IMPORT")
    made = [
        hubspot.store.create("companies", {"name": f"Bench Company {n}"}, source=source).id
        for n in range(companies)
    ]
    for n in range(companies * per_company):
        values = {"email": f"bench.co.{n}@load.example", "lastname": f"Person{n}"}
        contact = hubspot.store.create("contacts", values, source=source)
        hubspot.associations.associate("contacts", contact.id, "companies", made[n // per_company], PRIMARY)


def accounts_run(
    direction: Direction, accounts: int = ACCOUNTS, *, progress: Callable[[str], None] = print_progress
) -> AccountsRun:
    run = AccountsRun(direction, accounts, accounts * CONTACTS_PER_ACCOUNT)
    with fresh_world() as (sandbox, stack):
        stack.set_config(config_text(sandbox.hs_creds.portal_id))
        _warm_up(sandbox, stack)
        sf_before, hs_before = api_calls(sandbox)
        before = dict(stack.counters())
        started = time.monotonic()
        if direction == "salesforce_to_hubspot":
            create_salesforce_accounts(sandbox, accounts, CONTACTS_PER_ACCOUNT)
        else:
            create_hubspot_companies(sandbox, accounts, CONTACTS_PER_ACCOUNT)
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
            f"accounts {direction}: {run.records:,} records in {run.seconds:.0f} s (complete: {run.complete})"
        )
    return run


def _warm_up(sandbox: Sandbox, stack: LocalStack) -> None:
    """One Account with a Contact, and one company with a contact, through the fresh stack first
    (the token, describes, property definitions and owners, cached as any stack caches them)."""
    create_salesforce_accounts(sandbox, 1, 1)
    hubspot = sandbox.hubspot
    company = hubspot.store.create("companies", {"name": "Warm Co"}, source=WriteSource("IMPORT"))
    contact = hubspot.store.create(
        "contacts", {"email": "warm.co@load.example"}, source=WriteSource("IMPORT")
    )
    hubspot.associations.associate("contacts", contact.id, "companies", company.id, PRIMARY)
    if not stack.wait_idle(180):
        raise TimeoutError("the accounts warm-up did not settle")


def render_accounts(runs: list[AccountsRun]) -> str:
    rows = [
        (
            f"{r.direction} ({r.accounts:,} + {r.contacts:,})",
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
        f"HubSpot <= {TARGET_HUBSPOT_PER_1000}"
    )
    breakdown = [
        f"  {r.direction}: Salesforce {r.salesforce_breakdown}; HubSpot {r.hubspot_breakdown}" for r in runs
    ]
    return "\n".join([table(headers, rows), target, *breakdown])
