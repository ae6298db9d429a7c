"""The request meter in front of moto (infra.runtime.meter): requests counted per caller, service and
operation; DynamoDB request units and SQS 64 KB chunks as AWS bills them."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from infra.runtime.meter import METER_PATH, RequestMeter, attribute_size, item_size

AUTH = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE0000001/20261207/us-east-1/{service}/aws4_request, x"


def test_item_sizes_follow_dynamodbs_rules():
    assert attribute_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert attribute_size({"N": "12345"}) == 4  # ceil(5 digits / 2) + 1
    assert attribute_size({"BOOL": True}) == 1
    assert attribute_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert attribute_size({"M": {"k": {"S": "v"}}}) == 3 + 2
    assert item_size({"pk": {"S": "LINK#1"}, "rev": {"N": "3"}}) == (2 + 6) + (3 + 2)


class FakeMoto:
    def __init__(self, answer: dict[str, Any] | None = None) -> None:
        self.answer = json.dumps(answer or {}).encode()
        self.seen: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.seen.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
        return [self.answer]


def call(
    meter: RequestMeter, service: str, target: str, body: dict[str, Any], *, function: bool = True
) -> bytes:
    data = json.dumps(body).encode()
    environ = {
        "PATH_INFO": "/",
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/x-amz-json-1.0",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_X_AMZ_TARGET": target,
        "HTTP_AUTHORIZATION": AUTH.format(service=service),
        "wsgi.input": io.BytesIO(data),
    }
    if function:  # a role session's credentials
        environ["HTTP_X_AMZ_SECURITY_TOKEN"] = "session-token"
    return b"".join(meter(environ, lambda *_: None))


def big_item(kb: float, pk: str = "K") -> dict[str, Any]:
    return {"pk": {"S": pk}, "blob": {"S": "x" * int(kb * 1024)}}


def test_writes_are_billed_per_started_kb_and_transactions_twice():
    meter = RequestMeter(FakeMoto())
    call(meter, "dynamodb", "DynamoDB_20120810.PutItem", {"TableName": "t", "Item": big_item(0.5)})
    call(meter, "dynamodb", "DynamoDB_20120810.PutItem", {"TableName": "t", "Item": big_item(2.5)})
    put = {"PutRequest": {"Item": big_item(0.1)}}
    call(meter, "dynamodb", "DynamoDB_20120810.BatchWriteItem", {"RequestItems": {"t": [put, put, put]}})
    transaction = {
        "TransactItems": [{"Put": {"Item": big_item(0.1)}}, {"Update": {"Key": {"pk": {"S": "K"}}}}]
    }
    call(meter, "dynamodb", "DynamoDB_20120810.TransactWriteItems", transaction)
    counted = meter.snapshot()
    assert counted["billed"]["function dynamodb write"] == 1 + 3 + 3 + 2 * 2
    assert counted["requests"]["function dynamodb PutItem"] == 2
    assert counted["requests"]["function dynamodb BatchWriteItem"] == 1


def test_reads_are_billed_per_started_4_kb_half_when_eventually_consistent():
    found = {"Responses": {"t": [big_item(5, "a"), big_item(1, "b")]}}
    meter = RequestMeter(FakeMoto(found))
    keys = {"t": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}, {"pk": {"S": "c"}}]}}
    call(meter, "dynamodb", "DynamoDB_20120810.BatchGetItem", {"RequestItems": keys})
    assert meter.snapshot()["billed"]["function dynamodb read"] == (2 + 1 + 1) * 0.5  # the missing key too
    meter = RequestMeter(FakeMoto({"Item": big_item(1)}))
    call(meter, "dynamodb", "DynamoDB_20120810.GetItem", {"Key": {}, "ConsistentRead": True})
    assert meter.snapshot()["billed"]["function dynamodb read"] == 1


def test_units_are_also_counted_per_kind_of_item():
    meter = RequestMeter(FakeMoto())
    link = {"pk": {"S": "P#1000001#HS#123"}, "sk": {"S": "LINK"}, "rev": {"N": "1"}}
    claim = {"pk": {"S": "P#1000001#CLAIM#salesforce#a@example.com"}, "sk": {"S": "CLAIM"}}
    puts = [{"PutRequest": {"Item": link}}, {"PutRequest": {"Item": link}}, {"PutRequest": {"Item": claim}}]
    call(meter, "dynamodb", "DynamoDB_20120810.BatchWriteItem", {"RequestItems": {"t": puts}})
    billed = meter.snapshot()["billed"]
    assert billed["function dynamodb write P#HS/LINK"] == 2
    assert billed["function dynamodb write P#CLAIM/CLAIM"] == 1
    assert billed["function dynamodb write"] == 3


def test_sqs_is_billed_per_64_kb_and_the_runtimes_polling_apart():
    meter = RequestMeter(FakeMoto())
    call(meter, "sqs", "AmazonSQS.SendMessage", {"MessageBody": "x" * (100 * 1024)})
    call(meter, "sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": "q"}, function=False)
    counted = meter.snapshot()
    assert counted["billed"]["function sqs requests"] == 2
    assert counted["billed"]["runtime sqs requests"] == 1
    assert counted["requests"]["runtime sqs ReceiveMessage"] == 1


def test_the_application_gets_the_request_body_and_the_meter_answers_and_resets():
    moto = FakeMoto({"ok": True})
    meter = RequestMeter(moto)
    answer = call(meter, "dynamodb", "DynamoDB_20120810.PutItem", {"Item": big_item(0.1)})
    assert json.loads(answer) == {"ok": True}
    assert json.loads(moto.seen[0])["Item"] == big_item(0.1)
    reset = {"PATH_INFO": METER_PATH, "REQUEST_METHOD": "DELETE"}
    assert json.loads(b"".join(meter(reset, lambda *_: None)))["requests"] == {}
    assert meter.snapshot() == {"requests": {}, "billed": {}}


@pytest.mark.parametrize("auth", ["", "Bearer x"])
def test_unsigned_requests_pass_uncounted(auth):
    moto = FakeMoto()
    meter = RequestMeter(moto)
    environ = {"PATH_INFO": "/moto-api/reset", "REQUEST_METHOD": "POST", "HTTP_AUTHORIZATION": auth,
               "wsgi.input": io.BytesIO(b"")}  # fmt: skip
    list(meter(environ, lambda *_: None))
    assert meter.snapshot() == {"requests": {}, "billed": {}}
