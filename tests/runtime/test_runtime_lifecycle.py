"""Starting and stopping the local runtime: periodic schedules, eager start, re-provisioning against
the same moto, init errors, and a stop that leaves no process or thread behind."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.runtime import LocalRuntime, MotoServer, Template

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer(port=0)
    server.start()
    yield server
    server.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _scheduled_events(runtime: LocalRuntime) -> list[str]:
    response = runtime.clients.dynamodb.query(
        TableName="life-ItemsTable",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "sched"}},
        ConsistentRead=True,
    )
    return [item["event"]["S"] for item in response["Items"]]


def test_schedules_fire_on_the_local_period_and_stop_cleanly(moto: MotoServer):
    template = Template.load(FIXTURES / "template.yaml", stack_name="life")
    runtime = LocalRuntime(
        template, aws_endpoint=moto.endpoint_url, functions=["ScheduledFunction"], schedule_period=0.2
    )
    before = set(threading.enumerate())  # other tests' stacks may run in this process
    runtime.start()
    try:
        assert set(runtime.pools) == {"ScheduledFunction"}
        deadline = time.monotonic() + 20
        events = _scheduled_events(runtime)
        while len(events) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
            events = _scheduled_events(runtime)
        # both schedules fired, repeatedly: the rule's scheduled event and the Scheduler's Input
        assert any('"source": "aws.events"' in event for event in events)
        assert any(event == '{"kind": "weekly"}' for event in events)
        assert len(events) >= 4
        pids = runtime.worker_pids()
        assert pids
    finally:
        runtime.stop()
    assert not any(_alive(pid) for pid in pids)
    assert runtime.worker_pids() == []
    leftovers = [
        t.name
        for t in set(threading.enumerate()) - before
        if t.name.startswith(("schedules", "sqs-", "batch-", "url-"))
    ]
    assert leftovers == []
    count = len(_scheduled_events(runtime))
    time.sleep(0.5)
    assert len(_scheduled_events(runtime)) == count  # nothing fires after stop


def test_eager_start_and_provisioning_twice_against_the_same_moto(moto: MotoServer):
    first = LocalRuntime(
        Template.load(FIXTURES / "template.yaml", stack_name="again"),
        aws_endpoint=moto.endpoint_url,
        functions=["SlowFunction"],
    )
    queues = first.provision()
    second = LocalRuntime(
        Template.load(FIXTURES / "template.yaml", stack_name="again"),
        aws_endpoint=moto.endpoint_url,
        functions=["SlowFunction"],
        eager=True,
    )
    with second:
        assert {k: q.url for k, q in second.queues.items()} == {k: q.url for k, q in queues.items()}
        assert len(second.worker_pids()) == 1  # warmed before any invocation
        assert second.invoke("SlowFunction", {}).ok
    assert second.worker_pids() == []


def test_unknown_function_subset_is_refused(moto: MotoServer):
    runtime = LocalRuntime(
        Template.load(FIXTURES / "template.yaml", stack_name="subset"),
        aws_endpoint=moto.endpoint_url,
        functions=["NoSuchFunction"],
    )
    with pytest.raises(ValueError, match="NoSuchFunction"):
        runtime.start()
    runtime.stop()


BROKEN_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  BrokenImport:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: broken/, Handler: app.handler, Runtime: python3.13}
  MissingHandler:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fine/, Handler: app.nothing_here, Runtime: python3.13}
  Fine:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fine/, Handler: app.handler, Runtime: python3.13}
"""


def test_init_errors_fail_invocations_like_lambda(moto: MotoServer, tmp_path: Path):
    (tmp_path / "template.yaml").write_text(BROKEN_TEMPLATE)
    for folder, code in (
        ("broken", "import module_that_does_not_exist\n\ndef handler(event, context):\n    return 1\n"),
        ("fine", "def handler(event, context):\n    return {'echo': event}\n"),
    ):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
        (tmp_path / folder / "app.py").write_text(code)
    runtime = LocalRuntime(
        Template.load(tmp_path / "template.yaml", stack_name="init"), aws_endpoint=moto.endpoint_url
    )
    with runtime:
        broken = runtime.invoke("BrokenImport", {})
        assert broken.error_type == "Runtime.ImportModuleError"
        assert "module_that_does_not_exist" in broken.payload["errorMessage"]
        assert runtime.invoke("MissingHandler", {}).error_type == "Runtime.HandlerNotFound"
        fine = runtime.invoke("init-Fine", {"a": 1})  # the physical name works too
        assert (fine.ok, fine.payload) == (True, {"echo": {"a": 1}})


POWERTOOLS_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Tracing: Active
    Environment:
      Variables: {POWERTOOLS_SERVICE_NAME: local-runtime, POWERTOOLS_METRICS_NAMESPACE: hssync}
Resources:
  Instrumented:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: instrumented/
      Handler: app.handler
      Runtime: python3.13
      Policies:
        - Statement: [{Effect: Allow, Action: sqs:ListQueues, Resource: "*"}]
"""

POWERTOOLS_HANDLER = """
import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger, tracer, metrics = Logger(), Tracer(), Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    logger.info("handled", extra={"n": event["n"]})
    metrics.add_metric(name="Handled", unit=MetricUnit.Count, value=1)
    return {"queues": boto3.client("sqs").list_queues().get("QueueUrls", [])[:1]}
"""


def test_a_powertools_instrumented_handler_runs_unchanged(moto: MotoServer, tmp_path: Path):
    (tmp_path / "template.yaml").write_text(POWERTOOLS_TEMPLATE)
    (tmp_path / "instrumented").mkdir()
    (tmp_path / "instrumented" / "__init__.py").write_text("")
    (tmp_path / "instrumented" / "app.py").write_text(POWERTOOLS_HANDLER)
    logs = tmp_path / "logs"
    template = Template.load(tmp_path / "template.yaml", stack_name="pt")
    with LocalRuntime(template, aws_endpoint=moto.endpoint_url, log_dir=logs) as runtime:
        assert runtime.invoke("Instrumented", {"n": 1}).ok
        assert runtime.invoke("Instrumented", {"n": 2}).ok
    lines = (logs / "Instrumented.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith('{"level"')]
    assert [(r["n"], r["cold_start"]) for r in records] == [(1, True), (2, False)]
    assert {r["function_name"] for r in records} == {"pt-Instrumented"}
    assert all(r["xray_trace_id"].startswith("1-") for r in records)
    metrics = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    assert [m["Handled"] for m in metrics] == [[1.0], [1.0]]
    assert sum(line.startswith("REPORT RequestId:") for line in lines) == 2
