"""HubSpot webhooks behind a Lambda Function URL: verified, queued as change events, answered fast
(``shared.pipeline.stages.webhook``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.observability import logger, metrics, tracer
from shared.pipeline.stages.base import StageSlot

if TYPE_CHECKING:  # the stage's modules load on the first invocation, when it is built
    from shared.pipeline.stages.webhook import WebhookStage

# built on the first invocation, from the function's environment
stage: StageSlot[WebhookStage] = StageSlot(wiring.webhook_stage)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=LambdaFunctionUrlEvent)
def handler(event: LambdaFunctionUrlEvent, context: LambdaContext) -> dict[str, Any]:
    return stage().handle(event)
