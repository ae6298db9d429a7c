from __future__ import annotations


class MalformedPayload(ValueError):
    """The input cannot be understood; it goes to the dead-letter queue with this reason."""


class RequestTooLarge(MalformedPayload):
    """A request beyond the bounds hssync accepts (HTTP 413); dead-lettered whole with this reason."""
