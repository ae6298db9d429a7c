"""What the company decisions know of both sides' fields: the company mappings and the field types
of HubSpot companies and Salesforce Accounts, described once per deduper."""

from __future__ import annotations

from typing import Any

from shared.accounts.person import PERSON_CONTACT_ID, PERSON_FLAG, person_field
from shared.config import ACCOUNT_NAME_FIELD, CompanyMapping, SyncConfig, SyncRule
from shared.models import ACCOUNT
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY
from shared.pipeline.fields import FieldTypes
from shared.ports import HubSpotCompaniesPort, HubSpotPort, SalesforcePort

# read with every Account besides the mapped fields (IsPersonAccount only where the org has it)
ACCOUNT_SYSTEM_FIELDS = (
    "Id",
    ACCOUNT_NAME_FIELD,
    "CreatedDate",
    "LastModifiedDate",
    OWNER_FIELD,
    PERSON_FLAG,
)
PERSON_SYSTEM_FIELDS = (PERSON_CONTACT_ID, "FirstName", "LastName", "PersonEmail")
COMPANY_NAME = "name"


class CompanySchema:
    """The company mappings of ``config`` and the types of the fields they map."""

    def __init__(
        self, config: SyncConfig, salesforce: SalesforcePort, companies: HubSpotCompaniesPort
    ) -> None:
        self.config = config
        self._salesforce = salesforce
        self._companies = companies
        self._types: FieldTypes | None = None
        self._mappings: tuple[CompanyMapping, ...] | None = None
        self._person_types: FieldTypes | None = None

    @property
    def hubspot_properties(self) -> list[str]:
        """What a company is read with."""
        return sorted({COMPANY_NAME, OWNER_PROPERTY, *(m.hubspot for m in self.config.company_mappings)})

    @property
    def types(self) -> FieldTypes:
        if self._types is None:
            described = {ACCOUNT: self._salesforce.describe_fields(ACCOUNT)}
            hubspot = self._companies.company_property_types(self.hubspot_properties)
            self._types = FieldTypes(hubspot, described)
        return self._types

    @property
    def mappings(self) -> tuple[CompanyMapping, ...]:
        """The synced mappings whose Account field the org has, spelled as its describe spells it."""
        if self._mappings is None:
            types = self.types
            self._mappings = tuple(
                m.model_copy(update={"account": types.salesforce_spelling(ACCOUNT, m.account)})
                for m in self.config.company_mappings
                if m.rule is not SyncRule.DONT_SYNC and types.has_field(ACCOUNT, m.account)
            )
        return self._mappings

    @property
    def account_fields(self) -> list[str]:
        """What an Account is read with (the adapter leaves out fields the org lacks: the person
        fields where the org has no person accounts)."""
        person = [f for _, f in self.person_mappings()]
        return sorted(
            {*ACCOUNT_SYSTEM_FIELDS, *PERSON_SYSTEM_FIELDS, *person, *(m.account for m in self.mappings)}
        )

    def person_mappings(self) -> list[tuple[str, str]]:
        """(contact property, person account field) of every synced contact mapping to a Contact
        field (S9: a person account's person syncs as a HubSpot contact)."""
        return [
            (m.hubspot, person_field(m.contact))
            for m in self.config.contact_mappings
            if m.contact and m.rule is not SyncRule.DONT_SYNC
        ]

    def person_types(self, hubspot: HubSpotPort) -> FieldTypes:
        """The types of the contact properties and person account fields of the person mappings."""
        if self._person_types is None:
            described = {ACCOUNT: self._salesforce.describe_fields(ACCOUNT)}
            props = [prop for prop, _ in self.person_mappings()]
            self._person_types = FieldTypes(hubspot.contact_property_types(props), described)
        return self._person_types

    def comparable(self, mapping: CompanyMapping, value: Any) -> str | None:
        return self.types.comparable(mapping.hubspot, ACCOUNT, mapping.account, value)
