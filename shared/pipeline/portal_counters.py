"""Several portals (S3): the counters and skip statuses ``hssync status`` shows are recorded under the
portal they belong to, not all under the stack's first portal."""

from __future__ import annotations

from collections.abc import Mapping


def counted_by_portal(
    total: Mapping[str, int], parts: Mapping[str, Mapping[str, int]], first: str
) -> dict[str, dict[str, int]]:
    """Counters to record, by portal: each portal's own (``parts``); what ``total`` counts beyond them
    (e.g. changes of a portal that is not configured) under the stack's ``first`` portal. Without
    parts (one portal), ``total`` under ``first``."""
    out = {portal: dict(counts) for portal, counts in parts.items() if counts}
    rest = {name: count - sum(p.get(name, 0) for p in parts.values()) for name, count in total.items()}
    rest = {name: count for name, count in rest.items() if count > 0}
    if rest:
        mine = out.setdefault(first, {})
        for name, count in rest.items():
            mine[name] = mine.get(name, 0) + count
    return out
