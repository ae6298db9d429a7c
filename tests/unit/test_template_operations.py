"""The stack tells someone when it fails, keeps the public function within bounds, and never
dead-letters a request for having been throttled (read from template.yaml itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.runtime.cfn_yaml import load_cfn_file
from infra.runtime.template import Template

PATH = Path(__file__).resolve().parents[2] / "template.yaml"
TEMPLATE = load_cfn_file(PATH)
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
QUEUES = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue"}
ALARMS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
GLOBALS = TEMPLATE["Globals"]["Function"]

REQUIRED = {"SalesforceOrgId": "00D000000000001AAA", "HubSpotPortalId": "123456"}
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alarms"
DAY = 24 * 3600
# the least MaximumConcurrency an SQS event source accepts
SQS_MINIMUM_CONCURRENCY = 2


def _function_alarm(function: str, metric: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        alarm["Properties"]
        for alarm in ALARMS.values()
        if alarm["Properties"]["Namespace"] == "AWS/Lambda"
        and alarm["Properties"]["MetricName"] == metric
        and alarm["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]
    assert len(found) == 1, f"{function}: {len(found)} {metric} alarms"
    return found[0]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(function, metric):
    alarm = _function_alarm(function, metric)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["Statistic"] == "Sum"
    assert alarm["TreatMissingData"] == "notBreaching"  # no invocations is not a failure
    assert alarm["AlarmActions"]


def test_the_poller_is_alarmed_on_sustained_throttling_only():
    """One poller at a time: its SQS source and its schedule meet, so a throttle now and then is
    expected; throttling in every 5 minutes of an hour means requests are piling up."""
    alarm = _function_alarm("PollFunction", "Throttles")
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 3600
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]


def _stack(**parameters: str) -> Template:
    return Template.load(PATH, parameters={**REQUIRED, **parameters})


def test_every_alarm_notifies_the_given_topic():
    stack = _stack(AlarmTopicArn=TOPIC)
    assert not {"AlarmTopic", "AlarmTopicPolicy", "AlarmEmailSubscription"} & set(stack.resources)
    for name in ALARMS:
        assert stack.resolve(RESOURCES[name]["Properties"]["AlarmActions"]) == [TOPIC], name


@pytest.mark.parametrize("email", ["", "ops@example.com"])
def test_without_a_topic_the_stack_creates_its_own_and_every_alarm_notifies_it(email):
    stack = _stack(AlarmEmail=email)
    assert stack.resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    own = stack.resolve({"Ref": "AlarmTopic"})
    for name in ALARMS:
        assert stack.resolve(RESOURCES[name]["Properties"]["AlarmActions"]) == [own], name
    policy = stack.resolve(stack.properties("AlarmTopicPolicy"))
    assert policy["Topics"] == [own]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    if email:
        subscription = stack.resolve(stack.properties("AlarmEmailSubscription"))
        assert subscription == {"TopicArn": own, "Protocol": "email", "Endpoint": email}
    else:
        assert "AlarmEmailSubscription" not in stack.resources


def test_the_email_goes_to_the_stacks_own_topic_only():
    stack = _stack(AlarmTopicArn=TOPIC, AlarmEmail="ops@example.com")
    assert "AlarmEmailSubscription" not in stack.resources


def test_the_public_webhook_reserves_its_concurrency_from_a_parameter():
    webhook = FUNCTIONS["InboundWebhookFunction"]["Properties"]
    assert webhook["ReservedConcurrentExecutions"] == {"Ref": "WebhookReservedConcurrency"}
    parameter = PARAMETERS["WebhookReservedConcurrency"]
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] >= 1  # 0 would throttle every request
    assert parameter["Default"] == 10
    for value, expected in ((None, 10), ("25", 25)):
        stack = _stack() if value is None else _stack(WebhookReservedConcurrency=value)
        for queue in QUEUES:  # what the provisioner records once the queues exist
            stack.set_physical(queue, f"https://sqs.local/{queue}")
        # the local runtime caps the function's workers by it too
        assert stack.function("InboundWebhookFunction").reserved_concurrency == expected


def _throttled_sqs_consumers() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """SQS event sources of functions with reserved concurrency: those can be throttled."""
    out = []
    for name, function in FUNCTIONS.items():
        if "ReservedConcurrentExecutions" not in function["Properties"]:
            continue
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = QUEUES[event["Properties"]["Queue"]["Fn::GetAtt"][0]]["Properties"]
                out.append((name, event["Properties"], queue))
    return out


def test_the_poller_is_the_throttled_sqs_consumer():
    assert [name for name, _, _ in _throttled_sqs_consumers()] == ["PollFunction"]
    assert FUNCTIONS["PollFunction"]["Properties"]["ReservedConcurrentExecutions"] == 1


@pytest.mark.parametrize(("function", "source", "queue"), _throttled_sqs_consumers())
def test_throttling_cannot_exhaust_the_receive_count(function, source, queue):
    """A message is received at most once per visibility timeout; receives that end throttled count
    like failures. The event source invokes as few batches at once as SQS allows, and the receive
    count lasts a day of throttling, yet ends before the retention period, so a request that keeps
    failing is dead-lettered (and alarmed) rather than expiring unseen."""
    reserved = int(FUNCTIONS[function]["Properties"]["ReservedConcurrentExecutions"])
    assert source["ScalingConfig"]["MaximumConcurrency"] == max(reserved, SQS_MINIMUM_CONCURRENCY)
    visibility = int(queue["VisibilityTimeout"])
    receives = int(queue["RedrivePolicy"]["maxReceiveCount"])
    assert receives * visibility >= DAY
    assert receives * visibility < int(queue["MessageRetentionPeriod"])


def test_every_checkov_skip_in_the_template_says_why():
    skips = [
        (name, skip)
        for name, resource in RESOURCES.items()
        for skip in (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert skip["id"].startswith("CKV_"), name
        assert len(skip.get("comment", "").split()) >= 8, f"{name} {skip['id']}: say why"


# -- the operator's view (issue 16) ------------------------------------------------------------------
def test_every_queue_is_an_output_hssync_stack_finds_and_the_operations_know_it():
    from shared.operations.queues import logical_ids, output_key

    outputs = TEMPLATE["Outputs"]
    assert set(QUEUES) == set(logical_ids())
    for queue in QUEUES:
        assert outputs[output_key(queue)]["Value"] == {"Ref": queue}, queue
    assert "StateTableName" in outputs
    assert {"HubSpotPortalId", "SalesforceOrgId", "SyncConfigParameterName"} <= set(PARAMETERS)


def test_every_function_keeps_its_logs_for_the_retention_parameter():
    groups = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::Logs::LogGroup"}
    for function in FUNCTIONS:
        group = groups[f"{function}LogGroup"]
        assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert PARAMETERS["LogRetentionDays"]["Default"] in PARAMETERS["LogRetentionDays"]["AllowedValues"]


def test_a_stale_changes_queue_and_a_suspended_crm_raise_alarms():
    from shared.observability import SUSPENDED_METRIC

    age = ALARMS["ChangesQueueOldestMessageAlarm"]["Properties"]
    assert age["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert age["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["ChangesQueue", "QueueName"]}}
    ]
    assert age["Threshold"] == 900
    suspended = ALARMS["CrmSuspendedAlarm"]["Properties"]
    assert (suspended["Namespace"], suspended["MetricName"]) == ("hssync", SUSPENDED_METRIC)
    assert suspended["Dimensions"] == [{"Name": "service", "Value": "hssync"}]


def test_the_dashboard_charts_every_stage_dead_letter_queue_and_health_category():
    import json

    from shared.errors import ErrorCategory
    from shared.observability import STAGES, health_metric
    from shared.operations.queues import QUEUES as PAIRS

    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    metrics = [m for w in widgets for m in w["properties"]["metrics"]]
    invoked = {m[3] for m in metrics if m[:2] == ["AWS/Lambda", "Invocations"]}
    assert invoked == {f"${{{f}}}" for f in FUNCTIONS} == {f"${{{f}}}" for f in STAGES}
    depths = {m[3] for m in metrics if m[1] == "ApproximateNumberOfMessagesVisible"}
    assert depths == {f"${{{p.dead_letter}.QueueName}}" for p in PAIRS}
    health = {m[1] for m in metrics if m[0] == "hssync" and m[1].startswith("HealthEntries_")}
    assert health == {health_metric(c.value) for c in ErrorCategory}
    assert all(m[2:6] == ["service", "hssync", "stage", "apply"] for m in metrics if m[1] in health)
