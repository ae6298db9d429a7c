"""Owners: the stage between dedupe and apply, and the schedule that refreshes the owner cache
(``shared.pipeline.stages.owners``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.observability import logger, metrics, tracer
from shared.pipeline.stages.base import StageSlot

if TYPE_CHECKING:  # the stage's modules load on the first invocation, when it is built
    from shared.pipeline.stages.owners import OwnersStage

# built on the first invocation, from the function's environment
stage: StageSlot[OwnersStage] = StageSlot(wiring.owners_stage)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return stage().handle(event, context)
