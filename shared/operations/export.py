"""Sync health as data: the JSON the console and ``hssync health --format json`` give, and the CSV
export (one row per entry, as the native connector's export)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from shared.operations.health import CategoryCount, HealthRow

CSV_COLUMNS = (
    "category",
    "record",
    "object",
    "system",
    "code",
    "message",
    "count",
    "first_seen",
    "last_seen",
    "resync",
)


def row_dict(row: HealthRow) -> dict[str, Any]:
    return {
        "category": row.category.value,
        "record": row.record,
        "object": row.object_type,
        "system": row.system,
        "code": row.code,
        "message": row.message,
        "count": row.count,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "resync": row.resync,
    }


def count_dict(count: CategoryCount) -> dict[str, Any]:
    return {
        "category": count.category.value,
        "label": count.label,
        "errors": count.errors,
        "records": count.records,
    }


def health_document(counts: Sequence[CategoryCount], rows: Sequence[HealthRow]) -> dict[str, Any]:
    return {"categories": [count_dict(c) for c in counts], "entries": [row_dict(r) for r in rows]}


def health_json(counts: Sequence[CategoryCount], rows: Sequence[HealthRow]) -> str:
    return json.dumps(health_document(counts, rows), indent=2)


def health_csv(rows: Sequence[HealthRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row_dict(row))
    return out.getvalue()
