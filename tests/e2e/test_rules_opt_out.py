"""Issue 4, email opt-out (S14): unsubscribing from all email in HubSpot opts the Salesforce record
out; opting out in Salesforce unsubscribes the HubSpot contact through communication preferences;
clearing the checkbox in Salesforce never re-subscribes (the opt-out is written back instead)."""

from __future__ import annotations

from tests.e2e.conftest import World, quiet

UNSUBSCRIBE_ALL = "POST /communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all"


def unsubscribe_from_all(world: World, email: str) -> None:
    """The contact unsubscribes from all email (communication preferences v4, as HubSpot's own
    preferences page does through the API)."""
    url = str(world.sandbox.info.hubspot["url"])

    def call() -> None:
        response = world.hubspot.api_request(
            {
                "method": "POST",
                "base_url": url,
                "path": f"/communication-preferences/v4/statuses/{email}/unsubscribe-all",
                "qs": {"channel": "EMAIL"},
            }
        )
        response.raise_for_status()

    world._as_user("hubspot", call, write=True)


def unsubscribe_calls(world: World) -> int:
    return int(world.sandbox.hubspot.stats.snapshot()["calls"].get(UNSUBSCRIBE_ALL, 0))


def test_opt_out_on_either_side_opts_out_the_other_and_salesforce_never_resubscribes(world: World) -> None:
    quiet_lead = world.salesforce_create("Lead", LastName="Quiet", Company="Hush", Email="quiet@example.com")
    silent_lead = world.salesforce_create(
        "Lead", LastName="Silent", Company="Hush", Email="silent@example.com"
    )
    world.settle()
    [quiet_hs] = world.hubspot_with_email("quiet@example.com")
    [silent_hs] = world.hubspot_with_email("silent@example.com")
    assert quiet_hs.properties.get("hs_email_optout") in (None, "", "false")
    assert world.salesforce_row("Lead", quiet_lead)["HasOptedOutOfEmail"] is False

    # HubSpot: the contact unsubscribes from all email; Salesforce: a user checks the box
    unsubscribe_from_all(world, "quiet@example.com")
    world.salesforce_update("Lead", silent_lead, HasOptedOutOfEmail=True)
    quiet(world, "the opt-outs")

    assert world.salesforce_row("Lead", quiet_lead)["HasOptedOutOfEmail"] is True
    assert world.hubspot_contact(silent_hs.id).get("hs_email_optout") == "true"
    # through communication preferences (HubSpot refuses hs_email_optout as a property write)
    assert world.sandbox.hubspot.comm_prefs.opted_out_since("silent@example.com") is not None
    assert unsubscribe_calls(world) == 2  # the contact's own, and hssync's for the other one

    # clearing the checkbox in Salesforce never re-subscribes: the opt-out is written back
    world.salesforce_update("Lead", silent_lead, HasOptedOutOfEmail=False)
    world.salesforce_update("Lead", quiet_lead, HasOptedOutOfEmail=False, Title="Still quiet")
    quiet(world, "the unchecking")
    assert world.hubspot_contact(silent_hs.id).get("hs_email_optout") == "true"
    assert world.hubspot_contact(quiet_hs.id).get("hs_email_optout") == "true"
    assert world.hubspot_contact(quiet_hs.id).get("jobtitle") == "Still quiet"
    assert world.salesforce_row("Lead", silent_lead)["HasOptedOutOfEmail"] is True
    assert world.salesforce_row("Lead", quiet_lead)["HasOptedOutOfEmail"] is True
    assert world.sandbox.hubspot.comm_prefs.opted_out_since("silent@example.com") is not None
    assert unsubscribe_calls(world) == 2, "hssync unsubscribed an address that had opted out already"
    assert world.health() == []
    assert len(world.hubspot_contacts()) == 2
