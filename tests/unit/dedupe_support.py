"""Builders for the unit tests of dedupe's modules (tests/unit/test_dedupe_*.py): change events,
records, contacts, links and a contact schema over the in-memory fakes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from shared.config import SyncConfig, parse_config
from shared.models import ChangeEvent, ChangeType, System
from shared.pipeline.dedupe.contacts import ContactSchema
from shared.ports import HubSpotContact, Link, SalesforceRecord
from shared.state.keys import salesforce_id18
from tests.fakes import ORG, PORTAL, Clock, FakeHubSpot, FakeSalesforce

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
LEAD = salesforce_id18("00Q000000000001")
LEAD_2 = salesforce_id18("00Q000000000002")
LEAD_3 = salesforce_id18("00Q000000000003")
CONTACT = salesforce_id18("003000000000001")
CONTACT_2 = salesforce_id18("003000000000002")
USER = salesforce_id18("005000000000001")
USER_2 = salesforce_id18("005000000000002")


def config(text: str = "") -> SyncConfig:
    return parse_config(f"portals: [{PORTAL}]\n{text}")


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def hs_event(
    contact_id: str = "101",
    change: ChangeType = ChangeType.UPDATE,
    *,
    origin: str = "CRM_UI",
    origin_id: str | None = "userId:1",
    attempt: int = 0,
    **reported: str | None,
) -> ChangeEvent:
    return ChangeEvent(
        system=System.HUBSPOT,
        account=PORTAL,
        object_type="contacts",
        record_id=contact_id,
        change_type=change,
        occurred_at=NOW,
        origin=origin,
        origin_id=origin_id,
        source_event_id=f"{contact_id}:{change.value}:{attempt}:{sorted(reported.items())}",
        changed_fields=tuple(reported),
        reported=dict(reported),
        attempt=attempt,
    )


def sf_event(
    record_id: str = LEAD,
    change: ChangeType = ChangeType.UPDATE,
    *,
    sobject: str = "Lead",
    origin: str = "com/salesforce/api/rest/59.0;client=SfdcUI",
    attempt: int = 0,
    held: bool = False,
    reported: dict[str, str | None] | None = None,
    n: int = 0,
) -> ChangeEvent:
    return ChangeEvent(
        system=System.SALESFORCE,
        account=ORG,
        object_type=sobject,
        record_id=record_id,
        change_type=change,
        occurred_at=NOW,
        origin=origin,
        source_event_id=f"{record_id}:{n}",
        reported=reported or {},
        attempt=attempt,
        held=held,
    )


def contact(
    contact_id: str = "101", *, changed_at: dt.datetime = NOW, **properties: str | None
) -> HubSpotContact:
    return HubSpotContact(contact_id, dict(properties), dict.fromkeys(properties, changed_at), changed_at)


def record(
    record_id: str = LEAD,
    sobject: str = "Lead",
    *,
    created: dt.datetime = NOW,
    modified: dt.datetime = NOW,
    **fields: Any,
) -> SalesforceRecord:
    return SalesforceRecord(sobject, record_id, {"Id": record_id, **fields}, created, modified)


def link(
    hubspot_id: str = "101",
    sf_id: str = LEAD,
    sf_object: str = "Lead",
    *,
    rev: int = 3,
    synced: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> Link:
    return Link(PORTAL, hubspot_id, sf_object, sf_id, synced=dict(synced or {}), rev=rev)


def schema(
    sync_config: SyncConfig | None = None, *, salesforce: FakeSalesforce | None = None
) -> ContactSchema:
    """The contact schema over fakes: untyped Salesforce fields unless ``salesforce`` describes some."""
    clock = Clock(NOW)
    return ContactSchema(sync_config or config(), salesforce or FakeSalesforce(clock), FakeHubSpot(clock))
