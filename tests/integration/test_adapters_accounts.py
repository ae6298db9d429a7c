"""Account sync's adapter calls with the real clients against the sandbox: HubSpot companies (batch
read with history, create, update, archive, search), contact <-> company associations v4 (batch read,
primary create, archive), and Salesforce Accounts with their Contacts (AccountId), each batched
(counted by the sandbox)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from shared.adapters.hubspot import HubSpotAdapter
from shared.adapters.retry import Retrier
from shared.adapters.salesforce import SalesforceAdapter
from shared.models import COMPANIES, CONTACTS
from shared.ports import Association, AssociationPair, RecordWrite
from tests.integration import test_adapters_hubspot as hubspot
from tests.integration import test_adapters_salesforce as salesforce

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
COMPANY_READ = "POST /crm/v3/objects/{object_type}/batch/read"
ASSOCIATION_READ = "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read"
ASSOCIATION_CREATE = "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create"


@pytest.fixture
def hs_box(fresh_sandbox) -> hubspot.Box:
    return hubspot.Box(fresh_sandbox)


@pytest.fixture
def sf_box(fresh_sandbox) -> salesforce.Box:
    return salesforce.Box(fresh_sandbox)


@pytest.fixture
def hubspot_adapter(hs_box) -> HubSpotAdapter:
    retrier = Retrier(hubspot.POLICY, sleep=lambda _: None)
    return HubSpotAdapter(hs_box.info["access_token"], host=hs_box.info["url"], retrier=retrier, timeout=5)


@pytest.fixture
def salesforce_adapter(sf_box, sf_session) -> SalesforceAdapter:
    from shared.adapters.auth import SalesforceTokenProvider

    retrier = Retrier(salesforce.POLICY, sleep=lambda _: None)
    tokens = SalesforceTokenProvider(sf_box.secret(), session=sf_session, retrier=retrier, timeout=5)
    return SalesforceAdapter(tokens, timeout=5)


def companies(count: int) -> list[RecordWrite]:
    return [
        RecordWrite(f"k{i}", None, {"name": f"Company {i}", "domain": f"c{i}.example.com"})
        for i in range(count)
    ]


def _calls(box: Any, path: str) -> int:
    return int(box.stats()["calls"].get(path, 0))


def test_companies_round_trip_with_history_in_batches(hubspot_adapter, hs_box):
    hs_box.reset_stats()
    created = hubspot_adapter.create_companies(companies(120))
    assert all(o.ok for o in created)
    assert [o.key for o in created] == [f"k{i}" for i in range(120)]
    ids = [o.record_id for o in created if o.record_id]
    assert len(set(ids)) == 120
    assert _calls(hs_box, hubspot.CREATE) == 2  # 100 per call
    hs_box.reset_stats()
    read = hubspot_adapter.read_companies(ids, ["name", "domain"])
    assert _calls(hs_box, COMPANY_READ) == 3  # 50 per call with property history
    assert read[ids[7]].properties["name"] == "Company 7"
    assert read[ids[7]].property_changed_at["name"].tzinfo is not None

    updated = hubspot_adapter.update_companies([RecordWrite("u", ids[0], {"name": "Renamed", "phone": None})])
    assert updated[0].ok
    assert hubspot_adapter.read_companies([ids[0]], ["name"])[ids[0]].properties["name"] == "Renamed"

    archived = hubspot_adapter.archive_companies([ids[1], ids[1], "999999999"])
    assert all(o.ok for o in archived)
    assert ids[1] not in hubspot_adapter.read_companies([ids[1]], ["name"])

    types = hubspot_adapter.company_property_types(["name", "numberofemployees", "nope"])
    assert set(types) == {"name", "numberofemployees"}
    assert types["numberofemployees"]["type"] == "number"

    modified = hubspot_adapter.companies_modified_since(EPOCH, ["name"], 500)
    assert {c.id for c in modified} == set(ids) - {ids[1]}
    assert hubspot_adapter.calls.by_operation["companies_create"] == 2


def test_contacts_get_their_primary_company_and_lose_it_in_batches(hubspot_adapter, hs_box):
    contact_ids = [o.record_id for o in hubspot_adapter.create_contacts(hubspot.contacts(3, "assoc"))]
    company_ids = [o.record_id for o in hubspot_adapter.create_companies(companies(2))]
    assert None not in contact_ids
    assert None not in company_ids
    first, second = company_ids
    hs_box.reset_stats()
    pairs = [AssociationPair(c, first) for c in contact_ids[:2]] + [AssociationPair(contact_ids[2], second)]
    done = hubspot_adapter.associate_primary(pairs)
    assert [o.ok for o in done] == [True, True, True]
    assert _calls(hs_box, ASSOCIATION_CREATE) == 1

    hs_box.reset_stats()
    found = hubspot_adapter.associations(CONTACTS, COMPANIES, contact_ids)
    assert found == {
        contact_ids[0]: [Association(first, primary=True)],
        contact_ids[1]: [Association(first, primary=True)],
        contact_ids[2]: [Association(second, primary=True)],
    }
    people = hubspot_adapter.associations(COMPANIES, CONTACTS, company_ids)
    assert sorted(a.to_id for a in people[first]) == sorted(contact_ids[:2])
    assert _calls(hs_box, ASSOCIATION_READ) == 2  # one per direction

    # moving a contact: the new company becomes its primary one
    moved = hubspot_adapter.associate_primary([AssociationPair(contact_ids[0], second)])
    assert moved[0].ok
    after = hubspot_adapter.associations(CONTACTS, COMPANIES, [contact_ids[0]])[contact_ids[0]]
    assert {a.to_id: a.primary for a in after} == {first: False, second: True}
    removed = hubspot_adapter.dissociate(CONTACTS, COMPANIES, [AssociationPair(contact_ids[0], first)])
    assert removed[0].ok
    assert hubspot_adapter.associations(CONTACTS, COMPANIES, [contact_ids[0]]) == {
        contact_ids[0]: [Association(second, primary=True)]
    }
    # a contact with no company has no entry (HubSpot reports it as a 207 error)
    hubspot_adapter.dissociate(CONTACTS, COMPANIES, [AssociationPair(contact_ids[0], second)])
    assert contact_ids[0] not in hubspot_adapter.associations(CONTACTS, COMPANIES, [contact_ids[0]])


def test_an_association_to_a_missing_company_fails_alone(hubspot_adapter):
    (contact,) = [o.record_id for o in hubspot_adapter.create_contacts(hubspot.contacts(1, "lone"))]
    (company,) = [o.record_id for o in hubspot_adapter.create_companies(companies(1))]
    assert contact is not None
    assert company is not None
    done = hubspot_adapter.associate_primary(
        [AssociationPair(contact, company), AssociationPair(contact, "987654")]
    )
    assert done[0].ok
    assert not done[1].ok
    assert done[1].failure is not None


def test_accounts_and_the_contacts_of_accounts_in_batched_calls(salesforce_adapter, sf_box):
    accounts = salesforce_adapter.create(
        "Account",
        [RecordWrite(f"a{i}", None, {"Name": f"Account {i}", "Website": "a.example.com"}) for i in range(3)],
    )
    account_ids = [o.record_id for o in accounts]
    assert all(o.ok for o in accounts)
    assert all(i is not None and i.startswith("001") for i in account_ids)
    people = salesforce_adapter.create(
        "Contact",
        [
            RecordWrite(f"c{i}", None, {"LastName": f"P{i}", "AccountId": account_ids[i % 2]})
            for i in range(4)
        ],
    )
    contact_ids = [o.record_id for o in people]
    salesforce_adapter.describe_fields("Contact")  # described once per process
    sf_box.reset_stats()
    found = salesforce_adapter.contacts_of_accounts([*account_ids, *account_ids], ["LastName", "AccountId"])
    assert sorted(r.id for r in found) == sorted(i for i in contact_ids if i)
    assert {r.fields["AccountId"] for r in found} == set(account_ids[:2])
    assert sf_box.calls() == {"GET /services/data/{version}/query": 1}
    assert salesforce_adapter.contacts_of_accounts([], ["LastName"]) == []

    # a Contact moves to another Account; the Account's fields read back
    moved = salesforce_adapter.update(
        "Contact", [RecordWrite("m", contact_ids[0], {"AccountId": account_ids[2]})]
    )
    assert moved[0].ok
    got = salesforce_adapter.retrieve("Contact", [contact_ids[0]], ["AccountId"])
    assert got[contact_ids[0]].fields["AccountId"] == account_ids[2]
    read = salesforce_adapter.retrieve("Account", account_ids, ["Name", "Website", "OwnerId"])
    assert read[account_ids[1]].fields["Name"] == "Account 1"
    assert read[account_ids[1]].fields["OwnerId"]


def test_the_accounts_merged_into_a_master_are_found_in_one_query(salesforce_adapter, sf_box):
    made = salesforce_adapter.create(
        "Account", [RecordWrite(f"a{i}", None, {"Name": f"Merged {i}"}) for i in range(4)]
    )
    master, loser, other_master, other_loser = [o.record_id or "" for o in made]
    sf_box.control("POST", "merge", {"sobject": "Account", "masterId": master, "mergeIds": [loser]})
    sf_box.control(
        "POST", "merge", {"sobject": "Account", "masterId": other_master, "mergeIds": [other_loser]}
    )
    sf_box.reset_stats()
    assert salesforce_adapter.merged_into("Account", [master, master[:15]]) == {loser: master}
    assert sf_box.calls() == {"GET /services/data/{version}/queryAll": 1}
    assert salesforce_adapter.merged_into("Account", [loser]) == {}  # a loser is no master
    assert salesforce_adapter.merged_into("Account", []) == {}


# -- lost creates (shared.accounts.creation_intents) -------------------------------------------
COMPANY_SEARCH = "POST /crm/v3/objects/{object_type}/search"


def test_companies_created_since_are_found_by_name_in_one_search(hubspot_adapter, hs_box):
    before = hubspot_adapter.create_companies([RecordWrite("old", None, {"name": "Acme"})])
    since = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    created = hubspot_adapter.create_companies(
        [
            RecordWrite("a", None, {"name": "Acme", "domain": "acme.example"}),
            RecordWrite("b", None, {"name": "Beta Corp"}),
            RecordWrite("c", None, {"name": "Gamma"}),
        ]
    )
    hs_box.reset_stats()
    found = hubspot_adapter.companies_created_since(["ACME", "Beta Corp", "Nobody"], since)
    assert _calls(hs_box, COMPANY_SEARCH) == 1
    assert sorted(f.record_id for f in found) == sorted(str(o.record_id) for o in created[:2])
    assert str(before[0].record_id) not in {f.record_id for f in found}
    acme = next(f for f in found if f.record_id == created[0].record_id)
    assert acme.values == {"name": "Acme", "domain": "acme.example"}
    assert since <= acme.created_at
    assert hubspot_adapter.companies_created_since([], since) == []


def test_a_lost_account_create_is_not_sent_again_and_is_found_by_name(sf_box, sf_session):
    from shared.adapters.auth import SalesforceTokenProvider

    session = salesforce.LosingSession()
    session.verify, session.trust_env = sf_box.ca, False
    retrier = Retrier(salesforce.POLICY, sleep=lambda _: None)
    tokens = SalesforceTokenProvider(sf_box.secret(), session=session, retrier=retrier, timeout=5)
    adapter = SalesforceAdapter(tokens, timeout=5)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    lost = adapter.create("Account", [RecordWrite("a", None, {"Name": "Lost Co", "Website": "lost.example"})])
    assert session.lost == 1
    assert not lost[0].ok
    assert lost[0].failure is not None
    assert lost[0].failure.code == "AMBIGUOUS_CREATE"
    assert lost[0].failure.retryable
    assert adapter.calls.by_operation["create"] == 1  # an Account has no email: never sent again
    other = adapter.create("Account", [RecordWrite("b", None, {"Name": "Other Co"})])
    sf_box.reset_stats()
    found = adapter.accounts_created_since(["Lost Co", "Nobody's"], since)
    assert sf_box.calls() == {"GET /services/data/{version}/query": 1}
    assert len(found) == 1
    assert found[0].record_id.startswith("001")
    assert found[0].record_id != other[0].record_id
    assert found[0].values == {"Name": "Lost Co", "Website": "lost.example"}
    assert (
        adapter.accounts_created_since(["Lost Co"], dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)) == []
    )
