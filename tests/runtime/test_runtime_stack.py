"""The local runtime running the fixture stack (tests/runtime/fixtures) against moto: real event shapes,
environments, SQS batching and partial failures with redrive, Function URLs, EventBridge rules,
schedules, timeouts, idleness and the control endpoint."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, LambdaFunctionUrlModel, SqsModel

from infra.runtime import LocalRuntime, MotoServer, Template
from infra.runtime.runtime import wait_idle_remote

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STACK = "rt"
LEAK = "HSSYNC_RUNTIME_TEST_LEAK"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def runtime(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    ca_bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca_bundle.write_text("not a real bundle; only its path is passed on\n")
    os.environ[LEAK] = "must not reach a function"
    template = Template.load(FIXTURES / "template.yaml", stack_name=STACK)
    local = LocalRuntime(
        template,
        aws_endpoint=moto.endpoint_url,
        secrets={"ConfigSecret": {"token": "s3cr3t"}},
        ssm_values={"ConfigParameter": "from-the-caller"},
        extra_env={"EXTRA_SETTING": "extra"},
        ca_bundle=ca_bundle,
        async_retry_delays=(0.2,),
    )
    try:
        local.start()
    finally:
        del os.environ[LEAK]
    yield local
    pids = local.worker_pids()
    local.stop()
    assert pids, "the tests ran functions, so workers existed"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll until ``condition`` returns something truthy (or the timeout passes); return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def items(runtime: LocalRuntime, pk: str) -> list[dict[str, Any]]:
    response = runtime.clients.dynamodb.query(
        TableName=f"{STACK}-ItemsTable",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    decoded = []
    for item in response["Items"]:
        row: dict[str, Any] = {}
        for key, value in item.items():
            if "S" in value:
                row[key] = value["S"] if key in ("pk", "sk") else json.loads(value["S"])
            else:
                row[key] = int(value["N"])
        decoded.append(row)
    return decoded


def attempts(runtime: LocalRuntime, pk: str) -> int:
    rows = items(runtime, pk)
    return int(rows[0]["attempts"]) if rows else 0


def dead_letters(runtime: LocalRuntime, logical_id: str) -> list[dict[str, Any]]:
    sqs = runtime.clients.sqs
    url = runtime.queue_url(logical_id)
    received = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], WaitTimeSeconds=0
    )
    messages: list[dict[str, Any]] = received.get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def tag() -> str:
    return uuid.uuid4().hex[:10]


# -- SQS -----------------------------------------------------------------------------------------


def test_sqs_event_shape_environment_and_context(runtime: LocalRuntime, moto: MotoServer):
    body = f"ok-{tag()}"
    queue_url = runtime.queue_url("WorkQueue")
    sent = runtime.clients.sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=body,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "lead"}},
    )
    rows = wait_for(lambda: items(runtime, f"msg#{body}"))
    assert rows, "the consumer stored the message"
    row = rows[0]
    record = row["record"]
    SqsModel.model_validate({"Records": [record]})
    assert record["messageId"] == sent["MessageId"] == row["sk"]
    assert record["body"] == body
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()  # noqa: S324
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:us-east-1:123456789012:{STACK}-WorkQueue"
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"]["stringValue"] == "lead"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert record["receiptHandle"]

    env = row["env"]
    assert env["AWS_ENDPOINT_URL"] == moto.endpoint_url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == f"{STACK}-ConsumerFunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == str(FIXTURES / "lambdas" / "consumer")
    assert env["POWERTOOLS_SERVICE_NAME"] == "runtime-fixture"
    assert env["STAGE"] == "test"
    assert env["TABLE_NAME"] == f"{STACK}-ItemsTable"
    assert env["BULK_QUEUE_URL"] == runtime.queue_url("BulkQueue")
    assert env["NAMED"] == f"{STACK}-test-{STACK}-WorkQueue"
    assert env["ONLY_CONSUMER"] == "consumer-value"
    assert env["EXTRA_SETTING"] == "extra"
    assert env["REQUESTS_CA_BUNDLE"].endswith("ca.pem")
    assert "ONLY_ECHO" not in env  # another function's variable
    assert LEAK not in env  # nothing of the runtime's own environment

    context = row["context"]
    assert context["function_name"] == f"{STACK}-ConsumerFunction"
    assert context["function_version"] == "$LATEST"
    assert (
        context["invoked_function_arn"]
        == f"arn:aws:lambda:us-east-1:123456789012:function:{STACK}-ConsumerFunction"
    )
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == f"/aws/lambda/{STACK}-ConsumerFunction"
    assert context["log_stream_name"]
    assert 0 < context["remaining_ms"] <= 10_000


def test_partial_batch_failures_are_retried_then_redriven(runtime: LocalRuntime):
    marker = tag()
    good, bad = [f"ok-{marker}-1", f"ok-{marker}-2"], f"fail-{marker}"
    runtime.clients.sqs.send_message_batch(
        QueueUrl=runtime.queue_url("WorkQueue"),
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate([good[0], bad, good[1]])],
    )
    assert runtime.wait_idle(30)
    # the good ones were processed once (their deletion stuck); the bad one was tried maxReceiveCount times
    assert [len(items(runtime, f"msg#{body}")) for body in good] == [1, 1]
    assert attempts(runtime, f"attempt#{bad}") == 2
    redriven = [m for m in dead_letters(runtime, "WorkDeadLetterQueue") if m["Body"] == bad]
    assert len(redriven) == 1
    # received twice from the work queue, once more here from the dead-letter queue
    assert redriven[0]["Attributes"]["ApproximateReceiveCount"] == "3"


def test_a_handler_exception_retries_the_whole_batch(runtime: LocalRuntime):
    body = f"crash-{tag()}"
    runtime.clients.sqs.send_message(QueueUrl=runtime.queue_url("WorkQueue"), MessageBody=body)
    assert runtime.wait_idle(30)
    assert attempts(runtime, f"attempt#{body}") == 2
    assert [m["Body"] for m in dead_letters(runtime, "WorkDeadLetterQueue")] == [body]


def _bulk_batches(runtime: LocalRuntime, marker: str) -> list[list[str]]:
    return [row["bodies"] for row in items(runtime, "bulk") if any(marker in b for b in row["bodies"])]


def test_batch_size_caps_each_invocation(runtime: LocalRuntime):
    marker = tag()
    url = runtime.queue_url("BulkQueue")
    bodies = [f"{marker}-{i}" for i in range(25)]
    for start in range(0, 25, 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        runtime.clients.sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert runtime.wait_idle(30)
    batches = _bulk_batches(runtime, marker)
    assert sorted(len(batch) for batch in batches) == [5, 10, 10]
    assert sorted(body for batch in batches for body in batch) == sorted(bodies)


def test_batching_window_gathers_messages_sent_apart(runtime: LocalRuntime):
    marker = tag()
    url = runtime.queue_url("BulkQueue")
    for i in range(4):
        runtime.clients.sqs.send_message(QueueUrl=url, MessageBody=f"{marker}-{i}")
    assert runtime.wait_idle(30)
    assert [len(batch) for batch in _bulk_batches(runtime, marker)] == [4]


# -- Function URL --------------------------------------------------------------------------------


def test_function_url_event_and_full_response(runtime: LocalRuntime):
    url = runtime.function_url("EchoFunction")
    response = requests.post(
        f"{url}hooks/hubspot?a=1&a=2&b=x",
        data='{"objectId": 1}',
        headers={
            "Content-Type": "application/json",
            "Cookie": "c1=v1; c2=v2",
            "User-Agent": "HubSpot Webhooks",
        },
        timeout=10,
    )
    assert response.status_code == 201
    assert response.headers["X-Echo"] == "yes"
    assert response.raw.headers.getlist("Set-Cookie") == ["first=1; Path=/", "second=2"]
    echoed = response.json()
    event = echoed["event"]
    LambdaFunctionUrlModel.model_validate(event)
    host = url.split("//", 1)[1].rstrip("/")
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/hooks/hubspot"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["host"] == host
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"objectId": 1}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == "anonymous"
    assert context["domainName"] == host
    assert context["http"] == {
        "method": "POST",
        "path": "/hooks/hubspot",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "HubSpot Webhooks",
    }
    assert (context["stage"], context["routeKey"]) == ("$default", "$default")
    assert isinstance(context["timeEpoch"], int)
    assert context["requestId"]
    env = echoed["env"]
    assert env["ONLY_ECHO"] == "echo-value"
    assert "ONLY_CONSUMER" not in env
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["_HANDLER"] == "lambdas.echo.app.handler"


def test_function_url_binary_request_body(runtime: LocalRuntime):
    response = requests.put(
        runtime.function_url("EchoFunction"),
        data=b"\x00\xff",
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )
    event = response.json()["event"]
    assert event["isBase64Encoded"] is True
    assert event["body"] == "AP8="
    assert "queryStringParameters" not in event


@pytest.mark.parametrize(
    ("path", "status", "content_type", "body"),
    [
        ("string", 200, "application/json", b'"plain text"'),
        ("object", 200, "application/json", b'{"hello": "world"}'),
        ("binary", 200, "application/octet-stream", b"\x00\x01\x02"),
        ("error", 502, "text/plain", b"Internal Server Error"),
    ],
)
def test_function_url_response_mapping(runtime: LocalRuntime, path, status, content_type, body):
    response = requests.get(runtime.function_url("EchoFunction") + path, timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"] == content_type
    assert response.content == body


def test_secrets_and_parameters_come_from_the_caller(runtime: LocalRuntime):
    response = requests.get(runtime.function_url("EchoFunction") + "config", timeout=10)
    assert response.json() == {"secret": '{"token": "s3cr3t"}', "parameter": "from-the-caller"}


# -- EventBridge ---------------------------------------------------------------------------------


def cdc_event(change_type: str = "UPDATE", **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "LeadChangeEvent",
        "source": "aws.partner/salesforce.com/00D000000000001/relay",
        "account": "123456789012",
        "time": "2025-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "payload": {"ChangeEventHeader": {"changeType": change_type, "recordIds": ["00Q1"]}},
            **detail,
        },
    }


def test_eventbridge_rule_matches_and_invokes_asynchronously(runtime: LocalRuntime):
    matching = cdc_event()
    overflow = cdc_event("GAP_OVERFLOW")
    other_source = {**cdc_event(), "source": "aws.partner/hubspot.com/1/events"}
    other_type = {**cdc_event(), "detail-type": "LeadEvent"}
    response = requests.post(
        runtime.eventbridge_ingress_url, json=[matching, overflow, other_source, other_type], timeout=10
    )
    assert response.status_code == 200
    targets = [entry["Targets"] for entry in response.json()["Entries"]]
    assert targets == [["RuleFunction"], [], [], []]
    assert runtime.wait_idle(30)
    stored = [r for r in items(runtime, f"rule#{matching['id']}") if r["sk"] == "event"]
    assert len(stored) == 1
    assert stored[0]["event"] == matching
    EventBridgeModel.model_validate(stored[0]["event"])
    for event in (overflow, other_source, other_type):
        assert items(runtime, f"rule#{event['id']}") == []


def test_eventbridge_ingress_per_event_bus(runtime: LocalRuntime):
    event = cdc_event()
    wrong = requests.post(f"{runtime.eventbridge_ingress_url}/some-other-bus", json=event, timeout=10)
    assert wrong.json()["Entries"][0]["Targets"] == []
    bus = "aws.partner/salesforce.com/00D000000000001/relay"
    right = requests.post(f"{runtime.eventbridge_ingress_url}/{bus}", json=event, timeout=10)
    assert right.json()["Entries"][0]["Targets"] == ["RuleFunction"]
    assert runtime.wait_idle(30)
    assert attempts(runtime, f"rule#{event['id']}") == 1


def test_an_events_rule_resource_sends_matching_events_to_its_queue_targets(runtime: LocalRuntime):
    contact = {**cdc_event(), "detail-type": "ContactChangeEvent"}
    lead = cdc_event()
    entries = runtime.put_events([contact, lead])
    assert [e["Targets"] for e in entries] == [
        ["RuleFunction", "RelayedEventsQueue", "RelayedEventsQueue"],
        ["RuleFunction"],  # the resource's pattern wants contacts only
    ]
    bodies = [json.loads(m["Body"]) for m in dead_letters(runtime, "RelayedEventsQueue")]
    assert sorted(bodies, key=len) == sorted([contact["detail"], contact], key=len)  # event, and InputPath
    assert runtime.wait_idle(30)


def test_eventbridge_ingress_rejects_malformed_events(runtime: LocalRuntime):
    response = requests.post(runtime.eventbridge_ingress_url, json={"detail": {}}, timeout=10)
    assert response.status_code == 400


def test_async_failures_are_retried_then_sent_to_the_on_failure_destination(runtime: LocalRuntime):
    event = cdc_event(fail=True)
    runtime.put_events([event])
    assert runtime.wait_idle(30)
    assert attempts(runtime, f"rule#{event['id']}") == 2  # MaximumRetryAttempts: 1
    records = [json.loads(m["Body"]) for m in dead_letters(runtime, "RuleFailuresQueue")]
    (record,) = [r for r in records if r["requestPayload"]["id"] == event["id"]]
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(f"function:{STACK}-RuleFunction:$LATEST")
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"


# -- schedules -----------------------------------------------------------------------------------


def test_scheduled_events(runtime: LocalRuntime):
    daily = runtime.invoke_schedule("ScheduledFunction", "Daily")
    weekly = runtime.invoke_schedule("ScheduledFunction", "Weekly")
    assert daily.ok
    assert weekly.ok
    stored = {row["sk"]: row["event"] for row in items(runtime, "sched")}
    rule_event = stored[daily.payload["request_id"]]
    EventBridgeModel.model_validate(rule_event)
    assert rule_event["detail-type"] == "Scheduled Event"
    assert rule_event["source"] == "aws.events"
    assert rule_event["detail"] == {}
    assert rule_event["resources"][0].startswith("arn:aws:events:us-east-1:123456789012:rule/")
    assert stored[weekly.payload["request_id"]] == {"kind": "weekly"}  # the schedule's Input


# -- timeouts and crashes ------------------------------------------------------------------------


def test_a_timeout_kills_the_worker_and_the_next_invocation_recovers(runtime: LocalRuntime):
    first = runtime.invoke("SlowFunction", {})
    assert first.ok
    timed_out = runtime.invoke("SlowFunction", {"sleep": 5})
    assert not timed_out.ok
    assert timed_out.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in timed_out.payload["errorMessage"]
    with pytest.raises(ProcessLookupError):
        os.kill(first.payload["pid"], 0)
    again = runtime.invoke("SlowFunction", {})
    assert again.ok
    assert again.payload["pid"] != first.payload["pid"]
    assert runtime.stats()["functions"]["SlowFunction"]["timeouts"] >= 1


def test_a_crashed_worker_is_replaced(runtime: LocalRuntime):
    crashed = runtime.invoke("SlowFunction", {"exit": True})
    assert crashed.error_type == "Runtime.ExitError"
    assert runtime.invoke("SlowFunction", {}).ok


def test_workers_stay_warm_between_invocations(runtime: LocalRuntime):
    first = runtime.invoke("SlowFunction", {})
    second = runtime.invoke("SlowFunction", {})
    assert first.payload["pid"] == second.payload["pid"]


# -- idleness and the control endpoint -----------------------------------------------------------


def test_idle_only_once_everything_drained(runtime: LocalRuntime):
    assert runtime.wait_idle(30)
    body = f"fail-{tag()}"  # stays in the queue (retried, then redriven) for a couple of seconds
    runtime.clients.sqs.send_message(QueueUrl=runtime.queue_url("WorkQueue"), MessageBody=body)
    assert runtime.is_idle() is False
    assert requests.get(f"{runtime.url}/_runtime/idle", timeout=10).json() == {"idle": False}
    assert wait_idle_remote(runtime.url, 30) is True  # as `hssync sandbox wait-idle` asks, from outside
    assert runtime.wait_idle(30) is True
    assert attempts(runtime, f"attempt#{body}") == 2
    # the message now waits in the dead-letter queue, which does not keep the runtime busy
    assert requests.get(f"{runtime.url}/_runtime/idle", timeout=10).json() == {"idle": True}
    assert [m["Body"] for m in dead_letters(runtime, "WorkDeadLetterQueue")] == [body]


def test_describe_tells_a_separate_process_where_everything_is(runtime: LocalRuntime):
    described = runtime.describe()
    assert described["url"] == runtime.url
    assert described["eventbridge_ingress_url"] == runtime.eventbridge_ingress_url
    assert described["function_urls"] == {"EchoFunction": runtime.function_url("EchoFunction")}
    assert described["queues"]["WorkQueue"] == runtime.queue_url("WorkQueue")
    assert described["functions"]["ConsumerFunction"] == f"{STACK}-ConsumerFunction"


def test_stats_endpoint(runtime: LocalRuntime):
    runtime.invoke("SlowFunction", {})
    stats = requests.get(f"{runtime.url}/_runtime/stats", timeout=10).json()
    slow = stats["functions"]["SlowFunction"]
    assert slow["invocations"] >= 1
    assert slow["duration_ms"]["p50"] is not None
    assert "ConsumerFunction.Work" in stats["event_sources"]
    assert requests.delete(f"{runtime.url}/_runtime/stats", timeout=10).json() == {"reset": True}
    assert runtime.stats()["functions"]["SlowFunction"]["invocations"] == 0
