"""HubSpot CRM pipelines v3 for deals, read-only: ``/crm/v3/pipelines/deals`` and its stages.

The portal has one deal pipeline, HubSpot's default "Sales Pipeline" (id ``default``), whose stages
are the options of the ``dealstage`` property; each stage's ``metadata`` carries its ``probability``
and ``isClosed`` as strings, as HubSpot answers them. Default pipelines and their stages were created
at the epoch (``createdAt`` 0). Other object types have no pipeline here (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import json_response
from infra.sandbox.hubspot.errors import not_found
from infra.sandbox.hubspot.properties import DEAL_STAGES, PIPELINES

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator

_EPOCH = "1970-01-01T00:00:00.000Z"
# the default pipeline's stages: probability of each option of dealstage, and which are closed
_PROBABILITY = {
    "appointmentscheduled": "0.2",
    "qualifiedtobuy": "0.4",
    "presentationscheduled": "0.6",
    "decisionmakerboughtin": "0.8",
    "contractsent": "0.9",
    "closedwon": "1.0",
    "closedlost": "0.0",
}
_OBJECT_TYPES = ("deals", "0-3")


def _stage(value: str, label: str, order: int) -> dict[str, Any]:
    closed = value in ("closedwon", "closedlost")
    return {
        "id": value,
        "label": label,
        "displayOrder": order,
        "metadata": {"probability": _PROBABILITY[value], "isClosed": "true" if closed else "false"},
        "createdAt": _EPOCH,
        "updatedAt": _EPOCH,
        "archived": False,
    }


def default_pipelines() -> list[dict[str, Any]]:
    """The portal's deal pipelines as the API answers them."""
    stages = [_stage(o.value, o.label, o.display_order) for o in DEAL_STAGES]
    return [
        {
            "id": p.value,
            "label": p.label,
            "displayOrder": p.display_order,
            "stages": stages,
            "createdAt": _EPOCH,
            "updatedAt": _EPOCH,
            "archived": False,
        }
        for p in PIPELINES
    ]


class Pipelines:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator

    def register_routes(self) -> None:
        base = "/crm/v3/pipelines/<object_type>"
        self.emulator.route("GET", base, self._list)
        self.emulator.route("GET", f"{base}/<pipeline_id>", self._get)
        self.emulator.route("GET", f"{base}/<pipeline_id>/stages", self._stages)
        self.emulator.route("GET", f"{base}/<pipeline_id>/stages/<stage_id>", self._get_stage)

    def reset(self) -> None:
        """Nothing to forget: the pipelines are the portal's defaults."""

    def _pipelines(self, object_type: str) -> list[dict[str, Any]]:
        if object_type not in _OBJECT_TYPES:
            raise not_found(f"Unable to find pipelines for object type {object_type}")
        return default_pipelines()

    def _pipeline(self, object_type: str, pipeline_id: str) -> dict[str, Any]:
        for pipeline in self._pipelines(object_type):
            if pipeline["id"] == pipeline_id:
                return pipeline
        raise not_found(f"Unable to find pipeline {pipeline_id} for object type {object_type}")

    def _list(self, _request: Request, object_type: str) -> Response:
        return json_response({"results": self._pipelines(object_type)})

    def _get(self, _request: Request, object_type: str, pipeline_id: str) -> Response:
        return json_response(self._pipeline(object_type, pipeline_id))

    def _stages(self, _request: Request, object_type: str, pipeline_id: str) -> Response:
        return json_response({"results": self._pipeline(object_type, pipeline_id)["stages"]})

    def _get_stage(self, _request: Request, object_type: str, pipeline_id: str, stage_id: str) -> Response:
        for stage in self._pipeline(object_type, pipeline_id)["stages"]:
            if stage["id"] == stage_id:
                return json_response(stage)
        raise not_found(f"Unable to find stage {stage_id} in pipeline {pipeline_id}")
