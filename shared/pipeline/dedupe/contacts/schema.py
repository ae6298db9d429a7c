"""What the contact decisions know of both sides' fields: the configured mappings and the field
types, described once per deduper (the adapters cache the describes per process)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config import OPT_OUT_HUBSPOT, SyncConfig
from shared.models import ACCOUNT
from shared.pipeline.dedupe.inclusion import inclusion_properties, watched_properties
from shared.pipeline.dedupe.records import SF_OBJECTS, sf_object
from shared.pipeline.fields import ContactFields, FieldTypes, opted_out
from shared.ports import HubSpotPort, SalesforcePort


class ContactSchema:
    """The contact mappings of ``config`` and the types of the fields they map."""

    def __init__(self, config: SyncConfig, salesforce: SalesforcePort, hubspot: HubSpotPort) -> None:
        self.config = config
        self._configured = ContactFields.from_config(config)
        self.hubspot_properties = watched_properties(config)  # what a contact is read with
        self.mapped = set(self._configured.hubspot_properties())
        self.inclusion = inclusion_properties(config)
        self._salesforce = salesforce
        self._hubspot = hubspot
        self._types: FieldTypes | None = None
        self._fields: ContactFields | None = None
        self._person_accounts = False
        self._account_fields: frozenset[str] | None = None

    @property
    def fields(self) -> ContactFields:
        """The configured mappings, each Salesforce field spelled as the describe spells it (a
        configuration may name ``title`` for ``Title``; records answer with ``Title``)."""
        if self._fields is None:
            self._fields = self._configured.spelled_as_described(self.types)
        return self._fields

    @property
    def types(self) -> FieldTypes:
        """The field types of both sides (described once per process by the adapters)."""
        if self._types is None:
            described: dict[str, Mapping[str, Any]] = {
                o: self._salesforce.describe_fields(o) for o in SF_OBJECTS
            }
            self._person_accounts = "ispersonaccount" in described["Contact"]
            self._types = FieldTypes(self._hubspot.contact_property_types(self.hubspot_properties), described)
        return self._types

    @property
    def company_placeholder(self) -> str | None:
        """Lead.Company when the contact has none: the placeholder, or blank in orgs with person
        accounts (where such a lead can later be converted to a person account, S9/S10)."""
        _ = self.types
        return None if self._person_accounts else self.config.creation.lead_company_placeholder

    @property
    def account_fields(self) -> frozenset[str]:
        """The Account's fields (lower case): a person account's Contact is written through it (S9)."""
        if self._account_fields is None:
            self._account_fields = frozenset(self._salesforce.describe_fields(ACCOUNT))
        return self._account_fields

    def comparable(self, prop: str, sf_object_name: str, value: Any) -> str | None:
        """One form of a value of the mapping of ``prop``, whichever side it comes from."""
        if prop == OPT_OUT_HUBSPOT:
            return "true" if opted_out(value) else "false"
        sf_field = self.fields.field_of(sf_object(sf_object_name), prop) or prop
        return self.types.comparable(prop, sf_object_name, sf_field, value)
