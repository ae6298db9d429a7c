"""The cost model of the bench (bench/cost.py): counted usage priced per million records."""

from __future__ import annotations

import pytest

from bench.cost import PRICES, Usage, memory_gb, per_million, per_record


def usage(**overrides: float) -> Usage:
    base = {
        "invocations": 0, "function_seconds": 0.0, "sqs_requests": 0.0, "dynamodb_write_units": 0.0,
        "dynamodb_read_units": 0.0, "eventbridge_events": 0, "secrets_calls": 0,
    }  # fmt: skip
    return Usage(**{**base, **overrides})  # type: ignore[arg-type]


def test_usage_is_read_from_the_meter_the_runtime_and_the_events():
    metered: dict[str, dict[str, float]] = {
        "requests": {"function secretsmanager GetSecretValue": 2, "function sqs SendMessageBatch": 10},
        "billed": {"function sqs requests": 10, "runtime sqs requests": 30, "function dynamodb write": 7.0,
                   "function dynamodb read": 2.5},
    }  # fmt: skip
    functions = {"A": {"invocations": 3, "duration_ms": {"total": 1500.0}}, "B": {"invocations": 1}}
    counted = Usage.counted(metered, functions, eventbridge_events=4)
    assert counted == Usage(4, 1.5, 40, 7.0, 2.5, 4, 2)


def test_each_service_is_priced_and_scaled_to_a_million_records():
    cost = per_million(
        usage(function_seconds=2000.0, invocations=100, dynamodb_write_units=4000), records=1000
    )
    assert cost.lambda_usd == pytest.approx(
        (2000 * memory_gb() * PRICES.lambda_gb_second + 100 * 0.2e-6) * 1000
    )
    assert cost.dynamodb_usd == pytest.approx(4 * 0.625 * 1000 / 1000)  # 4 WRU per record: $2.50 per million
    assert cost.total == pytest.approx(cost.lambda_usd + cost.dynamodb_usd)
    assert memory_gb() == 0.5  # template.yaml's MemorySize: 512


def test_per_record_counts_and_no_records_refused():
    assert per_record(usage(sqs_requests=30.0), 10)["sqs_requests"] == 3.0
    with pytest.raises(ValueError, match="at least one record"):
        per_million(usage(), 0)
