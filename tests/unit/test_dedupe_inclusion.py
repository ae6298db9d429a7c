"""The inclusion list (shared.pipeline.dedupe.inclusion, S4): which HubSpot contacts sync."""

from __future__ import annotations

import pytest

from shared.pipeline.dedupe.inclusion import (
    included,
    included_contact,
    inclusion_properties,
    watched_properties,
)
from tests.unit.dedupe_support import config, contact


def _filters(*filters: str):
    return config("inclusion: {property_filters: [" + ", ".join(filters) + "]}")


def test_without_a_list_everyone_syncs():
    assert included(config(), {})
    assert included(config(), {"lifecyclestage": "subscriber"})


def test_the_legacy_preset_is_everyone_except_subscribers():
    preset = config("inclusion: {preset: everyone_except_subscribers}")
    assert not included(preset, {"lifecyclestage": "Subscriber"})
    assert included(preset, {"lifecyclestage": "lead"})
    assert included(preset, {})  # no stage is not a subscriber


@pytest.mark.parametrize(
    ("flt", "properties", "expected"),
    [
        ("{property: company, operator: EQ, value: ACME}", {"company": "acme"}, True),
        ("{property: company, operator: EQ, value: ''}", {"company": ""}, False),  # EQ needs a value
        ("{property: company, operator: NEQ, value: acme}", {"company": "Other"}, True),
        ("{property: company, operator: NEQ, value: acme}", {"company": "ACME"}, False),
        ("{property: company, operator: NEQ, value: acme}", {}, True),
        ("{property: jobtitle, operator: HAS_PROPERTY}", {"jobtitle": "CTO"}, True),
        ("{property: jobtitle, operator: HAS_PROPERTY}", {"jobtitle": ""}, False),
        ("{property: jobtitle, operator: NOT_HAS_PROPERTY}", {"jobtitle": None}, True),
        ("{property: jobtitle, operator: NOT_HAS_PROPERTY}", {"jobtitle": "CTO"}, False),
        (
            "{property: lifecyclestage, operator: IN, values: [lead, Customer]}",
            {"lifecyclestage": "customer"},
            True,
        ),
        (
            "{property: lifecyclestage, operator: IN, values: [lead, customer]}",
            {"lifecyclestage": "other"},
            False,
        ),
        ("{property: state, operator: NOT_IN, values: [CA]}", {"state": "ca"}, False),
        ("{property: state, operator: NOT_IN, values: [CA]}", {}, True),
    ],
)
def test_property_filters_compare_case_insensitively(flt, properties, expected):
    assert included(_filters(flt), properties) is expected


def test_every_filter_must_hold():
    both = _filters(
        "{property: company, operator: EQ, value: acme}", "{property: city, operator: HAS_PROPERTY}"
    )
    assert included(both, {"company": "acme", "city": "Oslo"})
    assert not included(both, {"company": "acme"})


def test_a_configured_list_decides_by_membership_alone():
    listed = config("inclusion: {list_id: '7'}")
    subscriber = contact("101", lifecyclestage="subscriber")
    assert included_contact(listed, subscriber, {"101"})
    assert not included_contact(listed, contact("102"), {"101"})
    # no list configured (members None): the contact's properties decide
    preset = config("inclusion: {preset: everyone_except_subscribers}")
    assert not included_contact(preset, subscriber, None)
    assert included_contact(preset, contact("102"), None)


def test_the_properties_watched_are_the_mapped_ones_the_opt_out_and_the_lists():
    preset = config("inclusion: {preset: everyone_except_subscribers}")
    assert inclusion_properties(preset) == {"lifecyclestage"}
    assert inclusion_properties(_filters("{property: city, operator: HAS_PROPERTY}")) == {"city"}
    watched = watched_properties(preset)
    assert watched == sorted(watched)
    assert {"email", "jobtitle", "hs_email_optout", "hubspot_owner_id", "lifecyclestage"} <= set(watched)
    assert "lifecyclestage" not in watched_properties(config())
