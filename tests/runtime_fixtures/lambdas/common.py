"""What the test handlers share: the items table and snapshots of what a handler can observe."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3


@cache
def table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def context_view(context: Any) -> dict[str, Any]:
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def record(pk: str, sk: str, **values: Any) -> None:
    item = {"pk": pk, "sk": sk}
    item.update({key: json.dumps(value) for key, value in values.items()})
    table().put_item(Item=item)


def count_attempt(pk: str) -> None:
    table().update_item(
        Key={"pk": pk, "sk": "-"},
        UpdateExpression="ADD attempts :one",
        ExpressionAttributeValues={":one": 1},
    )
