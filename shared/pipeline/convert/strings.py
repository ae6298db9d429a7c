"""Text: blanks, Salesforce's length limit (never truncated), and a value's own text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.pipeline.convert.booleans import bool_text
from shared.pipeline.convert.errors import STRING_TOO_LONG, ConversionError, sf_name
from shared.pipeline.convert.metadata import SalesforceFieldType
from shared.pipeline.convert.numbers import format_decimal, parse_decimal


def is_blank(value: Any) -> bool:
    """No value on either CRM: None or a string of whitespace (0 and False are values)."""
    return value is None or (isinstance(value, str) and not value.strip())


def sf_length(text: str) -> int:
    """Salesforce counts UTF-16 code units: a character outside the BMP (emoji, rare kanji) is 2."""
    return len(text.encode("utf-16-le")) // 2


def fit_text(text: str, sf: SalesforceFieldType, source: str) -> str:
    """``text`` when it fits the field's length (inclusive); otherwise refused, never truncated."""
    size = sf_length(text)
    if sf.length > 0 and size > sf.length:
        raise ConversionError(
            STRING_TOO_LONG,
            f"{source} is {size} characters long, but {sf_name(sf)} holds at most {sf.length}. "
            "Shorten the value or lengthen the field; hssync never truncates.",
            field=sf.name,
            value=text,
        )
    return text


def plain_text(value: Any) -> str:
    """A value as text: booleans ``true``/``false``, numbers without float noise or exponent."""
    if isinstance(value, bool):
        return bool_text(value)
    if isinstance(value, float | Decimal):
        number = parse_decimal(value)
        return format_decimal(number) if number is not None else str(value)
    return str(value)
