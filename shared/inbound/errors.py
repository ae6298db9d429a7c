from __future__ import annotations


class MalformedPayload(ValueError):
    """The input cannot be understood; it goes to the dead-letter queue with this reason."""
