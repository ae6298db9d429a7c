"""The SAM stack keeps the operational rules the design promises (read from template.yaml itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.runtime.cfn_yaml import load_cfn_file

TEMPLATE = load_cfn_file(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
QUEUES = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue"}
GLOBALS = TEMPLATE["Globals"]["Function"]


def _timeout(function: dict[str, Any]) -> int:
    return int(function["Properties"].get("Timeout", GLOBALS["Timeout"]))


def _sqs_consumers() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for name, function in FUNCTIONS.items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                out.append((name, queue, event["Properties"]))
    return out


def test_functions_run_python313_on_arm64_with_powertools_settings():
    assert GLOBALS["Runtime"] == "python3.13"
    assert GLOBALS["Architectures"] == ["arm64"]
    # X-Ray on by default, optional (the Tracing parameter); off, Powertools' tracer is never built
    assert TEMPLATE["Parameters"]["Tracing"]["Default"] == "Active"
    assert GLOBALS["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    assert GLOBALS["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingOn", "false", "true"]
    }
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"} <= set(
        GLOBALS["Environment"]["Variables"]
    )


@pytest.mark.parametrize(("function", "queue", "source"), _sqs_consumers())
def test_every_consumer_reports_partial_failures_and_its_queue_outlives_six_timeouts(function, queue, source):
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    visibility = int(QUEUES[queue]["Properties"]["VisibilityTimeout"])
    assert visibility >= 6 * _timeout(FUNCTIONS[function])
    if int(source.get("BatchSize", 10)) > 10:  # an AWS rule for standard queues
        assert int(source.get("MaximumBatchingWindowInSeconds", 0)) >= 1


def test_every_work_queue_has_a_dead_letter_queue_with_an_alarm():
    alarms = [
        r
        for r in RESOURCES.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["Namespace"] == "AWS/SQS"
    ]
    # the alarms on a queue's depth (any message in it); the other SQS alarm, on the age of the
    # changes queue's oldest message (issue 16), is the only one of its kind
    depth = [a for a in alarms if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    others = [a for a in alarms if a not in depth]
    assert [(a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
            for a in others] == [("ApproximateAgeOfOldestMessage", "ChangesQueue")]  # fmt: skip
    watched = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in depth}
    work = {name for name, q in QUEUES.items() if "RedrivePolicy" in q["Properties"]}
    dead = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in QUEUES.values()
            if "RedrivePolicy" in q["Properties"]}  # fmt: skip
    # a scheduled function's failed asynchronous invocations (Lambda's DeadLetterQueue)
    dead |= {f["Properties"]["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0] for f in FUNCTIONS.values()
             if "DeadLetterQueue" in f["Properties"]}  # fmt: skip
    assert work | dead == set(QUEUES)  # every queue is either worked or a dead-letter queue
    assert dead == watched


def test_no_policy_grants_a_wildcard_action():
    for name, function in FUNCTIONS.items():
        for policy in function["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert all("*" not in a for a in actions), f"{name}: {actions}"


def test_transient_state_expires_and_the_webhook_is_public_but_signed():
    for table in ("StateTable", "IdempotencyTable"):
        assert RESOURCES[table]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True
    url = FUNCTIONS["InboundWebhookFunction"]["Properties"]["FunctionUrlConfig"]
    assert url["AuthType"] == "NONE"  # HubSpot cannot sign AWS requests; signature v3 is checked instead
