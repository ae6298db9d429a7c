"""The queues' numbers from SQS (depth, in flight) and CloudWatch (the oldest message's age, which
SQS publishes as a metric only), for ``hssync status`` and for following a request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shared.operations.dead_letters import DeadLetterQueueReader, reasons
from shared.operations.status import QueueDepth


class SqsQueueStats:
    def __init__(
        self,
        sqs: Any,
        urls: Mapping[str, str],
        *,
        cloudwatch: Any | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        """``urls``: logical id -> queue URL; ``cloudwatch``: a client for the oldest message's age
        (None: not known, as on the local stack)."""
        self.sqs = sqs
        self.urls = urls
        self.cloudwatch = cloudwatch
        self.clock = clock

    def depth(self, logical_id: str) -> QueueDepth:
        url = self.urls.get(logical_id)
        if url is None:
            return QueueDepth(0, 0)
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return QueueDepth(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            oldest_age=self._oldest_age(url),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        )

    def total(self, logical_id: str) -> int:
        """Every message of the queue: visible, in flight, and delayed (deferred or waiting work is
        sent with a delay: a request is not done while any of it waits)."""
        depth = self.depth(logical_id)
        return depth.visible + depth.in_flight + depth.delayed

    def dead_letter_reasons(self, logical_id: str) -> dict[str, int]:
        url = self.urls.get(logical_id)
        return reasons(DeadLetterQueueReader(self.sqs, url).peek()) if url else {}

    def _oldest_age(self, url: str) -> float | None:
        if self.cloudwatch is None:
            return None
        now = self.clock()
        answer = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": url.rstrip("/").rsplit("/", 1)[-1]}],
            StartTime=now - dt.timedelta(minutes=10),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )
        points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
        return float(points[-1]["Maximum"]) if points else None


class CloudWatchCounts:
    """What synced lately, from the stages' metrics (a deployed stack's CloudWatch)."""

    def __init__(self, cloudwatch: Any | None, namespace: str = "hssync", service: str = "hssync") -> None:
        """``cloudwatch``: None on the local stack, which keeps no metrics."""
        self.cloudwatch = cloudwatch
        self.namespace = namespace
        self.service = service

    def sums(
        self, metrics: Sequence[tuple[str, str]], since: dt.datetime, now: dt.datetime
    ) -> list[int] | None:
        if self.cloudwatch is None:
            return None
        return [self._sum(self.cloudwatch, stage, name, since, now) for stage, name in metrics]

    def _sum(self, cloudwatch: Any, stage: str, name: str, since: dt.datetime, now: dt.datetime) -> int:
        answer = cloudwatch.get_metric_statistics(
            Namespace=self.namespace,
            MetricName=name,
            Dimensions=[{"Name": "service", "Value": self.service}, {"Name": "stage", "Value": stage}],
            StartTime=since,
            EndTime=now,
            Period=max(60, int((now - since).total_seconds()) // 60 * 60),
            Statistics=["Sum"],
        )
        return int(sum(point["Sum"] for point in answer.get("Datapoints", [])))
