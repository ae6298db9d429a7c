"""Shaping records for REST answers and resolving ids and external ids from URLs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.sandbox.http import ApiError
from infra.sandbox.salesforce import ids
from infra.sandbox.salesforce.errors import api_error, not_found
from infra.sandbox.salesforce.schema import ObjectDef
from infra.sandbox.salesforce.store import Store


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def render(
    obj: ObjectDef, record: Mapping[str, Any], version: str, fields: Iterable[str] | None = None
) -> dict[str, Any]:
    """A record as ``GET sobjects/<S>/<id>`` answers it: attributes first, then the fields."""
    out: dict[str, Any] = {
        "attributes": {"type": obj.name, "url": record_url(version, obj.name, record["Id"])}
    }
    names = list(fields) if fields is not None else list(obj.fields)
    for name in names:
        out[name] = record.get(name)
    return out


def parse_fields(obj: ObjectDef, raw: str | Iterable[str] | None) -> list[str] | None:
    """Canonical names of a ``fields=`` list; 400 INVALID_FIELD for an unknown one."""
    if raw is None:
        return None
    names = [n.strip() for n in (raw.split(",") if isinstance(raw, str) else raw) if n.strip()]
    out = []
    for name in names:
        f = obj.field(name)
        if f is None:
            raise api_error(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{obj.name}'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name. Please reference your "
                "WSDL or the describe call for the appropriate names.",
            )
        out.append(f.name)
    return out


def object_or_404(store: Store, sobject: str) -> ObjectDef:
    obj = store.schema.get(sobject)
    if obj is None:
        raise not_found()
    return obj


def check_path_id(obj: ObjectDef, record_id: str, *, write: bool) -> str:
    """The 18-character id of a URL id segment, with the errors the real API gives for bad ones."""
    full = ids.normalize(record_id)
    if full is None:
        raise not_found(f"Provided external ID field does not exist or is not accessible: {record_id}")
    if full[:3] != obj.key_prefix:
        if write:
            raise ApiError(
                400,
                [
                    {
                        "message": f"{obj.label} ID: id value of incorrect type: {record_id}",
                        "errorCode": "MALFORMED_ID",
                        "fields": ["Id"],
                    }
                ],
            )
        raise not_found()
    return full


def external_id_field(obj: ObjectDef, name: str) -> str:
    f = obj.field(name)
    if f is None or not (f.external_id or f.name == "Id"):
        raise not_found(f"Provided external ID field does not exist or is not accessible: {name}")
    return f.name


def match_external_id(store: Store, obj: ObjectDef, field: str, value: str) -> list[dict[str, Any]]:
    """Live records whose external id equals ``value`` (case-insensitive, as a text external id)."""
    if field == "Id":
        full = ids.normalize(value)
        record = store.tables[obj.name].get(full) if full else None
        return [record] if record is not None and not record["IsDeleted"] else []
    wanted = value.lower()
    return [
        r
        for r in store.tables[obj.name].values()
        if not r["IsDeleted"] and r.get(field) is not None and str(r[field]).lower() == wanted
    ]
