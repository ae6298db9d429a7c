"""A small shared cache in the state table, for what every Lambda container would otherwise fetch
for itself on a cold start: the Salesforce access token and the describe of the synced objects.

Each container that starts cold would ask Salesforce for a token and a describe: two API calls per
container, many a day as Lambda scales out and recycles containers. Kept here (encrypted at rest,
readable only by the stack's functions, expiring by TTL), one container's answer serves the others.
A token Salesforce refuses is replaced by the adapter, which stores the new one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

CACHE_PARTITION = "CACHE"


class SharedCache(Protocol):
    def get(self, name: str) -> dict[str, Any] | None: ...

    def put(self, name: str, value: Mapping[str, Any], ttl_seconds: int) -> None: ...


def cache_name(*parts: str) -> str:
    """A key for values that belong to one org and login (the parts are hashed, never stored)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class DynamoCache:
    def __init__(self, table_name: str, client: Any = None, clock: Callable[[], float] = time.time) -> None:
        self.table_name = table_name
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    def get(self, name: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table_name, Key=_key(name), ConsistentRead=True).get(
            "Item"
        )
        if not item or int(item.get("expires_at", {}).get("N", "0")) <= self._clock():
            return None  # TTL deletion is lazy: an expired item may still be there
        value: dict[str, Any] = json.loads(item["value"]["S"])
        return value

    def put(self, name: str, value: Mapping[str, Any], ttl_seconds: int) -> None:
        item = {
            **_key(name),
            "value": {"S": json.dumps(value, separators=(",", ":"), sort_keys=True)},
            "expires_at": {"N": str(int(self._clock()) + ttl_seconds)},
        }
        self.client.put_item(TableName=self.table_name, Item=item)


def _key(name: str) -> dict[str, Any]:
    return {"pk": {"S": CACHE_PARTITION}, "sk": {"S": name}}
