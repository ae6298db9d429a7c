"""Consuming an SQS batch as a batch: validate each message, hand all valid ones to one piece of
batched work, report per-message failures (ReportBatchItemFailures), dead-letter what can never be
processed with the reason.

Powertools' BatchProcessor processes records one at a time; the pipeline needs the whole batch at
once (that is what makes one API call serve hundreds of records). So the batch is validated with
Powertools' pydantic SQS record models, the work runs once, and the BatchProcessor then turns the
work's verdicts into the partial-failure response.

When the work fails with one of the exceptions it is told to retry on (an API that may answer
later, a suspended CRM), every message of the batch is reported failed: SQS delivers them again
after the visibility timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ValidationError

from shared.observability import logger

M = TypeVar("M", bound=BaseModel)


class RetryLater(Exception):
    """This message is reported as failed: SQS delivers it again after the visibility timeout."""


def validation_reason(exc: ValidationError) -> str:
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    return "invalid message: " + "; ".join(problems)


class SqsBatch(Generic[M]):
    def __init__(
        self,
        body_model: type[M],
        *,
        dead_letter: Callable[[str, str], None],
        retry_on: tuple[type[Exception], ...] = (),
        name: str = "batch",
    ) -> None:
        """``retry_on``: the exceptions of the work after which the whole batch is delivered again;
        ``name``: the stage, in the log line that says so."""
        self.body_model = body_model
        self.dead_letter = dead_letter
        self.retry_on = retry_on
        self.name = name

    def handle(
        self, event: dict[str, Any], context: Any, work: Callable[[Sequence[tuple[str, M]]], set[str]]
    ) -> dict[str, Any]:
        """``work`` gets (messageId, body) pairs and returns the messageIds to retry."""
        valid: list[tuple[str, M]] = []
        for raw in event.get("Records", []):
            try:
                message = SqsRecordModel.model_validate(raw)
                body = self.body_model.model_validate_json(str(message.body))
            except ValidationError as exc:
                self.dead_letter(str(raw.get("body", "")), validation_reason(exc))
                continue
            valid.append((message.messageId, body))
        retry = self._run(work, valid) if valid else set()

        def verdict(record: SQSRecord) -> None:
            if record.message_id in retry:
                raise RetryLater(record.message_id)

        response = process_partial_response(
            event=event,
            record_handler=verdict,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )
        return {"batchItemFailures": list(response.get("batchItemFailures", []))}

    def _run(
        self, work: Callable[[Sequence[tuple[str, M]]], set[str]], valid: list[tuple[str, M]]
    ) -> set[str]:
        try:
            return work(valid)
        except self.retry_on as exc:
            logger.warning(
                f"{self.name} batch will be retried", extra={"error": str(exc), "messages": len(valid)}
            )
            return {message_id for message_id, _ in valid}
