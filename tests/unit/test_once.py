"""A writes message is applied once however often SQS delivers it: Powertools idempotency records
(DynamoDB on moto's in-process mock, the table built from the template) taken by apply's handler."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from shared.config import parse_config
from shared.pipeline.apply import Applier
from shared.pipeline.dedupe import Deduper
from shared.pipeline.once import Admission, PowertoolsOnce
from shared.pipeline.plans import PlanBatch, pack
from shared.pipeline.stages.apply import ApplyStage
from shared.queues import DeadLetterQueue, Queue
from tests.fakes import APP_ID, PORTAL, Clock, FakeHubSpot, FakeSalesforce
from tests.memory_state import MemoryState
from tests.template_tables import create_table_from_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
CONFIG = parse_config("portals: [1000001]")


class Context:
    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


def _once() -> PowertoolsOnce:
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = create_table_from_template(client, TEMPLATE, "IdempotencyTable")
    return PowertoolsOnce(DynamoDBPersistenceLayer(table_name=table, boto3_client=client))


class Stack:
    """apply's stage wired to fakes of both CRMs, a memory state and moto's SQS and DynamoDB."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.sf = FakeSalesforce(self.clock)
        self.hs = FakeHubSpot(self.clock)
        self.state = MemoryState(clock=self.clock)
        self.once = _once()
        sqs = boto3.client("sqs", region_name="us-east-1")
        urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("changes", "writes", "dlq")}
        self.stage = ApplyStage(
            applier=lambda running_for: Applier(
                salesforce=self.sf,
                hubspot=self.hs,
                state=self.state,
                assignment_rules=CONFIG.creation.assignment_rules,
                running_for=running_for,
            ),
            once=lambda: self.once,
            state=self.state,
            portal=PORTAL,
            writes=Queue(sqs, urls["writes"]),
            changes=Queue(sqs, urls["changes"]),
            dead_letter=DeadLetterQueue(sqs, urls["dlq"], "apply"),
        )

    def writes_message(self, *emails: str) -> PlanBatch:
        for email in emails:
            self.hs.add(email=email, lastname="Once")
        deduper = Deduper(
            config=CONFIG,
            portal=PORTAL,
            salesforce=self.sf,
            hubspot=self.hs,
            state=self.state,
            own_app_id=APP_ID,
        )
        (body,) = pack(deduper.process(self.hs.drain_events()).plans)
        return PlanBatch.model_validate_json(body)


@pytest.fixture
def stack(aws: None) -> Stack:
    return Stack()


def test_a_message_delivered_twice_is_applied_once(stack: Stack) -> None:
    batch = stack.writes_message("a@example.com", "b@example.com")
    assert stack.stage.work([("m1", batch)], Context()) == set()
    writes = list(stack.sf.writes)
    assert len(stack.sf.rows) == 2
    # SQS delivered it again: deleted, not applied
    assert stack.stage.work([("m1", batch)], Context()) == set()
    assert stack.sf.writes == writes
    assert stack.once.begin(batch.model_dump(mode="json"), 1000) is Admission.DONE


def test_a_message_another_invocation_is_applying_goes_back_to_the_queue(stack: Stack) -> None:
    batch = stack.writes_message("busy@example.com")
    assert stack.once.begin(batch.model_dump(mode="json"), 60_000) is Admission.NEW  # the other one
    assert stack.stage.work([("m1", batch)], Context()) == {"m1"}
    assert stack.sf.rows == {}


def test_a_message_whose_invocation_ran_out_of_time_is_taken_again(stack: Stack) -> None:
    batch = stack.writes_message("late@example.com")
    assert stack.once.begin(batch.model_dump(mode="json"), 0) is Admission.NEW  # its time is up already
    assert stack.stage.work([("m1", batch)], Context()) == set()
    assert len(stack.sf.rows) == 1


def test_a_failed_apply_frees_its_messages_so_the_next_delivery_applies_them(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = stack.writes_message("fail@example.com")

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("bug")

    with monkeypatch.context() as patch:
        patch.setattr(stack.sf, "create", broken)
        with pytest.raises(RuntimeError):
            stack.stage.work([("m1", batch)], Context())
    assert stack.sf.rows == {}
    assert stack.stage.work([("m1", batch)], Context()) == set()
    assert len(stack.sf.rows) == 1


def test_only_the_new_messages_of_a_batch_are_applied_and_together(stack: Stack) -> None:
    first = stack.writes_message("one@example.com")
    stack.stage.work([("m1", first)], Context())
    second = stack.writes_message("two@example.com")
    third = stack.writes_message("three@example.com")
    calls = stack.sf.calls
    assert stack.stage.work([("m1", first), ("m2", second), ("m3", third)], Context()) == set()
    assert sorted(r.fields["Email"] for r in stack.sf.rows.values()) == [
        "one@example.com",
        "three@example.com",
        "two@example.com",
    ]
    assert stack.sf.calls - calls == 1  # the two new messages' leads in one create call
