"""The CRM state store (``shared.crm_state``): ``DynamoCrmStateStore`` on moto with the table built from
template.yaml, and its in-memory twin, behave the same."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from shared.crm_state import CrmState, CrmStateStore, CrmStatus, UsageSample
from shared.models import System
from shared.pacing import Bucket
from shared.pipeline.window_pacing import BucketStore
from shared.state.crm import DynamoCrmStateStore
from tests.memory_state import MemoryCrmStateStore
from tests.template_tables import create_table_from_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
NOW = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)
ORG = "00D000000000001EAA"


@pytest.fixture(params=["memory", "dynamo"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[CrmStateStore]:
    if request.param == "memory":
        yield MemoryCrmStateStore()
        return
    import boto3
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        yield DynamoCrmStateStore(create_table_from_template(client, TEMPLATE, "StateTable"), client)


def suspended(account: str = ORG) -> CrmState:
    return CrmState(
        system=System.SALESFORCE,
        account=account,
        status=CrmStatus.SUSPENDED,
        since=NOW,
        updated_at=NOW,
        reason="API_DISABLED_FOR_ORG",
        message="this Salesforce edition has no API access",
        api_used=10,
        api_max=15000,
        allocation_percent=50,
    )


def test_a_state_is_kept_whole_and_replaced_by_the_next(store: CrmStateStore) -> None:
    assert store.crm_state(System.SALESFORCE, ORG) is None
    store.put_crm_state(suspended())
    assert store.crm_state(System.SALESFORCE, ORG) == suspended()
    running = CrmState(System.SALESFORCE, ORG, CrmStatus.RUNNING, since=NOW, updated_at=NOW)
    store.put_crm_state(running)
    assert store.crm_state(System.SALESFORCE, ORG) == running
    assert not running.needs_attention
    assert suspended().needs_attention


def test_every_crm_accounts_state_is_listed_and_kept_apart(store: CrmStateStore) -> None:
    portal = CrmState(System.HUBSPOT, "100", CrmStatus.PAUSED, since=NOW, updated_at=NOW, reason="daily")
    store.put_crm_state(suspended())
    store.put_crm_state(portal)
    assert sorted(store.crm_states(), key=lambda s: s.system) == [portal, suspended()]
    assert store.crm_state(System.HUBSPOT, ORG) is None


def test_a_usage_sample_keeps_the_highest_usage_of_its_hour(store: CrmStateStore) -> None:
    for minute, used in ((31, 120), (40, 100), (59, 130)):
        store.record_usage(UsageSample(System.SALESFORCE, ORG, NOW.replace(minute=minute), used, 15000))
    store.record_usage(UsageSample(System.SALESFORCE, ORG, NOW + dt.timedelta(hours=1), 200, 15000))
    store.record_usage(UsageSample(System.HUBSPOT, "100", NOW, 7, 250000))
    samples = store.usage_samples(System.SALESFORCE, ORG, NOW - dt.timedelta(hours=24))
    assert [(s.hour, s.used, s.limit) for s in samples] == [
        (NOW.replace(minute=0), 130, 15000),
        (NOW.replace(minute=0) + dt.timedelta(hours=1), 200, 15000),
    ]
    later = store.usage_samples(System.SALESFORCE, ORG, NOW + dt.timedelta(minutes=45))
    assert [s.used for s in later] == [200]


def test_a_stage_keeps_one_batching_bucket_per_crm_account(store: CrmStateStore) -> None:
    buckets = cast(BucketStore, store)
    assert buckets.pacing_bucket("dedupe", "salesforce", ORG) is None
    buckets.put_pacing_bucket("dedupe", "salesforce", ORG, Bucket(calls=-3.5, at=NOW))
    waiting = Bucket(calls=8.0, at=NOW, next_window=NOW + dt.timedelta(seconds=7))
    buckets.put_pacing_bucket("dedupe", "hubspot", "12345", waiting)
    assert buckets.pacing_bucket("dedupe", "salesforce", ORG) == Bucket(calls=-3.5, at=NOW)
    assert buckets.pacing_bucket("dedupe", "hubspot", "12345") == waiting
    assert buckets.pacing_bucket("owners", "salesforce", ORG) is None
