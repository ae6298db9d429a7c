"""Which stack a command works on: a deployed one is found from its CloudFormation outputs and
parameters (``--stack NAME``), with the queues the operations know."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.cli import build_parser
from infra.cli.target import Unavailable, deployed, queue_region, resolve
from shared.models import System

STACK_TEMPLATE = {
    "Parameters": {
        "HubSpotPortalId": {"Type": "String"},
        "SalesforceOrgId": {"Type": "String"},
        "SyncConfigParameterName": {"Type": "String"},
    },
    "Resources": {
        "ChangesQueue": {"Type": "AWS::SQS::Queue"},
        "ChangesDeadLetterQueue": {"Type": "AWS::SQS::Queue"},
    },
    "Outputs": {
        "StateTableName": {"Value": "hssync-state"},
        "ChangesQueueUrl": {"Value": {"Ref": "ChangesQueue"}},
        "ChangesDeadLetterQueueUrl": {"Value": {"Ref": "ChangesDeadLetterQueue"}},
        "HubSpotWebhookUrl": {"Value": "https://example.com/"},
    },
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        import boto3

        yield boto3.client("cloudformation", region_name="eu-west-1")


def test_a_deployed_stack_is_read_from_its_outputs_and_parameters(aws: Any) -> None:
    aws.create_stack(
        StackName="hssync-prod",
        TemplateBody=json.dumps(STACK_TEMPLATE),
        Parameters=[
            {"ParameterKey": "HubSpotPortalId", "ParameterValue": "123456"},
            {"ParameterKey": "SalesforceOrgId", "ParameterValue": "00D000000000001AAA"},
            {"ParameterKey": "SyncConfigParameterName", "ParameterValue": "/hssync/prod"},
        ],
    )
    target = deployed("hssync-prod", "eu-west-1")
    assert target.where == "stack hssync-prod"
    assert set(target.queues) == {"ChangesQueue", "ChangesDeadLetterQueue"}
    assert "ChangesQueue" in target.queues["ChangesQueue"]
    assert (target.state_table, target.portal, target.config_parameter) == (
        "hssync-state",
        "123456",
        "/hssync/prod",
    )
    assert target.accounts() == [(System.SALESFORCE, "00D000000000001AAA"), (System.HUBSPOT, "123456")]
    assert not target.local
    with pytest.raises(Unavailable, match="does not name its WritesQueue"):
        target.queue("WritesQueue")


def test_an_unknown_stack_is_a_clear_error(aws: Any) -> None:
    with pytest.raises(Unavailable, match="cannot read stack nope"):
        deployed("nope", "eu-west-1")


@pytest.mark.parametrize(
    "command", [["health"], ["status"], ["dlq", "list"], ["console"], ["resync", "--all"]]
)
def test_every_operator_command_takes_a_stack(command: list[str]) -> None:
    args = build_parser().parse_args([*command, "--stack", "hssync-prod", "--region", "eu-west-1"])
    assert (args.stack, args.region) == ("hssync-prod", "eu-west-1")


def test_a_queue_url_alone_names_the_poll_requests_queue() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/hssync-PollRequestsQueue-X"
    args = build_parser().parse_args(["resync", "--hubspot", "1", "--queue-url", url])
    target = resolve(args)
    assert target.queues == {"PollRequestsQueue": url}
    assert target.region == queue_region(url) == "eu-west-1"
    assert target.state_table is None


def test_what_synced_lately_and_the_oldest_message_come_from_cloudwatch(aws: Any) -> None:
    import datetime as dt

    import boto3

    from shared.operations.sqs_stats import CloudWatchCounts, SqsQueueStats

    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    now = dt.datetime.now(dt.UTC)
    dimensions = [{"Name": "service", "Value": "hssync"}, {"Name": "stage", "Value": "apply"}]
    for value in (3, 4):
        cloudwatch.put_metric_data(
            Namespace="hssync",
            MetricData=[
                {
                    "MetricName": "hubspot_to_salesforce_created",
                    "Dimensions": dimensions,
                    "Timestamp": now - dt.timedelta(minutes=5),
                    "Value": value,
                }
            ],
        )
    counts = CloudWatchCounts(cloudwatch)
    assert counts.sums(
        [("apply", "hubspot_to_salesforce_created"), ("apply", "errors")], now - dt.timedelta(hours=1), now
    ) == [7, 0]
    assert CloudWatchCounts(None).sums([("apply", "errors")], now, now) is None

    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="hssync-ChangesQueue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    sqs.send_message(QueueUrl=url, MessageBody="{}", DelaySeconds=60)  # deferred work, still to do
    stats = SqsQueueStats(sqs, {"ChangesQueue": url}, cloudwatch=cloudwatch)
    depth = stats.depth("ChangesQueue")
    assert (depth.visible, depth.in_flight, depth.delayed, depth.oldest_age) == (
        1,
        0,
        1,
        None,
    )  # no datapoint yet
    assert stats.total("ChangesQueue") == 2  # a followed request is not done while work is delayed
    assert stats.total("WritesQueue") == 0  # a queue the stack does not name


def test_wait_idle_fails_when_messages_were_dead_lettered_meanwhile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from infra.cli.sandbox import _idle_verdict

    assert _idle_verdict({}) == 0
    assert capsys.readouterr().out == "idle\n"
    assert _idle_verdict({"PollRequestsDeadLetterQueue": 1}) == 1
    assert "1 in PollRequestsDeadLetterQueue" in capsys.readouterr().err


def test_a_deployed_stack_is_followed_until_a_quiet_minute_a_local_one_until_its_runtime_is_idle() -> None:
    from infra.cli.follow import calm_checks
    from infra.cli.target import Target
    from infra.sandbox.runner import SandboxInfo

    deployed_target = Target(where="stack x", queues={})
    local_target = Target(where="local", queues={}, sandbox=SandboxInfo())
    assert calm_checks(deployed_target, 2.0) * 2.0 >= 60
    assert calm_checks(local_target, 0.2) == 3
