"""The demo org: users and a queue, leads, contacts with accounts, same-email duplicates, person
accounts, opportunities with contact roles and a few tasks, created over the last 90 days.

Deterministic (the people come from :func:`infra.sandbox.seed_data.demo_people`, the rest from a
seeded random generator). Seeding produces no change events. Person accounts are switched on.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

from infra.sandbox.salesforce.schema import OPPORTUNITY_STAGES
from infra.sandbox.salesforce.store import Actor, Store
from infra.sandbox.salesforce.values import now, stamp
from infra.sandbox.seed_data import CITIES, COMPANIES, FIRST, LAST, Person, demo_people

if TYPE_CHECKING:
    from infra.sandbox.salesforce.app import SalesforceEmulator

# (first, last, type, active at the end of the seed)
USERS = (
    ("Mina", "Kato", "Standard", True),
    ("Tom", "Baker", "Standard", True),
    ("Ravi", "Shah", "Standard", True),
    ("Sara", "Lind", "Standard", False),
    ("Paul", "Otto", "PowerPartner", True),
    ("Site", "Guest", "Guest", True),
)
QUEUE_NAME = "Inbound Leads Queue"
INDUSTRIES = ("Technology", "Healthcare", "Finance", "Retail", "Energy", "Manufacturing", "Media", "Shipping")
PERSON_ACCOUNTS = 20
OPPORTUNITIES = 30
# HubSpot-only people (buckets 5 and 6) who are also person accounts in Salesforce.
PERSON_OVERLAP = (5, 16, 26)


class _Clock:
    """Past timestamps: creation over the last 90 days, modification a little later."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = now()

    def times(self, min_days: float = 2.0) -> dict[str, str]:
        created = self.now - dt.timedelta(days=self.rng.uniform(min_days, 90))
        modified = min(created + dt.timedelta(days=self.rng.uniform(0, 10)), self.now - dt.timedelta(hours=1))
        return {
            "CreatedDate": stamp(created),
            "LastModifiedDate": stamp(modified),
            "SystemModstamp": stamp(modified),
        }

    def later(self, after: str) -> dict[str, str]:
        base = dt.datetime.strptime(after[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
        created = min(base + dt.timedelta(days=self.rng.uniform(1, 5)), self.now - dt.timedelta(hours=2))
        return {
            "CreatedDate": stamp(created),
            "LastModifiedDate": stamp(created),
            "SystemModstamp": stamp(created),
        }


def seed_demo(emulator: SalesforceEmulator) -> dict[str, int]:
    emulator.update_settings({"person_accounts": True})
    store = emulator.store
    rng = random.Random(20261128)
    clock = _Clock(rng)
    with store.transaction(Actor(emulator.integration_user_id), emit=False):
        users = [
            emulator.add_user(
                {"FirstName": first, "LastName": last, "UserType": kind,
                 "Email": _user_email(first, last, kind),
                 **clock.times(85)}
            )
            for first, last, kind, _active in USERS
        ]  # fmt: skip
        queue = emulator.add_user(
            {"Type": "Queue", "Name": QUEUE_NAME, "Email": "inbound-leads@sandbox.example"}
        )
        owners = [u for u, spec in zip(users, USERS, strict=True) if spec[2] == "Standard"] + [users[4]]
        people = demo_people()
        accounts = _accounts(store, rng, clock, owners)
        _leads(store, rng, clock, people, [*owners, queue, emulator.integration_user_id])
        contacts = _contacts(store, rng, clock, people, accounts, owners)
        _person_accounts(store, rng, clock, people, owners, emulator)
        _opportunities(store, rng, clock, accounts, contacts, owners)
        _tasks(store, rng, clock, owners)
        for user_id, (_first, _last, _kind, active) in zip(users, USERS, strict=True):
            if not active:
                store.update("User", user_id, {"IsActive": False}, system=True)
    counts = Counter(
        name for name, table in store.tables.items() for record in table.values() if not record["IsDeleted"]
    )
    return {name: counts[name] for name in ("User", "Group", "Lead", "Contact", "Account", "Opportunity",
                                            "OpportunityContactRole", "Task")}  # fmt: skip


def _user_email(first: str, last: str, kind: str) -> str:
    return "guest@sandbox.example" if kind == "Guest" else f"{first}.{last}@sandbox.example".lower()


def _domain(company: str) -> str:
    return company.split()[0].lower() + ".example"


def _accounts(store: Store, rng: random.Random, clock: _Clock, owners: list[str]) -> dict[str, str]:
    out = {}
    for i, company in enumerate(COMPANIES):
        city, country = CITIES[i % len(CITIES)]
        out[company] = store.create(
            "Account",
            {"Name": company, "Website": f"https://www.{_domain(company)}",
             "Industry": INDUSTRIES[i % len(INDUSTRIES)],
             "Phone": f"+1-555-{1000 + i * 37:04d}", "BillingCity": city, "BillingCountry": country,
             "NumberOfEmployees": rng.choice((12, 45, 120, 800, 2500, 12000)),
             "Type": "Customer - Direct" if i % 3 == 0 else "Prospect", "OwnerId": owners[i % len(owners)],
             **clock.times(60)},
            system=True,
        )  # fmt: skip
    return out


def _person_values(p: Person) -> dict[str, Any]:
    return {"FirstName": p.first_name, "LastName": p.last_name, "Title": p.title, "Phone": p.phone,
            "Lifecycle_Stage__c": p.lifecycle_stage}  # fmt: skip


def _leads(store: Store, rng: random.Random, clock: _Clock, people: list[Person], owners: list[str]) -> None:
    for p in people:
        if not p.sf_lead:
            continue
        values = {**_person_values(p), "Email": p.sf_email, "Company": p.company, "City": p.city,
                  "Country": p.country, "Status": p.lead_status,
                  "LeadSource": rng.choice(("Web", "Partner Referral", "Other")),
                  "OwnerId": owners[p.index % len(owners)]}  # fmt: skip
        times = clock.times()
        store.create("Lead", {**values, **times}, system=True)
        for n in range(p.sf_duplicates):
            store.create("Lead", {**values, "Email": p.sf_email.upper() if n else p.sf_email,
                                  **clock.later(times["CreatedDate"])}, system=True)  # fmt: skip


def _contacts(
    store: Store,
    rng: random.Random,
    clock: _Clock,
    people: list[Person],
    accounts: dict[str, str],
    owners: list[str],
) -> dict[str, list[str]]:
    by_account: dict[str, list[str]] = {}
    for p in people:
        if not p.sf_contact:
            continue
        account = accounts[p.company]
        values = {**_person_values(p), "Email": p.sf_email, "AccountId": account, "MailingCity": p.city,
                  "MailingCountry": p.country, "OwnerId": owners[p.index % len(owners)],
                  "HasOptedOutOfEmail": p.index % 23 == 0}  # fmt: skip
        times = clock.times()
        by_account.setdefault(account, []).append(store.create("Contact", {**values, **times}, system=True))
        for _ in range(p.sf_duplicates):
            store.create("Contact", {**values, **clock.later(times["CreatedDate"])}, system=True)
    return by_account


def _person_accounts(
    store: Store,
    rng: random.Random,
    clock: _Clock,
    people: list[Person],
    owners: list[str],
    emulator: SalesforceEmulator,
) -> None:
    person_type = store.schema.record_types.person_id
    for n in range(PERSON_ACCOUNTS):
        if n < len(PERSON_OVERLAP):
            p = people[PERSON_OVERLAP[n]]
            first, last, email = p.first_name, p.last_name, p.email
        else:
            first, last = FIRST[(n * 7 + 3) % len(FIRST)], LAST[(n * 5 + 11) % len(LAST)]
            email = f"{first}.{last}.home{n}@mail.example".lower()
        city, country = CITIES[n % len(CITIES)]
        store.create(
            "Account",
            {"RecordTypeId": person_type, "FirstName": first, "LastName": last, "PersonEmail": email,
             "PersonMailingCity": city, "PersonMailingCountry": country, "Phone": f"+1-555-{2000 + n:04d}",
             "OwnerId": owners[n % len(owners)], **clock.times()},
            system=True,
        )  # fmt: skip


def _opportunities(
    store: Store,
    rng: random.Random,
    clock: _Clock,
    accounts: dict[str, str],
    contacts: dict[str, list[str]],
    owners: list[str],
) -> None:
    account_ids = list(accounts.values())
    stages = [s[0] for s in OPPORTUNITY_STAGES]
    for i in range(OPPORTUNITIES):
        account = account_ids[i % len(account_ids)]
        # every fifth is won, and some with contact roles (their contacts become customers, S15)
        stage = "Closed Won" if i % 5 == 0 or i % 10 == 4 else stages[i % len(stages)]
        times = clock.times(30)
        close = dt.date.fromisoformat(times["CreatedDate"][:10]) + dt.timedelta(days=rng.randint(20, 120))
        opportunity = store.create(
            "Opportunity",
            {"Name": f"{store.tables['Account'][account]['Name']} - Deal {i + 1}", "AccountId": account,
             "StageName": stage, "Amount": float(rng.randrange(5, 250) * 1000),
             "CloseDate": close.isoformat(), "OwnerId": owners[i % len(owners)],
             "Type": "New Customer" if i % 2 else "Existing Customer - Upgrade",
             **times},
            system=True,
        )  # fmt: skip
        if i % 4 == 3:
            continue  # no contact roles: a closed-won deal here changes no lifecycle stage
        for n, contact in enumerate(contacts.get(account, [])[:2]):
            store.create(
                "OpportunityContactRole",
                {"OpportunityId": opportunity, "ContactId": contact, "IsPrimary": n == 0,
                 "Role": "Decision Maker" if n == 0 else "Influencer", **times},
                system=True,
            )  # fmt: skip


def _tasks(store: Store, rng: random.Random, clock: _Clock, owners: list[str]) -> None:
    leads = [r["Id"] for r in store.tables["Lead"].values()][:10]
    contacts = [r["Id"] for r in store.tables["Contact"].values() if not r.get("IsPersonAccount")][:10]
    for i, who in enumerate(leads + contacts):
        store.create(
            "Task",
            {"WhoId": who, "Subject": rng.choice(("Call", "Send Quote", "Other")),
             "Status": "Completed" if i % 3 == 0 else "Not Started", "Priority": "Normal",
             "ActivityDate": (clock.now.date() + dt.timedelta(days=i - 10)).isoformat(),
             "OwnerId": owners[i % len(owners)], **clock.times()},
            system=True,
        )  # fmt: skip
