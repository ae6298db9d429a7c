"""Every sync rule in both directions, blanks, echoes and simultaneous edits."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.config import SyncRule
from shared.rules import FieldState, Remembered, Side, decide, decide_opt_out

T0 = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
EARLIER, LATER = T0, T0 + dt.timedelta(seconds=1)
SYNCED = Remembered(hubspot="old", salesforce="old")


def _write(rule, hs, sf, remembered=SYNCED, hs_at=None, sf_at=None):
    w = decide(rule, FieldState(hs, sf, hs_at, sf_at), remembered)
    return None if w is None else (w.to, w.value)


@pytest.mark.parametrize("rule", list(SyncRule))
def test_equal_values_never_write(rule):
    assert _write(rule, "same", "same") is None
    assert _write(rule, None, "  ") is None  # blank is blank on both sides


@pytest.mark.parametrize(("hs", "sf"), [("new", "old"), ("old", "new"), (None, "old"), ("new", None)])
def test_dont_sync_never_writes(hs, sf):
    assert _write(SyncRule.DONT_SYNC, hs, sf) is None


class TestTwoWay:
    rule = SyncRule.TWO_WAY

    def test_hubspot_edit_flows_to_salesforce(self):
        assert _write(self.rule, "new", "old") == (Side.SALESFORCE, "new")

    def test_salesforce_edit_flows_to_hubspot(self):
        assert _write(self.rule, "old", "new") == (Side.HUBSPOT, "new")

    def test_clearing_propagates_both_ways(self):
        assert _write(self.rule, None, "old") == (Side.SALESFORCE, None)
        assert _write(self.rule, "old", "") == (Side.HUBSPOT, None)

    def test_our_own_write_coming_back_is_not_a_change(self):
        # we wrote "new" to Salesforce; its change event arrives while HubSpot still says "new"
        assert _write(self.rule, "new", "new", Remembered("new", "new")) is None

    def test_a_genuine_later_edit_of_the_same_field_still_syncs(self):
        assert _write(self.rule, "new", "newer", Remembered("new", "new")) == (Side.HUBSPOT, "newer")

    def test_simultaneous_edits_go_to_the_newer_change(self):
        assert _write(self.rule, "hs", "sf", hs_at=LATER, sf_at=EARLIER) == (Side.SALESFORCE, "hs")
        assert _write(self.rule, "hs", "sf", hs_at=EARLIER, sf_at=LATER) == (Side.HUBSPOT, "sf")

    def test_ties_and_unknown_times_go_to_salesforce(self):
        assert _write(self.rule, "hs", "sf", hs_at=T0, sf_at=T0) == (Side.HUBSPOT, "sf")
        assert _write(self.rule, "hs", "sf") == (Side.HUBSPOT, "sf")
        assert _write(self.rule, "hs", "sf", hs_at=T0) == (Side.SALESFORCE, "hs")

    def test_first_sync_uses_timestamps(self):
        assert _write(self.rule, "hs", "sf", None, hs_at=LATER, sf_at=EARLIER) == (Side.SALESFORCE, "hs")
        assert _write(self.rule, "hs", "sf", None, hs_at=EARLIER, sf_at=LATER) == (Side.HUBSPOT, "sf")

    def test_first_sync_never_lets_a_blank_erase_a_value(self):
        assert _write(self.rule, "hs", None, None, hs_at=EARLIER, sf_at=LATER) == (Side.SALESFORCE, "hs")
        assert _write(self.rule, None, "sf", None, hs_at=LATER, sf_at=EARLIER) == (Side.HUBSPOT, "sf")


class TestPreferSalesforceUnlessBlank:
    rule = SyncRule.PREFER_SALESFORCE_UNLESS_BLANK

    def test_hubspot_fills_an_empty_salesforce_field(self):
        assert _write(self.rule, "hs", None, Remembered("old", None)) == (Side.SALESFORCE, "hs")
        assert _write(self.rule, "hs", None, None) == (Side.SALESFORCE, "hs")

    def test_hubspot_never_overwrites_a_salesforce_value(self):
        assert _write(self.rule, "new", "old") == (Side.HUBSPOT, "old")
        assert _write(self.rule, "hs", "sf", hs_at=LATER, sf_at=EARLIER) == (Side.HUBSPOT, "sf")

    def test_salesforce_overwrites_hubspot_and_clearing_in_salesforce_clears_hubspot(self):
        assert _write(self.rule, "old", "new") == (Side.HUBSPOT, "new")
        assert _write(self.rule, "old", None) == (Side.HUBSPOT, None)

    def test_clearing_in_hubspot_does_not_clear_salesforce(self):
        assert _write(self.rule, None, "old") == (Side.HUBSPOT, "old")


class TestAlwaysSalesforce:
    rule = SyncRule.ALWAYS_SALESFORCE

    @pytest.mark.parametrize(("hs", "sf"), [("new", "old"), (None, "old"), ("old", "new"), ("old", None)])
    def test_never_writes_salesforce_and_hubspot_follows_it(self, hs, sf):
        assert _write(self.rule, hs, sf) == (Side.HUBSPOT, sf)


class TestOptOut:
    def test_either_side_opting_out_opts_out_the_other(self):
        hs_out = decide_opt_out(hubspot_opted_out=True, salesforce_opted_out=False)
        sf_out = decide_opt_out(hubspot_opted_out=False, salesforce_opted_out=True)
        assert hs_out is not None
        assert sf_out is not None
        assert (hs_out.to, hs_out.value) == (Side.SALESFORCE, "true")
        assert (sf_out.to, sf_out.value) == (Side.HUBSPOT, "true")

    def test_clearing_in_salesforce_never_resubscribes_hubspot(self):
        # Salesforce unchecked while HubSpot is opted out: HubSpot's opt-out is re-asserted in Salesforce
        write = decide_opt_out(hubspot_opted_out=True, salesforce_opted_out=False)
        assert write is not None
        assert write.to is Side.SALESFORCE

    def test_agreement_writes_nothing(self):
        assert decide_opt_out(hubspot_opted_out=False, salesforce_opted_out=False) is None
        assert decide_opt_out(hubspot_opted_out=True, salesforce_opted_out=True) is None


def test_a_known_difference_neither_side_changed_is_left_alone():
    # e.g. a Lead created with the Company placeholder while the contact has no company
    remembered = Remembered(None, "[not provided]")
    assert _write(SyncRule.TWO_WAY, None, "[not provided]", remembered, hs_at=EARLIER, sf_at=LATER) is None
