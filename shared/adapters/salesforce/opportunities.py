"""Deal sync's Salesforce reads: the contact roles of Opportunities (``OpportunityContactRole``),
``OpportunityId IN (...)`` queries cut to the URL limit and travelling together in Composite calls
(1,000 Opportunities: one call). Primary roles come first for each Opportunity. Changed contact
roles are read by their own ids with their Opportunity's ``IsClosed``, ``IsWon`` and ``AccountId``
(parent fields of the same query: the Opportunity itself is not read); deleted ones by their ids
with ``queryAll`` (a deletion's change event names the role only). And the org's Opportunity
record types (their DeveloperName, what ``deals.pipelines`` entries name), one query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any
from urllib.parse import quote_plus

from shared.adapters.salesforce.query import SalesforceQueries
from shared.adapters.salesforce.soql import in_lists, soql_literal
from shared.deals.ports import ChangedRole, ContactRole
from shared.ids import salesforce_id18, salesforce_id18_or_none
from shared.models import OPPORTUNITY_CONTACT_ROLE

_ROLE_FIELDS = "Id, OpportunityId, ContactId, IsPrimary, Role"
_ROLES_HEAD = f"SELECT {_ROLE_FIELDS} FROM {OPPORTUNITY_CONTACT_ROLE} WHERE OpportunityId IN ("  # noqa: S608
_ROLES_TAIL = ") ORDER BY OpportunityId, IsPrimary DESC, Id"


def contact_role_queries(opportunity_ids: Sequence[str]) -> list[str]:
    """The contact roles of ``opportunity_ids`` (18-character ids), primary first per Opportunity."""
    literals = [soql_literal(i) for i in opportunity_ids]
    fixed = len(quote_plus(_ROLES_HEAD + _ROLES_TAIL))
    return [
        f"{_ROLES_HEAD}{', '.join(chunk)}{_ROLES_TAIL}" for chunk in in_lists(literals, fixed_chars=fixed)
    ]


_CHANGED_HEAD = (
    f"SELECT {_ROLE_FIELDS}, Opportunity.IsClosed, Opportunity.IsWon, Opportunity.AccountId "  # noqa: S608
    f"FROM {OPPORTUNITY_CONTACT_ROLE} WHERE Id IN ("
)


def changed_role_queries(role_ids: Sequence[str]) -> list[str]:
    """Contact roles by id (18 characters) with their Opportunity's state, primary first."""
    literals = [soql_literal(i) for i in role_ids]
    fixed = len(quote_plus(_CHANGED_HEAD + _ROLES_TAIL))
    return [
        f"{_CHANGED_HEAD}{', '.join(chunk)}{_ROLES_TAIL}" for chunk in in_lists(literals, fixed_chars=fixed)
    ]


_DELETED_HEAD = f"SELECT {_ROLE_FIELDS} FROM {OPPORTUNITY_CONTACT_ROLE} WHERE IsDeleted = true AND Id IN ("  # noqa: S608


def deleted_role_queries(role_ids: Sequence[str]) -> list[str]:
    """Deleted contact roles by id (18 characters), for ``queryAll``, primary first."""
    literals = [soql_literal(i) for i in role_ids]
    fixed = len(quote_plus(_DELETED_HEAD + _ROLES_TAIL))
    return [
        f"{_DELETED_HEAD}{', '.join(chunk)}{_ROLES_TAIL}" for chunk in in_lists(literals, fixed_chars=fixed)
    ]


def _role(row: Mapping[str, Any]) -> ContactRole:
    return ContactRole(
        opportunity_id=salesforce_id18(str(row["OpportunityId"])),
        contact_id=salesforce_id18(str(row["ContactId"])),
        primary=bool(row.get("IsPrimary")),
        role=str(row["Role"]) if row.get("Role") else None,
        role_id=salesforce_id18(str(row["Id"])) if row.get("Id") else None,
    )


def _changed_role(row: Mapping[str, Any]) -> ChangedRole:
    opportunity = row.get("Opportunity") or {}
    account = opportunity.get("AccountId")
    return ChangedRole(
        role_id=salesforce_id18(str(row["Id"])),
        role=_role(row),
        closed=bool(opportunity.get("IsClosed")),
        won=bool(opportunity.get("IsWon")),
        account_id=salesforce_id18(str(account)) if account else None,
    )


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
        return [_role(row) for row in rows if row.get("OpportunityId") and row.get("ContactId")]

    def deleted_roles(self, role_ids: Sequence[str]) -> list[ContactRole]:
        """Deleted contact roles read with ``queryAll`` (one query per URL-sized chunk of ids)."""
        wanted = list(dict.fromkeys(i for i in (salesforce_id18_or_none(raw) for raw in role_ids) if i))
        rows = [
            row
            for soql in deleted_role_queries(wanted)
            for row in self._pages("deleted_roles", partial(self._soql_all, soql))
        ]
        return [_role(row) for row in rows if row.get("OpportunityId") and row.get("ContactId")]

    def changed_roles(self, role_ids: Sequence[str]) -> list[ChangedRole]:
        wanted = list(dict.fromkeys(i for i in (salesforce_id18_or_none(raw) for raw in role_ids) if i))
        if not wanted:
            return []
        rows = self._query("contact_roles", changed_role_queries(wanted))
        return [
            _changed_role(row)
            for row in rows
            if row.get("Id") and row.get("OpportunityId") and row.get("ContactId")
        ]
