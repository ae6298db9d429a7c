"""What a change costs on AWS, modelled from what a bench run counted (issue 17).

The local stack counts every AWS request the way AWS bills it (``infra.runtime.meter``: requests by
caller, DynamoDB read and write request units, SQS requests per 64 KB), the runtime times every
invocation, and the Salesforce emulator counts the change events Event Relay would put on the bus.
Priced with the list prices below (us-east-1, on-demand, without free tiers), per million records:

- Lambda: GB-seconds (each invocation's duration x the function's memory, arm64) and requests. The
  duration is measured on this machine's 2 shared cores, emulators included: a proxy, not AWS's.
- SQS: the functions' requests and Lambda's pollers' (in AWS, the event source mappings' receives
  and deletes are billed too; the local runtime's pollers stand in for them, long-polling as they do).
- DynamoDB: read and write request units of on-demand capacity.
- EventBridge: the Salesforce change events Event Relay delivers (partner events).
- Secrets Manager: API calls (the functions read their secrets once per execution environment).

Not modelled: CloudWatch Logs ingestion and metrics (they depend on the log level and retention),
data transfer, and storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


@cache
def memory_gb() -> float:
    """Every function's memory (template.yaml's Globals), in GB."""
    from infra.runtime.cfn_yaml import load_cfn_file

    return float(load_cfn_file(TEMPLATE)["Globals"]["Function"]["MemorySize"]) / 1024


@dataclass(frozen=True)
class Prices:
    """USD, us-east-1 list prices (2025), on-demand, without free tiers."""

    lambda_gb_second: float = 0.0000133334  # arm64
    lambda_request: float = 0.20 / 1e6
    sqs_request: float = 0.40 / 1e6  # standard queue, per 64 KB chunk
    dynamodb_write_unit: float = 0.625 / 1e6
    dynamodb_read_unit: float = 0.125 / 1e6
    eventbridge_event: float = 1.00 / 1e6  # partner events (Event Relay)
    secrets_manager_call: float = 0.05 / 10_000


PRICES = Prices()


@dataclass(frozen=True)
class Usage:
    """What one run asked of AWS."""

    invocations: int
    function_seconds: float
    sqs_requests: float  # billed requests (64 KB chunks), functions and pollers
    dynamodb_write_units: float
    dynamodb_read_units: float
    eventbridge_events: int
    secrets_calls: int

    @classmethod
    def counted(
        cls, metered: Mapping[str, Mapping[str, float]], functions: Mapping[str, Any], eventbridge_events: int
    ) -> Usage:
        """From the meter's snapshot, the runtime's function stats and the change events delivered."""
        billed, requests = metered.get("billed", {}), metered.get("requests", {})
        invocations = sum(int(f.get("invocations", 0)) for f in functions.values())
        total_ms = sum(float((f.get("duration_ms") or {}).get("total") or 0.0) for f in functions.values())
        return cls(
            invocations=invocations,
            function_seconds=total_ms / 1000,
            sqs_requests=sum(v for k, v in billed.items() if k.endswith(" sqs requests")),
            dynamodb_write_units=sum(v for k, v in billed.items() if k.endswith(" dynamodb write")),
            dynamodb_read_units=sum(v for k, v in billed.items() if k.endswith(" dynamodb read")),
            eventbridge_events=eventbridge_events,
            secrets_calls=int(sum(v for k, v in requests.items() if " secretsmanager " in k)),
        )


@dataclass(frozen=True)
class Cost:
    """USD per million records, per service."""

    lambda_usd: float
    sqs_usd: float
    dynamodb_usd: float
    eventbridge_usd: float
    secrets_usd: float

    @property
    def total(self) -> float:
        return self.lambda_usd + self.sqs_usd + self.dynamodb_usd + self.eventbridge_usd + self.secrets_usd

    def to_json(self) -> dict[str, float]:
        return {**asdict(self), "total": self.total}


def per_million(usage: Usage, records: int, prices: Prices = PRICES) -> Cost:
    """The cost of ``usage`` scaled to a million records (``records``: how many the run synced)."""
    if records <= 0:
        raise ValueError("a cost per record needs at least one record")
    scale = 1_000_000 / records
    lambda_usd = usage.function_seconds * memory_gb() * prices.lambda_gb_second
    lambda_usd += usage.invocations * prices.lambda_request
    return Cost(
        lambda_usd=lambda_usd * scale,
        sqs_usd=usage.sqs_requests * prices.sqs_request * scale,
        dynamodb_usd=(
            usage.dynamodb_write_units * prices.dynamodb_write_unit
            + usage.dynamodb_read_units * prices.dynamodb_read_unit
        )
        * scale,
        eventbridge_usd=usage.eventbridge_events * prices.eventbridge_event * scale,
        secrets_usd=usage.secrets_calls * prices.secrets_manager_call * scale,
    )


def per_record(usage: Usage, records: int) -> dict[str, float]:
    """The counts behind the cost, per record (what to bring down)."""
    return {
        "invocations": usage.invocations / records,
        "function_ms": usage.function_seconds * 1000 / records,
        "sqs_requests": usage.sqs_requests / records,
        "dynamodb_write_units": usage.dynamodb_write_units / records,
        "dynamodb_read_units": usage.dynamodb_read_units / records,
        "eventbridge_events": usage.eventbridge_events / records,
    }
