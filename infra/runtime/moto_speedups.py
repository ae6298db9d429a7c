"""Same answers, less work: hot spots of moto's SQS model, patched in the moto server process that
the local runtime starts (``infra.runtime.moto_process``).

moto (5.x) keeps a queue's messages in a list and recomputes every queue attribute, each a pass over
all messages with two datetime conversions per message, whenever it needs one of them:

- ``receive_message`` checks each message it hands out against the retention period by calling
  ``get_queue_attributes``, which builds ``queue.attributes`` three times per requested name: nine
  passes over the queue per message received, ninety per ``ReceiveMessage`` of ten;
- ``get_queue_attributes`` (the runtime's idleness check) does the same per name asked for;
- ``send_message`` builds every attribute (three passes) to read ``ContentBasedDeduplication``;
- ``delete_message`` makes two passes per receipt handle, ``delete_message_batch`` one per entry;
- ``Message.visible`` / ``delayed`` read the clock through naive-datetime arithmetic.

With a backlog of thousands of messages (a burst of webhooks) the local runtime then spends its time
inside moto rather than in the functions, and the bench would measure moto. The patches below return
exactly what the originals return (the retention period is the queue's own attribute; the attributes
are computed once per call; the clock is the same epoch clock in milliseconds). Only the moto server
process is patched; everything else talks to it over HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

PATCHES = (
    "SQSBackend.is_message_valid_based_on_retention_period (queue attribute read directly)",
    "SQSBackend.get_queue_attributes (attributes computed once per call)",
    "SQSBackend.send_message (no message counts computed to read one setting)",
    "SQSBackend.delete_message_batch / Queue.delete_message (one pass over the queue)",
    "Message.visible / Message.delayed (epoch clock without datetime arithmetic)",
    "backends.list_of_moto_modules (the package directory listed once, not on every request)",
)
APPLIED: list[str] = []
_COUNTS = frozenset(
    {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    }
)
_sending = threading.local()


def apply() -> list[str]:
    """Patch moto's SQS model (once); the names of what was patched."""
    if APPLIED:
        return APPLIED
    from moto import backends
    from moto.core.utils import camelcase_to_underscores
    from moto.sqs import models
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    backend, queue, message = models.SQSBackend, models.Queue, models.Message
    backend.is_message_valid_based_on_retention_period = _is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    backend.get_queue_attributes = _get_queue_attributes(backend.get_queue_attributes)  # type: ignore[method-assign]
    backend.send_message = _send_message(backend.send_message)  # type: ignore[method-assign]
    backend.delete_message_batch = _delete_message_batch  # type: ignore[method-assign]
    queue.delete_message = _delete_message(ReceiptHandleIsInvalid)  # type: ignore[method-assign,assignment]
    queue.attributes = property(_attributes(camelcase_to_underscores))  # type: ignore[method-assign,assignment]
    message.visible = property(_visible)  # type: ignore[method-assign,assignment]
    message.delayed = property(_delayed)  # type: ignore[method-assign,assignment]
    # the server's dispatcher lists moto's package directory (a stat per module) on every request,
    # under its global lock
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    APPLIED.extend(PATCHES)
    return APPLIED


def _is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    queue = self.get_queue(queue_name)
    return bool(queue.message_retention_period + message.sent_timestamp / 1000 > time.time())


def _get_queue_attributes(original: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        if not attribute_names or "All" in attribute_names:
            return dict(original(self, queue_name, attribute_names))
        valid = original(self, queue_name, [])  # {}: only validates the queue
        queue = self.get_queue(queue_name)
        known = set(queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES)
        unknown = next((n for n in attribute_names if n not in known), None)
        if unknown is not None:
            return dict(original(self, queue_name, attribute_names))  # its error
        computed = queue.attributes
        valid.update({n: computed[n] for n in attribute_names if computed.get(n) is not None})
        return dict(valid)

    return get_queue_attributes


def _attributes(camelcase_to_underscores: Callable[[str], str]) -> Callable[[Any], dict[str, Any]]:
    def attributes(self: Any) -> dict[str, Any]:
        # moto's Queue.attributes, leaving out the message counts while send_message reads it
        skip = getattr(_sending, "active", False)
        result: dict[str, Any] = {}
        for attribute in self.BASE_ATTRIBUTES:
            if not (skip and attribute in _COUNTS):
                result[attribute] = getattr(self, camelcase_to_underscores(attribute))
        if self.fifo_queue:
            for attribute in self.FIFO_ATTRIBUTES:
                result[attribute] = getattr(self, camelcase_to_underscores(attribute))
        if self.kms_master_key_id:
            for attribute in self.KMS_ATTRIBUTES:
                result[attribute] = getattr(self, camelcase_to_underscores(attribute))
        if self.policy:
            result["Policy"] = self.policy
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy)
        for key in result:
            if isinstance(result[key], bool):
                result[key] = str(result[key]).lower()
        return result

    return attributes


def _send_message(original: Callable[..., Any]) -> Callable[..., Any]:
    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _sending.active = False

    return send_message


def _delete_message_batch(
    self: Any, queue_name: str, receipts: list[dict[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    # one pass over the queue for the whole batch instead of two per entry
    queue = self.get_queue(queue_name)
    wanted = {r["ReceiptHandle"] for r in receipts} - queue.deleted_messages
    if wanted:
        with queue._messages_lock:  # add_message appends under it: no message is lost meanwhile
            kept = []
            for message in queue._messages:
                handles = message.all_receipt_handles
                if wanted.intersection(handles):
                    queue.pending_messages.discard(message)
                    queue.deleted_messages.update(handles)
                else:
                    kept.append(message)
            queue._messages = kept
    success, errors = [], []
    for entry in receipts:
        handle = entry["ReceiptHandle"]
        if handle in queue.deleted_messages:
            success.append(entry["Id"])
        else:
            errors.append(
                {
                    "Id": entry["Id"],
                    "SenderFault": True,
                    "Code": "ReceiptHandleIsInvalid",
                    "Message": f'The input receipt handle "{handle}" is not a valid receipt handle.',
                }
            )
    return success, errors


def _delete_message(receipt_handle_is_invalid: type[Exception]) -> Callable[[Any, str], None]:
    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return
        with self._messages_lock:
            kept, found = [], False
            for message in self._messages:
                if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
                    found = True
                    self.pending_messages.discard(message)
                    self.deleted_messages.update(message.all_receipt_handles)
                else:
                    kept.append(message)
            if not found:
                raise receipt_handle_is_invalid()
            self._messages = kept

    return delete_message


def _visible(self: Any) -> bool:
    return bool(time.time() * 1000.0 > self.visible_at)


def _delayed(self: Any) -> bool:
    return bool(time.time() * 1000.0 < self.delayed_until)
