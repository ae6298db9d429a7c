"""The email events parts of the adapters, with the real clients against the sandbox: HubSpot's
events read in pages of 1,000 and campaigns (cached); Salesforce Tasks created 200 per call, found
rather than sent again when an answer was lost, and upserted by an external-id field."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from infra.sandbox.salesforce.schema import DEFAULT_CUSTOM_FIELDS
from shared.adapters.auth import SalesforceTokenProvider
from shared.adapters.hubspot import HubSpotAdapter
from shared.adapters.retry import Retrier
from shared.adapters.salesforce import SalesforceAdapter
from shared.ports import RecordWrite
from tests.integration.test_adapters_hubspot import POLICY as HS_POLICY
from tests.integration.test_adapters_hubspot import Box as HubSpotBox
from tests.integration.test_adapters_salesforce import Box as SalesforceBox
from tests.integration.test_adapters_salesforce import LosingSession, leads
from tests.memory_state import MemoryCache

EVENTS = "GET /email/public/v1/events"
CAMPAIGN = "GET /email/public/v1/campaigns/{campaignId}"
EVENT_FIELD = "HubSpot_Email_Event_Id__c"


@pytest.fixture
def hs_box(fresh_sandbox) -> HubSpotBox:
    return HubSpotBox(fresh_sandbox)


@pytest.fixture
def sf_box(fresh_sandbox) -> SalesforceBox:
    return SalesforceBox(fresh_sandbox)


def _hubspot(box: HubSpotBox, **kwargs: Any) -> HubSpotAdapter:
    retrier = Retrier(HS_POLICY, sleep=lambda _s: None)
    return HubSpotAdapter(
        box.info["access_token"], host=box.info["url"], retrier=retrier, timeout=5, **kwargs
    )


def _calls(box: HubSpotBox) -> dict[str, int]:
    calls: dict[str, int] = box.stats()["calls"]
    return calls


def test_events_are_read_in_pages_of_a_thousand_in_their_window(hs_box):
    for index in range(12):
        hs_box.control(
            "POST",
            "email-events",
            {
                "recipient": f"p{index}@example.com",
                "campaignId": 2150000001,
                "subject": "Launch",
                "events": [{"type": "OPEN", "created": 1_800_000_000_000 + i} for i in range(100)],
            },
        )
    adapter = _hubspot(hs_box)
    hs_box.reset_stats()
    pages = list(adapter.email_events(1_800_000_000_000, 1_800_000_000_099))
    events = [e for page in pages for e in page]
    assert [len(page) for page in pages] == [1000, 200]
    assert len({e["id"] for e in events}) == 1200
    assert {e["type"] for e in events} == {"OPEN"}  # SENT/DELIVERED came before the window
    assert _calls(hs_box)[EVENTS] == 2


def test_a_campaign_is_read_once_and_an_unknown_one_is_none(hs_box):
    hs_box.control(
        "POST",
        "email-events",
        {
            "recipient": "a@example.com",
            "campaignId": 2150000005,
            "subject": "Hello",
            "events": [{"type": "OPEN"}],
        },
    )
    cache = MemoryCache()
    adapter = _hubspot(hs_box, cache=cache)
    hs_box.reset_stats()
    first = adapter.email_campaign(2150000005)
    again = adapter.email_campaign(2150000005)
    assert first == again
    assert first is not None
    assert first.subject == "Hello"
    assert _calls(hs_box)[CAMPAIGN] == 1
    assert adapter.email_campaign(999) is None


def _task(key: str, who: str | None, **extra: Any) -> RecordWrite:
    fields = {
        "WhoId": who,
        "Subject": f"Marketing email opened: {key}",
        "Description": f"Event id: {key}",
        "Status": "Completed",
        **extra,
    }
    return RecordWrite(key, None, fields)


def _adapter(sf_box: SalesforceBox, session: requests.Session | None = None) -> SalesforceAdapter:
    retrier = Retrier(HS_POLICY, sleep=lambda _s: None)
    if session is None:
        session = requests.Session()
    session.verify, session.trust_env = sf_box.ca, False
    tokens = SalesforceTokenProvider(sf_box.secret(), session=session, retrier=retrier, timeout=5)
    return SalesforceAdapter(tokens, timeout=5)


def test_tasks_whose_create_answer_was_lost_are_found_not_created_twice(sf_box, sf):
    lead = _adapter(sf_box).create("Lead", leads(1))[0].record_id
    session = LosingSession()
    adapter = _adapter(sf_box, session)
    created = adapter.create("Task", [_task(f"e{i}", lead) for i in range(5)])
    assert session.lost == 1
    assert all(o.ok for o in created)
    assert adapter.calls.by_operation["create"] == 1
    assert adapter.calls.by_operation["find_created"] == 1
    assert sf.query("SELECT Id FROM Task")["totalSize"] == 5


def test_tasks_are_upserted_by_their_event_id(sf_box):
    sf_box.control(
        "POST",
        "settings",
        {
            "custom_fields": [
                *DEFAULT_CUSTOM_FIELDS,
                {"object": "Task", "name": EVENT_FIELD, "type": "string", "length": 64, "external_id": True,
                 "unique": True},
            ]
        },
    )  # fmt: skip
    lead = _adapter(sf_box).create("Lead", leads(1))[0].record_id
    adapter = _adapter(sf_box)
    writes = [_task(f"e{i}", lead, **{EVENT_FIELD: f"e{i}"}) for i in range(250)]
    first = adapter.upsert("Task", EVENT_FIELD, writes)
    again = adapter.upsert("Task", EVENT_FIELD, writes)
    assert all(o.ok for o in first + again)
    assert [o.record_id for o in first] == [o.record_id for o in again]
    assert len({o.record_id for o in first}) == 250
    assert adapter.calls.by_operation["upsert"] == 4  # 200 + 50, twice
    missing = adapter.upsert("Task", EVENT_FIELD, [_task("e-none", lead)])
    assert missing[0].failure is not None
