"""The companies objects' batch API: read, create, update, archive (account sync, DESIGN S7).

- ``read_companies``: batch read with ``properties`` and ``propertiesWithHistory``, 50 ids per call
  (HubSpot's limit for batch reads with history; 100 without properties);
- ``create_companies`` / ``update_companies``: batch create / update, 100 inputs per call, refused
  batches settled as for contacts (:mod:`shared.adapters.hubspot.batch`); a company has no unique
  property, so a create whose answer was lost is not sent again (it fails, and is decided again);
- ``archive_companies``: batch archive, 100 ids per call; an id already gone is archived;
- ``company_property_types``: the company property definitions, one call per adapter.

Calls are counted as ``companies_<operation>``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import partial
from typing import Any

from shared.adapters.hubspot.objects import MAX_BATCH, MAX_HISTORY_BATCH, HubSpotObjects, operation_name
from shared.adapters.hubspot.parse import to_contact
from shared.adapters.hubspot.transport import COMPANIES, PROPERTIES
from shared.chunking import chunks
from shared.ports import HubSpotCompany, RecordWrite, WriteOutcome


class HubSpotCompanies(HubSpotObjects):
    _company_types: dict[str, dict[str, Any]] | None = None

    def company_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Definitions of the named company properties that exist (as HubSpot's JSON has them)."""
        if self._company_types is None:
            api = self._properties()
            call = partial(api.get_all, "companies", archived=False, **self._opts())
            answer = self._read("companies_properties", call, package=PROPERTIES)
            serialize = api.api_client.sanitize_for_serialization
            self._company_types = {str(p.name): serialize(p) for p in answer.results or ()}
        return {
            name: copy.deepcopy(self._company_types[name]) for name in names if name in self._company_types
        }

    def read_companies(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, HubSpotCompany]:
        from hubspot.crm.companies import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
        props = list(dict.fromkeys(properties))
        out: dict[str, HubSpotCompany] = {}
        for chunk in chunks(wanted, MAX_HISTORY_BATCH if props else MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=props,
                properties_with_history=props or None,
            )
            call = partial(self._batch_read, body, COMPANIES)
            answer = self._read(operation_name("read", COMPANIES), call, COMPANIES)
            for obj in answer.results or ():
                company = to_contact(obj, props)  # the same object shape
                if not company.archived:
                    out[company.id] = company
        return out

    def create_companies(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        return self._write(writes, create=True, package=COMPANIES)

    def update_companies(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        return self._write(writes, create=False, package=COMPANIES)

    def archive_companies(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """Archives (100 per call); an id that is already archived or unknown is a success."""
        return self._archive(ids, COMPANIES)
