"""One HubSpot webhook notification, validated strictly before it becomes a change.

Every field hssync reads has its exact JSON type: ids are positive integers (never a string, a
float, a boolean or null), ``occurredAt`` is whole epoch milliseconds, ``subscriptionType`` is one
hssync supports. Fields hssync does not read (``changeFlag``, ``objectTypeId``, ...) are ignored, so
a field HubSpot adds does not turn genuine notifications away. Strings that end up in a change's
ids are bounded (:data:`MAX_NAME_CHARS`, :data:`MAX_MERGED_IDS`), so a change always fits a queue
message once its reported values are dropped (``shared.pipeline.change_messages``).

A notification that does not validate is malformed: :func:`validate_notification` raises
MalformedPayload with a reason naming each offending field, for the dead-letter queue.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from shared.inbound.errors import MalformedPayload
from shared.models import ChangeType

OBJECTS = {"contact": "contacts", "company": "companies", "deal": "deals"}
CHANGES = {
    "creation": ChangeType.CREATE,
    "propertyChange": ChangeType.UPDATE,
    "deletion": ChangeType.DELETE,
    "privacyDeletion": ChangeType.DELETE,
    "restore": ChangeType.UNDELETE,
    "merge": ChangeType.MERGE,
    "associationChange": ChangeType.ASSOCIATION,
}
SUBSCRIPTION_TYPES = frozenset(f"{o}.{c}" for o in OBJECTS for c in CHANGES)

MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant a datetime holds
MAX_ID = 2**63 - 1  # HubSpot's ids are 64-bit integers
MAX_NAME_CHARS = 1_000  # propertyName, changeSource, sourceId: short names in practice
MAX_MERGED_IDS = 1_000  # a merge names the records merged into the survivor (HubSpot merges two)

PositiveId = Annotated[StrictInt, Field(gt=0, le=MAX_ID)]
EpochMs = Annotated[StrictInt, Field(ge=0, le=MAX_EPOCH_MS)]
Name = Annotated[StrictStr, Field(max_length=MAX_NAME_CHARS)]

# what each field must be, for the reasons of the dead-letter queue
EXPECTED = {
    "subscriptionType": "a supported subscription type",
    "occurredAt": "epoch milliseconds",
    "attemptNumber": "a non-negative integer",
    "mergedObjectIds": f"a list of at most {MAX_MERGED_IDS} positive integers",
    "propertyName": f"a string of at most {MAX_NAME_CHARS} characters",
    "propertyValue": "a string or null",
    "changeSource": f"a string of at most {MAX_NAME_CHARS} characters",
    "sourceId": f"a string of at most {MAX_NAME_CHARS} characters or an integer",
    "associationRemoved": "true or false",
}
POSITIVE_ID = "a positive integer"


class HubSpotNotification(BaseModel):
    """A notification of a legacy CRM subscription (``contact.creation``, ``deal.merge``, ...)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: PositiveId = Field(alias="eventId")
    subscription_type: StrictStr = Field(alias="subscriptionType")
    portal_id: PositiveId = Field(alias="portalId")
    occurred_at: EpochMs = Field(alias="occurredAt")
    object_id: PositiveId | None = Field(default=None, alias="objectId")
    subscription_id: PositiveId | None = Field(default=None, alias="subscriptionId")
    app_id: PositiveId | None = Field(default=None, alias="appId")
    attempt_number: Annotated[StrictInt, Field(ge=0)] | None = Field(default=None, alias="attemptNumber")
    property_name: Name | None = Field(default=None, alias="propertyName")
    property_value: StrictStr | None = Field(default=None, alias="propertyValue")
    change_source: Name | None = Field(default=None, alias="changeSource")
    source_id: Name | StrictInt | None = Field(default=None, alias="sourceId")
    # merges: the survivor and the records merged into it
    primary_object_id: PositiveId | None = Field(default=None, alias="primaryObjectId")
    new_object_id: PositiveId | None = Field(default=None, alias="newObjectId")
    merged_object_ids: list[PositiveId] = Field(
        default_factory=list, alias="mergedObjectIds", max_length=MAX_MERGED_IDS
    )
    # association changes: from this record to another
    from_object_id: PositiveId | None = Field(default=None, alias="fromObjectId")
    to_object_id: PositiveId | None = Field(default=None, alias="toObjectId")
    association_removed: StrictBool = Field(default=False, alias="associationRemoved")
    association_type: Name | None = Field(default=None, alias="associationType")  # CONTACT_TO_DEAL

    @field_validator("subscription_type")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in SUBSCRIPTION_TYPES:
            raise PydanticCustomError(
                "unsupported", "unsupported subscriptionType {value}", {"value": repr(value)[:100]}
            )
        return value

    @property
    def object_type(self) -> str:
        return OBJECTS[self.subscription_type.partition(".")[0]]

    @property
    def change_type(self) -> ChangeType:
        return CHANGES[self.subscription_type.partition(".")[2]]

    @property
    def record_id(self) -> int | None:
        """The record the notification is about: a merge's survivor, an association's origin."""
        if self.change_type is ChangeType.MERGE:
            return self.new_object_id or self.primary_object_id or self.object_id
        if self.change_type is ChangeType.ASSOCIATION:
            return self.from_object_id or self.object_id
        return self.object_id

    @property
    def related_type(self) -> str | None:
        """An association: the other record's object (``CONTACT_TO_DEAL`` -> deals); None when
        HubSpot does not name it, or names an object hssync does not sync."""
        if self.change_type is not ChangeType.ASSOCIATION or not self.association_type:
            return None
        other = self.association_type.upper().partition("_TO_")[2]
        return next(
            (plural for singular, plural in OBJECTS.items() if other.partition("_")[0] == singular.upper()),
            None,
        )

    @property
    def related_ids(self) -> tuple[str, ...]:
        """A merge: the records merged into the survivor; an association: the other record."""
        if self.change_type is ChangeType.MERGE:
            return tuple(str(i) for i in self.merged_object_ids)
        if self.change_type is ChangeType.ASSOCIATION and self.to_object_id is not None:
            return (str(self.to_object_id),)
        return ()


def validate_notification(raw: Any) -> HubSpotNotification:
    """The notification ``raw`` (one item of a request's JSON array); MalformedPayload saying why not."""
    if not isinstance(raw, dict):
        raise MalformedPayload(f"notification is not an object: {str(raw)[:200]}")
    try:
        note = HubSpotNotification.model_validate(raw, strict=True)
    except ValidationError as exc:
        raise MalformedPayload(validation_reason(exc)) from exc
    if note.record_id is None:
        raise MalformedPayload(f"notification without objectId ({note.subscription_type})")
    return note


def validation_reason(exc: ValidationError) -> str:
    """One clause per offending field: "notification without eventId; occurredAt is not epoch
    milliseconds: 'yesterday'"."""
    clauses: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        clauses.setdefault(field, _clause(field, error))
    return "; ".join(clauses.values())


def _clause(field: str, error: ErrorDetails) -> str:
    if error["type"] == "missing":
        return f"notification without {field}"
    if error["type"] == "unsupported":
        return error["msg"]
    expected = EXPECTED.get(field, POSITIVE_ID)
    return f"{field} is not {expected}: {repr(error['input'])[:100]}"
