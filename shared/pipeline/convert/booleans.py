"""Booleans: ``true``/``yes``/``1`` and ``false``/``no``/``0`` (any case), or a JSON boolean."""

from __future__ import annotations

from typing import Any, Final

TRUE: Final = frozenset({"true", "yes", "1"})
FALSE: Final = frozenset({"false", "no", "0"})


def parse_bool(value: Any) -> bool | None:
    """The flag a value means; None when it means neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
    return None


def bool_text(flag: bool) -> str:
    """A flag as HubSpot writes it (and as it is compared): ``"true"`` or ``"false"``."""
    return "true" if flag else "false"
