"""Where a deal or Opportunity create whose answer was lost is looked for
(``shared.accounts.creation_intents``), with the real clients against the sandbox: HubSpot deals
created since a moment by dealname (one search), and Opportunities created by the integration user
since a moment by Name (one query); a lost Opportunity or contact role create is never sent again by
the adapter."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from shared.adapters.hubspot import HubSpotAdapter
from shared.adapters.retry import Retrier
from shared.adapters.salesforce import SalesforceAdapter
from shared.ports import RecordWrite
from tests.integration import test_adapters_hubspot as hubspot
from tests.integration import test_adapters_salesforce as salesforce
from tests.integration.test_adapters_accounts import hs_box, salesforce_adapter, sf_box  # noqa: F401

SEARCH = "POST /crm/v3/objects/{object_type}/search"
QUERY = "GET /services/data/{version}/query"


@pytest.fixture
def hubspot_adapter(hs_box) -> HubSpotAdapter:  # noqa: F811
    retrier = Retrier(hubspot.POLICY, sleep=lambda _: None)
    return HubSpotAdapter(hs_box.info["access_token"], host=hs_box.info["url"], retrier=retrier, timeout=5)


def _calls(box: Any, path: str) -> int:
    return int(box.stats()["calls"].get(path, 0))


def _deal(key: str, name: str, **more: str) -> RecordWrite:
    return RecordWrite(key, None, {"dealname": name, "dealstage": "qualifiedtobuy", **more})


def test_deals_created_since_are_found_by_dealname_in_one_search(hubspot_adapter, hs_box):  # noqa: F811
    before = hubspot_adapter.create_deals([_deal("old", "Big deal")])
    since = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    created = hubspot_adapter.create_deals(
        [
            _deal("a", "Big deal", amount="5000", closedate="2026-12-31T00:00:00Z"),
            _deal("b", "Small deal"),
            _deal("c", "Other deal"),
        ]
    )
    hs_box.reset_stats()
    found = hubspot_adapter.deals_created_since(["BIG DEAL", "Small deal", "Nobody's"], since)
    assert _calls(hs_box, SEARCH) == 1
    assert hubspot_adapter.calls.by_operation["deals_search"] == 1
    assert sorted(f.record_id for f in found) == sorted(str(o.record_id) for o in created[:2])
    assert str(before[0].record_id) not in {f.record_id for f in found}
    big = next(f for f in found if f.record_id == created[0].record_id)
    assert big.values["dealname"] == "Big deal"
    assert float(big.values["amount"]) == 5000
    assert str(big.values["closedate"]).startswith("2026-12-31")
    assert set(big.values) == {"dealname", "amount", "closedate"}
    assert since <= big.created_at
    assert hubspot_adapter.deals_created_since([], since) == []


def _losing_adapter(sf_box: Any) -> tuple[SalesforceAdapter, salesforce.LosingSession]:  # noqa: F811
    """An adapter whose first collection create is applied and its answer lost (a read timeout)."""
    from shared.adapters.auth import SalesforceTokenProvider

    session = salesforce.LosingSession()
    session.verify, session.trust_env = sf_box.ca, False
    retrier = Retrier(salesforce.POLICY, sleep=lambda _: None)
    tokens = SalesforceTokenProvider(sf_box.secret(), session=session, retrier=retrier, timeout=5)
    return SalesforceAdapter(tokens, timeout=5), session


def test_a_lost_opportunity_create_is_not_sent_again_and_is_found_by_name(sf_box, sf_session):  # noqa: F811
    adapter, session = _losing_adapter(sf_box)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    fields = {"Name": "Lost deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 5000}
    lost = adapter.create("Opportunity", [RecordWrite("a", None, fields)])
    assert session.lost == 1
    assert not lost[0].ok
    assert lost[0].failure is not None
    assert lost[0].failure.code == "AMBIGUOUS_CREATE"
    assert lost[0].failure.retryable
    assert adapter.calls.by_operation["create"] == 1  # an Opportunity has no email: never sent again
    other = adapter.create("Opportunity", [RecordWrite("b", None, {**fields, "Name": "Other deal"})])
    sf_box.reset_stats()
    found = adapter.opportunities_created_since(["Lost deal", "Nobody's"], since)
    assert sf_box.calls() == {QUERY: 1}
    assert len(found) == 1
    assert found[0].record_id.startswith("006")
    assert len(found[0].record_id) == 18
    assert found[0].record_id != other[0].record_id
    assert found[0].values["Name"] == "Lost deal"
    assert float(found[0].values["Amount"]) == 5000
    assert str(found[0].values["CloseDate"]).startswith("2026-12-31")
    assert (
        adapter.opportunities_created_since(["Lost deal"], dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
        == []
    )
    assert adapter.opportunities_created_since([], since) == []


def test_a_lost_contact_role_create_is_not_sent_again_and_is_seen_by_the_roles_read(
    sf_box,  # noqa: F811
    salesforce_adapter,  # noqa: F811
):
    contact = salesforce_adapter.create("Contact", [RecordWrite("c", None, {"LastName": "Lost Role"})])
    opportunity = salesforce_adapter.create(
        "Opportunity",
        [
            RecordWrite(
                "o", None, {"Name": "Role deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
            )
        ],
    )
    contact_id, opportunity_id = contact[0].record_id, opportunity[0].record_id
    adapter, session = _losing_adapter(sf_box)
    role = {"OpportunityId": opportunity_id, "ContactId": contact_id, "IsPrimary": True}
    lost = adapter.create("OpportunityContactRole", [RecordWrite("r", None, role)])
    assert session.lost == 1
    assert not lost[0].ok
    assert lost[0].failure is not None
    assert lost[0].failure.code == "AMBIGUOUS_CREATE"
    assert lost[0].failure.retryable
    assert adapter.calls.by_operation["create"] == 1  # a contact role has no email: never sent again
    assert "find_created" not in adapter.calls.by_operation
    sf_box.reset_stats()
    found = salesforce_adapter.contact_roles([str(opportunity_id)])
    assert sf_box.calls() == {QUERY: 1}  # the deal's fresh read sees the role the lost create made
    assert [(r.opportunity_id, r.contact_id, r.primary) for r in found] == [
        (opportunity_id, contact_id, True)
    ]
