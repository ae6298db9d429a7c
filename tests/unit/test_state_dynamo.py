"""DynamoState specifics on moto's in-process mock (no sockets): item layout, call economy, retries
of unprocessed keys and cancelled transactions, the lazy client, and tables built from the template.
The behaviour it shares with MemoryState is in tests/integration/test_state_contract.py."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shared.errors import TransientApiError
from shared.ports import ClaimAsk, ClaimDone, Link
from shared.state import DynamoState
from tests.template_tables import create_table_from_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
LEAD_1 = "00Q000000000001EAA"
LEAD_2 = "00Q000000000002EAA"
CONTACT_1 = "003000000000001AAA"


class SpyClient:
    """Forwards to a real (moto) client, counting calls; ``hooks`` may replace an operation."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: Counter[str] = Counter()
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.hooks: dict[str, Callable[..., Any]] = {}

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            self.requests.setdefault(name, []).append(kwargs)
            hook = self.hooks.get(name)
            return hook(operation, **kwargs) if hook else operation(**kwargs)

        return call


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def table(aws: Any) -> str:
    return create_table_from_template(aws, TEMPLATE, "StateTable")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def spy(aws: Any, table: str) -> SpyClient:
    return SpyClient(aws)


@pytest.fixture
def state(spy: SpyClient, table: str, sleeps: list[float]) -> DynamoState:
    return DynamoState(table, spy, sleep=sleeps.append, max_attempts=4)


def lead(index: int) -> str:
    return f"00Q{index:012d}"


def items(aws: Any, table: str) -> dict[str, dict[str, Any]]:
    return {item["pk"]["S"] + "|" + item["sk"]["S"]: item for item in aws.scan(TableName=table)["Items"]}


def test_a_link_is_a_content_item_and_a_pointer(aws: Any, table: str, state: DynamoState) -> None:
    state.save_links(
        [
            Link(
                "100",
                "501",
                "Lead",
                LEAD_1,
                {"phone": ("555", None)},
                linked_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            )
        ]
    )

    stored = items(aws, table)
    assert set(stored) == {"P#100#HS#501|LINK", f"P#100#SF#{LEAD_1}|LINK"}
    content = stored["P#100#HS#501|LINK"]
    assert content["synced"] == {"M": {"phone": {"L": [{"S": "555"}, {"NULL": True}]}}}
    assert content["linked_at"] == {"S": "2026-03-01T00:00:00+00:00"}
    assert (content["sf_id"], content["sf_object"]) == ({"S": LEAD_1}, {"S": "Lead"})
    assert "updated_at" not in content
    assert stored[f"P#100#SF#{LEAD_1}|LINK"] == {
        "pk": {"S": f"P#100#SF#{LEAD_1}"},
        "sk": {"S": "LINK"},
        "portal": {"S": "100"},
        "hubspot_id": {"S": "501"},
    }


def test_link_calls_are_batched_to_the_limits(state: DynamoState, spy: SpyClient) -> None:
    links = [Link("100", str(index), "Lead", lead(index)) for index in range(120)]
    state.save_links(links)

    assert spy.calls == {"batch_get_item": 3, "batch_write_item": 10}  # rounds of 50 links; 240 items
    writes = [request["RequestItems"][state.table_name] for request in spy.requests["batch_write_item"]]
    assert [len(write) for write in writes] == [25, 25, 25, 25] * 2 + [20, 20]
    kinds = ["#SF#" in request["PutRequest"]["Item"]["pk"]["S"] for write in writes for request in write]
    assert kinds == ([True] * 50 + [False] * 50) * 2 + [True] * 20 + [False] * 20  # pointers, then contents

    spy.calls.clear()
    found = state.links_by_salesforce("100", [lead(index) for index in range(120)])
    assert len(found) == 120
    assert spy.calls == {"batch_get_item": 4}  # pointers, then contents: 100 keys per call


def test_only_what_changed_is_written(state: DynamoState, spy: SpyClient) -> None:
    links = [
        Link("100", str(index), "Lead", lead(index), {"email": ("a@x.io", "a@x.io")}) for index in range(3)
    ]
    state.save_links(links)
    spy.calls.clear()

    state.save_links(links)  # a redelivered message
    assert spy.calls == {"batch_get_item": 1}

    for link in links:
        link.synced["email"] = ("b@x.io", "b@x.io")
    state.save_links(links)
    write = spy.requests["batch_write_item"][-1]
    written = [
        request["PutRequest"]["Item"]["pk"]["S"] for request in write["RequestItems"][state.table_name]
    ]
    assert written == ["P#100#HS#0", "P#100#HS#1", "P#100#HS#2"]  # content only; pointers unchanged


def test_a_relink_removes_the_pointers_it_leaves_behind(aws: Any, table: str, state: DynamoState) -> None:
    state.save_links([Link("100", "501", "Lead", LEAD_1), Link("100", "502", "Lead", LEAD_2)])
    state.save_links([Link("100", "501", "Contact", CONTACT_1)])  # 501's old pointer goes
    state.save_links([Link("100", "503", "Lead", LEAD_2)])  # 502's content goes

    assert set(items(aws, table)) == {
        "P#100#HS#501|LINK",
        f"P#100#SF#{CONTACT_1}|LINK",
        "P#100#HS#503|LINK",
        f"P#100#SF#{LEAD_2}|LINK",
    }


def test_a_link_whose_items_disagree_is_not_a_link(aws: Any, table: str, state: DynamoState) -> None:
    """What a concurrent saver can leave behind: saver B relinks 501 between saver A's read and
    write. The leftover pointer is garbage that reads ignore, never a second link."""
    other_saver = DynamoState(table, aws)
    state.client.hooks["batch_write_item"] = _before_first_call(
        lambda: other_saver.save_links([Link("100", "501", "Lead", LEAD_2)])
    )
    state.save_links([Link("100", "501", "Lead", LEAD_1)])

    assert f"P#100#SF#{LEAD_2}|LINK" in items(aws, table)  # B's pointer to 501 survived A's write
    assert state.links_by_salesforce("100", [LEAD_1, LEAD_2]).keys() == {LEAD_1}
    assert state.links_by_hubspot("100", ["501"])["501"].sf_id == LEAD_1


def test_an_interrupted_relink_leaves_the_old_link(state: DynamoState, spy: SpyClient) -> None:
    state.save_links([Link("100", "501", "Lead", LEAD_1)])

    spy.hooks["batch_write_item"] = _only_salesforce_pointers
    with pytest.raises(TransientApiError, match="unwritten"):
        state.save_links([Link("100", "501", "Lead", LEAD_2)])

    assert state.links_by_hubspot("100", ["501"])["501"].sf_id == LEAD_1
    assert state.links_by_salesforce("100", [LEAD_1, LEAD_2]).keys() == {LEAD_1}
    del spy.hooks["batch_write_item"]
    state.save_links([Link("100", "501", "Lead", LEAD_2)])  # the redelivered message
    assert state.links_by_salesforce("100", [LEAD_1, LEAD_2]).keys() == {LEAD_2}
    assert state.links_by_hubspot("100", ["501"])["501"].sf_id == LEAD_2


def test_an_interrupted_takeover_of_a_record_shows_neither_contact_linked(
    state: DynamoState, spy: SpyClient
) -> None:
    """Contact 502 takes over 501's record; only the record's pointer gets written. The old link is
    gone from the record's side, so it must be gone from 501's side too: no link is better than a
    record linked from two contacts."""
    state.save_links([Link("100", "501", "Lead", LEAD_1)])
    spy.hooks["batch_write_item"] = _only_salesforce_pointers

    with pytest.raises(TransientApiError, match="unwritten"):
        state.save_links([Link("100", "502", "Lead", LEAD_1)])

    assert state.links_by_hubspot("100", ["501", "502"]) == {}
    assert state.links_by_salesforce("100", [LEAD_1]) == {}


def _only_salesforce_pointers(operation: Callable[..., Any], **kwargs: Any) -> Any:
    ((table, requests),) = kwargs["RequestItems"].items()
    held = [request for request in requests if "#HS#" in str(request)]
    passed = [request for request in requests if request not in held]
    if passed:
        operation(RequestItems={table: passed})
    return {"UnprocessedItems": {table: held}} if held else {}


def test_unprocessed_keys_are_retried_with_back_off(
    state: DynamoState, spy: SpyClient, sleeps: list[float]
) -> None:
    state.save_links([Link("100", str(index), "Lead", lead(index)) for index in range(10)])

    def hold_back_half(operation: Callable[..., Any], **kwargs: Any) -> Any:
        del spy.hooks["batch_get_item"]
        ((table, request),) = kwargs["RequestItems"].items()
        served, held = request["Keys"][:4], request["Keys"][4:]
        response = operation(RequestItems={table: {**request, "Keys": served}})
        response["UnprocessedKeys"] = {table: {**request, "Keys": held}}
        return response

    spy.calls.clear()
    spy.hooks["batch_get_item"] = hold_back_half
    found = state.links_by_hubspot("100", [str(index) for index in range(10)])

    assert sorted(found, key=int) == [str(index) for index in range(10)]
    assert spy.calls["batch_get_item"] == 3  # contents in two calls, then pointers
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 0.05


def test_keys_left_unprocessed_for_good_raise_a_transient_error(
    state: DynamoState, spy: SpyClient, sleeps: list[float]
) -> None:
    def never(_operation: Callable[..., Any], **kwargs: Any) -> Any:
        return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}

    spy.hooks["batch_get_item"] = never
    with pytest.raises(TransientApiError, match="unprocessed"):
        state.links_by_hubspot("100", ["501"])
    assert spy.calls["batch_get_item"] == 4
    assert sleeps == sorted(sleeps)  # jittered, growing
    assert len(sleeps) == 3
    assert max(sleeps) <= 0.2


def _before_first_call(action: Callable[[], None]) -> Callable[..., Any]:
    done: list[bool] = []

    def hook(operation: Callable[..., Any], **kwargs: Any) -> Any:
        if not done:
            done.append(True)
            action()
        return operation(**kwargs)

    return hook


def test_a_held_claim_answers_from_the_failed_write_alone(state: DynamoState, spy: SpyClient) -> None:
    assert state.claim_creation("100", "Lead", "ann@example.com", "event-1") is None
    assert state.claim_creation("100", "Lead", "ann@example.com", "event-2") == "event-1"
    assert spy.calls == {"put_item": 2}  # ReturnValuesOnConditionCheckFailure: no extra read


def test_confirming_claims_held_long_enough_reads_them_only(state: DynamoState, spy: SpyClient) -> None:
    asks = [ClaimAsk("salesforce:Lead", f"p{n}@example.com", f"event-{n}") for n in range(150)]
    for ask in asks:
        state.claim_creation("100", ask.target, ask.email, ask.claimant)
    spy.calls.clear()
    answers = state.confirm_claims("100", asks, for_at_least=dt.timedelta(minutes=5))
    assert answers == dict.fromkeys(asks)
    assert spy.calls == {"batch_get_item": 2}  # 100 keys a call; not 150 conditional writes
    # held for less than asked: claimed again, one conditional write
    spy.calls.clear()
    assert state.confirm_claims("100", asks[:1], for_at_least=dt.timedelta(minutes=11)) == {asks[0]: None}
    assert spy.calls == {"batch_get_item": 1, "put_item": 1}


def test_claim_item_layout(aws: Any, table: str, state: DynamoState) -> None:
    now = dt.datetime.now(dt.UTC).timestamp()
    state.claim_creation("100", "salesforce:Lead", " Ann@Example.com", "event-1")
    item = items(aws, table)["P#100#CLAIM#salesforce:Lead#ann@example.com|CLAIM"]
    assert item["claimant"] == {"S": "event-1"}
    assert now + 590 <= int(item["expires_at"]["N"]) <= now + 610

    state.complete_claims("100", [ClaimDone("salesforce:Lead", "ann@example.com", "event-1", LEAD_1)])
    item = items(aws, table)["P#100#CLAIM#salesforce:Lead#ann@example.com|CLAIM"]
    assert item["record_id"] == {"S": LEAD_1}
    assert now + 86_390 <= int(item["expires_at"]["N"]) <= now + 86_410


def test_completed_claims_are_written_25_to_a_call(state: DynamoState, spy: SpyClient) -> None:
    done = [ClaimDone("hubspot:contacts", f"p{n}@example.com", f"event-{n}", str(n)) for n in range(30)]
    state.complete_claims("100", done)
    assert spy.calls == {"batch_write_item": 2}
    assert state.claim_creation("100", "hubspot:contacts", "p29@example.com", "late") == "29"


def test_clearing_statuses_deletes_only_those_that_exist(state: DynamoState, spy: SpyClient) -> None:
    state.set_statuses("100", {"hubspot:contacts:2": "outside the inclusion list"})
    spy.calls.clear()
    spy.requests.clear()
    records = [f"hubspot:contacts:{n}" for n in range(1, 41)]  # 40 synced records, one of them skipped before
    state.clear_statuses("100", records)
    # one read of the 40 keys, one delete: not 40 deletes (each a write unit) for keys that do not exist
    assert spy.calls == {"batch_get_item": 1, "batch_write_item": 1}
    (delete,) = spy.requests["batch_write_item"][0]["RequestItems"][state.table_name]
    assert delete["DeleteRequest"]["Key"]["sk"] == {"S": "hubspot:contacts:2"}
    assert state.statuses("100", records) == {}
    spy.calls.clear()
    state.clear_statuses("100", records)
    assert spy.calls == {"batch_get_item": 1}  # nothing left to delete: no write at all


def test_health_reads_follow_pages(state: DynamoState, spy: SpyClient) -> None:
    from shared.errors import ErrorCategory
    from shared.ports import HealthEntry

    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    entries = [
        HealthEntry("100", "hubspot", f"hubspot:contacts:{index}", ErrorCategory.OTHER, "X", "m", at, "r")
        for index in range(5)
    ]
    state.record_health(entries)
    spy.hooks["query"] = lambda operation, **kwargs: operation(**kwargs, Limit=2)

    assert len(state.health("100")) == 5
    assert spy.calls["query"] == 3


def test_counters_are_one_item_of_prefixed_numbers(
    aws: Any, table: str, state: DynamoState, spy: SpyClient
) -> None:
    state.add_counters("100", {"hs_to_sf.created": 2, "pk": 1})
    assert spy.calls == {"update_item": 1}
    item = items(aws, table)["P#100#COUNTERS|TOTAL"]
    assert item["c#hs_to_sf.created"] == {"N": "2"}
    assert item["c#pk"] == {"N": "1"}
    assert state.counters("100") == {"hs_to_sf.created": 2, "pk": 1}


def test_the_client_is_created_on_first_use(aws: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[str] = []
    real_client: Any = boto3.client

    def counting_client(service: str, *args: Any, **kwargs: Any) -> Any:
        created.append(service)
        return real_client(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting_client)
    state = DynamoState(table)
    assert created == []
    state.set_cursor("100", "hubspot:contacts", "2026-03-01T00:00:00Z")
    assert state.get_cursor("100", "hubspot:contacts") == "2026-03-01T00:00:00Z"
    assert created == ["dynamodb"]


def test_a_missing_table_is_an_error_not_an_empty_result(aws: Any) -> None:
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        DynamoState("nope", aws).links_by_hubspot("100", ["501"])


# tables from the template


def test_the_state_table_is_built_from_the_template(aws: Any) -> None:
    name = create_table_from_template(aws, TEMPLATE, "StateTable", table_name="hssync-state")

    described = aws.describe_table(TableName=name)["Table"]
    assert name == "hssync-state"
    assert described["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = aws.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


TEMPLATE_WITH_INDEX = """
Resources:
  Idempotency:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-idempotency"
      BillingMode: PROVISIONED
      ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 }
      AttributeDefinitions:
        - { AttributeName: id, AttributeType: S }
        - { AttributeName: owner, AttributeType: S }
      KeySchema:
        - { AttributeName: id, KeyType: HASH }
      GlobalSecondaryIndexes:
        - IndexName: by-owner
          KeySchema: [{ AttributeName: owner, KeyType: HASH }]
          Projection: { ProjectionType: KEYS_ONLY }
          ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }
  Named:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: literal-name
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  Broken:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: !Ref KeyName, AttributeType: S }]
      KeySchema: [{ AttributeName: !Ref KeyName, KeyType: HASH }]
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  Name: { Value: !GetAtt Idempotency.Arn }
"""


def test_template_tables_keep_indexes_throughput_and_names(aws: Any, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE_WITH_INDEX)

    assert create_table_from_template(aws, template, "Idempotency") == "Idempotency"  # !Sub name: logical id
    described = aws.describe_table(TableName="Idempotency")["Table"]
    assert described["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert [index["IndexName"] for index in described["GlobalSecondaryIndexes"]] == ["by-owner"]
    assert (
        aws.describe_time_to_live(TableName="Idempotency")["TimeToLiveDescription"]["TimeToLiveStatus"]
        == "DISABLED"
    )

    assert create_table_from_template(aws, template, "Named") == "literal-name"


@pytest.mark.parametrize(
    ("logical_id", "message"),
    [("Broken", "!Ref"), ("Queue", "not an AWS::DynamoDB::Table"), ("Nope", "not an")],
)
def test_template_resources_that_cannot_become_tables(
    aws: Any, tmp_path: Path, logical_id: str, message: str
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE_WITH_INDEX)
    with pytest.raises(ValueError, match=message):
        create_table_from_template(aws, template, logical_id)
    assert aws.list_tables()["TableNames"] == []


# -- the shared cache (Salesforce token, describe) ----------------------------------------------


@pytest.mark.parametrize("kind", ["dynamo", "memory"])
def test_the_shared_cache_keeps_a_value_until_it_expires(aws: Any, table: str, kind: str) -> None:
    from shared.state.cache import DynamoCache, cache_name
    from tests.memory_state import MemoryCache

    now = [1_000_000.0]
    cache = DynamoCache(table, aws, clock=lambda: now[0]) if kind == "dynamo" else MemoryCache(lambda: now[0])
    name = cache_name("salesforce-token", "https://login.example.com", "client-1")
    assert "client-1" not in name  # the parts are hashed
    assert cache.get(name) is None
    cache.put(name, {"access_token": "t1", "instance_url": "https://x"}, ttl_seconds=60)
    assert cache.get(name) == {"access_token": "t1", "instance_url": "https://x"}
    assert cache.get(cache_name("salesforce-token", "https://login.example.com", "client-2")) is None
    now[0] += 61  # expired (DynamoDB deletes it lazily: the item may still be there)
    assert cache.get(name) is None
    cache.put(name, {"access_token": "t2"}, ttl_seconds=60)
    assert cache.get(name) == {"access_token": "t2"}


def _fail(code: str) -> Callable[..., Any]:
    def hook(operation: Callable[..., Any], **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")

    return hook


def test_a_conditional_write_answers_none_when_accepted_and_its_error_when_its_condition_failed() -> None:
    from shared.state.dynamo import _refused

    assert _refused(lambda: None) is None
    failed = _fail("ConditionalCheckFailedException")
    refused = _refused(lambda: failed(None))
    assert isinstance(refused, ClientError)
    assert refused.response["Error"]["Code"] == "ConditionalCheckFailedException"
    throttled = _fail("ProvisionedThroughputExceededException")
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        _refused(lambda: throttled(None))


def test_a_claim_released_between_the_refused_write_and_the_read_is_a_transient_error(
    state: DynamoState, spy: SpyClient
) -> None:
    spy.hooks["put_item"] = _fail("ConditionalCheckFailedException")  # refused, no item returned
    with pytest.raises(TransientApiError, match="changed while being read") as caught:
        state.claim_creation("100", "Lead", "ann@example.com", "event-1")
    assert isinstance(caught.value.__cause__, ClientError)
    assert spy.calls == {"put_item": 1, "get_item": 1}


def test_a_company_link_keeps_the_contacts_hssync_associated(
    aws: Any, table: str, state: DynamoState
) -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    link = Link("100", "9001", "Account", "001000000000001AAA", {}, associated=("11", "12"), associated_at=at)
    state.save_links([link], kind="companies")
    stored = state.links_by_hubspot("100", ["9001"], kind="companies")["9001"]
    assert (stored.associated, stored.associated_at) == (("11", "12"), at)
    later = at + dt.timedelta(seconds=5)
    state.remember_associated("100", {"9001": replace(stored, associated=("13",), associated_at=later)})
    again = state.links_by_hubspot("100", ["9001"], kind="companies")["9001"]
    assert (again.associated, again.associated_at, again.rev) == (
        ("13",),
        later,
        stored.rev,
    )  # no new revision
    state.remember_associated("100", {"9002": again})  # no such link: nothing stored
    assert state.links_by_hubspot("100", ["9002"], kind="companies") == {}
    state.save_links(
        [Link("100", "9001", "Account", "001000000000001AAA", {"name": ("A", "A")})], kind="companies"
    )
    assert state.links_by_hubspot("100", ["9001"], kind="companies")["9001"].associated == ()
