"""Each writes message is applied once, however often SQS delivers it.

Delivery is at-least-once: a writes message comes back when apply ran past its visibility timeout
or failed to delete it. Applying it again would be safe (creations are claimed, and writing the
values already written is an echo) but would cost every write call again. So apply keeps a
Powertools idempotency record per message, keyed on the changes it carries: the key hashes the
message's plan ids, and each plan id is derived from the change id that produced it. A message
seen complete is skipped; one another invocation is still applying is handed back to SQS.

Apply merges the plans of every message of an invocation into the fewest API calls, so it cannot
wrap each message in ``@idempotent_function``. It takes the same records through Powertools'
persistence layer instead: in progress before the merged apply, complete after it, deleted if it
failed (two DynamoDB writes per message of up to 200 plans). A record in progress whose
invocation ran out of time expires with it, as with the decorator.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

# Powertools' idempotency package imports boto3: loaded on first use, not with the handler module
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

# the changes a writes message carries: its plans' ids (each derived from a change id)
MESSAGE_KEY = "plans[*].plan_id"
REMEMBER_SECONDS = 6 * 3600  # longer than any redelivery of a message that was applied


class Admission(enum.Enum):
    NEW = "new"  # apply it (the record is now in progress)
    DONE = "done"  # applied before: skip it
    BUSY = "busy"  # another invocation is applying it: let SQS deliver it again later


class OncePort(Protocol):
    def begin(self, message: Mapping[str, Any], remaining_ms: int | None) -> Admission: ...

    def complete(self, message: Mapping[str, Any], outcome: Mapping[str, Any]) -> None: ...

    def release(self, message: Mapping[str, Any], error: Exception) -> None: ...


def once_config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath=MESSAGE_KEY,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=REMEMBER_SECONDS,
    )


class PowertoolsOnce:
    """``OncePort`` over a Powertools persistence layer (DynamoDB in the stack)."""

    def __init__(self, persistence: BasePersistenceLayer, *, name: str = "apply") -> None:
        persistence.configure(once_config(), function_name=name)
        self._store = persistence

    def begin(self, message: Mapping[str, Any], remaining_ms: int | None) -> Admission:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyItemAlreadyExistsError,
            IdempotencyItemNotFoundError,
        )
        from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS

        data = dict(message)
        try:
            self._store.save_inprogress(data=data, remaining_time_in_millis=remaining_ms)
        except IdempotencyItemAlreadyExistsError as exc:
            record = exc.old_data_record
            if record is None:
                try:
                    record = self._store.get_record(data=data)
                except IdempotencyItemNotFoundError:
                    return Admission.BUSY  # gone in between (expired): the next delivery takes it
            if record is not None and record.status == STATUS_CONSTANTS["COMPLETED"]:
                return Admission.DONE
            return Admission.BUSY
        return Admission.NEW

    def complete(self, message: Mapping[str, Any], outcome: Mapping[str, Any]) -> None:
        self._store.save_success(data=dict(message), result=dict(outcome))

    def release(self, message: Mapping[str, Any], error: Exception) -> None:
        self._store.delete_record(data=dict(message), exception=error)
