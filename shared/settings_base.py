"""What every part of the sync configuration shares: the strict model base, the sync rules of a
field mapping, the creation modes and how Salesforce field names compare. Its own module so that
the parts' settings (``shared.deals.settings``) and ``shared.config`` import it without a cycle."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


def same_salesforce_field(name: str | None, field: str) -> bool:
    """Salesforce field names are case-insensitive (``hasoptedoutofemail`` is ``HasOptedOutOfEmail``);
    HubSpot property names are not."""
    return name is not None and name.lower() == field.lower()


class SyncRule(StrEnum):
    PREFER_SALESFORCE_UNLESS_BLANK = "prefer_salesforce_unless_blank"
    """HubSpot writes only into an empty Salesforce field; Salesforce always overwrites HubSpot."""
    ALWAYS_SALESFORCE = "always_salesforce"
    """Salesforce -> HubSpot only, clearing too; never written to Salesforce."""
    TWO_WAY = "two_way"
    """The most recent change wins on both sides, clearing too; ties go to Salesforce."""
    DONT_SYNC = "dont_sync"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# what a record of one side does when it has no counterpart: create it, or only update linked ones
CreationMode = Literal["create_or_update", "do_nothing"]
