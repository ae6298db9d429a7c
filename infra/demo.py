"""``make demo``: start the seeded sandbox, look at it through the real clients, print what is there.

Everything goes through the same clients and wire formats the connector uses against the real CRMs
(simple-salesforce over HTTPS with an OAuth token, hubspot-api-client with a private-app token).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infra.sandbox.runner import Sandbox, SandboxInfo


@dataclass
class Inventory:
    salesforce: dict[str, int] = field(default_factory=dict)
    hubspot: dict[str, int] = field(default_factory=dict)
    overlap: dict[str, int] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)


def salesforce_client(info: SandboxInfo) -> Any:
    from simple_salesforce.api import Salesforce

    session = requests.Session()
    session.verify = info.salesforce["ca_bundle"]
    session.trust_env = False  # an environment CA bundle would override verify (requests' precedence)
    token = session.post(
        info.salesforce["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info.salesforce["client_id"],
            "client_secret": info.salesforce["client_secret"],
        },
        timeout=10,
    )
    token.raise_for_status()
    body = token.json()
    return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=session)


def hubspot_client(info: SandboxInfo) -> Any:
    from hubspot import HubSpot

    return HubSpot(access_token=info.hubspot["access_token"], host=info.hubspot["url"])


def _count(sf: Any, soql: str) -> int:
    return int(sf.query(soql)["totalSize"])


def _hubspot_emails(hs: Any) -> list[str]:
    emails: list[str] = []
    after: str | None = None
    while True:
        page = hs.crm.contacts.basic_api.get_page(limit=100, after=after, properties=["email"])
        emails.extend(c.properties.get("email") or "" for c in page.results)
        if page.paging is None or page.paging.next is None:
            return emails
        after = page.paging.next.after


def _hubspot_total(hs: Any, object_type: str) -> int:
    from hubspot.crm.objects import PublicObjectSearchRequest

    result = hs.crm.objects.search_api.do_search(
        object_type, public_object_search_request=PublicObjectSearchRequest(limit=1)
    )
    return int(result.total)


def take_inventory(info: SandboxInfo) -> Inventory:
    sf = salesforce_client(info)
    hs = hubspot_client(info)
    inv = Inventory()
    inv.salesforce = {
        "leads (unconverted)": _count(sf, "SELECT COUNT() FROM Lead WHERE IsConverted = false"),
        "contacts": _count(sf, "SELECT COUNT() FROM Contact"),
        "accounts": _count(sf, "SELECT COUNT() FROM Account"),
        "person accounts": _count(sf, "SELECT COUNT() FROM Account WHERE IsPersonAccount = true"),
        "opportunities": _count(sf, "SELECT COUNT() FROM Opportunity"),
        "closed won": _count(sf, "SELECT COUNT() FROM Opportunity WHERE IsWon = true"),
        "contact roles": _count(sf, "SELECT COUNT() FROM OpportunityContactRole"),
        "users": _count(sf, "SELECT COUNT() FROM User"),
        "queues": _count(sf, "SELECT COUNT() FROM Group WHERE Type = 'Queue'"),
    }
    owners = hs.crm.owners.owners_api.get_page(limit=500)
    inv.hubspot = {
        "contacts": _hubspot_total(hs, "contacts"),
        "companies": _hubspot_total(hs, "companies"),
        "deals": _hubspot_total(hs, "deals"),
        "owners": len(owners.results),
    }

    sf_emails = [
        r["Email"]
        for soql in ("SELECT Email FROM Lead WHERE IsConverted = false", "SELECT Email FROM Contact")
        for r in sf.query_all(soql)["records"]
        if r["Email"]
    ]
    hs_emails = [e for e in _hubspot_emails(hs) if e]
    sf_norm = Counter(e.strip().lower() for e in sf_emails)
    hs_norm = {e.strip().lower() for e in hs_emails}
    exact_hs = set(hs_emails)
    inv.overlap = {
        "emails in both systems": len(set(sf_norm) & hs_norm),
        "  of which differ only in case": sum(
            1 for e in sf_emails if e not in exact_hs and e.lower() in hs_norm
        ),
        "same-email duplicates in Salesforce": sum(1 for n in sf_norm.values() if n > 1),
    }
    sf_stats = requests.get(
        f"{info.salesforce['url']}/_sandbox/stats", verify=info.salesforce["ca_bundle"], timeout=5
    ).json()
    hs_stats = requests.get(f"{info.hubspot['url']}/_sandbox/stats", timeout=5).json()
    inv.api_calls = {"salesforce": sf_stats["api_calls_total"], "hubspot": hs_stats["api_calls_total"]}
    return inv


def render(inv: Inventory) -> str:
    lines = ["", "hssync sandbox - what is in it (read through the real clients)", ""]
    for title, table in (
        ("Salesforce", inv.salesforce),
        ("HubSpot", inv.hubspot),
        ("Overlap the connector must resolve", inv.overlap),
        ("API calls this inventory made", inv.api_calls),
    ):
        lines.append(title)
        width = max(len(k) for k in table)
        lines.extend(f"  {k:<{width}}  {v:>6}" for k, v in table.items())
        lines.append("")
    return "\n".join(lines)


def run_demo(state_dir: Path) -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print("starting the sandbox with the demo data set ...", flush=True)
    with Sandbox(salesforce_port=0, hubspot_port=0, state_dir=state_dir, seed="demo") as sandbox:
        print(f"ready salesforce={sandbox.salesforce_url} hubspot={sandbox.hubspot_url}", flush=True)
        inventory = take_inventory(sandbox.info)
        print(render(inventory))
    missing = [k for k, v in {**inventory.salesforce, **inventory.hubspot}.items() if v == 0]
    if missing:
        print(f"demo data set is incomplete: nothing in {', '.join(missing)}")
        return 1
    print("The sync pipeline that links these records arrives with the next milestone.")
    return 0
