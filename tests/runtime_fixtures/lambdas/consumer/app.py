"""Consumes the work queue: stores each message; reports bodies starting with "fail" as failures."""

from __future__ import annotations

import os
from typing import Any

from lambdas.common import context_view, count_attempt, record


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # whatever a handler prints must not disturb the runtime's protocol
    print(f"consumer got {len(event['Records'])} records")
    os.write(1, b"a raw write to descriptor 1\n")
    failures = []
    for item in event["Records"]:
        body = item["body"]
        if body.startswith("fail"):
            count_attempt(f"attempt#{body}")
            failures.append({"itemIdentifier": item["messageId"]})
            continue
        if body.startswith("crash"):
            count_attempt(f"attempt#{body}")
            raise RuntimeError(f"asked to crash by {body}")
        record(
            f"msg#{body}",
            item["messageId"],
            record=item,
            batch_size=len(event["Records"]),
            env=dict(os.environ),
            context=context_view(context),
        )
    return {"batchItemFailures": failures}
