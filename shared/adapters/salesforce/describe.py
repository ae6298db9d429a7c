"""sObject describe: which fields an org's objects have, and their types and picklist values.

Described once per process, together with the objects named in ``describe_together`` (one Composite
call for all of them), and shared with the other containers through the shared cache for an hour
(a field deployed meanwhile is seen within the hour).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from shared.adapters.salesforce.parse import compact_field
from shared.adapters.salesforce.soql import check_name
from shared.adapters.salesforce.transport import MAX_COMPOSITE_SUBREQUESTS, SalesforceTransport
from shared.chunking import chunks
from shared.state.cache import SharedCache, cache_name

if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce

DESCRIBE_CACHE_SECONDS = 60 * 60  # a field deployed meanwhile is seen within the hour


class SalesforceDescribe(SalesforceTransport):
    describe_together: tuple[str, ...]
    cache: SharedCache | None
    _fields: dict[str, dict[str, Mapping[str, Any]]]

    def existing_fields(self, sobject: str, fields: Sequence[str]) -> list[str]:
        """``fields`` without the ones this org's ``sobject`` lacks (custom fields not deployed,
        person-account fields in an org without them)."""
        names = self.describe_fields(sobject)
        return [f for f in fields if "." in f or f.lower() in names]

    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]:
        """The describe entries of ``sobject``'s fields by lower-case name. Described once per
        process, together with the objects named in ``describe_together`` (one Composite call)."""
        self._describe_all([sobject])
        return self._fields[sobject]

    def _describe_all(self, sobjects: Sequence[str]) -> None:
        missing = [o for o in dict.fromkeys([*sobjects, *self.describe_together]) if o not in self._fields]
        if not any(o in missing for o in sobjects):
            return
        for name in missing:
            check_name(name)
        key = cache_name("salesforce-describe", self.tokens.secret.login_url, *sorted(missing))
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None and all(name in cached for name in missing):
            for name in missing:
                self._fields[name] = cached[name]
            return
        self._describe_now(missing)
        if self.cache is not None:
            self.cache.put(key, {name: self._fields[name] for name in missing}, DESCRIBE_CACHE_SECONDS)

    def _describe_now(self, sobjects: Sequence[str]) -> None:
        """Describe calls: one object alone, or up to 25 per Composite call."""
        for group in chunks(sobjects, MAX_COMPOSITE_SUBREQUESTS):
            if len(group) == 1:
                path = f"sobjects/{group[0]}/describe"
                bodies = [self._read("describe", partial(self._restful, path, "GET", None, False))]
            else:
                bodies = self._read("describe", partial(self._composite_describes, group))
            for name, body in zip(group, bodies, strict=True):
                self._fields[name] = {
                    str(f["name"]).lower(): compact_field(f) for f in (body or {}).get("fields", [])
                }

    def _composite_describes(self, sobjects: Sequence[str], sf: Salesforce) -> list[Mapping[str, Any]]:
        subrequests = [
            {
                "method": "GET",
                "url": self._subrequest_url(f"sobjects/{name}/describe"),
                "referenceId": f"d{index}",
            }
            for index, name in enumerate(sobjects)
        ]
        return self._composite(subrequests, sf)
