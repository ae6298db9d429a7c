"""A value the other side would refuse: :class:`ConversionError`, its codes, and the admin's message.

The codes are Salesforce's own where one fits, HubSpot's ``INVALID_OPTION`` for its enumerations.
A message names the value (shortened), both sides' field, and what would fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from shared.pipeline.convert.metadata import HubSpotPropertyType, SalesforceFieldType

INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Final = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
STRING_TOO_LONG: Final = "STRING_TOO_LONG"
INVALID_TYPE_ON_FIELD_IN_RECORD: Final = "INVALID_TYPE_ON_FIELD_IN_RECORD"
INVALID_OPTION: Final = "INVALID_OPTION"
NUMBER_OUTSIDE_VALID_RANGE: Final = "NUMBER_OUTSIDE_VALID_RANGE"
INVALID_DATE: Final = "INVALID_DATE"

MAX_SHOWN = 60  # characters of a value quoted in an error message
MAX_LISTED = 15  # allowed values listed in an error message


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


def show(value: Any) -> str:
    """A value quoted for a message, shortened to :data:`MAX_SHOWN` characters."""
    text = str(value)
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 3] + "..."
    return f'"{text}"'


def _named(what: str, name: str, label: str) -> str:
    return f"{what} {name}" + (f" ({label})" if label and label != name else "")


def sf_name(sf: SalesforceFieldType) -> str:
    """``Salesforce field Region__c (Region)``: the label only where it says more than the name."""
    return _named("Salesforce field", sf.name, sf.label)


def hs_name(hs: HubSpotPropertyType | None) -> str:
    """``HubSpot property region (Region)``, or ``HubSpot`` for a property HubSpot does not describe."""
    return "HubSpot" if hs is None else _named("HubSpot property", hs.name, hs.label)


def listing(values: Sequence[str]) -> str:
    """The allowed values, at most :data:`MAX_LISTED` of them and how many there are in all."""
    shown = ", ".join(values[:MAX_LISTED])
    return shown + (f", ... ({len(values)} in all)" if len(values) > MAX_LISTED else "")


def from_hubspot(text: str, hs: HubSpotPropertyType | None) -> str:
    """Where a value written to Salesforce comes from, as the messages say it."""
    return f"The value {show(text)} of {hs_name(hs)}"


def from_salesforce(value: Any, sf: SalesforceFieldType) -> str:
    """Where a value written to HubSpot comes from, as the messages say it."""
    return f"The value {show(value)} of {sf_name(sf)}"


def refused_by_salesforce(
    code: str, source: str, expected: str, sf: SalesforceFieldType, value: Any
) -> ConversionError:
    """A value that is not of the Salesforce field's type (``expected`` says what would be)."""
    return ConversionError(
        code,
        f"{source} is not {expected}, so it can't be written to {sf_name(sf)} ({sf.type}).",
        field=sf.name,
        value=value,
    )


def refused_by_hubspot(
    code: str, source: str, expected: str, hs: HubSpotPropertyType | None, value: Any
) -> ConversionError:
    """A value that is not of the HubSpot property's type (``expected`` says what would be)."""
    return ConversionError(
        code,
        f"{source} is not {expected}, so it can't be written to {hs_name(hs)}"
        + (f" ({hs.type})." if hs is not None else "."),
        field=hs.name if hs is not None else "",
        value=value,
    )
