"""The demo summary's deal line: the deals created and the contacts that became customers."""

from __future__ import annotations

from infra.demo import _deal_lines


def test_the_demo_summary_shows_deals_created_and_contacts_that_became_customers() -> None:
    (line,) = _deal_lines(
        {"salesforce_to_hubspot.deals_created": 12, "lifecycle.customer": 5, "skipped.echo": 3}
    )
    assert "deals created from Opportunities: 12" in line
    assert "contacts that became customers: 5" in line
    assert _deal_lines({"salesforce_to_hubspot.created": 4}) == []  # deal sync did nothing
