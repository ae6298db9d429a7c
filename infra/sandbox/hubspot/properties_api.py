"""CRM properties v3: ``/crm/v3/properties/{objectType}`` — read the portal's property definitions,
create, update and archive custom ones (HubSpot-defined properties cannot be changed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import json_response
from infra.sandbox.hubspot import errors
from infra.sandbox.hubspot.objects_api import body_of, flag, object_type_of
from infra.sandbox.hubspot.properties import PropertyDefinition, apply_update, definition_from_input

if TYPE_CHECKING:
    from infra.sandbox.hubspot.app import HubSpotEmulator


class PropertiesApi:
    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self.store = emulator.store

    def register_routes(self) -> None:
        route = self.emulator.route
        base = "/crm/v3/properties/<object_type>"
        route("GET", base, self.list_properties)
        route("POST", base, self.create_property)
        route("GET", f"{base}/<property_name>", self.get_property)
        route("PATCH", f"{base}/<property_name>", self.update_property)
        route("DELETE", f"{base}/<property_name>", self.archive_property)

    def _existing(self, object_type: str, name: str) -> PropertyDefinition:
        definition = self.store.definition(object_type, name)
        if definition is None:
            raise errors.not_found(f"Unable to find property {name} for object type {object_type}")
        return definition

    def list_properties(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        with self.emulator.lock:
            if flag(request, "archived"):
                everything = self.store.all_definitions(object_type)
                results = [d.to_json() for d in everything.values() if d.archived]
            else:
                results = [d.to_json() for d in self.store.definitions(object_type).values()]
        return json_response({"results": results})

    def get_property(self, request: Request, object_type: str, property_name: str) -> Response:
        object_type = object_type_of(object_type)
        return json_response(self._existing(object_type, property_name).to_json())

    def create_property(self, request: Request, object_type: str) -> Response:
        object_type = object_type_of(object_type)
        body = body_of(request)
        now = datetime.now(UTC)
        definition = definition_from_input(body, now)
        if isinstance(definition, str):
            raise errors.validation_error(definition)
        with self.emulator.lock:
            if definition.name in self.store.all_definitions(object_type):
                raise errors.hs_error(
                    409, f"Property named '{definition.name}' already exists.", "OBJECT_ALREADY_EXISTS"
                )
            self.store.put_definition(object_type, definition)
        return json_response(definition.to_json(), status=201)

    def update_property(self, request: Request, object_type: str, property_name: str) -> Response:
        object_type = object_type_of(object_type)
        body = body_of(request)
        with self.emulator.lock:
            updated = apply_update(self._existing(object_type, property_name), body, datetime.now(UTC))
            if isinstance(updated, str):
                raise errors.validation_error(updated)
            self.store.put_definition(object_type, updated)
        return json_response(updated.to_json())

    def archive_property(self, request: Request, object_type: str, property_name: str) -> Response:
        object_type = object_type_of(object_type)
        with self.emulator.lock:
            definition = self._existing(object_type, property_name)
            if definition.hubspot_defined:
                raise errors.validation_error(
                    f"Property {property_name} is a HubSpot defined property and cannot be archived"
                )
            self.store.put_definition(object_type, replace(definition, archived=True))
        return json_response(None, status=204)
