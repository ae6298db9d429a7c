"""Issue 4, sync rules per field mapping, both directions: prefer Salesforce unless blank, always use
Salesforce, two-way (the newer change wins, ties to Salesforce, clearing propagates) and don't sync."""

from __future__ import annotations

from tests.e2e.conftest import World, quiet, sleep_quietly

RULES_CONFIG = """\
contact_mappings:
  - {hubspot: email, lead: Email, contact: Email, rule: two_way}
  - {hubspot: lastname, lead: LastName, contact: LastName, rule: two_way}
  - {hubspot: firstname, lead: FirstName, contact: FirstName, rule: prefer_salesforce_unless_blank}
  - {hubspot: jobtitle, lead: Title, contact: Title, rule: always_salesforce}
  - {hubspot: phone, lead: Phone, contact: Phone, rule: two_way}
  - {hubspot: city, lead: City, contact: MailingCity, rule: dont_sync}
"""


def values(world: World, contact_id: str, lead_id: str) -> dict[str, tuple[str | None, str | None]]:
    """(HubSpot, Salesforce) per mapped field; blanks as None."""
    props = world.hubspot_contact(contact_id)
    lead = world.salesforce_row("Lead", lead_id)
    pairs = {"firstname": "FirstName", "jobtitle": "Title", "phone": "Phone", "city": "City"}
    return {prop: (props.get(prop) or None, lead.get(field) or None) for prop, field in pairs.items()}


def test_each_rule_in_both_directions(world: World) -> None:
    world.use_config(RULES_CONFIG)
    # two pairs: HubSpot users edit one while Salesforce users edit the other
    x_lead, y_lead = (
        world.salesforce_create(
            "Lead",
            FirstName="Sally",
            LastName=name,
            Company="Force Co",
            Email=f"{name.lower()}@example.com",
            Title="VP Sales",
            Phone="+1 555 0100",
            City="Paris",
        )
        for name in ("Xavier", "Yolanda")
    )
    world.settle()
    [x] = (c.id for c in world.hubspot_with_email("xavier@example.com"))
    [y] = (c.id for c in world.hubspot_with_email("yolanda@example.com"))
    created = {
        "firstname": ("Sally", "Sally"),
        "jobtitle": ("VP Sales", "VP Sales"),
        "phone": ("+1 555 0100", "+1 555 0100"),
        "city": (None, "Paris"),  # don't sync
    }
    assert values(world, x, x_lead) == created
    assert values(world, y, y_lead) == created
    assert world.hubspot_contact(x).get("company") in (None, "")  # not mapped here

    # HubSpot edits (x): only two-way reaches Salesforce; Salesforce's values prevail for the
    # Salesforce-first rules; don't sync leaves both sides alone.
    # Salesforce edits (y): every rule but don't sync reaches HubSpot
    world.hubspot_edit(x, firstname="Hubert", jobtitle="Intern", phone="+1 555 0200", city="Berlin")
    world.salesforce_update(
        "Lead", y_lead, FirstName="Sal", Title="SVP Sales", Phone="+1 555 0300", City="Rome"
    )
    world.settle()
    assert values(world, x, x_lead) == {
        "firstname": ("Sally", "Sally"),
        "jobtitle": ("VP Sales", "VP Sales"),
        "phone": ("+1 555 0200", "+1 555 0200"),
        "city": ("Berlin", "Paris"),
    }
    assert values(world, y, y_lead) == {
        "firstname": ("Sal", "Sal"),
        "jobtitle": ("SVP Sales", "SVP Sales"),
        "phone": ("+1 555 0300", "+1 555 0300"),
        "city": (None, "Rome"),
    }

    # clearing in Salesforce clears HubSpot (prefer Salesforce unless blank, always Salesforce; for
    # two-way see the conflicts test); clearing in HubSpot clears Salesforce (two-way)
    world.salesforce_update("Lead", x_lead, FirstName=None, Title=None)
    world.hubspot_edit(y, phone="")
    world.settle()
    assert values(world, x, x_lead) == {
        "firstname": (None, None),
        "jobtitle": (None, None),
        "phone": ("+1 555 0200", "+1 555 0200"),
        "city": ("Berlin", "Paris"),
    }
    assert values(world, y, y_lead)["phone"] == (None, None)

    # into a blank Salesforce field, HubSpot writes (prefer Salesforce unless blank); always
    # Salesforce never writes to Salesforce, whose blank prevails
    world.hubspot_edit(x, firstname="Hubert", jobtitle="Intern")
    quiet(world, "the last edits")
    assert values(world, x, x_lead) == {
        "firstname": ("Hubert", "Hubert"),
        "jobtitle": (None, None),
        "phone": ("+1 555 0200", "+1 555 0200"),
        "city": ("Berlin", "Paris"),
    }
    assert world.salesforce_row("Lead", x_lead)["LastName"] == "Xavier"
    assert len(world.hubspot_contacts()) == 2
    assert len(world.salesforce_rows("Lead")) == 2


def test_two_way_conflicts_the_newer_change_wins_and_ties_go_to_salesforce(world: World) -> None:
    first = world.salesforce_create(
        "Lead", LastName="First", Company="A", Email="first@example.com", Title="Start", Phone="+1 555 0101"
    )
    second = world.salesforce_create(
        "Lead", LastName="Second", Company="B", Email="second@example.com", Title="Start"
    )
    world.settle()
    [first_hs] = world.hubspot_with_email("first@example.com")
    [second_hs] = world.hubspot_with_email("second@example.com")

    # both sides edit the same field while hssync hears nothing; the poller then reads both
    with world.events_paused():
        world.salesforce_update("Lead", first, Title="Salesforce, earlier", Phone=None)
        world.hubspot_edit(second_hs.id, jobtitle="HubSpot, earlier")
        # right after: newer in fact, and within the same second of Salesforce's LastModifiedDate
        # (whole seconds) at worst a tie, which goes to Salesforce
        world.salesforce_update("Lead", second, Title="Salesforce, right after")
        sleep_quietly(1.1)
        world.hubspot_edit(first_hs.id, jobtitle="HubSpot, a second later")
    answer = world.stack.runtime.invoke_schedule("PollFunction")
    assert answer.ok, answer.payload
    quiet(world, "the poll")

    lead = world.salesforce_row("Lead", first)
    props = world.hubspot_contact(first_hs.id)
    assert (props.get("jobtitle"), lead["Title"]) == ("HubSpot, a second later",) * 2
    assert (props.get("phone") or None, lead["Phone"]) == (None, None), "clearing in Salesforce did not sync"
    lead = world.salesforce_row("Lead", second)
    props = world.hubspot_contact(second_hs.id)
    assert (props.get("jobtitle"), lead["Title"]) == ("Salesforce, right after",) * 2, (
        "the later Salesforce edit lost to an earlier HubSpot edit of the same second"
    )
    assert len(world.hubspot_contacts()) == 2


def test_a_mapping_may_name_salesforce_fields_in_any_letter_case(world: World) -> None:
    """Issue 11: Salesforce field names are case-insensitive, and records answer in the describe's
    spelling: a mapping naming ``title`` reads and writes ``Title`` (no field read as blank, no
    duplicate field in a query)."""
    world.use_config(
        "contact_mappings:\n"
        "  - {hubspot: email, lead: EMAIL, contact: email}\n"
        "  - {hubspot: lastname, lead: lastname, contact: LASTNAME}\n"
        "  - {hubspot: jobtitle, lead: title, contact: TITLE}\n"
        "  - {hubspot: phone, lead: PHONE, contact: phone}\n"
    )
    lead_id = world.salesforce_create(
        "Lead", LastName="Case", Company="Case Co", Email="case@example.com", Title="VP", Phone="+1 555 0100"
    )
    world.settle()
    [contact] = world.hubspot_with_email("case@example.com")
    created = world.hubspot_contact(contact.id)
    assert (created.get("lastname"), created.get("jobtitle"), created.get("phone")) == (
        "Case",
        "VP",
        "+1 555 0100",
    )

    world.salesforce_update("Lead", lead_id, Title="SVP")
    world.hubspot_edit(contact.id, phone="+1 555 0200")
    world.settle()
    props, lead = world.hubspot_contact(contact.id), world.salesforce_row("Lead", lead_id)
    assert (props.get("jobtitle"), lead["Title"]) == ("SVP", "SVP")
    assert (props.get("phone"), lead["Phone"]) == ("+1 555 0200", "+1 555 0200")
    assert (props.get("email"), props.get("lastname")) == ("case@example.com", "Case")
    assert (lead["Email"], lead["LastName"]) == ("case@example.com", "Case")
    assert world.health() == []
