"""Echo detection (shared.pipeline.dedupe.echo): hssync's own changes are recognised by the marks its
writes carry, a notification that only reports what hssync synced is answered from the link, and a
pair hssync is still writing to waits."""

from __future__ import annotations

import datetime as dt

from shared.adapters.salesforce import CALL_OPTIONS as ADAPTER_CALL_OPTIONS
from shared.intents import IntendedValue, WriteIntent
from shared.models import ChangeType
from shared.pipeline.dedupe import echo
from shared.pipeline.dedupe.outcome import Retry
from tests.fakes import APP_ID
from tests.unit.dedupe_support import LEAD, NOW, hs_event, link, schema, sf_event

SCHEMA = schema()


def _known(event, pair_link, *, own_app_id: str | None = APP_ID) -> bool:
    return echo.answered_from_link(
        event,
        pair_link,
        own_app_id=own_app_id,
        mapped=SCHEMA.mapped,
        inclusion={"lifecyclestage"},
        comparable=SCHEMA.comparable,
    )


def test_salesforce_changes_made_through_hssyncs_requests_are_its_own():
    # the adapter sends these call options; Salesforce repeats them in changeOrigin
    assert echo.made_in_salesforce_by_hssync(
        sf_event(origin=f"com/salesforce/api/rest/59.0;{ADAPTER_CALL_OPTIONS}")
    )
    assert not echo.made_in_salesforce_by_hssync(
        sf_event(origin="com/salesforce/api/rest/59.0;client=SfdcUI")
    )
    assert not echo.made_in_salesforce_by_hssync(sf_event().model_copy(update={"origin": None}))


def test_hubspot_changes_are_hssyncs_own_only_when_its_app_made_them():
    ours = hs_event(origin=echo.INTEGRATION_SOURCE, origin_id=APP_ID)
    assert echo.made_in_hubspot_by_hssync(ours, APP_ID)
    assert not echo.made_in_hubspot_by_hssync(hs_event(origin="INTEGRATION", origin_id="999"), APP_ID)
    assert not echo.made_in_hubspot_by_hssync(hs_event(origin="CRM_UI", origin_id=APP_ID), APP_ID)
    assert not echo.made_in_hubspot_by_hssync(ours, None)  # no app id configured: nothing is ours


def test_a_notification_reporting_only_synced_values_is_answered_from_the_link():
    pair = link(synced={"jobtitle": ("CTO", "CTO"), "email": ("ada@example.com", "ada@example.com")})
    assert _known(hs_event(jobtitle="CTO"), pair)
    assert _known(hs_event(email=" ADA@example.com"), pair)  # compared in one form
    assert _known(hs_event(jobtitle="CTO", notmapped="x"), pair)  # unmapped properties do not count
    # whoever made it: another app writing the synced value again changes nothing either
    assert _known(hs_event(jobtitle="CTO", origin="INTEGRATION", origin_id="999"), pair)


def test_anything_new_or_unknown_is_read():
    pair = link(synced={"jobtitle": ("CTO", "CTO")})
    assert not _known(hs_event(jobtitle="CEO"), pair)  # a real edit
    assert not _known(hs_event(firstname="Ada"), pair)  # never synced
    assert not _known(hs_event(jobtitle="CTO"), None)  # not linked
    assert not _known(
        hs_event(lifecyclestage="lead"), link(synced={"lifecyclestage": ("lead", "lead")})
    )  # inclusion
    assert not _known(hs_event(change=ChangeType.MERGE, jobtitle="CTO"), pair)
    no_fields = hs_event().model_copy(update={"changed_fields": ()})
    assert not _known(no_fields, pair)  # an update that says nothing
    unreported = hs_event(jobtitle="CTO").model_copy(update={"changed_fields": ("jobtitle", "city")})
    assert not _known(unreported, pair)


def test_a_creation_is_answered_from_the_link_only_when_hssyncs_app_made_it():
    pair = link(synced={"jobtitle": ("CTO", "CTO")})
    ours = hs_event(change=ChangeType.CREATE, origin="INTEGRATION", origin_id=APP_ID, jobtitle="CTO")
    assert _known(ours, pair)
    assert not _known(ours, pair, own_app_id="other")
    assert not _known(hs_event(change=ChangeType.CREATE, jobtitle="CTO"), pair)


def test_a_link_with_a_write_not_recorded_yet_is_never_an_answer():
    pair = link(synced={"jobtitle": ("CTO", "CTO")})
    pair.intent = WriteIntent("p", NOW, {"jobtitle": IntendedValue("hubspot", "CTO", "CTO")})
    assert not _known(hs_event(jobtitle="CTO"), pair)


def test_hssyncs_own_new_contact_waits_a_bounded_number_of_times_for_its_link():
    mine = hs_event(change=ChangeType.CREATE, origin="INTEGRATION", origin_id=APP_ID)
    assert echo.awaits_own_link([mine], APP_ID)
    last = mine.model_copy(update={"attempt": echo.OWN_CREATION_DEFERRALS})
    assert not echo.awaits_own_link([mine, last], APP_ID)
    assert not echo.awaits_own_link([mine, hs_event()], APP_ID)  # a person's change is read at once


def test_pairs_with_a_write_in_flight_wait_and_their_changes_are_retried():
    writing = link("101", rev=4)
    writing.intent = WriteIntent("p", NOW + dt.timedelta(seconds=5), {})
    settled = link("102", rev=4)
    settled.intent = WriteIntent("q", NOW - dt.timedelta(seconds=1), {})  # its lease ended
    plain = link("103")
    links = {"101": writing, "102": settled, "103": plain, "104": link("104")}
    events = {"101": hs_event("101"), "102": hs_event("102")}
    busy, rest, retries = echo.hold_writes_in_flight(links, events, lambda: NOW)
    assert busy == {"101"}
    assert list(rest) == ["102", "103", "104"]
    assert retries == [Retry(events["101"])]
    # a busy pair whose change is not in this batch waits without a retry of its own
    _, _, none = echo.hold_writes_in_flight({LEAD: writing}, {}, lambda: NOW)
    assert none == []
