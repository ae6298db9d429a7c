"""A contact's or a company's association change with a deal (``shared.pipeline.dedupe.deals.
associations``): HubSpot names the other object (``associationType``), the change keeps it, and with
deal sync on it is answered without a read (it is not a contact <-> company association)."""

from __future__ import annotations

from typing import Any

from shared.inbound.hubspot import parse_notification
from shared.models import COMPANIES, CONTACTS, DEALS, ChangeEvent, ChangeType, System
from shared.pipeline.dedupe import Deduper
from shared.pipeline.dedupe.deals.associations import DEAL_ASSOCIATION, with_a_deal
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState
from tests.unit.dedupe_support import config
from tests.unit.test_accounts_part import FakeAccounts, FakeCompanies
from tests.unit.test_deals_part import FakeDeals, FakeRoles


def _note(subscription: str, association_type: str | None) -> dict[str, Any]:
    note: dict[str, Any] = {"eventId": 7, "subscriptionId": 1, "portalId": 1000001, "appId": 42,
                            "occurredAt": 1_764_360_000_000, "subscriptionType": subscription,
                            "attemptNumber": 0, "objectId": 55, "fromObjectId": 55, "toObjectId": 66,
                            "changeSource": "CRM_UI", "associationRemoved": False}  # fmt: skip
    if association_type is not None:
        note["associationType"] = association_type
    return note


def test_an_association_change_names_the_other_records_object():
    assert parse_notification(_note("contact.associationChange", "CONTACT_TO_DEAL")).related_type == DEALS
    assert parse_notification(_note("deal.associationChange", "DEAL_TO_CONTACT")).related_type == CONTACTS
    assert (
        parse_notification(_note("contact.associationChange", "CONTACT_TO_COMPANY")).related_type == COMPANIES
    )
    assert parse_notification(_note("company.associationChange", "COMPANY_TO_DEAL")).related_type == DEALS
    assert parse_notification(_note("contact.associationChange", "CONTACT_TO_TICKET")).related_type is None
    assert parse_notification(_note("contact.associationChange", None)).related_type is None


def _association(object_type: str, related_type: str | None) -> ChangeEvent:
    return ChangeEvent(system=System.HUBSPOT, account=PORTAL, object_type=object_type, record_id="55",
                       change_type=ChangeType.ASSOCIATION, occurred_at=Clock()(), origin="CRM_UI",
                       origin_id="userId:1", source_event_id="a1", related_ids=("66",),
                       related_type=related_type)  # fmt: skip


def test_only_contacts_and_companies_associations_with_a_deal_are_the_deals():
    assert with_a_deal(_association(CONTACTS, DEALS))
    assert with_a_deal(_association(COMPANIES, DEALS))
    assert not with_a_deal(_association(CONTACTS, COMPANIES))
    assert not with_a_deal(_association(CONTACTS, None))
    assert not with_a_deal(_association(DEALS, CONTACTS))


def _process(text: str, event: ChangeEvent) -> tuple[dict[str, int], int]:
    clock = Clock()
    hubspot = FakeHubSpot(clock)
    salesforce, companies = FakeSalesforce(clock), FakeCompanies(clock)
    deduper = Deduper(config=config(text), portal=PORTAL, salesforce=salesforce, hubspot=hubspot,
                      state=MemoryState(clock=clock), own_app_id=APP_ID, clock=clock, deals=FakeDeals(clock),
                      opportunities=FakeRoles(), companies=companies,
                      accounts=FakeAccounts(salesforce))  # fmt: skip
    return dict(deduper.process([event]).skipped), hubspot.calls + len(companies.calls)


def test_with_deal_sync_on_a_contacts_association_with_a_deal_is_answered_without_a_read():
    skipped, calls = _process(
        "accounts: {enabled: true}\ndeals: {enabled: true}", _association(CONTACTS, DEALS)
    )
    assert skipped == {DEAL_ASSOCIATION: 1}
    assert calls == 0
    skipped, _ = _process("accounts: {enabled: true}", _association(CONTACTS, DEALS))
    assert DEAL_ASSOCIATION not in skipped  # deal sync off: offered to the other parts as before
