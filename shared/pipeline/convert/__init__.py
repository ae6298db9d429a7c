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

Where each rule lives:

- ``metadata``: what each side says a field is (HubSpot property definitions, Salesforce describe);
- ``kinds``: how the values of a pair are read and compared (:func:`value_kind`);
- ``booleans``, ``numbers``, ``dates``, ``picklists``, ``strings``: one module per value type
  (parsing, formatting, what fits a Salesforce field or a HubSpot enumeration);
- ``errors``: :class:`ConversionError`, its codes and its messages;
- ``hubspot_to_salesforce``, ``salesforce_to_hubspot``, ``compare``: the three entry points, one
  small step per value kind.
"""

from __future__ import annotations

from shared.pipeline.convert.compare import canonical
from shared.pipeline.convert.dates import iso_ms
from shared.pipeline.convert.errors import (
    INVALID_DATE,
    INVALID_OPTION,
    INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
    INVALID_TYPE_ON_FIELD_IN_RECORD,
    NUMBER_OUTSIDE_VALID_RANGE,
    STRING_TOO_LONG,
    ConversionError,
)
from shared.pipeline.convert.hubspot_to_salesforce import to_salesforce
from shared.pipeline.convert.kinds import KINDS, ValueKind, value_kind
from shared.pipeline.convert.metadata import (
    SF_INTEGER_TYPES,
    SF_NUMBER_TYPES,
    SF_PICKLIST_TYPES,
    SF_UNSUPPORTED_TYPES,
    HubSpotPropertyType,
    SalesforceFieldType,
)
from shared.pipeline.convert.salesforce_to_hubspot import to_hubspot

__all__ = [
    "INVALID_DATE",
    "INVALID_OPTION",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "KINDS",
    "NUMBER_OUTSIDE_VALID_RANGE",
    "SF_INTEGER_TYPES",
    "SF_NUMBER_TYPES",
    "SF_PICKLIST_TYPES",
    "SF_UNSUPPORTED_TYPES",
    "STRING_TOO_LONG",
    "ConversionError",
    "HubSpotPropertyType",
    "SalesforceFieldType",
    "ValueKind",
    "canonical",
    "iso_ms",
    "to_hubspot",
    "to_salesforce",
    "value_kind",
]
