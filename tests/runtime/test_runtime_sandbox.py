"""The runtime's EventBridge ingress as the sandbox's Salesforce change-event target: a Lead created
through the real client reaches the rule's function in the Event Relay envelope."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.runtime import LocalRuntime, MotoServer, Template

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with MotoServer(port=0) as moto:
        template = Template.load(FIXTURES / "template.yaml", stack_name="cdc")
        with LocalRuntime(template, aws_endpoint=moto.endpoint_url, functions=["RuleFunction"]) as local:
            yield local


def _stored_events(runtime: LocalRuntime) -> list[dict[str, Any]]:
    response = runtime.clients.dynamodb.scan(
        TableName="cdc-ItemsTable",
        FilterExpression="begins_with(pk, :rule) AND sk = :event",
        ExpressionAttributeValues={":rule": {"S": "rule#"}, ":event": {"S": "event"}},
        ConsistentRead=True,
    )
    return [json.loads(item["event"]["S"]) for item in response["Items"]]


def test_salesforce_change_events_reach_the_rule_function(
    runtime: LocalRuntime, fresh_sandbox, sf, sf_session
):
    target = sf_session.post(
        f"{fresh_sandbox.salesforce_url}/_sandbox/change-events/target",
        json={"url": runtime.eventbridge_ingress_url},
        timeout=5,
    )
    assert target.ok
    last_name = f"Runtime{uuid.uuid4().hex[:8]}"
    created = sf.Lead.create({"LastName": last_name, "Company": "Acme", "Email": f"{last_name}@example.com"})
    deadline = time.monotonic() + 20
    while fresh_sandbox.pending_deliveries() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fresh_sandbox.pending_deliveries() == 0
    assert runtime.wait_idle(20)
    events = [
        e
        for e in _stored_events(runtime)
        if e["detail"]["payload"]["ChangeEventHeader"]["recordIds"] == [created["id"]]
    ]
    assert len(events) == 1
    event = events[0]
    assert event["detail-type"] == "LeadChangeEvent"
    assert event["source"].startswith("aws.partner/salesforce.com/")
    header = event["detail"]["payload"]["ChangeEventHeader"]
    assert (header["entityName"], header["changeType"]) == ("Lead", "CREATE")
    assert event["detail"]["payload"]["Name"]["LastName"] == last_name  # CDC's compound name field
