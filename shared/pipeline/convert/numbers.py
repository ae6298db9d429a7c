"""Numbers: parsed exactly (no float rounding), written within a Salesforce field's precision and scale.

Salesforce rounds half up to the field's scale and refuses a number with more integer digits than
``precision - scale`` (an int field: its ``digits``, and 32 bits); HubSpot takes any decimal text.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any, Final

from shared.pipeline.convert.errors import NUMBER_OUTSIDE_VALID_RANGE, ConversionError, sf_name
from shared.pipeline.convert.metadata import SF_INTEGER_TYPES, SF_NUMBER_TYPES, SalesforceFieldType

INT32: Final = (-(2**31), 2**31 - 1)


def parse_decimal(value: Any) -> Decimal | None:
    """A finite number from a number or its text; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that is this float: 0.1, not 0.1000000000000000055
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def format_decimal(number: Decimal) -> str:
    """``12`` for 12.0, ``12.5`` for 12.50, never an exponent."""
    if number.is_zero():
        return "0"
    with localcontext() as ctx:
        ctx.prec = max(28, len(number.as_tuple().digits))
        return format(number.normalize(), "f")


def round_half_up(number: Decimal, scale: int) -> Decimal:
    """``number`` with ``scale`` digits after the decimal point, rounded half up (as Salesforce does)."""
    with localcontext() as ctx:
        ctx.prec = 200
        return number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def at_field_scale(number: Decimal, sf: SalesforceFieldType) -> Decimal:
    """A Salesforce number as its field holds it: float noise beyond the field's scale dropped
    (0.30000000000000004 at scale 2 is 0.3); a field of unknown precision keeps it as it is."""
    if sf.type in SF_NUMBER_TYPES and sf.precision and number.adjusted() < 100:
        return round_half_up(number, max(sf.scale, 0))
    return number


def digits_allowed(sf: SalesforceFieldType) -> int | None:
    """The integer digits a Salesforce number field holds; None: no limit known."""
    if sf.type in SF_INTEGER_TYPES:
        limit = sf.digits or (sf.precision - sf.scale if sf.precision else None)
        return limit or (10 if sf.type == "int" else 19)
    return sf.precision - max(sf.scale, 0) if sf.precision else None


def fit_number(number: Decimal, sf: SalesforceFieldType, source: str, raw: str) -> int | float:
    """Rounded half-up to the field's scale; its integer digits within precision - scale."""
    integer = sf.type in SF_INTEGER_TYPES
    limit = digits_allowed(sf)
    # rounding never shortens the integer part: too many digits now is too many after rounding
    if limit is not None and not number.is_zero() and number.adjusted() + 1 > limit:
        raise _range_error(source, sf, limit, raw)
    if integer or sf.precision:
        number = round_half_up(number, 0 if integer else max(sf.scale, 0))
    whole = abs(int(number))
    if limit is not None and whole and len(str(whole)) > limit:  # 9.995 at scale 2 is 10.00
        raise _range_error(source, sf, limit, raw)
    if integer:
        result = int(number)
        if sf.type == "int" and not INT32[0] <= result <= INT32[1]:
            raise _range_error(source, sf, None, raw)
        return result
    as_float = float(number)
    if as_float in (float("inf"), float("-inf")):
        raise _range_error(source, sf, None, raw)
    return as_float


def _range_error(source: str, sf: SalesforceFieldType, limit: int | None, raw: str) -> ConversionError:
    if limit is not None:
        room = f"allows at most {limit} digits before the decimal point"
        if sf.scale and sf.type not in SF_INTEGER_TYPES:
            room += f" (precision {sf.precision}, scale {sf.scale})"
    elif sf.type == "int":
        room = f"holds whole numbers from {INT32[0]:,} to {INT32[1]:,}"
    else:
        room = "can't hold a number this large"
    return ConversionError(
        NUMBER_OUTSIDE_VALID_RANGE,
        f"{source} is outside the range of {sf_name(sf)}, which {room}.",
        field=sf.name,
        value=raw,
    )
