"""Issue 4, HubSpot-only properties through custom Salesforce fields (S12): lifecycle stage <->
Lifecycle_Stage__c both ways, each value in the other side's spelling; a value the restricted
picklist refuses is a sync-health entry, never a write attempt nor a retry; typed custom pairs (a
number and a checkbox) converted end to end."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from infra.sandbox.salesforce.schema import DEFAULT_CUSTOM_FIELDS
from shared.config import DEFAULT_CONTACT_MAPPINGS
from tests.e2e.conftest import World, quiet, recycle_workers

# the org's admin spells the stages as Salesforce picklist values usually are, and has no
# "Evangelist" or "Other" stage: HubSpot's "evangelist" is a value this picklist refuses
SALESFORCE_STAGES = [
    "Subscriber",
    "Lead",
    "MarketingQualifiedLead",
    "SalesQualifiedLead",
    "Opportunity",
    "Customer",
]
CUSTOM_FIELDS: list[dict[str, Any]] = [
    *(dict(f) for f in DEFAULT_CUSTOM_FIELDS if f["name"] != "Lifecycle_Stage__c"),
    *(
        {
            "object": sobject,
            "name": "Lifecycle_Stage__c",
            "label": "Lifecycle Stage",
            "type": "picklist",
            "values": SALESFORCE_STAGES,
            "restricted": True,
        }
        for sobject in ("Lead", "Contact")
    ),
    {"object": "Lead", "name": "Seats__c", "label": "Seats", "type": "double"},
    {"object": "Lead", "name": "VIP__c", "label": "VIP", "type": "boolean"},
]
EXTRA_MAPPINGS = [
    "{hubspot: lifecyclestage, lead: Lifecycle_Stage__c, contact: Lifecycle_Stage__c, rule: two_way}",
    "{hubspot: seats, lead: Seats__c, rule: two_way}",
    "{hubspot: vip, lead: VIP__c, rule: two_way}",
]


def mappings_config() -> str:
    """The default contact mappings plus the custom pairs."""
    lines = ["contact_mappings:"]
    for m in DEFAULT_CONTACT_MAPPINGS:
        sides = "".join(
            f", {key}: {value}" for key, value in (("lead", m.lead), ("contact", m.contact)) if value
        )
        lines.append(f"  - {{hubspot: {m.hubspot}{sides}, rule: {m.rule.value}}}")
    lines += [f"  - {mapping}" for mapping in EXTRA_MAPPINGS]
    return "\n".join(lines) + "\n"


@pytest.fixture
def custom_metadata(world: World) -> Iterator[None]:
    """The org's custom fields and the portal's custom properties of this test, described afresh
    before it and forgotten after it (the sandbox's reset removes them)."""
    from hubspot.crm.properties import OptionInput, PropertyCreate

    world.sandbox_post("salesforce", "settings", {"custom_fields": CUSTOM_FIELDS})
    properties = [
        PropertyCreate(
            name="seats", label="Seats", type="number", field_type="number", group_name="contactinformation"
        ),
        PropertyCreate(
            name="vip",
            label="VIP",
            type="bool",
            field_type="booleancheckbox",
            group_name="contactinformation",
            options=[
                OptionInput(label="Yes", value="true", display_order=0, hidden=False),
                OptionInput(label="No", value="false", display_order=1, hidden=False),
            ],
        ),
    ]
    api = world.hubspot.crm.properties.core_api
    for prop in properties:
        world._as_user("hubspot", partial(api.create, "contacts", prop), write=True)
    world.use_config(mappings_config())
    recycle_workers(world)
    yield
    recycle_workers(world)


def test_lifecycle_stage_and_typed_custom_fields_sync_both_ways(world: World, custom_metadata: None) -> None:
    lead_id = world.salesforce_create(
        "Lead",
        LastName="Stage",
        Company="Stage Co",
        Email="stage@example.com",
        Lifecycle_Stage__c="Lead",
        Seats__c=42,
        VIP__c=True,
    )
    contact_id = world.salesforce_create(
        "Contact", LastName="Oppy", Email="oppy@example.com", Lifecycle_Stage__c="Opportunity"
    )
    world.settle()
    [stage] = world.hubspot_with_email("stage@example.com")
    [oppy] = world.hubspot_with_email("oppy@example.com")
    props = world.hubspot_contact(stage.id)
    assert (props.get("lifecyclestage"), props.get("seats"), props.get("vip")) == ("lead", "42", "true")
    assert world.hubspot_contact(oppy.id).get("lifecyclestage") == "opportunity"

    world.hubspot_edit(stage.id, lifecyclestage="marketingqualifiedlead", seats="12", vip="false")
    world.salesforce_update("Contact", contact_id, Lifecycle_Stage__c="Customer")
    world.settle()
    before = world.pipeline_writes()
    lead = world.salesforce_row("Lead", lead_id)
    assert (lead["Lifecycle_Stage__c"], lead["Seats__c"], lead["VIP__c"]) == (
        "MarketingQualifiedLead",
        12,
        False,
    )
    assert world.hubspot_contact(oppy.id).get("lifecyclestage") == "customer"
    props = world.hubspot_contact(stage.id)
    assert (props.get("seats"), props.get("vip")) == ("12", "false")

    # a stage the restricted picklist lacks: reported, never sent (no write attempt, no retry)
    world.hubspot_edit(stage.id, lifecyclestage="evangelist")
    world.settle()
    assert world.pipeline_writes() == before, "a value Salesforce refuses was sent"
    assert world.salesforce_row("Lead", lead_id)["Lifecycle_Stage__c"] == "MarketingQualifiedLead"
    assert world.hubspot_contact(stage.id).get("lifecyclestage") == "evangelist"
    [entry] = world.health()
    assert (entry.record, entry.system, entry.category.value, entry.code) == (
        f"hubspot:contacts:{stage.id}",
        "salesforce",
        "property_values",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    assert "Lifecycle_Stage__c" in entry.message
    assert "evangelist" in entry.message

    # a later edit of another field syncs alone: the refused value is not tried again
    world.hubspot_edit(stage.id, phone="+1 555 0111")
    after = quiet(world, "the refused value and the later edit")
    assert (after["salesforce"] - before["salesforce"], after["hubspot"] - before["hubspot"]) == (1, 0)
    lead = world.salesforce_row("Lead", lead_id)
    assert (lead["Phone"], lead["Lifecycle_Stage__c"]) == ("+1 555 0111", "MarketingQualifiedLead")
    assert len(world.health()) == 1
    assert "errors" not in world.counters(), "Salesforce was sent a value it refused"
    assert world.queue_messages("WritesDeadLetterQueue") == []
    assert world.queue_messages("ChangesDeadLetterQueue") == []
