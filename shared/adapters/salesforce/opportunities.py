"""Deal sync's Salesforce reads: the contact roles of Opportunities (``OpportunityContactRole``),
``OpportunityId IN (...)`` queries cut to the URL limit and travelling together in Composite calls
(1,000 Opportunities: one call). Primary roles come first for each Opportunity. And the org's
Opportunity record types (their DeveloperName, what ``deals.pipelines`` entries name), one query."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote_plus

from shared.adapters.salesforce.query import SalesforceQueries
from shared.adapters.salesforce.soql import in_lists, soql_literal
from shared.deals.ports import ContactRole
from shared.ids import salesforce_id18, salesforce_id18_or_none
from shared.models import OPPORTUNITY_CONTACT_ROLE

_ROLES_HEAD = (
    f"SELECT Id, OpportunityId, ContactId, IsPrimary, Role FROM {OPPORTUNITY_CONTACT_ROLE} "  # noqa: S608
    "WHERE OpportunityId IN ("
)
_ROLES_TAIL = ") ORDER BY OpportunityId, IsPrimary DESC, Id"


def contact_role_queries(opportunity_ids: Sequence[str]) -> list[str]:
    """The contact roles of ``opportunity_ids`` (18-character ids), primary first per Opportunity."""
    literals = [soql_literal(i) for i in opportunity_ids]
    fixed = len(quote_plus(_ROLES_HEAD + _ROLES_TAIL))
    return [
        f"{_ROLES_HEAD}{', '.join(chunk)}{_ROLES_TAIL}" for chunk in in_lists(literals, fixed_chars=fixed)
    ]


_RECORD_TYPES = "SELECT Id, DeveloperName FROM RecordType WHERE SobjectType = 'Opportunity'"


class SalesforceOpportunities(SalesforceQueries):
    _record_type_names: dict[str, str] | None = None

    def record_type_names(self) -> dict[str, str]:
        """The org's Opportunity record types by id, read once per adapter."""
        if self._record_type_names is None:
            rows = self._query("record_types", [_RECORD_TYPES])
            self._record_type_names = {
                salesforce_id18(str(row["Id"])): str(row["DeveloperName"])
                for row in rows
                if row.get("Id") and row.get("DeveloperName")
            }
        return dict(self._record_type_names)

    def contact_roles(self, opportunity_ids: Sequence[str]) -> list[ContactRole]:
        wanted = list(
            dict.fromkeys(i for i in (salesforce_id18_or_none(raw) for raw in opportunity_ids) if i)
        )
        if not wanted:
            return []
        rows = self._query("contact_roles", contact_role_queries(wanted))
        return [
            ContactRole(
                opportunity_id=salesforce_id18(str(row["OpportunityId"])),
                contact_id=salesforce_id18(str(row["ContactId"])),
                primary=bool(row.get("IsPrimary")),
                role=str(row["Role"]) if row.get("Role") else None,
            )
            for row in rows
            if row.get("OpportunityId") and row.get("ContactId")
        ]
