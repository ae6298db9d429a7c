"""The DynamoDB ``CrmStateStore`` (``shared.crm_state``), on the same table as the rest of the state.

States are plain puts in one partition (``keys.crm_state``), as are the stages' batching buckets
(``keys.pacing_bucket``, ``shared.pacing``); a usage sample is one conditional update
that keeps the highest usage of its hour, so concurrent functions never lower it. Samples expire after
two days (the table's TTL), enough for the last 24 hours whatever the time of day.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from botocore.exceptions import ClientError

from shared.crm_state import CrmState, CrmStatus, UsageSample, sample_hour
from shared.models import System
from shared.pacing import Bucket
from shared.state import keys
from shared.state.base import epoch_seconds

DynamoDBClient = Any
Item = dict[str, dict[str, Any]]
SAMPLES_KEPT = dt.timedelta(days=2)


class DynamoCrmStateStore:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> DynamoDBClient:
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("dynamodb")
        return self._client

    def crm_state(self, system: System, account: str) -> CrmState | None:
        key = keys.crm_state(system.value, account)
        response = self.client.get_item(
            TableName=self.table_name, Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}}, ConsistentRead=True
        )
        item: Item | None = response.get("Item")
        return _state_from_item(item) if item else None

    def crm_states(self) -> list[CrmState]:
        return [_state_from_item(item) for item in self._query(keys.CRM_STATES_PARTITION, None)]

    def put_crm_state(self, state: CrmState) -> None:
        self.client.put_item(TableName=self.table_name, Item=_state_item(state))

    def record_usage(self, sample: UsageSample) -> None:
        hour = sample_hour(sample.hour)
        key = keys.usage_sample(sample.system.value, sample.account, hour.isoformat())
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}},
                UpdateExpression="SET used = :used, #limit = :limit, expires_at = :expires",
                ConditionExpression="attribute_not_exists(used) OR used < :used",
                ExpressionAttributeNames={"#limit": "limit"},
                ExpressionAttributeValues={
                    ":used": {"N": str(sample.used)},
                    ":limit": {"N": str(sample.limit)},
                    ":expires": {"N": str(epoch_seconds(hour + SAMPLES_KEPT))},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def usage_samples(self, system: System, account: str, since: dt.datetime) -> list[UsageSample]:
        partition = keys.usage_partition(system.value, account)
        items = self._query(partition, sample_hour(since).isoformat())
        return [
            UsageSample(
                system=system,
                account=account,
                hour=dt.datetime.fromisoformat(item["sk"]["S"]),
                used=int(item["used"]["N"]),
                limit=int(item["limit"]["N"]),
            )
            for item in items
        ]

    def pacing_bucket(self, stage: str, system: str, account: str) -> Bucket | None:
        key = keys.pacing_bucket(stage, system, account)
        response = self.client.get_item(
            TableName=self.table_name, Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}}, ConsistentRead=True
        )
        item: Item | None = response.get("Item")
        if not item:
            return None
        next_window = dt.datetime.fromisoformat(item["next_window"]["S"]) if "next_window" in item else None
        return Bucket(
            calls=float(item["calls"]["N"]),
            at=dt.datetime.fromisoformat(item["at"]["S"]),
            next_window=next_window,
        )

    def put_pacing_bucket(self, stage: str, system: str, account: str, bucket: Bucket) -> None:
        key = keys.pacing_bucket(stage, system, account)
        item: Item = {
            "pk": {"S": key.pk},
            "sk": {"S": key.sk},
            "calls": {"N": f"{bucket.calls:.3f}"},
            "at": {"S": bucket.at.isoformat()},
            # an idle day refills any bucket: an item not used for two days goes
            "expires_at": {"N": str(epoch_seconds(bucket.at + SAMPLES_KEPT))},
        }
        if bucket.next_window is not None:
            item["next_window"] = {"S": bucket.next_window.isoformat()}
        self.client.put_item(TableName=self.table_name, Item=item)

    def _query(self, partition: str, from_sort_key: str | None) -> list[Item]:
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
        }
        if from_sort_key is not None:
            query["KeyConditionExpression"] += " AND sk >= :from"
            query["ExpressionAttributeValues"][":from"] = {"S": from_sort_key}
        items: list[Item] = []
        while True:
            page = self.client.query(**query)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


_OPTIONAL_TEXT = ("reason", "message")
_OPTIONAL_NUMBERS = ("api_used", "api_max", "allocation_percent")


def _state_item(state: CrmState) -> Item:
    key = keys.crm_state(state.system.value, state.account)
    item: Item = {
        "pk": {"S": key.pk},
        "sk": {"S": key.sk},
        "system": {"S": state.system.value},
        "account": {"S": state.account},
        "status": {"S": state.status.value},
        "since": {"S": state.since.isoformat()},
        "updated_at": {"S": state.updated_at.isoformat()},
    }
    for name in _OPTIONAL_TEXT:
        if (text := getattr(state, name)) is not None:
            item[name] = {"S": text}
    for name in _OPTIONAL_NUMBERS:
        if (number := getattr(state, name)) is not None:
            item[name] = {"N": str(number)}
    return item


def _state_from_item(item: Item) -> CrmState:
    def number(name: str) -> int | None:
        return int(item[name]["N"]) if name in item else None

    def text(name: str) -> str | None:
        value: str | None = item[name]["S"] if name in item else None
        return value

    return CrmState(
        system=System(item["system"]["S"]),
        account=item["account"]["S"],
        status=CrmStatus(item["status"]["S"]),
        since=dt.datetime.fromisoformat(item["since"]["S"]),
        updated_at=dt.datetime.fromisoformat(item["updated_at"]["S"]),
        reason=text("reason"),
        message=text("message"),
        api_used=number("api_used"),
        api_max=number("api_max"),
        allocation_percent=number("allocation_percent"),
    )
