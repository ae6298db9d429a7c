"""The demo data set's people, shared by both emulators' seeds so that their emails overlap on purpose.

Deterministic: the same list every time. Each person says where it lives:
- ``sf_lead`` / ``sf_contact``: a Salesforce Lead or a Contact (with an Account),
- ``hs``: a HubSpot contact,
- ``sf_email``: the email as Salesforce holds it. Salesforce keeps the case it was given, HubSpot
  stores emails lower-cased, so some overlapping people differ only in case (a connector must
  treat them as the same address),
- ``sf_duplicates``: how many extra Salesforce records share this email (same-email duplicates).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = [
    "Aiko", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko", "Liam",
    "Maya", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Ximena",
    "Yusuf", "Zoe", "Arjun", "Bianca", "Chen", "Dana",
]  # fmt: skip
LAST = [
    "Abe", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hayashi", "Ivanova", "Jensen",
    "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Sato", "Tanaka",
    "Ueda", "Varga", "Weber", "Xu", "Yamada", "Zimmer",
]  # fmt: skip
COMPANIES = [
    "Acme Robotics", "Blue Harbor Logistics", "Cedar Health", "Delta Foods", "Evergreen Energy",
    "Fjord Analytics", "Granite Insurance", "Helios Solar", "Iris Biotech", "Juniper Retail",
    "Kestrel Aerospace", "Lumen Media", "Maple Finance", "Nimbus Cloud", "Orchid Hotels",
    "Pioneer Mining", "Quartz Semiconductors", "Redwood Legal", "Summit Outdoor", "Tidal Shipping",
]  # fmt: skip
TITLES = ["VP Sales", "Head of Marketing", "CTO", "Operations Manager", "Buyer", "CFO", "Engineer", None]
CITIES = [
    ("Tokyo", "JP"),
    ("Berlin", "DE"),
    ("Austin", "US"),
    ("Lyon", "FR"),
    ("Toronto", "CA"),
    ("Osaka", "JP"),
]
LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"]
LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]


@dataclass(frozen=True)
class Person:
    index: int
    first_name: str
    last_name: str
    email: str
    company: str
    title: str | None
    phone: str | None
    city: str
    country: str
    sf_lead: bool
    sf_contact: bool
    hs: bool
    sf_email: str
    sf_duplicates: int
    lifecycle_stage: str
    lead_status: str


def demo_people(count: int = 300, seed: int = 20261128) -> list[Person]:
    rng = random.Random(seed)
    people: list[Person] = []
    for i in range(count):
        first = FIRST[i % len(FIRST)]
        last = LAST[(i * 7) % len(LAST)]
        company = COMPANIES[(i * 3) % len(COMPANIES)]
        domain = company.split()[0].lower() + ".example"
        email = f"{first.lower()}.{last.lower()}{i}@{domain}"
        bucket = i % 10
        # 0-2: Salesforce lead only, 3-4: Salesforce contact only, 5-6: HubSpot only,
        # 7: lead in both, 8: contact in both, 9: lead in both with an email differing in case/space.
        sf_lead = bucket in (0, 1, 2, 7, 9)
        sf_contact = bucket in (3, 4, 8)
        hs = bucket in (5, 6, 7, 8, 9)
        sf_email = email
        if bucket == 9:
            sf_email = email.upper() if i % 20 == 9 else email.capitalize()
        city, country = CITIES[i % len(CITIES)]
        people.append(
            Person(
                index=i,
                first_name=first,
                last_name=last,
                email=email,
                company=company,
                title=TITLES[i % len(TITLES)],
                phone=f"+1-555-{rng.randrange(1000, 9999):04d}" if i % 4 else None,
                city=city,
                country=country,
                sf_lead=sf_lead,
                sf_contact=sf_contact,
                hs=hs,
                sf_email=sf_email,
                sf_duplicates=1 if i in (3, 17, 41) else 0,
                lifecycle_stage=LIFECYCLE[i % len(LIFECYCLE)],
                lead_status=LEAD_STATUSES[i % len(LEAD_STATUSES)],
            )
        )
    return people
