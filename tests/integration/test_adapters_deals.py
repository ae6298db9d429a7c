"""Deal sync's adapter calls with the real clients against the sandbox: HubSpot deals (batch read
with history, create, update, archive), the deal pipelines, the deal property definitions, and the
deal settings checked against the sandbox's org and portal (``config validate --check``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shared.adapters.hubspot import HubSpotAdapter
from shared.adapters.retry import Retrier
from shared.config import parse_config
from shared.models import COMPANIES, DEALS
from shared.operations.deals_check import check_deals
from shared.ports import Association, AssociationPair, RecordWrite
from tests.integration import test_adapters_hubspot as hubspot
from tests.integration.test_adapters_accounts import hs_box, salesforce_adapter, sf_box  # noqa: F401

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
DEAL_READ = "POST /crm/v3/objects/{object_type}/batch/read"
PIPELINES = "GET /crm/v3/pipelines/{object_type}"


@pytest.fixture
def hubspot_adapter(hs_box) -> HubSpotAdapter:  # noqa: F811
    retrier = Retrier(hubspot.POLICY, sleep=lambda _: None)
    return HubSpotAdapter(hs_box.info["access_token"], host=hs_box.info["url"], retrier=retrier, timeout=5)


def deals(count: int) -> list[RecordWrite]:
    return [
        RecordWrite(f"k{i}", None, {"dealname": f"Deal {i}", "amount": "100", "dealstage": "qualifiedtobuy"})
        for i in range(count)
    ]


def _calls(box: Any, path: str) -> int:
    return int(box.stats()["calls"].get(path, 0))


def test_deals_round_trip_with_history_in_batches(hubspot_adapter, hs_box):  # noqa: F811
    hs_box.reset_stats()
    created = hubspot_adapter.create_deals(deals(120))
    assert all(o.ok for o in created)
    ids = [o.record_id for o in created if o.record_id]
    assert len(set(ids)) == 120
    assert _calls(hs_box, hubspot.CREATE) == 2  # 100 per call
    hs_box.reset_stats()
    read = hubspot_adapter.read_deals(ids, ["dealname", "amount", "dealstage", "pipeline"])
    assert _calls(hs_box, DEAL_READ) == 3  # 50 per call with property history
    assert read[ids[7]].properties["dealname"] == "Deal 7"
    assert read[ids[7]].properties["pipeline"] == "default"
    assert read[ids[7]].property_changed_at["dealname"].tzinfo is not None

    updated = hubspot_adapter.update_deals([RecordWrite("u", ids[0], {"dealstage": "closedwon"})])
    assert updated[0].ok
    assert hubspot_adapter.read_deals([ids[0]], ["dealstage"])[ids[0]].properties["dealstage"] == "closedwon"

    archived = hubspot_adapter.archive_deals([ids[1], ids[1], "999999999"])
    assert all(o.ok for o in archived)
    assert ids[1] not in hubspot_adapter.read_deals([ids[1]], ["dealname"])

    types = hubspot_adapter.deal_property_types(["amount", "closedate", "nope"])
    assert set(types) == {"amount", "closedate"}
    assert types["amount"]["type"] == "number"
    assert hubspot_adapter.calls.by_operation["deals_create"] == 2

    modified = hubspot_adapter.deals_modified_since(EPOCH, ["dealname"], 500)
    assert {d.id for d in modified} == set(ids) - {ids[1]}


def test_the_deal_pipelines_are_read_once_with_their_closed_and_won_stages(hubspot_adapter, hs_box):  # noqa: F811
    hs_box.reset_stats()
    pipelines = hubspot_adapter.deal_pipelines()
    assert hubspot_adapter.deal_pipelines() == pipelines
    assert _calls(hs_box, PIPELINES) == 1
    (pipeline,) = pipelines
    assert (pipeline.id, pipeline.label) == ("default", "Sales Pipeline")
    stages = {s.id: (s.closed, s.won) for s in pipeline.stages}
    assert stages["closedwon"] == (True, True)
    assert stages["closedlost"] == (True, False)
    assert stages["contractsent"] == (False, False)


def test_the_default_deal_settings_fit_the_sandbox(hubspot_adapter, salesforce_adapter):  # noqa: F811
    config = parse_config("portals: [1]\ndeals: {enabled: true}")
    assert check_deals(config, salesforce_adapter, hubspot_adapter) == []
    wrong = parse_config(
        "portals: [1]\ndeals:\n  enabled: true\n  pipelines:\n"
        "    - {salesforce: Closed Won, pipeline: default, stage: won}\n"
        "    - {salesforce: Won, pipeline: default, stage: closedwon}\n"
        "deal_mappings: [{hubspot: dealname, opportunity: Name},"
        " {hubspot: closedate, opportunity: CloseDate}, {hubspot: amount, opportunity: Nope__c}]\n"
    )
    assert check_deals(wrong, salesforce_adapter, hubspot_adapter) == [
        "deal_mappings: Salesforce field Opportunity.Nope__c does not exist",
        "deals.pipelines.0: HubSpot pipeline 'Sales Pipeline' (default) has no stage 'won'",
        "deals.pipelines.1: 'Won' is not a value of Opportunity.StageName",
    ]


def test_the_contact_roles_of_opportunities_come_in_one_call_primary_first(salesforce_adapter, sf_box):  # noqa: F811
    account = salesforce_adapter.create("Account", [RecordWrite("a", None, {"Name": "Roles Inc"})])[
        0
    ].record_id
    people = salesforce_adapter.create(
        "Contact",
        [RecordWrite(f"c{i}", None, {"LastName": f"Role {i}", "AccountId": account}) for i in range(3)],
    )
    contacts = [o.record_id for o in people]
    opportunities = salesforce_adapter.create(
        "Opportunity",
        [
            RecordWrite(
                f"o{i}", None, {"Name": f"Opp {i}", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
            )
            for i in range(2)
        ],
    )
    first, second = (o.record_id for o in opportunities)
    roles = [
        RecordWrite("r0", None, {"OpportunityId": first, "ContactId": contacts[0], "Role": "Evaluator"}),
        RecordWrite("r1", None, {"OpportunityId": first, "ContactId": contacts[1], "IsPrimary": True}),
        RecordWrite("r2", None, {"OpportunityId": second, "ContactId": contacts[2]}),
    ]
    assert all(o.ok for o in salesforce_adapter.create("OpportunityContactRole", roles))
    sf_box.reset_stats()
    found = salesforce_adapter.contact_roles([first, second, first])
    assert sum(sf_box.calls().values()) == 1
    assert [(r.opportunity_id, r.contact_id, r.primary) for r in found if r.opportunity_id == first] == [
        (first, contacts[1], True),
        (first, contacts[0], False),
    ]
    assert {r.role for r in found if r.contact_id == contacts[0]} == {"Evaluator"}
    assert [r.contact_id for r in found if r.opportunity_id == second] == [contacts[2]]
    assert salesforce_adapter.contact_roles([]) == []


def test_changed_contact_roles_come_with_their_opportunitys_state_in_one_call(salesforce_adapter, sf_box):  # noqa: F811
    account = salesforce_adapter.create("Account", [RecordWrite("a", None, {"Name": "Changed Roles"})])[
        0
    ].record_id
    people = salesforce_adapter.create(
        "Contact", [RecordWrite(f"c{i}", None, {"LastName": f"Changed {i}"}) for i in range(2)]
    )
    contacts = [o.record_id for o in people]
    won, open_ = (
        o.record_id
        for o in salesforce_adapter.create(
            "Opportunity",
            [
                RecordWrite("w", None, {"Name": "Won", "StageName": "Closed Won", "CloseDate": "2026-12-31",
                                        "AccountId": account}),
                RecordWrite("o", None, {"Name": "Open", "StageName": "Prospecting",
                                        "CloseDate": "2026-12-31"}),
            ],
        )
    )  # fmt: skip
    made = salesforce_adapter.create(
        "OpportunityContactRole",
        [
            RecordWrite("r0", None, {"OpportunityId": won, "ContactId": contacts[0], "Role": "Evaluator"}),
            RecordWrite("r1", None, {"OpportunityId": open_, "ContactId": contacts[1], "IsPrimary": True}),
        ],
    )
    roles = [str(o.record_id) for o in made]
    sf_box.reset_stats()
    found = {r.role_id: r for r in salesforce_adapter.changed_roles([*roles, roles[0][:15]])}
    assert sum(sf_box.calls().values()) == 1
    assert set(found) == set(roles)
    first, second = found[roles[0]], found[roles[1]]
    assert (first.role.opportunity_id, first.role.contact_id, first.role.role) == (
        won,
        contacts[0],
        "Evaluator",
    )
    assert (first.closed, first.won, first.account_id) == (True, True, account)
    assert (second.role.opportunity_id, second.role.primary) == (open_, True)
    assert (second.closed, second.won, second.account_id) == (False, False, None)
    assert salesforce_adapter.changed_roles([]) == []


def test_deals_not_linked_yet_are_read_without_history_100_a_call(hubspot_adapter, hs_box):  # noqa: F811
    ids = [str(o.record_id) for o in hubspot_adapter.create_deals(deals(120))]
    hs_box.reset_stats()
    read = hubspot_adapter.read_deals(ids, ["dealname", "amount"], history=False)
    assert _calls(hs_box, DEAL_READ) == 2  # 100 per call without property history
    assert read[ids[7]].properties["dealname"] == "Deal 7"
    assert read[ids[7]].property_changed_at["dealname"] == read[ids[7]].updated_at


def test_lifecycle_stages_are_read_without_history_100_a_call(hubspot_adapter, hs_box):  # noqa: F811
    writes = [
        RecordWrite(f"s{i}", None, {"email": f"stage{i}@example.com", "lifecyclestage": "lead"})
        for i in range(150)
    ]
    made = [str(o.record_id) for o in hubspot_adapter.create_contacts(writes)]
    hs_box.reset_stats()
    found = hubspot_adapter.lifecycle_stages([*made, made[0], "999999999"])
    assert _calls(hs_box, DEAL_READ) == 2  # 150 contacts: 100 a call, not 50 (no history)
    assert found == dict.fromkeys(made, "lead")


def test_a_deal_gets_its_primary_company_in_one_call(hubspot_adapter, hs_box):  # noqa: F811
    (made,) = hubspot_adapter.create_deals(deals(1))
    (company,) = hubspot_adapter.create_companies([RecordWrite("c", None, {"name": "Deal Co"})])
    assert made.record_id is not None
    assert company.record_id is not None
    hs_box.reset_stats()
    done = hubspot_adapter.associate_deal_companies([AssociationPair(made.record_id, company.record_id)])
    assert [o.ok for o in done] == [True]
    assert _calls(hs_box, "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create") == 1
    found = hubspot_adapter.associations(DEALS, COMPANIES, [made.record_id])
    assert found == {made.record_id: [Association(company.record_id, primary=True)]}


def test_a_deals_contacts_are_associated_in_one_call(hubspot_adapter, hs_box):  # noqa: F811
    """A role with no association label of its name is associated unlabelled."""
    (made,) = hubspot_adapter.create_deals(deals(1))
    contacts = hubspot_adapter.create_contacts(
        [RecordWrite(f"c{i}", None, {"email": f"role{i}@deals.example.com"}) for i in range(2)]
    )
    assert made.record_id is not None
    ids = [str(c.record_id) for c in contacts]
    hs_box.reset_stats()
    done = hubspot_adapter.associate_deal_contacts(
        [
            (AssociationPair(made.record_id, ids[0]), "Decision Maker"),
            (AssociationPair(made.record_id, ids[1]), None),
        ]
    )
    assert [o.ok for o in done] == [True, True]
    assert _calls(hs_box, "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create") == 1
    assert _calls(hs_box, "GET /crm/v4/associations/{fromObjectType}/{toObjectType}/labels") == 1
    found = hubspot_adapter.associations(DEALS, "contacts", [made.record_id])
    assert sorted(a.to_id for a in found[made.record_id]) == sorted(ids)
    assert not any(a.primary for a in found[made.record_id])


def test_the_opportunity_record_types_are_read_once(salesforce_adapter, sf_box):  # noqa: F811
    """The sandbox's org has record types of Accounts only: none of Opportunities."""
    sf_box.reset_stats()
    assert salesforce_adapter.record_type_names() == {}
    assert salesforce_adapter.record_type_names() == {}
    assert sf_box.calls().get("GET /services/data/{version}/query") == 1  # (besides the login)


def test_deleted_contact_roles_are_deleted_200_a_call_and_read_back_from_the_recycle_bin(
    salesforce_adapter,  # noqa: F811
    sf_box,  # noqa: F811
):
    people = salesforce_adapter.create(
        "Contact", [RecordWrite(f"c{i}", None, {"LastName": f"Gone {i}"}) for i in range(2)]
    )
    contacts = [str(o.record_id) for o in people]
    (made,) = salesforce_adapter.create(
        "Opportunity",
        [
            RecordWrite(
                "o", None, {"Name": "Roles gone", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
            )
        ],
    )
    opportunity = str(made.record_id)
    roles = [
        str(o.record_id)
        for o in salesforce_adapter.create(
            "OpportunityContactRole",
            [
                RecordWrite(f"r{i}", None, {"OpportunityId": opportunity, "ContactId": contacts[i % 2]})
                for i in range(201)
            ],
        )
    ]
    sf_box.reset_stats()
    deleted = salesforce_adapter.delete("OpportunityContactRole", roles)
    assert all(o.ok for o in deleted)
    assert [o.key for o in deleted] == roles
    assert sum(sf_box.calls().values()) == 2  # 200 per call
    assert salesforce_adapter.contact_roles([opportunity]) == []
    again = salesforce_adapter.delete("OpportunityContactRole", roles[:1])
    assert again[0].ok  # already deleted: deleted
    sf_box.reset_stats()
    found = salesforce_adapter.deleted_roles([roles[0], roles[1], roles[0][:15]])
    assert sum(sf_box.calls().values()) == 1  # queryAll
    assert sorted((r.role_id, r.opportunity_id, r.contact_id) for r in found) == sorted(
        [(roles[0], opportunity, contacts[0]), (roles[1], opportunity, contacts[1])]
    )
    assert salesforce_adapter.deleted_roles([]) == []


def test_a_deals_contacts_are_removed_in_one_call(hubspot_adapter, hs_box):  # noqa: F811
    (made,) = hubspot_adapter.create_deals(deals(1))
    contacts = hubspot_adapter.create_contacts(
        [RecordWrite(f"c{i}", None, {"email": f"removed{i}@deals.example.com"}) for i in range(2)]
    )
    assert made.record_id is not None
    ids = [str(c.record_id) for c in contacts]
    hubspot_adapter.associate_deal_contacts([(AssociationPair(made.record_id, i), None) for i in ids])
    hs_box.reset_stats()
    done = hubspot_adapter.dissociate_deal_contacts([AssociationPair(made.record_id, ids[0])])
    assert [o.ok for o in done] == [True]
    assert _calls(hs_box, "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive") == 1
    found = hubspot_adapter.associations(DEALS, "contacts", [made.record_id])
    assert [a.to_id for a in found[made.record_id]] == [ids[1]]
