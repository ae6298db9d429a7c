"""The local runtime's pure parts: template resolution, event patterns, schedules, SQS settlement and
the Function URL mappings (no servers, no processes)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from infra.runtime.cfn_yaml import load_cfn_yaml
from infra.runtime.function_url import (
    MAX_REQUEST_PAYLOAD,
    FunctionUrlApp,
    http_response,
    payload_bytes,
    request_event,
)
from infra.runtime.functions import Activity, InvocationResult
from infra.runtime.patterns import PatternError, matches
from infra.runtime.schedules import next_fire
from infra.runtime.sqs_poller import SqsPoller, failed_message_ids
from infra.runtime.template import SqsEventSpec, Template, TemplateError

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _template(text: str, **kwargs: Any) -> Template:
    return Template(load_cfn_yaml(text), root=FIXTURES, **kwargs)


def _fixture(**kwargs: Any) -> Template:
    """The fixture template with the values only moto knows (queue URLs, secret ARNs) stood in."""
    template = Template.load(FIXTURES / "template.yaml", **kwargs)
    template.set_physical("BulkQueue", "http://moto/123456789012/bulk")
    template.set_physical(
        "ConfigSecret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:config-AbCdEf"
    )
    return template


# -- template ------------------------------------------------------------------------------------


def test_short_tags_become_long_form_intrinsics():
    data = load_cfn_yaml(
        "A: !Ref X\nB: !GetAtt Q.Arn\nC: !Sub 'x-${Y}'\n"
        "D: !If [Cond, 1, !Ref AWS::NoValue]\nE: !Join [',', [a]]\n"
    )
    assert data == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["Q", "Arn"]},
        "C": {"Fn::Sub": "x-${Y}"},
        "D": {"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]},
        "E": {"Fn::Join": [",", ["a"]]},
    }


def test_fixture_template_resolves_globals_parameters_and_references():
    template = _fixture(stack_name="unit", parameters={"Portals": "7,8"})
    consumer = template.function("ConsumerFunction")
    echo = template.function("EchoFunction")
    assert consumer.timeout == 10  # from Globals
    assert echo.memory_size == 512  # overrides Globals
    assert consumer.runtime == "python3.13"
    assert consumer.architectures == ("arm64",)
    # Globals variables merge with the function's own
    assert consumer.environment["STAGE"] == "test"
    assert consumer.environment["ONLY_CONSUMER"] == "consumer-value"
    assert "ONLY_CONSUMER" not in echo.environment
    assert consumer.environment["PORTALS"] == "7,8"
    assert consumer.environment["NAMED"] == "unit-test-unit-WorkQueue"
    assert consumer.environment["WORK_QUEUE_ARN"] == "arn:aws:sqs:us-east-1:123456789012:unit-WorkQueue"
    assert consumer.environment["TABLE_NAME"] == "unit-ItemsTable"
    # the condition keeps the prod-only queue out; alarms are read, never turned into queues
    assert "ProdOnlyQueue" not in template.resources
    assert {q.logical_id for q in template.queues()} == {
        "WorkQueue",
        "WorkDeadLetterQueue",
        "BulkQueue",
        "RuleFailuresQueue",
        "RelayedEventsQueue",
        "OrderedQueue",
    }
    (rule,) = template.event_rules()
    assert rule.logical_id == "RelayRule"
    assert rule.event_bus == "aws.partner/salesforce.com/00D000000000001/relay"
    assert [(t.id, t.arn, t.input_path) for t in rule.targets] == [
        ("relayed", "arn:aws:sqs:us-east-1:123456789012:unit-RelayedEventsQueue", None),
        ("relayed-detail", "arn:aws:sqs:us-east-1:123456789012:unit-RelayedEventsQueue", "$.detail"),
    ]


def test_queue_url_references_wait_for_provisioning():
    template = Template.load(FIXTURES / "template.yaml")
    with pytest.raises(TemplateError, match="provision first"):
        template.function("ConsumerFunction")  # BULK_QUEUE_URL is !Ref BulkQueue
    template.set_physical("BulkQueue", "http://moto/123456789012/hssync-BulkQueue")
    template.set_physical(
        "ConfigSecret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:config-AbCdEf"
    )
    assert template.function("ConsumerFunction").environment["BULK_QUEUE_URL"].endswith("/hssync-BulkQueue")


def test_queue_attributes_redrive_and_fifo():
    template = Template.load(FIXTURES / "template.yaml")
    queues = {q.logical_id: q for q in template.queues()}
    work = queues["WorkQueue"]
    assert work.attributes["VisibilityTimeout"] == "1"
    assert json.loads(work.attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": queues["WorkDeadLetterQueue"].arn,
        "maxReceiveCount": 2,
    }
    assert work.dead_letter_arn == queues["WorkDeadLetterQueue"].arn
    ordered = queues["OrderedQueue"]
    assert ordered.fifo
    assert ordered.name.endswith(".fifo")
    assert ordered.attributes["ContentBasedDeduplication"] == "true"


def test_tables_keep_keys_indexes_and_ttl():
    (table,) = Template.load(FIXTURES / "template.yaml", stack_name="s").tables()
    assert table.name == "s-ItemsTable"
    assert table.create_args["KeySchema"][0] == {"AttributeName": "pk", "KeyType": "HASH"}
    assert table.create_args["GlobalSecondaryIndexes"][0]["IndexName"] == "by-sk"
    assert table.ttl_attribute == "expires_at"


def test_handler_modules_for_a_code_directory_and_for_a_dotted_handler():
    template = _fixture()
    consumer = template.function("ConsumerFunction")
    assert (consumer.module, consumer.attribute) == ("lambdas.consumer.app", "handler")
    assert consumer.code_dir == FIXTURES / "lambdas" / "consumer"
    echo = template.function("EchoFunction")
    assert (echo.module, echo.attribute) == ("lambdas.echo.app", "handler")
    assert echo.code_dir == FIXTURES


def test_event_sources_are_read_from_the_template():
    template = _fixture()
    (work,) = template.function("ConsumerFunction").sqs_events
    assert work.batch_size == 10
    assert work.report_batch_item_failures
    (bulk,) = template.function("BulkFunction").sqs_events
    assert (bulk.batching_window, bulk.maximum_concurrency, bulk.report_batch_item_failures) == (
        3.0,
        2,
        False,
    )
    rule_function = template.function("RuleFunction")
    (rule,) = rule_function.rules
    assert rule.event_bus == "aws.partner/salesforce.com/00D000000000001/relay"
    assert rule_function.async_config.maximum_retry_attempts == 1
    assert rule_function.async_config.on_failure is not None
    assert rule_function.async_config.on_failure.type == "SQS"
    daily, weekly = template.function("ScheduledFunction").schedules
    assert (daily.expression, daily.scheduler, daily.input) == ("rate(1 day)", False, None)
    assert (weekly.scheduler, weekly.input) == (True, {"kind": "weekly"})
    assert template.function("EchoFunction").url is not None


@pytest.mark.parametrize(
    ("batch", "window", "refused"), [(500, None, True), (11, 0, True), (10, None, False), (500, 1, False)]
)
def test_a_batch_above_10_without_a_batching_window_is_refused_as_lambda_refuses_it(batch, window, refused):
    window_line = "" if window is None else f"\n            MaximumBatchingWindowInSeconds: {window}"
    text = f"""Resources:
  Work: {{Type: AWS::SQS::Queue}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: lambdas/bulk/
      Handler: app.handler
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: {batch}{window_line}
"""
    template = _template(text)
    if refused:
        with pytest.raises(TemplateError, match="needs MaximumBatchingWindowInSeconds of at least 1"):
            template.function("Fn").sqs_events  # noqa: B018 (read for its check)
    else:
        assert template.function("Fn").sqs_events[0].batch_size == batch


def test_parameters_are_checked_like_cloudformation():
    text = (
        "Parameters:\n  P: {Type: String, AllowedValues: [a, b]}\n  N: {Type: Number, Default: 3}\n"
        "Resources: {}\n"
    )
    with pytest.raises(TemplateError, match="without a default"):
        _template(text)
    with pytest.raises(TemplateError, match="not one of"):
        _template(text, parameters={"P": "c"})
    with pytest.raises(TemplateError, match="not a number"):
        _template(text, parameters={"P": "a", "N": "x"})
    with pytest.raises(TemplateError, match="unknown parameters"):
        _template(text, parameters={"P": "a", "Q": "1"})
    assert _template(text, parameters={"P": "b"}).parameters == {"P": "b", "N": "3"}


def test_intrinsic_functions():
    template = _template(
        "Parameters:\n  Env: {Type: String, Default: dev}\n"
        "Mappings:\n  Sizes: {dev: {mem: 128}}\n"
        "Conditions:\n  Dev: !Equals [!Ref Env, dev]\n  NotDev: !Not [!Condition Dev]\n"
        "Resources:\n  T: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Sub '${Env}-t'}}\n"
    )
    resolve = template.resolve
    assert resolve({"Fn::If": ["Dev", "yes", "no"]}) == "yes"
    assert resolve({"k": {"Fn::If": ["NotDev", 1, {"Ref": "AWS::NoValue"}]}}) == {}
    assert resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "mem"]}) == 128
    assert resolve({"Fn::Sub": ["${A}-${T}-${!Literal}", {"A": "x"}]}) == "x-dev-t-${Literal}"
    assert resolve({"Fn::GetAtt": ["T", "Arn"]}) == "arn:aws:dynamodb:us-east-1:123456789012:table/dev-t"
    assert resolve({"Fn::Sub": "${AWS::Region}/${AWS::AccountId}"}) == "us-east-1/123456789012"
    with pytest.raises(TemplateError):
        resolve({"Ref": "Nope"})


# -- patterns ------------------------------------------------------------------------------------

CDC_EVENT = {
    "source": "aws.partner/salesforce.com/00D1/relay",
    "detail-type": "LeadChangeEvent",
    "detail": {
        "payload": {"ChangeEventHeader": {"changeType": "UPDATE", "recordIds": ["00Q1", "00Q2"]}},
        "count": 5,
        "ip": "10.0.3.7",
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": [{"prefix": "aws.partner/salesforce.com"}]}, True),
        ({"source": [{"prefix": "aws.partner/hubspot"}]}, False),
        ({"detail-type": ["LeadChangeEvent", "ContactChangeEvent"]}, True),
        ({"detail-type": [{"suffix": "ChangeEvent"}]}, True),
        ({"detail-type": [{"equals-ignore-case": "leadchangeevent"}]}, True),
        ({"detail-type": [{"wildcard": "*Change*"}]}, True),
        (
            {
                "detail": {
                    "payload": {"ChangeEventHeader": {"changeType": [{"anything-but": ["GAP_OVERFLOW"]}]}}
                }
            },
            True,
        ),
        ({"detail": {"payload": {"ChangeEventHeader": {"changeType": [{"anything-but": "UPDATE"}]}}}}, False),
        (
            {
                "detail": {
                    "payload": {"ChangeEventHeader": {"changeType": [{"anything-but": {"prefix": "GAP"}}]}}
                }
            },
            True,
        ),
        ({"detail": {"payload": {"ChangeEventHeader": {"recordIds": ["00Q2"]}}}}, True),  # any array element
        ({"detail": {"count": [{"numeric": [">", 3, "<=", 5]}]}}, True),
        ({"detail": {"count": [{"numeric": [">", 5]}]}}, False),
        ({"detail": {"ip": [{"cidr": "10.0.0.0/16"}]}}, True),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"detail": {"missing": [{"exists": True}]}}, False),
        ({"detail": {"count": [{"exists": True}]}}, True),
        (
            {"detail": {"missing": [{"anything-but": "x"}]}},
            False,
        ),  # a missing field matches only exists:false
        ({"detail": {"nested": {"deeper": ["x"]}}}, False),
        ({"$or": [{"source": ["nope"]}, {"detail": {"count": [5]}}]}, True),
        ({"$or": [{"source": ["nope"]}, {"detail": {"count": [6]}}]}, False),
        ({"detail": {"count": [5.0]}}, True),  # numbers compare numerically
    ],
)
def test_event_patterns(pattern, expected):
    assert matches(pattern, CDC_EVENT) is expected


def test_malformed_patterns_are_rejected():
    with pytest.raises(PatternError):
        matches({"source": "not-a-list"}, CDC_EVENT)
    with pytest.raises(PatternError):
        matches({"source": [{"regex": "x"}]}, CDC_EVENT)


# -- schedules -----------------------------------------------------------------------------------


def test_rate_and_cron_schedules():
    start = dt.datetime(2025, 1, 1, 10, 7, 30, tzinfo=dt.UTC)  # a Wednesday
    assert next_fire("rate(5 minutes)", start) == start + dt.timedelta(minutes=5)
    assert next_fire("rate(1 day)", start) == start + dt.timedelta(days=1)
    assert next_fire("cron(0/15 * * * ? *)", start) == start.replace(minute=15, second=0)
    assert next_fire("cron(0 6 ? * MON *)", start) == dt.datetime(2025, 1, 6, 6, 0, tzinfo=dt.UTC)
    assert next_fire("cron(30 2 L * ? *)", start) == dt.datetime(2025, 1, 31, 2, 30, tzinfo=dt.UTC)
    assert next_fire("cron(0 9 ? * 2#1 *)", start) == dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    with pytest.raises(TemplateError):
        next_fire("every 5 minutes", start)
    with pytest.raises(TemplateError):
        next_fire("cron(0 6 * * MON *)", start)  # one of the day fields must be '?'


# -- SQS settlement ------------------------------------------------------------------------------


def test_batch_item_failure_reports():
    ids = ["a", "b", "c"]
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids) == {"b"}
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids(None, ids) == set()
    # an unknown, empty or missing identifier fails the whole batch, as in Lambda
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{}]}, ids) is None


class _FakeSqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.deleted.extend(entry["ReceiptHandle"] for entry in Entries)
        return {"Successful": Entries, "Failed": []}


class _FakePool:
    def __init__(self, result: InvocationResult) -> None:
        self.result = result
        self.events: list[Any] = []
        self.spec = type("Spec", (), {"logical_id": "Fake"})()

    def invoke(self, event: Any) -> InvocationResult:
        self.events.append(event)
        return self.result


def _settle(
    result: InvocationResult, *, report: bool, patterns: tuple[dict[str, Any], ...] = ()
) -> tuple[list[str], list[Any]]:
    sqs = _FakeSqs()
    pool = _FakePool(result)
    event = SqsEventSpec("Work", "arn:aws:sqs:us-east-1:1:q", 10, 0.0, report, True, None, patterns)
    poller = SqsPoller(pool=pool, event=event, queue_url="u", sqs=sqs, region="us-east-1", concurrency=1)  # type: ignore[arg-type]
    messages = [
        {"MessageId": mid, "ReceiptHandle": f"rh-{mid}", "Body": body, "Attributes": {}}
        for mid, body in (("a", '{"kind": "x"}'), ("b", '{"kind": "y"}'), ("c", "plain"))
    ]
    poller._settle(messages)
    return sorted(sqs.deleted), pool.events


def _result(ok: bool, payload: Any) -> InvocationResult:
    return InvocationResult("Fake", "r", ok, payload, 1.0, None if ok else "Unhandled")


def test_settlement_deletes_what_succeeded():
    deleted, _ = _settle(_result(True, {"batchItemFailures": [{"itemIdentifier": "b"}]}), report=True)
    assert deleted == ["rh-a", "rh-c"]
    # without ReportBatchItemFailures the response is not read: everything succeeded
    deleted, _ = _settle(_result(True, {"batchItemFailures": [{"itemIdentifier": "b"}]}), report=False)
    assert deleted == ["rh-a", "rh-b", "rh-c"]
    # a handler error leaves the whole batch for another attempt
    deleted, _ = _settle(_result(False, {"errorType": "RuntimeError"}), report=True)
    assert deleted == []
    deleted, _ = _settle(_result(True, {"batchItemFailures": [{"itemIdentifier": "nope"}]}), report=True)
    assert deleted == []


def test_filter_criteria_drop_non_matching_messages_without_invoking():
    deleted, events = _settle(_result(True, None), report=True, patterns=({"body": {"kind": ["x"]}},))
    (event,) = events
    assert [record["messageId"] for record in event["Records"]] == ["a"]
    assert deleted == ["rh-a", "rh-b", "rh-c"]  # filtered messages are deleted, the invoked one succeeded


def test_activity_generation_moves_on_every_change():
    activity = Activity()
    _, _, first = activity.snapshot()
    activity.begin()
    activity.end()
    assert activity.snapshot() == (0, 0, first + 2)


# -- Function URL mapping ------------------------------------------------------------------------


def _request(**kwargs: Any) -> Request:
    return Request(EnvironBuilder(**kwargs).get_environ())


def test_request_event_has_the_payload_format_2_shape():
    request = _request(
        path="/hooks/hubspot",
        query_string="a=1&a=2&b=x",
        method="POST",
        data=b'{"k": 1}',
        headers={"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2", "X-Thing": "t"},
        base_url="http://127.0.0.1:9999",
    )
    event = request_event(request, url_id="abc", account_id="anonymous")
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/hooks/hubspot"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-thing"] == "t"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["body"] == '{"k": 1}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"


def test_binary_request_bodies_are_base64_encoded():
    request = _request(
        path="/", method="POST", data=b"\xff\x00", headers={"Content-Type": "application/octet-stream"}
    )
    event = request_event(request, url_id="abc", account_id="anonymous")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_response_mapping_follows_the_function_url_rules():
    full = http_response(_result(True, {"statusCode": 404, "headers": {"X-A": "1"}, "body": "nope"}))
    assert (full.status_code, full.headers["X-A"], full.get_data()) == (404, "1", b"nope")
    assert full.headers["Content-Type"] == "application/json"
    inferred = http_response(_result(True, {"message": "hi"}))
    assert (inferred.status_code, json.loads(inferred.get_data())) == (200, {"message": "hi"})
    text = http_response(_result(True, "hello"))
    assert text.get_data() == b'"hello"'
    assert http_response(_result(False, {"errorType": "X"})).status_code == 502


def test_a_request_over_lambdas_payload_quota_is_413_and_the_function_is_not_invoked():
    from werkzeug.test import Client

    invoked: list[dict[str, Any]] = []

    def invoke(event: Any) -> InvocationResult:
        invoked.append(event)
        return _result(True, {"statusCode": 200, "body": "ok"})

    client = Client(FunctionUrlApp(invoke, url_id="abc", account_id="anonymous"))
    headers = {"Content-Type": "application/json"}
    # the event around a body: headers, request context (the quota counts the whole payload)
    frame = payload_bytes(request_event(_request(method="POST", data=b"", headers=headers), url_id="abc",
                                        account_id="anonymous"))  # fmt: skip
    fits = b"x" * (MAX_REQUEST_PAYLOAD - frame - 1000)
    assert client.post("/", data=fits, headers=headers).status_code == 200
    escaped = b'"' * (MAX_REQUEST_PAYLOAD // 2 + 1)  # under the quota as raw bytes, over it as JSON
    for body in (b"x" * (MAX_REQUEST_PAYLOAD + 1), escaped):
        response = client.post("/", data=body, headers=headers)
        assert response.status_code == 413
        assert "smaller than 6291456 bytes" in response.get_json()["Message"]
    assert len(invoked) == 1


def test_properties_the_runtime_does_not_need_are_not_resolved():
    template = _template(
        "Resources:\n"
        "  F:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: lambdas/slow/\n"
        "      Handler: app.handler\n"
        "      Policies: [{SecretArn: !ImportValue other-stack-secret}]\n"
        "      Events:\n"
        "        Api: {Type: HttpApi, Properties: {Path: !ImportValue other-stack-path}}\n"
    )
    function = template.function("F")
    assert function.unsupported_events == ("Api (HttpApi)",)
    assert function.timeout == 3  # SAM's default
    assert function.memory_size == 128


def test_each_sqs_event_source_of_a_function_has_invocations_of_its_own():
    """As in Lambda, where each SQS event source scales on its own: a function consuming two queues
    (issue 17's two lanes) gets the concurrency for each, so a backlog in one never takes the
    other's invocations; a reserved concurrency still caps the whole."""
    from dataclasses import replace
    from types import SimpleNamespace

    from infra.runtime.runtime import LocalRuntime

    bulk = _fixture().function("BulkFunction")
    (source,) = bulk.sqs_events
    runtime = SimpleNamespace(concurrency=2)
    two_sources = replace(bulk, sqs_events=(source, replace(source, name="Second")))
    assert LocalRuntime._pool_limit(runtime, bulk) == 2  # type: ignore[arg-type]
    assert LocalRuntime._pool_limit(runtime, two_sources) == 4  # type: ignore[arg-type]
    assert LocalRuntime._pool_limit(runtime, replace(two_sources, reserved_concurrency=1)) == 1  # type: ignore[arg-type]
    assert LocalRuntime._pool_limit(runtime, replace(bulk, sqs_events=())) == 2  # type: ignore[arg-type]
