"""Each function's environment, validated on its first invocation by its own model.

A model names exactly the variables its function reads (the template's Globals and the function's
own ``Environment``); a variable that is missing or empty stops the function with an error naming
it, before any client is built. Nothing is read at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _org_id18(value: str) -> str:
    """An 18-character id is taken as given (as Event Relay names the org); a 15-character one
    (as Setup shows it) gets its suffix."""
    if len(value) != 15:
        return value
    from shared.ids import salesforce_id18

    return salesforce_id18(value)


OrgId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$")
]


class MissingSetting(RuntimeError):
    """The function's environment lacks a variable it needs (or holds an invalid one)."""


def _problem(error: Mapping[str, Any]) -> str:
    name = ".".join(str(part) for part in error["loc"])
    if error["type"] in ("missing", "string_too_short"):
        return f"environment variable {name} is not set (see template.yaml)"
    return f"environment variable {name} is invalid: {error['msg']}"


class FunctionEnvironment(BaseModel):
    """The variables of one function, by their names in the environment."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        names = {field.alias or name for name, field in cls.model_fields.items()}
        try:
            return cls.model_validate({k: v for k, v in source.items() if k in names})
        except ValidationError as exc:
            problems = [_problem(error) for error in exc.errors()]
            raise MissingSetting("; ".join(problems)) from None

    @classmethod
    def variables(cls) -> dict[str, bool]:
        """Every variable the model reads -> whether it is required."""
        return {field.alias or name: field.is_required() for name, field in cls.model_fields.items()}


# -- parts several functions share ----------------------------------------------------------
class _Portal(FunctionEnvironment):
    portal: Text = Field(alias="HUBSPOT_PORTAL_ID")


class _HubSpotSecret(FunctionEnvironment):
    hubspot_secret: Text = Field(alias="HUBSPOT_SECRET_NAME")


class _Changes(FunctionEnvironment):
    changes_queue_url: Text = Field(alias="CHANGES_QUEUE_URL")
    # the bulk lane's changes queue (shared.pipeline.lanes)
    bulk_changes_queue_url: Text = Field(alias="BULK_CHANGES_QUEUE_URL")


class CrmEnvironment(_Portal, _HubSpotSecret):
    """A function that reads both CRMs, with the shared caches in the state table."""

    state_table: Text = Field(alias="STATE_TABLE")
    salesforce_secret: Text = Field(alias="SALESFORCE_SECRET_NAME")
    # where tokens are requested when the Salesforce secret does not say (shared.adapters.secrets)
    salesforce_login_url: Text | None = Field(default=None, alias="SALESFORCE_LOGIN_URL")


class _SyncConfig(FunctionEnvironment):
    """The sync configuration: an SSM parameter, re-read once a minute."""

    sync_config_parameter: Text = Field(alias="SYNC_CONFIG_PARAMETER")
    config_ttl_seconds: float = Field(default=60.0, ge=0, alias="HSSYNC_CONFIG_TTL_SECONDS")


class ConfiguredEnvironment(CrmEnvironment, _SyncConfig):
    """A function that follows the sync configuration (an SSM parameter, re-read once a minute)."""


class _OrgId(FunctionEnvironment):
    # the org whose changes a Salesforce change event names (the template's SalesforceOrgId)
    salesforce_org_id: Annotated[OrgId, AfterValidator(_org_id18)] = Field(alias="SALESFORCE_ORG_ID")


class _Guardrails(CrmEnvironment, _OrgId):
    """A function that calls the CRMs within their API allocations (``shared.guardrails``): the
    org's and the portal's states are kept under their ids; transitions notify the alarm topic."""

    salesforce_allocation_percent: int = Field(
        default=100, ge=1, le=100, alias="SALESFORCE_API_ALLOCATION_PERCENT"
    )
    hubspot_allocation_percent: int = Field(default=100, ge=1, le=100, alias="HUBSPOT_API_ALLOCATION_PERCENT")
    alarm_topic_arn: Text | None = Field(default=None, alias="ALARM_TOPIC_ARN")
    # the longest a change waits for a paused or suspended CRM (the template's WaitingWorkLongestDelay)
    longest_wait_seconds: int = Field(default=300, ge=1, le=900, alias="HSSYNC_PAUSE_LONGEST_SECONDS")


# -- one model per function -----------------------------------------------------------------
class WebhookEnvironment(_Portal, _HubSpotSecret, _Changes, _SyncConfig):
    """InboundWebhookFunction: the signed requests it received are kept in the state table; the
    configuration's ``portals`` are the portals whose notifications it accepts."""

    state_table: Text = Field(alias="STATE_TABLE")
    changes_dead_letter_queue_url: Text = Field(alias="CHANGES_DEAD_LETTER_QUEUE_URL")


class ChangeEventsEnvironment(_OrgId, _Changes):
    """InboundEventsFunction."""

    poll_requests_queue_url: Text = Field(alias="POLL_REQUESTS_QUEUE_URL")
    changes_dead_letter_queue_url: Text = Field(alias="CHANGES_DEAD_LETTER_QUEUE_URL")


class PollEnvironment(ConfiguredEnvironment, _Guardrails, _Changes):
    """PollFunction: requests wait for a CRM on their own queue; its schedule probes the CRMs."""

    poll_requests_queue_url: Text = Field(alias="POLL_REQUESTS_QUEUE_URL")
    poll_requests_dead_letter_queue_url: Text = Field(alias="POLL_REQUESTS_DEAD_LETTER_QUEUE_URL")


class DedupeEnvironment(ConfiguredEnvironment, _Guardrails, _Changes):
    """DedupeFunction: plans go to the owners stage."""

    owners_queue_url: Text = Field(alias="OWNERS_QUEUE_URL")
    bulk_owners_queue_url: Text = Field(alias="BULK_OWNERS_QUEUE_URL")
    changes_dead_letter_queue_url: Text = Field(alias="CHANGES_DEAD_LETTER_QUEUE_URL")
    # where windows waiting for the API budget go, to be gathered again as one (shared.pacing)
    paced_changes_queue_url: Text = Field(alias="PACED_CHANGES_QUEUE_URL")


class OwnersEnvironment(_Guardrails):
    """OwnersFunction: plans wait for a CRM on its own queue."""

    owners_queue_url: Text = Field(alias="OWNERS_QUEUE_URL")
    writes_queue_url: Text = Field(alias="WRITES_QUEUE_URL")
    bulk_owners_queue_url: Text = Field(alias="BULK_OWNERS_QUEUE_URL")
    bulk_writes_queue_url: Text = Field(alias="BULK_WRITES_QUEUE_URL")
    owners_dead_letter_queue_url: Text = Field(alias="OWNERS_DEAD_LETTER_QUEUE_URL")


class ApplyEnvironment(ConfiguredEnvironment, _Guardrails, _Changes):
    """ApplyFunction."""

    writes_queue_url: Text = Field(alias="WRITES_QUEUE_URL")
    bulk_writes_queue_url: Text = Field(alias="BULK_WRITES_QUEUE_URL")
    writes_dead_letter_queue_url: Text = Field(alias="WRITES_DEAD_LETTER_QUEUE_URL")
    idempotency_table: Text = Field(alias="IDEMPOTENCY_TABLE")


class EmailEventsEnvironment(ConfiguredEnvironment, _Guardrails):
    """EmailEventsFunction: it writes its tasks itself; its state is in the state table."""
