"""Contact property definitions: ``GET /crm/v3/properties/contacts``, once per adapter instance, and
shared with the other containers through the shared cache for an hour (a property created or changed
meanwhile is seen within the hour)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from functools import partial
from typing import Any

from shared.adapters.hubspot.transport import PROPERTIES, HubSpotTransport
from shared.state.cache import SharedCache, cache_name

PROPERTIES_CACHE_SECONDS = 60 * 60  # a property created or changed meanwhile is seen within the hour


class HubSpotProperties(HubSpotTransport):
    cache: SharedCache | None
    _property_types: dict[str, dict[str, Any]] | None
    _types_of: dict[tuple[str, ...], dict[str, dict[str, Any]]]  # names -> definitions

    def contact_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Definitions (``type``, ``fieldType``, ``options``, ``modificationMetadata``... as HubSpot's
        JSON names them) of the named contact properties that exist; one call per adapter, or none
        when another container shared them."""
        wanted = tuple(sorted(set(names)))
        if wanted not in self._types_of:
            self._types_of[wanted] = self._load_property_types(wanted)
        return copy.deepcopy(self._types_of[wanted])

    def _load_property_types(self, wanted: Sequence[str]) -> dict[str, dict[str, Any]]:
        key = cache_name(
            "hubspot-properties", self.host, hashlib.sha256(self._token.encode()).hexdigest(), *wanted
        )
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            return {name: cached[name] for name in wanted if name in cached}
        if self._property_types is None:
            api = self._properties()
            call = partial(api.get_all, "contacts", archived=False, **self._opts())
            answer = self._read("properties", call, package=PROPERTIES)
            serialize = api.api_client.sanitize_for_serialization
            self._property_types = {str(p.name): serialize(p) for p in answer.results or ()}
        known = self._property_types
        found = {name: copy.deepcopy(known[name]) for name in wanted if name in known}
        if self.cache is not None:  # the definitions this stack uses, for the other containers
            self.cache.put(key, found, PROPERTIES_CACHE_SECONDS)
        return found
