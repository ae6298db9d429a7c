"""Field values between a HubSpot contact property and a Salesforce field, driven by their metadata.

HubSpot's v3 API carries every property value as a string: numbers ``"12.5"``, booleans ``"true"``,
multiple checkboxes ``"a;b;c"``, dates ``"2024-01-31"`` (or epoch milliseconds at midnight UTC) and
datetimes ``"2024-01-31T10:00:00.000Z"`` (or epoch milliseconds). Salesforce's REST API wants JSON
values typed by the field's ``describe``: booleans, numbers within precision/scale, ``YYYY-MM-DD``
dates, ISO 8601 datetimes, ``;``-joined multi-select picklists, strings within ``length``.

:func:`to_salesforce` and :func:`to_hubspot` convert one value each way and raise
:class:`ConversionError` (a "property values" sync-health entry) when the value cannot be written
as it is: nothing is silently truncated or dropped. :func:`canonical` gives the one text form two
values that mean the same thing share, for echo suppression. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any, Final, Literal

from shared.times import from_epoch_ms

ValueKind = Literal["text", "number", "bool", "date", "datetime", "single", "multi"]
KINDS: Final[tuple[ValueKind, ...]] = ("text", "number", "bool", "date", "datetime", "single", "multi")

# error codes: Salesforce's own where one fits, HubSpot's INVALID_OPTION for its enumerations
INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Final = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
STRING_TOO_LONG: Final = "STRING_TOO_LONG"
INVALID_TYPE_ON_FIELD_IN_RECORD: Final = "INVALID_TYPE_ON_FIELD_IN_RECORD"
INVALID_OPTION: Final = "INVALID_OPTION"
NUMBER_OUTSIDE_VALID_RANGE: Final = "NUMBER_OUTSIDE_VALID_RANGE"
INVALID_DATE: Final = "INVALID_DATE"

SF_NUMBER_TYPES: Final = frozenset({"int", "long", "double", "currency", "percent"})
SF_INTEGER_TYPES: Final = frozenset({"int", "long"})
SF_PICKLIST_TYPES: Final = frozenset({"picklist", "multipicklist", "combobox"})
# compound or binary fields: never written through a field mapping
SF_UNSUPPORTED_TYPES: Final = frozenset({"address", "location", "base64", "complexvalue"})
_INT32 = (-(2**31), 2**31 - 1)

_EPOCH_MS = re.compile(r"-?\d{1,16}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_MAX_SHOWN = 60  # characters of a value quoted in an error message
_MAX_LISTED = 15  # allowed values listed in an error message


# -- metadata -------------------------------------------------------------------------------------
def _required(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} has no {key!r}: {dict(data)!r:.200}")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class HubSpotPropertyType:
    """One HubSpot property definition (``GET /crm/v3/properties/contacts`` -> ``results[]``)."""

    name: str
    type: str  # string, number, date, datetime, enumeration, bool, phone_number
    field_type: str  # text, textarea, select, radio, checkbox, booleancheckbox, number, date, ...
    options: tuple[str, ...] = ()  # the option *values* of an enumeration
    read_only: bool = False  # modificationMetadata.readOnlyValue
    label: str = ""

    @property
    def multiple(self) -> bool:
        """Multiple checkboxes: the value is a ``;``-separated list of option values."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> HubSpotPropertyType:
        name = _required(data, "name", "HubSpot property")
        options = tuple(
            str(o["value"]) for o in data.get("options") or () if isinstance(o, Mapping) and "value" in o
        )
        metadata = data.get("modificationMetadata") or {}
        return cls(
            name=name,
            type=_required(data, "type", f"HubSpot property {name}"),
            field_type=str(data.get("fieldType") or ""),
            options=options,
            read_only=bool(metadata.get("readOnlyValue", False)),
            label=str(data.get("label") or ""),
        )


@dataclass(frozen=True)
class SalesforceFieldType:
    """One Salesforce field (``GET /services/data/vXX.X/sobjects/Lead/describe`` -> ``fields[]``)."""

    name: str
    type: str  # string, textarea, picklist, multipicklist, boolean, double, int, currency, date, ...
    length: int = 0  # characters, for text types; 0: no limit known
    precision: int = 0  # total digits of double/currency/percent; 0: no limit known
    scale: int = 0  # digits after the decimal point
    picklist_values: tuple[str, ...] = ()  # active values only
    restricted_picklist: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    digits: int = 0  # maximum digits of an int field
    label: str = ""

    @classmethod
    def from_describe(cls, data: Mapping[str, Any]) -> SalesforceFieldType:
        name = _required(data, "name", "Salesforce field")
        picklist = tuple(
            str(p["value"])
            for p in data.get("picklistValues") or ()
            if isinstance(p, Mapping) and p.get("value") is not None and p.get("active", True)
        )
        return cls(
            name=name,
            type=_required(data, "type", f"Salesforce field {name}"),
            length=_int(data, "length"),
            precision=_int(data, "precision"),
            scale=_int(data, "scale"),
            picklist_values=picklist,
            restricted_picklist=bool(data.get("restrictedPicklist", False)),
            nillable=bool(data.get("nillable", True)),
            createable=bool(data.get("createable", True)),
            updateable=bool(data.get("updateable", True)),
            digits=_int(data, "digits"),
            label=str(data.get("label") or ""),
        )


class ConversionError(Exception):
    """A value that cannot be written to the other side as it is; ``message`` is for an admin."""

    def __init__(self, code: str, message: str, *, field: str = "", value: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.value = value

    def __repr__(self) -> str:
        return f"ConversionError({self.code!r}, {self.message!r})"


# -- kinds ----------------------------------------------------------------------------------------
def value_kind(hs: HubSpotPropertyType | None, sf: SalesforceFieldType) -> ValueKind:
    """How values of this pair are read and compared. A typed Salesforce field decides; a text one
    takes the HubSpot property's type. A date on either side of a date/datetime pair makes it a date."""
    hs_type = hs.type if hs else ""
    if sf.type == "boolean":
        return "bool"
    if sf.type in SF_NUMBER_TYPES:
        return "number"
    if sf.type == "date" or (sf.type == "datetime" and hs_type == "date"):
        return "date"
    if sf.type == "datetime":
        return "datetime"
    if sf.type == "multipicklist":
        return "multi"
    if sf.type in SF_PICKLIST_TYPES:
        return "single"
    if hs is None:
        return "text"
    if hs_type == "bool" or hs.field_type == "booleancheckbox":
        return "bool"
    if hs_type == "number":
        return "number"
    if hs_type in ("date", "datetime"):
        return "date" if hs_type == "date" else "datetime"
    if hs_type == "enumeration":
        return "multi" if hs.multiple else "single"
    return "text"


# -- value parsing --------------------------------------------------------------------------------
def _parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _parse_decimal(value: Any) -> Decimal | None:
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


def _format_decimal(number: Decimal) -> str:
    """``12`` for 12.0, ``12.5`` for 12.50, never an exponent."""
    if number.is_zero():
        return "0"
    with localcontext() as ctx:
        ctx.prec = max(28, len(number.as_tuple().digits))
        return format(number.normalize(), "f")


def _parse_moment(value: Any) -> dt.datetime | None:
    """An instant in UTC from epoch milliseconds or ISO 8601 (naive: UTC; date only: midnight UTC)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(0))
    elif isinstance(value, int) and not isinstance(value, bool):
        return _from_epoch_ms(value)
    elif isinstance(value, str):
        text = value.strip()
        if _EPOCH_MS.fullmatch(text):
            return _from_epoch_ms(int(text))
        if not _ISO_DAY.match(text):
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _from_epoch_ms(ms: int) -> dt.datetime | None:
    try:
        return from_epoch_ms(ms)
    except OverflowError:
        return None


def _parse_day(value: Any) -> dt.date | None:
    """A calendar date: ``YYYY-MM-DD`` as it is; epoch ms and datetimes as their UTC date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    moment = _parse_moment(value)
    return moment.date() if moment else None


def iso_ms(moment: dt.datetime) -> str:
    """``2024-01-31T10:00:00.000Z``: UTC, milliseconds, as both APIs accept."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _split(value: Any) -> list[str]:
    """The items of a ``;``-separated multi-select value, trimmed, blanks dropped."""
    items: Iterable[Any] = value if isinstance(value, list | tuple) else str(value).split(";")
    return [text for text in (str(item).strip() for item in items) if text]


def _dedupe(items: Iterable[str]) -> list[str]:
    """Order kept; later case-insensitive repeats dropped."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _match(value: str, allowed: Sequence[str]) -> str | None:
    """The allowed spelling of ``value``: exact first, else case-insensitive."""
    if value in allowed:
        return value
    folded = value.casefold()
    return next((a for a in allowed if a.casefold() == folded), None)


def _sf_length(text: str) -> int:
    """Salesforce counts UTF-16 code units: a character outside the BMP (emoji, rare kanji) is 2."""
    return len(text.encode("utf-16-le")) // 2


# -- messages -------------------------------------------------------------------------------------
def _show(value: Any) -> str:
    text = str(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return f'"{text}"'


def _sf_name(sf: SalesforceFieldType) -> str:
    label = f" ({sf.label})" if sf.label and sf.label != sf.name else ""
    return f"Salesforce field {sf.name}{label}"


def _hs_name(hs: HubSpotPropertyType | None) -> str:
    if hs is None:
        return "HubSpot"
    label = f" ({hs.label})" if hs.label and hs.label != hs.name else ""
    return f"HubSpot property {hs.name}{label}"


def _listing(values: Sequence[str]) -> str:
    shown = ", ".join(values[:_MAX_LISTED])
    return shown + (f", ... ({len(values)} in all)" if len(values) > _MAX_LISTED else "")


# -- HubSpot -> Salesforce ------------------------------------------------------------------------
def to_salesforce(value: str | None, hs: HubSpotPropertyType | None, sf: SalesforceFieldType) -> Any:
    """The JSON value Salesforce expects in ``sf`` for a HubSpot property value; None for a blank.

    Raises :class:`ConversionError` when the value does not fit the field (type, range, restricted
    picklist, length); strings are never truncated."""
    if value is None or not str(value).strip():
        return None
    text = str(value)
    source = f"The value {_show(text)} of {_hs_name(hs)}"
    if sf.type in SF_UNSUPPORTED_TYPES:
        raise ConversionError(
            INVALID_TYPE_ON_FIELD_IN_RECORD,
            f"{_sf_name(sf)} is a {sf.type} field, which can't be written from a single HubSpot "
            f"property ({_hs_name(hs)}); map its component fields instead.",
            field=sf.name,
            value=text,
        )
    kind = value_kind(hs, sf)
    if kind == "bool":
        flag = _parse_bool(text)
        if flag is None:
            raise _type_error(source, "true or false", sf, text)
        return flag if sf.type == "boolean" else _fit_text("true" if flag else "false", sf, source)
    if kind == "number":
        number = _parse_decimal(text)
        if number is None:
            raise _type_error(source, "a number", sf, text)
        if sf.type in SF_NUMBER_TYPES:
            return _fit_number(number, sf, source, text)
        return _fit_text(_format_decimal(number), sf, source)
    if kind == "date":
        day = _parse_day(text)
        if day is None:
            raise _date_error(source, "a date (YYYY-MM-DD or epoch milliseconds)", sf, text)
        return iso_ms(_midnight(day)) if sf.type == "datetime" else _fit_text(day.isoformat(), sf, source)
    if kind == "datetime":
        moment = _parse_moment(text)
        if moment is None:
            raise _date_error(source, "a date and time (ISO 8601 or epoch milliseconds)", sf, text)
        return _fit_text(iso_ms(moment), sf, source)
    if kind == "single":
        item = text.strip()
        if sf.type in SF_PICKLIST_TYPES:
            item = _picklist_value(item, sf, hs)
        return _fit_text(item, sf, source)
    if kind == "multi":
        items = _split(text)
        if sf.type in SF_PICKLIST_TYPES:
            items = [_picklist_value(item, sf, hs) for item in items]
        joined = ";".join(_dedupe(items))
        return _fit_text(joined, sf, source) if joined else None
    return _fit_text(text, sf, source)


def _type_error(source: str, expected: str, sf: SalesforceFieldType, value: Any) -> ConversionError:
    return ConversionError(
        INVALID_TYPE_ON_FIELD_IN_RECORD,
        f"{source} is not {expected}, so it can't be written to {_sf_name(sf)} ({sf.type}).",
        field=sf.name,
        value=value,
    )


def _date_error(source: str, expected: str, sf: SalesforceFieldType, value: Any) -> ConversionError:
    return ConversionError(
        INVALID_DATE,
        f"{source} is not {expected}, so it can't be written to {_sf_name(sf)} ({sf.type}).",
        field=sf.name,
        value=value,
    )


def _fit_text(text: str, sf: SalesforceFieldType, source: str) -> str:
    size = _sf_length(text)
    if sf.length > 0 and size > sf.length:
        raise ConversionError(
            STRING_TOO_LONG,
            f"{source} is {size} characters long, but {_sf_name(sf)} holds at most {sf.length}. "
            "Shorten the value or lengthen the field; hssync never truncates.",
            field=sf.name,
            value=text,
        )
    return text


def _fit_number(number: Decimal, sf: SalesforceFieldType, source: str, raw: str) -> int | float:
    """Rounded half-up to the field's scale; its integer digits within precision - scale."""
    integer = sf.type in SF_INTEGER_TYPES
    scale = 0 if integer else max(sf.scale, 0)
    limit: int | None
    if integer:
        limit = sf.digits or (sf.precision - sf.scale if sf.precision else None)
        limit = limit or (10 if sf.type == "int" else 19)
    else:
        limit = sf.precision - scale if sf.precision else None
    # rounding never shortens the integer part: too many digits now is too many after rounding
    if limit is not None and not number.is_zero() and number.adjusted() + 1 > limit:
        raise _range_error(source, sf, limit, raw)
    if integer or sf.precision:
        with localcontext() as ctx:
            ctx.prec = 200
            number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    whole = abs(int(number))
    if limit is not None and whole and len(str(whole)) > limit:  # 9.995 at scale 2 is 10.00
        raise _range_error(source, sf, limit, raw)
    if integer:
        result = int(number)
        if sf.type == "int" and not _INT32[0] <= result <= _INT32[1]:
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
        room = f"holds whole numbers from {_INT32[0]:,} to {_INT32[1]:,}"
    else:
        room = "can't hold a number this large"
    return ConversionError(
        NUMBER_OUTSIDE_VALID_RANGE,
        f"{source} is outside the range of {_sf_name(sf)}, which {room}.",
        field=sf.name,
        value=raw,
    )


def _picklist_value(item: str, sf: SalesforceFieldType, hs: HubSpotPropertyType | None) -> str:
    matched = _match(item, sf.picklist_values)
    if matched is not None:
        return matched
    if sf.restricted_picklist:
        allowed = _listing(sf.picklist_values) if sf.picklist_values else "none is active"
        raise ConversionError(
            INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
            f"{_show(item)} (from {_hs_name(hs)}) is not a value of the restricted picklist "
            f"{_sf_name(sf)}. Allowed: {allowed}. Add the value to the picklist in Salesforce Setup "
            "or change it in HubSpot.",
            field=sf.name,
            value=item,
        )
    return item


# -- Salesforce -> HubSpot ------------------------------------------------------------------------
def to_hubspot(value: Any, sf: SalesforceFieldType, hs: HubSpotPropertyType | None) -> str | None:
    """The HubSpot property value (always a string) for a Salesforce field value; None for a blank.

    Enumeration values must be among the property's options (matched case-insensitively, written
    in HubSpot's spelling), else :class:`ConversionError` ``INVALID_OPTION``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = value_kind(hs, sf)
    source = f"The value {_show(value)} of {_sf_name(sf)}"
    text: str
    if kind == "bool":
        flag = _parse_bool(value)
        if flag is None:
            raise _hs_error(INVALID_TYPE_ON_FIELD_IN_RECORD, source, "true or false", hs, value)
        text = "true" if flag else "false"
    elif kind == "number":
        number = _parse_decimal(value)
        if number is None:
            raise _hs_error(INVALID_TYPE_ON_FIELD_IN_RECORD, source, "a number", hs, value)
        if sf.type in SF_NUMBER_TYPES and sf.precision and number.adjusted() < 100:
            # drops float noise beyond the field's scale (0.30000000000000004 at scale 2 is 0.3)
            with localcontext() as ctx:
                ctx.prec = 200
                number = number.quantize(Decimal(1).scaleb(-max(sf.scale, 0)), rounding=ROUND_HALF_UP)
        text = _format_decimal(number)
    elif kind == "date":
        day = _parse_day(value)
        if day is None:
            raise _hs_error(INVALID_DATE, source, "a date", hs, value)
        text = iso_ms(_midnight(day)) if hs is not None and hs.type == "datetime" else day.isoformat()
    elif kind == "datetime":
        moment = _parse_moment(value)
        if moment is None:
            raise _hs_error(INVALID_DATE, source, "a date and time", hs, value)
        text = iso_ms(moment)
    elif kind == "single":
        text = str(value).strip()
    elif kind == "multi":
        text = ";".join(_dedupe(_split(value)))
    else:
        text = _plain_text(value)
    if hs is not None and hs.type == "enumeration" and hs.options:
        items = _split(text) if kind == "multi" or hs.multiple else [text.strip()]
        text = ";".join(_dedupe(_option_value(item, hs, sf) for item in items))
    return text if text.strip() else None


def _plain_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        number = _parse_decimal(value)
        return _format_decimal(number) if number is not None else str(value)
    return str(value)


def _hs_error(
    code: str, source: str, expected: str, hs: HubSpotPropertyType | None, value: Any
) -> ConversionError:
    target = _hs_name(hs)
    return ConversionError(
        code,
        f"{source} is not {expected}, so it can't be written to {target}"
        + (f" ({hs.type})." if hs is not None else "."),
        field=hs.name if hs is not None else "",
        value=value,
    )


def _option_value(item: str, hs: HubSpotPropertyType, sf: SalesforceFieldType) -> str:
    matched = _match(item, hs.options)
    if matched is None:
        raise ConversionError(
            INVALID_OPTION,
            f"{_show(item)} (from {_sf_name(sf)}) is not one of the options of {_hs_name(hs)}. "
            f"Allowed: {_listing(hs.options)}. Add the option to the property in HubSpot or change "
            "the value in Salesforce.",
            field=hs.name,
            value=item,
        )
    return matched


# -- comparing ------------------------------------------------------------------------------------
def canonical(value: Any, kind: str) -> str | None:
    """One comparable text for a HubSpot or a Salesforce value of this kind (see :func:`value_kind`):
    ``"12"`` == ``12.0``, ``"true"`` == ``True``, ``"b;a"`` == ``"a;b"``, ``"1706659200000"`` ==
    ``"2024-01-31"`` for dates, datetimes in UTC at millisecond precision, picklists case-insensitive.
    Blanks are None. A value that does not parse as its kind compares as its own text (never raises)."""
    if kind not in KINDS:
        raise ValueError(f"unknown value kind {kind!r}; expected one of {', '.join(KINDS)}")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "bool":
        flag = _parse_bool(value)
        if flag is not None:
            return "true" if flag else "false"
    elif kind == "number":
        number = _parse_decimal(value)
        if number is not None:
            return _format_decimal(number)
    elif kind == "date":
        day = _parse_day(value)
        if day is not None:
            return day.isoformat()
    elif kind == "datetime":
        moment = _parse_moment(value)
        if moment is not None:
            return iso_ms(moment)
    elif kind == "single":
        return str(value).strip().casefold()
    elif kind == "multi":
        items = sorted({item.casefold() for item in _split(value)})
        return ";".join(items) or None
    else:
        return _plain_text(value)
    return _plain_text(value).strip()
