"""The demo portal: contacts for the shared demo people who live in HubSpot, their companies, a few
deals, owners, the "Salesforce sync" inclusion list and marketing email events.

Deterministic, backdated (records were created over the last ~200 days) and silent: seeding sends
no webhook events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from infra.sandbox.hubspot.owners import DEMO_OWNERS
from infra.sandbox.hubspot.store import CrmRecord
from infra.sandbox.seed_data import CITIES, COMPANIES, Person, demo_people

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

INDUSTRY = {
    "Acme Robotics": "COMPUTER_SOFTWARE", "Blue Harbor Logistics": "LOGISTICS_AND_SUPPLY_CHAIN",
    "Cedar Health": "HOSPITAL_HEALTH_CARE", "Delta Foods": "FOOD_BEVERAGES",
    "Evergreen Energy": "RENEWABLES_ENVIRONMENT", "Fjord Analytics": "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "Granite Insurance": "INSURANCE", "Helios Solar": "RENEWABLES_ENVIRONMENT",
    "Iris Biotech": "BIOTECHNOLOGY", "Juniper Retail": "RETAIL", "Kestrel Aerospace": "AVIATION_AEROSPACE",
    "Lumen Media": "MEDIA_PRODUCTION", "Maple Finance": "FINANCIAL_SERVICES",
    "Nimbus Cloud": "COMPUTER_SOFTWARE", "Orchid Hotels": "HOSPITALITY", "Pioneer Mining": "MINING_METALS",
    "Quartz Semiconductors": "SEMICONDUCTORS", "Redwood Legal": "LEGAL_SERVICES",
    "Summit Outdoor": "SPORTING_GOODS", "Tidal Shipping": "TRANSPORTATION_TRUCKING_RAILROAD",
}  # fmt: skip
DEAL_STAGES = (
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
    "contractsent", "closedwon", "closedlost",
)  # fmt: skip
PRODUCTS = ("Platform licence", "Onboarding", "Support renewal", "Expansion", "Pilot")
DEAL_COUNT = 25
SEED_DAYS = 200


def domain_of(company: str) -> str:
    """The demo people's email domain for a company (see ``seed_data.demo_people``)."""
    return company.split()[0].lower() + ".example"


def seed_demo(emulator: HubSpotEmulator) -> dict[str, int]:
    store = emulator.store
    start = datetime.now(UTC) - timedelta(days=SEED_DAYS)
    with emulator.lock:
        owners = emulator.owners.seed_demo()
        owner_ids = _active_owner_ids(emulator)
        companies = _seed_companies(emulator, start, owner_ids)
        people = [p for p in demo_people() if p.hs]
        contacts = [_seed_contact(emulator, p, start, owner_ids) for p in people]
        links = 0
        for person, contact in zip(people, contacts, strict=True):
            emulator.associations.associate(
                "contacts", contact.id, "companies", companies[person.company].id, publish=False
            )
            links += 1
        deals, deal_links = _seed_deals(emulator, start, owner_ids, companies, people, contacts)
        members = [c.id for i, c in enumerate(contacts) if i % 5 != 4]
        lists = emulator.lists.seed_demo(members)
        events = emulator.email_events.seed_demo(contacts)
    return {
        "contacts": len(store.records("contacts")),
        "companies": len(companies),
        "deals": deals,
        "associations": links + deal_links,
        "owners": owners,
        "lists": lists,
        "email_events": events,
    }


def _active_owner_ids(emulator: HubSpotEmulator) -> list[str]:
    ids = []
    for _first, _last, email, archived in DEMO_OWNERS:
        owner = emulator.owners.by_email(email)
        if owner is not None and not archived:
            ids.append(owner.id)
    return ids


def _owner(owner_ids: list[str], index: int) -> dict[str, str]:
    """Most records have an owner; every seventh has none."""
    if not owner_ids or index % 7 == 6:
        return {}
    return {"hubspot_owner_id": owner_ids[index % len(owner_ids)]}


def _seed_companies(emulator: HubSpotEmulator, start: datetime, owner_ids: list[str]) -> dict[str, CrmRecord]:
    companies = {}
    for i, name in enumerate(COMPANIES):
        city, country = CITIES[i % len(CITIES)]
        domain = domain_of(name)
        properties = {
            "name": name,
            "domain": domain,
            "website": f"https://www.{domain}",
            "phone": f"+1-555-01{i:02d}",
            "industry": INDUSTRY[name],
            "city": city,
            "country": country,
            "lifecyclestage": "customer" if i % 3 == 0 else "lead",
            "numberofemployees": str(20 + 37 * i),
            **_owner(owner_ids, i),
        }
        companies[name] = emulator.store.create(
            "companies", properties, at=start + timedelta(hours=i), publish=False
        )
    return companies


def _seed_contact(
    emulator: HubSpotEmulator, person: Person, start: datetime, owner_ids: list[str]
) -> CrmRecord:
    properties: dict[str, str] = {
        "email": person.email.lower(),
        "firstname": person.first_name,
        "lastname": person.last_name,
        "company": person.company,
        "city": person.city,
        "country": person.country,
        "lifecyclestage": person.lifecycle_stage,
        **_owner(owner_ids, person.index),
    }
    if person.title:
        properties["jobtitle"] = person.title
    if person.phone:
        properties["phone"] = person.phone
    if person.index % 4 == 1:
        properties["hs_lead_status"] = ("NEW", "OPEN", "IN_PROGRESS", "CONNECTED")[person.index % 4]
    created = start + timedelta(days=1, hours=person.index * 13)
    contact = emulator.store.create("contacts", properties, at=created, publish=False)
    if person.index % 23 == 5:
        # Opted out of all email through the communication-preferences API, as HubSpot records it.
        emulator.comm_prefs.unsubscribe_all(contact.properties["email"] or "", publish=False)
    return contact


def _seed_deals(
    emulator: HubSpotEmulator,
    start: datetime,
    owner_ids: list[str],
    companies: dict[str, CrmRecord],
    people: list[Person],
    contacts: list[CrmRecord],
) -> tuple[int, int]:
    links = 0
    for i in range(DEAL_COUNT):
        person = people[(i * 7) % len(people)]
        contact = contacts[(i * 7) % len(people)]
        company = companies[person.company]
        stage = DEAL_STAGES[i % len(DEAL_STAGES)]
        created = start + timedelta(days=20 + i * 6)
        properties = {
            "dealname": f"{person.company} - {PRODUCTS[i % len(PRODUCTS)]}",
            "amount": str(5000 + 2500 * (i % 9)),
            "dealstage": stage,
            "pipeline": "default",
            "closedate": (created + timedelta(days=45))
            .replace(hour=0, minute=0, second=0, microsecond=0)
            .isoformat(),
            "dealtype": "newbusiness" if i % 3 else "existingbusiness",
            **_owner(owner_ids, i),
        }
        deal = emulator.store.create("deals", properties, at=created, publish=False)
        emulator.associations.associate("deals", deal.id, "companies", company.id, publish=False)
        emulator.associations.associate("deals", deal.id, "contacts", contact.id, publish=False)
        links += 2
    return DEAL_COUNT, links
