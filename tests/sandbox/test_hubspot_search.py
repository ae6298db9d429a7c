"""The HubSpot emulator's search rules and matching, as pure functions."""

from __future__ import annotations

import pytest

from infra.sandbox.hubspot.search import (
    MAX_RESULTS,
    Filter,
    Kind,
    SearchError,
    Sort,
    contains_token,
    matches,
    matches_filter,
    matches_query,
    order,
    page,
    parse_request,
)

pytestmark = pytest.mark.usefixtures("no_sockets")  # pure: no network, as unit tests

STRING = Kind("string")
NUMBER = Kind("number")
DATETIME = Kind("datetime")
DATE = Kind("date")
MULTI = Kind("enumeration", multiple=True)


def f(op, value=None, values=(), high=None, name="p"):
    return Filter(name, op, value, tuple(values), high)


# -- parsing limits ------------------------------------------------------------------------------
def _groups(groups, per_group):
    return [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * per_group}] * groups


def test_filter_group_limits_are_five_groups_six_filters_eighteen_in_all():
    parse_request({"filterGroups": _groups(5, 3)})  # 15 filters: fine
    parse_request({"filterGroups": _groups(3, 6)})  # 18 filters: fine
    with pytest.raises(SearchError, match="filter groups"):
        parse_request({"filterGroups": _groups(6, 1)})
    with pytest.raises(SearchError, match="in a group"):
        parse_request({"filterGroups": _groups(1, 7)})
    with pytest.raises(SearchError, match="Too many filters: 20"):
        parse_request({"filterGroups": _groups(4, 5)})


def test_limit_is_at_most_200_and_paging_stops_at_10000():
    assert parse_request({"limit": 200}).limit == 200
    assert parse_request({}).limit == 10
    with pytest.raises(SearchError, match="limit"):
        parse_request({"limit": 201})
    assert parse_request({"after": "9999"}).after == 9999
    with pytest.raises(SearchError, match="10000"):
        parse_request({"after": str(MAX_RESULTS)})
    with pytest.raises(SearchError, match="after"):
        parse_request({"after": "abc"})


def test_sorts_accept_objects_and_the_clients_string_form():
    assert parse_request({"sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}]}).sorts == (
        Sort("createdate", True),
    )
    assert parse_request({"sorts": ["-createdate"]}).sorts == (Sort("createdate", True),)
    assert parse_request({"sorts": ["email"]}).sorts == (Sort("email", False),)
    assert parse_request({"sorts": ['{"propertyName":"x","direction":"ASCENDING"}']}).sorts == (Sort("x"),)
    with pytest.raises(SearchError):
        parse_request({"sorts": ["a", "b"]})


def test_operators_are_validated():
    with pytest.raises(SearchError, match="operator"):
        parse_request(
            {"filterGroups": [{"filters": [{"propertyName": "a", "operator": "LIKE", "value": "x"}]}]}
        )
    with pytest.raises(SearchError, match="values"):
        parse_request({"filterGroups": [{"filters": [{"propertyName": "a", "operator": "IN"}]}]})
    with pytest.raises(SearchError, match="highValue"):
        parse_request(
            {"filterGroups": [{"filters": [{"propertyName": "a", "operator": "BETWEEN", "value": "1"}]}]}
        )


# -- matching ------------------------------------------------------------------------------------
def test_eq_and_in_on_strings_ignore_case():
    assert matches_filter(f("EQ", "ALICE@Example.com"), "alice@example.com", STRING)
    assert not matches_filter(f("EQ", "alice@example.co"), "alice@example.com", STRING)
    assert matches_filter(f("IN", values=["x", "LEAD"]), "lead", STRING)
    assert not matches_filter(f("NOT_IN", values=["x", "LEAD"]), "lead", STRING)
    assert matches_filter(f("NEQ", "lead"), "customer", STRING)


def test_negations_include_records_without_the_property():
    assert matches_filter(f("NEQ", "lead"), None, STRING)
    assert matches_filter(f("NOT_IN", values=["lead"]), "", STRING)
    assert not matches_filter(f("EQ", "lead"), None, STRING)


def test_has_property_treats_empty_as_absent():
    assert matches_filter(f("HAS_PROPERTY"), "x", STRING)
    assert not matches_filter(f("HAS_PROPERTY"), "", STRING)
    assert matches_filter(f("NOT_HAS_PROPERTY"), None, STRING)


def test_numbers_compare_numerically_not_lexically():
    assert matches_filter(f("GT", "9"), "10", NUMBER)
    assert not matches_filter(f("GT", "9"), "10", STRING)  # as text "10" < "9"
    assert matches_filter(f("BETWEEN", "5", high="10"), "10", NUMBER)
    assert not matches_filter(f("BETWEEN", "5", high="10"), "10.5", NUMBER)
    assert matches_filter(f("EQ", "1000"), "1000.0", NUMBER)
    with pytest.raises(SearchError):
        matches_filter(f("GT", "ten"), "10", NUMBER)


def test_datetimes_compare_as_instants_given_epoch_ms_or_iso():
    stored = "2024-05-01T12:00:00.000Z"
    ms = "1714564800000"  # 2024-05-01T12:00:00Z
    assert matches_filter(f("EQ", ms), stored, DATETIME)
    assert matches_filter(f("GTE", "2024-05-01T12:00:00Z"), stored, DATETIME)
    assert matches_filter(f("LT", "2024-05-02"), stored, DATETIME)
    assert not matches_filter(f("GT", str(int(ms) + 1)), stored, DATETIME)
    assert matches_filter(f("LTE", "2024-05-01T14:00:00+02:00"), stored, DATETIME)
    assert matches_filter(f("EQ", "1714521600000"), "2024-05-01", DATE)


def test_unparseable_stored_values_match_no_comparison():
    assert not matches_filter(f("LT", "5"), "n/a", NUMBER)
    assert not matches_filter(f("GT", "5"), "n/a", NUMBER)


def test_multiple_checkbox_values_match_any_option():
    assert matches_filter(f("EQ", "b"), "a;b;c", MULTI)
    assert matches_filter(f("IN", values=["z", "c"]), "a;b;c", MULTI)
    assert not matches_filter(f("EQ", "a;b"), "a;b;c", MULTI)
    assert not matches_filter(f("NEQ", "b"), "a;b;c", MULTI)


def test_contains_token_matches_words_and_wildcards():
    assert contains_token("Acme Robotics Inc", "robotics")
    assert not contains_token("Acme Robotics Inc", "robot")
    assert contains_token("Acme Robotics Inc", "robot*")
    assert contains_token("alice@hubspot.com", "*@hubspot.com")
    assert contains_token("alice@hubspot.com", "hubspot")
    assert matches_filter(f("NOT_CONTAINS_TOKEN", "acme"), "Other Corp", STRING)


def test_groups_are_ored_and_filters_anded():
    request = parse_request(
        {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"},
                        {"propertyName": "city", "operator": "EQ", "value": "Tokyo"},
                    ]
                },
                {"filters": [{"propertyName": "city", "operator": "EQ", "value": "Berlin"}]},
            ]
        }
    )
    kinds = {"lifecyclestage": Kind("enumeration"), "city": STRING}
    assert matches(request, {"lifecyclestage": "lead", "city": "tokyo"}, kinds)
    assert not matches(request, {"lifecyclestage": "customer", "city": "Tokyo"}, kinds)
    assert matches(request, {"lifecyclestage": "customer", "city": "Berlin"}, kinds)
    assert matches(parse_request({}), {}, kinds)


def test_free_text_query_matches_word_prefixes_of_searchable_properties():
    props = {
        "firstname": "Grace",
        "lastname": "Hopper",
        "email": "grace.hopper@navy.example",
        "city": "Tokyo",
    }
    searchable = ("firstname", "lastname", "email")
    assert matches_query("grace", props, searchable)
    assert matches_query("hop", props, searchable)
    assert matches_query("Grace Hopper", props, searchable)
    assert matches_query("grace.hopper@navy.example", props, searchable)
    assert not matches_query("tokyo", props, searchable)  # city is not searchable
    assert not matches_query("grace turing", props, searchable)


# -- ordering and paging -------------------------------------------------------------------------
def test_order_sorts_by_type_with_missing_values_last_and_ties_by_id():
    rows = [
        (1, {"n": "10"}),
        (2, {"n": "9"}),
        (3, {}),
        (4, {"n": "10"}),
    ]
    kinds = {"n": NUMBER}
    asc = order(rows, [Sort("n")], lambda r: r[1], lambda r: r[0], kinds)
    assert [r[0] for r in asc] == [2, 1, 4, 3]
    desc = order(rows, [Sort("n", True)], lambda r: r[1], lambda r: r[0], kinds)
    assert [r[0] for r in desc] == [1, 4, 2, 3]
    assert [r[0] for r in order(rows[::-1], [], lambda r: r[1], lambda r: r[0], kinds)] == [1, 2, 3, 4]


def test_page_windows_and_the_10000_result_cap():
    first = page(25, 0, 10)
    assert (first.start, first.end, first.next_after) == (0, 10, "10")
    last = page(25, 20, 10)
    assert (last.start, last.end, last.next_after) == (20, 25, None)
    capped = page(12_000, 9_900, 200)
    assert (capped.start, capped.end, capped.next_after) == (9_900, 10_000, None)
