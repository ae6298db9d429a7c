"""The SOQL engine against an in-memory schema and record store."""

# Building SOQL text from test values is what these tests do; no database is involved.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.sandbox.salesforce.soql import FieldMeta, QueryResult, SoqlError, execute, parse

pytestmark = pytest.mark.usefixtures("no_sockets")  # pure: no network, as unit tests

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def sfid(prefix: str, n: int) -> str:
    """An 18-character id: prefix, 12-digit number and the case-safe suffix."""
    id15 = f"{prefix}{n:012d}"
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, char in enumerate(chunk) if char.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


def _fields(*specs: FieldMeta) -> dict[str, FieldMeta]:
    common = (FieldMeta("Id", "id"), FieldMeta("IsDeleted", "boolean"))
    return {meta.name.lower(): meta for meta in (*common, *specs)}


SCHEMA: dict[str, dict[str, FieldMeta]] = {
    "Lead": _fields(
        FieldMeta("FirstName", "string"),
        FieldMeta("LastName", "string"),
        FieldMeta("Email", "email"),
        FieldMeta("Company", "string"),
        FieldMeta("Status", "picklist"),
        FieldMeta("OwnerId", "reference", ("Group", "User"), "Owner"),
        FieldMeta("ConvertedAccountId", "reference", ("Account",), "ConvertedAccount"),
        FieldMeta("IsConverted", "boolean"),
        FieldMeta("NumberOfEmployees", "int"),
        FieldMeta("AnnualRevenue", "currency"),
        FieldMeta("CreatedDate", "datetime"),
        FieldMeta("SystemModstamp", "datetime"),
        FieldMeta("LastActivityDate", "date"),
        FieldMeta("Interests__c", "multipicklist"),
        FieldMeta("Description", "textarea", filterable=False, sortable=False),
        FieldMeta("Lifecycle_Stage__c", "picklist"),
    ),
    "Contact": _fields(
        FieldMeta("LastName", "string"),
        FieldMeta("Email", "email"),
        FieldMeta("AccountId", "reference", ("Account",), "Account"),
        FieldMeta("OwnerId", "reference", ("User",), "Owner"),
        FieldMeta("Birthdate", "date"),
    ),
    "Account": _fields(
        FieldMeta("Name", "string"),
        FieldMeta("Industry", "picklist"),
        FieldMeta("OwnerId", "reference", ("User",), "Owner"),
    ),
    "User": _fields(
        FieldMeta("Name", "string"), FieldMeta("Email", "email"), FieldMeta("IsActive", "boolean")
    ),
    "Group": _fields(FieldMeta("Name", "string"), FieldMeta("Type", "picklist")),
    "Opportunity": _fields(
        FieldMeta("Name", "string"),
        FieldMeta("AccountId", "reference", ("Account",), "Account"),
        FieldMeta("Amount", "currency"),
        FieldMeta("CloseDate", "date"),
    ),
    "OpportunityContactRole": _fields(
        FieldMeta("OpportunityId", "reference", ("Opportunity",), "Opportunity"),
        FieldMeta("ContactId", "reference", ("Contact",), "Contact"),
        FieldMeta("Role", "picklist"),
        FieldMeta("IsPrimary", "boolean"),
    ),
}

CHILDREN = {
    ("opportunity", "opportunitycontactroles"): ("OpportunityContactRole", "OpportunityId"),
    ("account", "contacts"): ("Contact", "AccountId"),
    ("account", "opportunities"): ("Opportunity", "AccountId"),
}


class FakeSchema:
    def __init__(self, *extra: tuple[str, FieldMeta]) -> None:
        self.objects = {sobject: dict(fields) for sobject, fields in SCHEMA.items()}
        for sobject, meta in extra:
            self.objects[sobject][meta.name.lower()] = meta

    def sobject(self, name: str) -> str | None:
        return next((canonical for canonical in self.objects if canonical.lower() == name.lower()), None)

    def field(self, sobject: str, name: str) -> FieldMeta | None:
        return self.objects[sobject].get(name.lower())

    def parent_relationship(self, sobject: str, name: str) -> FieldMeta | None:
        return next(
            (
                meta
                for meta in self.objects[sobject].values()
                if meta.relationship_name and meta.relationship_name.lower() == name.lower()
            ),
            None,
        )

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        return CHILDREN.get((sobject.lower(), name.lower()))


class FakeData:
    def __init__(self, records: dict[str, list[dict[str, Any]]]) -> None:
        self.records = records
        self.get_calls = 0

    def rows(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        return [row for row in self.records.get(sobject, []) if include_deleted or not row["IsDeleted"]]

    def get(self, sobject: str, record_id: str, *, include_deleted: bool) -> Mapping[str, Any] | None:
        self.get_calls += 1
        for row in self.records.get(sobject, []):
            if row["Id"][:15] == record_id[:15] and (include_deleted or not row["IsDeleted"]):
                return row
        return None


def rec(sobject_prefix: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"Id": sfid(sobject_prefix, n), "IsDeleted": False, **fields}


USER_1 = sfid("005", 1)
USER_2 = sfid("005", 2)
QUEUE = sfid("00G", 1)
ACME = sfid("001", 1)
GLOBEX = sfid("001", 2)


def demo_records() -> dict[str, list[dict[str, Any]]]:
    leads = [
        rec(
            "00Q",
            1,
            FirstName="Ada",
            LastName="Lovelace",
            Email="Ada@Example.com",
            Company="Acme",
            Status="Open",
            OwnerId=USER_1,
            ConvertedAccountId=None,
            IsConverted=False,
            NumberOfEmployees=50,
            AnnualRevenue=1000.5,
            CreatedDate="2026-11-28T20:18:04.000+0000",
            SystemModstamp="2026-11-28T20:18:04.000+0000",
            LastActivityDate="2026-11-27",
            Interests__c="Golf;Tennis",
            Description="likes engines",
            Lifecycle_Stage__c="lead",
        ),
        rec(
            "00Q",
            2,
            FirstName="grace",
            LastName="Hopper",
            Email="grace@example.com",
            Company="Globex",
            Status="Working",
            OwnerId=QUEUE,
            ConvertedAccountId=GLOBEX,
            IsConverted=True,
            NumberOfEmployees=None,
            AnnualRevenue=None,
            CreatedDate="2026-11-27T23:30:00.000+0000",
            SystemModstamp="2026-11-28T01:00:00.000+0000",
            LastActivityDate=None,
            Interests__c="Chess",
            Description=None,
            Lifecycle_Stage__c="subscriber",
        ),
        rec(
            "00Q",
            3,
            FirstName=None,
            LastName="Turing",
            Email=None,
            Company="Bletchley 50% Park",
            Status="Open",
            OwnerId=USER_2,
            ConvertedAccountId=None,
            IsConverted=False,
            NumberOfEmployees=7,
            AnnualRevenue=-20.0,
            CreatedDate="2026-10-01T08:00:00.000+0000",
            SystemModstamp="2026-10-01T08:00:00.000+0000",
            LastActivityDate="2026-11-28",
            Interests__c=None,
            Description=None,
            Lifecycle_Stage__c=None,
        ),
    ]
    deleted = rec("00Q", 4, LastName="Gone", Email="gone@example.com", OwnerId=USER_1, Status="Open")
    deleted["IsDeleted"] = True
    leads.append(deleted)
    return {
        "Lead": leads,
        "User": [
            rec("005", 1, Name="Alice Admin", Email="alice@example.com", IsActive=True),
            rec("005", 2, Name="Bob Builder", Email="bob@example.com", IsActive=False),
        ],
        "Group": [rec("00G", 1, Name="Inbound Queue", Type="Queue")],
        "Account": [
            rec("001", 1, Name="Acme", Industry="Retail", OwnerId=USER_1),
            rec("001", 2, Name="Globex", Industry=None, OwnerId=None),
        ],
        "Contact": [
            rec("003", 1, LastName="Coyote", Email="wile@acme.com", AccountId=ACME, OwnerId=USER_2),
            rec("003", 2, LastName="Runner", Email="road@acme.com", AccountId=ACME, OwnerId=USER_1),
            rec("003", 3, LastName="Solo", Email=None, AccountId=None, OwnerId=USER_1, Birthdate=None),
        ],
        "Opportunity": [
            rec("006", 1, Name="Big deal", AccountId=ACME, Amount=5000.0, CloseDate="2026-12-01"),
            rec("006", 2, Name="No roles", AccountId=GLOBEX, Amount=None, CloseDate="2026-11-01"),
        ],
        "OpportunityContactRole": [
            rec(
                "00K",
                1,
                OpportunityId=sfid("006", 1),
                ContactId=sfid("003", 1),
                Role="Decision Maker",
                IsPrimary=True,
            ),
            rec(
                "00K",
                2,
                OpportunityId=sfid("006", 1),
                ContactId=sfid("003", 2),
                Role="Influencer",
                IsPrimary=False,
            ),
        ],
    }


@pytest.fixture
def data() -> FakeData:
    return FakeData(demo_records())


def run(soql: str, data: FakeData, *, include_deleted: bool = False, version: str = "59.0") -> QueryResult:
    return execute(
        parse(soql, FakeSchema()), data, include_deleted=include_deleted, api_version=version, now=NOW
    )


def ids(result: QueryResult) -> list[str]:
    return [record["Id"] for record in result.records]


def lead(n: int) -> str:
    return sfid("00Q", n)


def error_of(soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        parse(soql, FakeSchema())
    return caught.value


# --- record shape -------------------------------------------------------------------------------


def test_records_have_the_rest_shape_with_canonical_names_in_select_order(data):
    result = run(f"select email, ID, lastname from lead where id = '{lead(1)}'", data)

    assert result.total_size == 1
    assert not result.count_only
    assert result.records == [
        {
            "attributes": {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{lead(1)}"},
            "Email": "Ada@Example.com",
            "Id": lead(1),
            "LastName": "Lovelace",
        }
    ]
    assert list(result.records[0]) == ["attributes", "Email", "Id", "LastName"]


@pytest.mark.parametrize("version", ["59.0", "v59.0"])
def test_api_version_is_accepted_with_or_without_v(data, version):
    result = run(f"SELECT Id FROM Lead WHERE Id = '{lead(3)}'", data, version=version)

    assert result.records[0]["attributes"]["url"] == f"/services/data/v59.0/sobjects/Lead/{lead(3)}"


def test_url_names_the_record_even_when_id_is_not_selected(data):
    result = run("SELECT LastName FROM Contact WHERE LastName = 'Solo'", data)

    assert result.records == [
        {
            "attributes": {
                "type": "Contact",
                "url": f"/services/data/v59.0/sobjects/Contact/{sfid('003', 3)}",
            },
            "LastName": "Solo",
        }
    ]


def test_parent_fields_nest_under_the_relationship_and_empty_lookups_are_null(data):
    result = run("SELECT LastName, Account.Name FROM Contact ORDER BY LastName", data)

    coyote, runner, solo = result.records
    assert coyote["Account"] == {
        "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{ACME}"},
        "Name": "Acme",
    }
    assert runner["Account"]["Name"] == "Acme"
    assert solo["Account"] is None


def test_parent_fields_of_one_relationship_share_one_object_at_its_first_position(data):
    result = run(
        "SELECT Account.Name, Id, account.industry, AccountId FROM Contact WHERE LastName = 'Coyote'", data
    )

    record = result.records[0]
    assert list(record) == ["attributes", "Account", "Id", "AccountId"]
    assert record["Account"]["Name"] == "Acme"
    assert record["Account"]["Industry"] == "Retail"


def test_multi_level_parent_paths(data):
    result = run("SELECT Account.Owner.Email, Account.Name FROM Contact ORDER BY LastName", data)

    coyote, _runner, solo = result.records
    assert coyote["Account"]["Owner"] == {
        "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{USER_1}"},
        "Email": "alice@example.com",
    }
    assert coyote["Account"]["Name"] == "Acme"
    assert solo["Account"] is None


def test_a_null_lookup_one_level_up_gives_null_at_that_level(data):
    result = run(f"SELECT Account.Owner.Name FROM Opportunity WHERE Id = '{sfid('006', 2)}'", data)

    assert result.records[0]["Account"]["Owner"] is None


def test_the_object_name_may_prefix_a_field(data):
    result = run(f"SELECT Lead.Email FROM Lead WHERE Lead.Id = '{lead(2)}'", data)

    assert result.records[0]["Email"] == "grace@example.com"


def test_polymorphic_owner_follows_the_id_to_user_or_group(data):
    result = run("SELECT Id, Owner.Name FROM Lead ORDER BY LastName", data)

    by_id = {record["Id"]: record for record in result.records}
    assert by_id[lead(2)]["Owner"] == {
        "attributes": {"type": "Name", "url": f"/services/data/v59.0/sobjects/Group/{QUEUE}"},
        "Name": "Inbound Queue",
    }
    assert by_id[lead(1)]["Owner"] == {
        "attributes": {"type": "Name", "url": f"/services/data/v59.0/sobjects/User/{USER_1}"},
        "Name": "Alice Admin",
    }


def test_polymorphic_field_missing_on_the_target_is_null(data):
    result = run(f"SELECT Owner.Email FROM Lead WHERE Id IN ('{lead(1)}', '{lead(2)}') ORDER BY Id", data)

    assert result.records[0]["Owner"]["Email"] == "alice@example.com"
    assert result.records[1]["Owner"]["Email"] is None  # a queue here has no Email field


def test_parent_lookups_are_cached_within_one_run(data):
    run("SELECT Account.Name FROM Contact", data)

    assert data.get_calls == 1  # two contacts share Acme; the third has no account


def test_child_subquery_gives_a_nested_query_result_or_null(data):
    result = run(
        "SELECT Name, (SELECT ContactId, Role, Contact.Email FROM OpportunityContactRoles ORDER BY Role) "
        "FROM Opportunity ORDER BY Name",
        data,
    )

    big, no_roles = result.records
    roles = big["OpportunityContactRoles"]
    assert roles["totalSize"] == 2
    assert roles["done"] is True
    assert roles["records"][0] == {
        "attributes": {
            "type": "OpportunityContactRole",
            "url": f"/services/data/v59.0/sobjects/OpportunityContactRole/{sfid('00K', 1)}",
        },
        "ContactId": sfid("003", 1),
        "Role": "Decision Maker",
        "Contact": {
            "attributes": {
                "type": "Contact",
                "url": f"/services/data/v59.0/sobjects/Contact/{sfid('003', 1)}",
            },
            "Email": "wile@acme.com",
        },
    }
    assert [role["Role"] for role in roles["records"]] == ["Decision Maker", "Influencer"]
    assert no_roles["OpportunityContactRoles"] is None


def test_child_subquery_honours_its_where_order_and_limit(data):
    result = run(
        "SELECT Name, (SELECT LastName FROM Contacts WHERE Email LIKE '%@acme.com' "
        "ORDER BY LastName DESC LIMIT 1) FROM Account ORDER BY Name",
        data,
    )

    acme, globex = result.records
    assert acme["Contacts"]["totalSize"] == 1
    assert [contact["LastName"] for contact in acme["Contacts"]["records"]] == ["Runner"]
    assert globex["Contacts"] is None


def test_count_only(data):
    result = run("SELECT COUNT() FROM Lead WHERE Status = 'open'", data)

    assert result.count_only
    assert result.total_size == 2
    assert result.records == []


def test_count_respects_limit_and_query_all(data):
    assert run("SELECT COUNT() FROM Lead LIMIT 1", data).total_size == 1
    assert run("SELECT COUNT() FROM Lead", data).total_size == 3
    assert run("SELECT COUNT() FROM Lead", data, include_deleted=True).total_size == 4


def test_query_all_includes_deleted_rows_which_isdeleted_can_select(data):
    result = run("SELECT Id FROM Lead WHERE IsDeleted = true", data, include_deleted=True)

    assert ids(result) == [lead(4)]
    assert run("SELECT Id FROM Lead WHERE IsDeleted = true", data).records == []


# --- operators ----------------------------------------------------------------------------------


def test_text_equality_is_case_insensitive(data):
    assert ids(run("SELECT Id FROM Lead WHERE Email = 'ada@EXAMPLE.com'", data)) == [lead(1)]
    assert ids(run("SELECT Id FROM Lead WHERE email = 'ADA@example.COM'", data)) == [lead(1)]


@pytest.mark.parametrize("operator", ["!=", "<>"])
def test_not_equal_includes_nulls(data, operator):
    result = run(f"SELECT Id FROM Lead WHERE Email {operator} 'ada@example.com'", data)

    assert ids(result) == [lead(2), lead(3)]


def test_in_and_not_in_are_case_insensitive_and_may_hold_null(data):
    assert ids(run("SELECT Id FROM Lead WHERE Email IN ('GRACE@example.com', 'x@y.z')", data)) == [lead(2)]
    assert ids(run("SELECT Id FROM Lead WHERE Email IN ('GRACE@example.com', null)", data)) == [
        lead(2),
        lead(3),
    ]
    assert ids(run("SELECT Id FROM Lead WHERE Email NOT IN ('grace@example.com')", data)) == [
        lead(1),
        lead(3),
    ]
    assert ids(run("SELECT Id FROM Lead WHERE Email NOT IN ('grace@example.com', null)", data)) == [lead(1)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("'ada%'", [1]),
        ("'%EXAMPLE.COM'", [1, 2]),
        ("'_race@%'", [2]),
        ("'%e%'", [1, 2]),
        ("'ada@example.com'", [1]),
        ("'ada'", []),
    ],
)
def test_like_wildcards_case_insensitive_never_null(data, pattern, expected):
    result = run(f"SELECT Id FROM Lead WHERE Email LIKE {pattern}", data)

    assert ids(result) == [lead(n) for n in expected]


def test_like_escaped_percent_is_literal(data):
    assert ids(run(r"SELECT Id FROM Lead WHERE Company LIKE '%50\% Park'", data)) == [lead(3)]
    assert ids(run(r"SELECT Id FROM Lead WHERE Company LIKE '%5\%%'", data)) == []


def test_numeric_comparisons_exclude_nulls(data):
    assert ids(run("SELECT Id FROM Lead WHERE NumberOfEmployees > 7", data)) == [lead(1)]
    assert ids(run("SELECT Id FROM Lead WHERE NumberOfEmployees >= 7", data)) == [lead(1), lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE NumberOfEmployees < 50", data)) == [lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE NumberOfEmployees <= 50.0", data)) == [lead(1), lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE AnnualRevenue < -10", data)) == [lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE AnnualRevenue = 1000.5", data)) == [lead(1)]


def test_text_ordering_comparisons_are_case_insensitive(data):
    assert ids(run("SELECT Id FROM Lead WHERE LastName > 'h'", data)) == [lead(1), lead(2), lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE LastName < 'LOVELACE'", data)) == [lead(2)]
    assert ids(run("SELECT Id FROM Lead WHERE FirstName >= 'ADA'", data)) == [lead(1), lead(2)]


def test_and_or_not_and_parentheses(data):
    soql = "SELECT Id FROM Lead WHERE (Status = 'Open' AND NumberOfEmployees > 10) OR Company = 'globex'"
    assert ids(run(soql, data)) == [lead(1), lead(2)]
    soql = "SELECT Id FROM Lead WHERE Status = 'Open' AND (NumberOfEmployees > 10 OR Company = 'globex')"
    assert ids(run(soql, data)) == [lead(1)]
    assert ids(run("SELECT Id FROM Lead WHERE NOT Status = 'Open'", data)) == [lead(2)]
    soql = "SELECT Id FROM Lead WHERE Status = 'Open' AND NOT (Email = null OR Company = 'x')"
    assert ids(run(soql, data)) == [lead(1)]
    soql = "SELECT Id FROM Lead WHERE Status = 'Open' OR Status = 'Working' OR Status = 'x'"
    assert ids(run(soql, data)) == [lead(1), lead(2), lead(3)]


def test_mixing_and_with_or_needs_parentheses():
    error = error_of("SELECT Id FROM Lead WHERE Status = 'Open' AND Email = null OR Company = 'x'")

    assert error.error_code == "MALFORMED_QUERY"
    assert error.message.endswith("unexpected token: 'OR'")


def test_null_comparisons(data):
    assert ids(run("SELECT Id FROM Lead WHERE Email = null", data)) == [lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE Email != NULL", data)) == [lead(1), lead(2)]
    assert ids(run("SELECT Id FROM Lead WHERE NumberOfEmployees > null", data)) == []
    assert ids(run("SELECT Id FROM Lead WHERE FirstName < 'z'", data)) == [lead(1), lead(2)]


def test_empty_string_is_null(data):
    assert ids(run("SELECT Id FROM Lead WHERE Email = ''", data)) == [lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE Email != ''", data)) == [lead(1), lead(2)]


def test_booleans(data):
    assert ids(run("SELECT Id FROM Lead WHERE IsConverted = TRUE", data)) == [lead(2)]
    assert ids(run("SELECT Id FROM Lead WHERE IsConverted = false", data)) == [lead(1), lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE IsConverted != true", data)) == [lead(1), lead(3)]


def test_ids_compare_equal_in_15_and_18_character_forms(data):
    assert ids(run(f"SELECT Id FROM Lead WHERE Id = '{lead(2)[:15]}'", data)) == [lead(2)]
    assert ids(run(f"SELECT Id FROM Lead WHERE OwnerId = '{USER_1[:15]}'", data)) == [lead(1)]
    soql = f"SELECT Id FROM Lead WHERE OwnerId IN ('{USER_2}', '{QUEUE[:15]}')"
    assert ids(run(soql, data)) == [lead(2), lead(3)]
    soql = f"SELECT Id FROM Lead WHERE ConvertedAccountId != '{GLOBEX[:15]}'"
    assert ids(run(soql, data)) == [lead(1), lead(3)]


def test_ids_are_case_sensitive(data):
    assert run(f"SELECT Id FROM Lead WHERE Id = '{lead(1)[:15].lower()}'", data).records == []


@pytest.mark.parametrize(
    "literal",
    [
        "2026-11-28T20:18:04Z",
        "2026-11-28T20:18:04.000Z",
        "2026-11-28T20:18:04.000+0000",
        "2026-11-28T21:18:04+01:00",
        "2026-11-28T15:18:04.000-05:00",
        "2026-11-28T15:18:04-0500",
    ],
)
def test_datetime_literals_in_every_form_compare_as_instants(data, literal):
    assert ids(run(f"SELECT Id FROM Lead WHERE CreatedDate = {literal}", data)) == [lead(1)]
    assert ids(run(f"SELECT Id FROM Lead WHERE CreatedDate < {literal}", data)) == [lead(2), lead(3)]


def test_stored_datetimes_with_other_offsets_compare_as_instants():
    records = demo_records()
    records["Lead"][0]["CreatedDate"] = "2026-11-28T21:00:00.000+0100"  # 20:00 UTC
    records["Lead"][1]["CreatedDate"] = "2026-11-28T20:30:00.000Z"
    result = run(
        "SELECT Id FROM Lead WHERE CreatedDate > 2026-11-28T20:15:00Z ORDER BY CreatedDate", FakeData(records)
    )

    assert ids(result) == [lead(2)]
    ordered = run(
        "SELECT Id FROM Lead WHERE CreatedDate > 2026-11-01T00:00:00Z ORDER BY CreatedDate DESC",
        FakeData(records),
    )
    assert ids(ordered) == [lead(2), lead(1)]


def test_datetime_precision_beyond_seconds(data):
    soql = "SELECT Id FROM Lead WHERE SystemModstamp > 2026-11-28T20:18:03.999Z"
    assert ids(run(soql, data)) == [lead(1)]
    soql = "SELECT Id FROM Lead WHERE SystemModstamp >= 2026-11-28T20:18:04.001Z"
    assert ids(run(soql, data)) == []


def test_date_fields_compare_with_date_literals(data):
    assert ids(run("SELECT Id FROM Lead WHERE LastActivityDate = 2026-11-27", data)) == [lead(1)]
    assert ids(run("SELECT Id FROM Lead WHERE LastActivityDate > 2026-11-27", data)) == [lead(3)]
    assert ids(run("SELECT Id FROM Opportunity WHERE CloseDate <= 2026-11-30", data)) == [sfid("006", 2)]


@pytest.mark.parametrize(
    ("soql", "expected"),
    [
        ("SELECT Id FROM Lead WHERE LastActivityDate = TODAY", [3]),
        ("SELECT Id FROM Lead WHERE LastActivityDate = YESTERDAY", [1]),
        ("SELECT Id FROM Lead WHERE LastActivityDate < TODAY", [1]),
        ("SELECT Id FROM Lead WHERE LastActivityDate >= YESTERDAY", [1, 3]),
        ("SELECT Id FROM Lead WHERE CreatedDate = TODAY", [1]),
        ("SELECT Id FROM Lead WHERE CreatedDate = YESTERDAY", [2]),
        ("SELECT Id FROM Lead WHERE CreatedDate > YESTERDAY", [1]),
        ("SELECT Id FROM Lead WHERE CreatedDate <= YESTERDAY", [2, 3]),
        ("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:7", [1, 2]),
        ("SELECT Id FROM Lead WHERE CreatedDate < LAST_N_DAYS:7", [3]),
        ("SELECT Id FROM Lead WHERE CreatedDate IN (TODAY, N_DAYS_AGO:58)", [1, 3]),
        ("SELECT Id FROM Lead WHERE CreatedDate = NEXT_N_DAYS:3", []),
        ("SELECT Id FROM Lead WHERE CreatedDate < TOMORROW", [1, 2, 3]),
    ],
)
def test_relative_date_literals(data, soql, expected):
    assert ids(run(soql, data)) == [lead(n) for n in expected]


def test_multipicklists(data):
    assert ids(run("SELECT Id FROM Lead WHERE Interests__c INCLUDES ('golf')", data)) == [lead(1)]
    assert ids(run("SELECT Id FROM Lead WHERE Interests__c INCLUDES ('golf;chess')", data)) == []
    assert ids(run("SELECT Id FROM Lead WHERE Interests__c INCLUDES ('tennis;golf', 'chess')", data)) == [
        lead(1),
        lead(2),
    ]
    assert ids(run("SELECT Id FROM Lead WHERE Interests__c EXCLUDES ('Golf')", data)) == [lead(2), lead(3)]
    assert ids(run("SELECT Id FROM Lead WHERE Interests__c = 'tennis;golf'", data)) == [lead(1)]


def test_parent_paths_in_where(data):
    assert ids(run("SELECT Id FROM Contact WHERE Account.Name = 'ACME' ORDER BY LastName", data)) == [
        sfid("003", 1),
        sfid("003", 2),
    ]
    assert ids(run("SELECT Id FROM Contact WHERE Account.Name = null", data)) == [sfid("003", 3)]
    assert ids(run("SELECT Id FROM Lead WHERE Owner.Name LIKE 'inbound%'", data)) == [lead(2)]
    assert ids(run("SELECT Id FROM Contact WHERE Account.Owner.IsActive = true", data)) == [
        sfid("003", 1),
        sfid("003", 2),
    ]


@pytest.mark.parametrize(
    ("literal", "stored"),
    [(r"'O\'Brien'", "O'Brien"), (r"'back\\slash'", "back\\slash"), (r"'two\nlines'", "two\nlines")],
)
def test_string_escapes(literal, stored):
    records = demo_records()
    records["Lead"][0]["LastName"] = stored
    assert ids(run(f"SELECT Id FROM Lead WHERE LastName = {literal}", FakeData(records))) == [lead(1)]


# --- ORDER BY, LIMIT, OFFSET --------------------------------------------------------------------


def test_order_by_defaults_to_ascending_nulls_first(data):
    assert ids(run("SELECT Id FROM Lead ORDER BY Email", data)) == [lead(3), lead(1), lead(2)]


def test_order_by_desc_puts_nulls_last(data):
    assert ids(run("SELECT Id FROM Lead ORDER BY NumberOfEmployees DESC", data)) == [
        lead(1),
        lead(3),
        lead(2),
    ]


def test_explicit_nulls_placement(data):
    assert ids(run("SELECT Id FROM Lead ORDER BY Email ASC NULLS LAST", data)) == [lead(1), lead(2), lead(3)]
    assert ids(run("SELECT Id FROM Lead ORDER BY Email DESC NULLS FIRST", data)) == [
        lead(3),
        lead(2),
        lead(1),
    ]


def test_text_sorts_case_insensitively():
    records = demo_records()
    records["Lead"][2]["FirstName"] = "Zed"  # ordinal order would put "grace" after "Zed"

    result = run("SELECT Id FROM Lead ORDER BY FirstName", FakeData(records))

    assert ids(result) == [lead(1), lead(2), lead(3)]


def test_order_by_several_keys_and_parent_paths(data):
    assert ids(run("SELECT Id FROM Lead ORDER BY Status ASC, CreatedDate DESC", data)) == [
        lead(1),
        lead(3),
        lead(2),
    ]
    assert ids(run("SELECT Id FROM Contact ORDER BY Account.Name DESC NULLS LAST, LastName DESC", data)) == [
        sfid("003", 2),
        sfid("003", 1),
        sfid("003", 3),
    ]


def test_limit_and_offset(data):
    assert ids(run("SELECT Id FROM Lead ORDER BY LastName LIMIT 2", data)) == [lead(2), lead(1)]
    assert ids(run("SELECT Id FROM Lead ORDER BY LastName LIMIT 1 OFFSET 1", data)) == [lead(1)]
    assert ids(run("SELECT Id FROM Lead ORDER BY LastName OFFSET 2", data)) == [lead(3)]
    result = run("SELECT Id FROM Lead LIMIT 0", data)
    assert (result.total_size, result.records) == (0, [])


def test_unordered_results_keep_store_order(data):
    assert ids(run("SELECT Id FROM Lead", data)) == [lead(1), lead(2), lead(3)]


def test_offset_above_2000_is_out_of_range():
    error = error_of("SELECT Id FROM Lead LIMIT 10 OFFSET 2001")

    assert error.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert error.message == "Maximum SOQL offset allowed for apiName Lead is 2000"


# --- errors -------------------------------------------------------------------------------------


def test_unknown_field_answers_exactly_like_salesforce():
    error = error_of("SELECT Foo FROM Lead")

    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Foo FROM Lead\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'Foo' on entity 'Lead'. If you are attempting to use a custom field, be sure to "
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call "
        "for the appropriate names."
    )


def test_unknown_field_in_where_and_on_a_parent():
    assert error_of("SELECT Id FROM Lead WHERE Emial = 'x'").error_code == "INVALID_FIELD"
    error = error_of("SELECT Account.Nmae FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert "No such column 'Nmae' on entity 'Account'" in error.message


def test_unknown_object_is_invalid_type():
    error = error_of("SELECT Id FROM Leed")

    assert error.error_code == "INVALID_TYPE"
    assert error.message.startswith("\nSELECT Id FROM Leed\n               ^\nERROR at Row:1:Column:16\n")
    assert "sObject type 'Leed' is not supported." in error.message


def test_unknown_parent_relationship():
    error = error_of("SELECT Acount.Name FROM Contact")

    assert error.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Acount' in field path." in error.message


def test_a_plain_field_is_not_a_relationship():
    error = error_of("SELECT LastName.Foo FROM Contact")

    assert "Didn't understand relationship 'LastName' in field path." in error.message


def test_unknown_child_relationship():
    error = error_of("SELECT Id, (SELECT Id FROM Contact) FROM Account")

    assert error.error_code == "INVALID_TYPE"
    assert "Didn't understand relationship 'Contact' in FROM part of query call." in error.message


def test_errors_locate_row_and_column_in_multi_line_queries():
    error = error_of("SELECT Id\nFROM Lead\nWHERE Foo__c = 'x'")

    assert error.message.startswith("\nWHERE Foo__c = 'x'\n      ^\nERROR at Row:3:Column:7\n")


def test_long_queries_are_quoted_around_the_error():
    error = error_of("SELECT Id, FirstName, LastName, Email, Company, Status, Bogus__c FROM Lead")
    excerpt, caret = error.message.split("\n")[1:3]

    assert excerpt.index("Bogus__c") == caret.index("^")
    assert not excerpt.startswith("SELECT")  # only the part around the error is quoted
    assert "ERROR at Row:1:Column:57\n" in error.message


@pytest.mark.parametrize(
    ("soql", "expected"),
    [
        (
            "SELECT Id FROM Lead WHERE CreatedDate > 'abc'",
            "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be "
            "enclosed in quotes",
        ),
        (
            "SELECT Id FROM Lead WHERE CreatedDate > 2026-11-28",
            "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be "
            "enclosed in quotes",
        ),
        (
            "SELECT Id FROM Lead WHERE LastActivityDate = 2026-11-28T00:00:00Z",
            "value of filter criterion for field 'LastActivityDate' must be of type date and should not be "
            "enclosed in quotes",
        ),
        (
            "SELECT Id FROM Lead WHERE LastName > 5",
            "value of filter criterion for field 'LastName' must be of type string and should be enclosed "
            "in quotes",
        ),
        (
            "SELECT Id FROM Lead WHERE IsConverted = 'true'",
            "value of filter criterion for field 'IsConverted' must be of type boolean and should not be "
            "enclosed in quotes",
        ),
        (
            "SELECT Id FROM Lead WHERE AnnualRevenue = '5'",
            "value of filter criterion for field 'AnnualRevenue' must be of type double and should not be "
            "enclosed in quotes",
        ),
        (
            "SELECT Id FROM Contact WHERE Account.Name IN ('a', 1)",
            "value of filter criterion for field 'Name' must be of type string and should be enclosed in "
            "quotes",
        ),
    ],
)
def test_type_mismatches_are_invalid_field(soql, expected):
    error = error_of(soql)

    assert error.error_code == "INVALID_FIELD"
    assert error.message.endswith("\n" + expected)


@pytest.mark.parametrize(
    "value",
    [
        "not-an-id",
        "00Q00000000000",  # 14 characters
        sfid("00Q", 1)[:15] + "AAA",  # the suffix does not match the capitals of the id
    ],
)
def test_invalid_ids_are_refused(value):
    error = error_of(f"SELECT Id FROM Lead WHERE OwnerId IN ('{USER_1}', '{value}')")

    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert error.message.endswith(f"invalid ID field: {value}")


def test_test_ids_have_the_documented_suffix():
    assert sfid("001", 1) == "001000000000001AAA"[:15] + "AAA"  # no capitals: suffix AAA
    assert sfid("00Q", 1).endswith("EAA")  # "Q" is the 3rd character of the first five


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        ("SELECT Id FROM Lead WHERE Id LIKE '00Q%'", "invalid operator on id field"),
        ("SELECT Id FROM Lead WHERE IsConverted > false", "invalid operator on boolean field"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees LIKE '5'", "invalid operator on int field"),
        (
            "SELECT Id FROM Lead WHERE Status INCLUDES ('Open')",
            "includes or excludes operator only valid on multipicklist field",
        ),
    ],
)
def test_operators_invalid_for_the_field_type(soql, message):
    error = error_of(soql)

    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert error.message.endswith(message)


def test_fields_that_cannot_be_filtered_or_sorted():
    error = error_of("SELECT Id FROM Lead WHERE Description = 'x'")
    assert error.error_code == "INVALID_FIELD"
    assert error.message.endswith("field 'Description' can not be filtered in a query call")
    error = error_of("SELECT Id FROM Lead ORDER BY Description")
    assert error.error_code == "INVALID_FIELD"
    assert error.message.endswith("field 'Description' can not be sorted in a query call")
    assert error_of("SELECT Id FROM Lead ORDER BY Interests__c").error_code == "INVALID_FIELD"


def test_compound_fields_cannot_be_filtered_and_other_unknown_types_are_not_supported():
    schema = FakeSchema(
        ("Account", FieldMeta("BillingAddress", "address")), ("Account", FieldMeta("At__c", "time"))
    )

    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FROM Account WHERE BillingAddress = null", schema)
    assert caught.value.error_code == "INVALID_FIELD"
    assert caught.value.message.endswith("field 'BillingAddress' can not be filtered in a query call")
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FROM Account WHERE At__c = null", schema)
    assert caught.value.error_code == "MALFORMED_QUERY"
    parse("SELECT Id, BillingAddress, At__c FROM Account", schema)  # selecting them is fine


def test_duplicate_fields_are_refused():
    error = error_of("SELECT Id, Email, ID FROM Lead")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == "duplicate field selected: ID"
    assert error_of("SELECT Account.Name, account.NAME FROM Contact").error_code == "INVALID_FIELD"


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Status FROM Lead GROUP BY Status",
        "SELECT COUNT(Id) FROM Lead",
        "SELECT MAX(NumberOfEmployees) FROM Lead",
        "SELECT FIELDS(ALL) FROM Lead LIMIT 200",
        "SELECT toLabel(Status) FROM Lead",
        "SELECT Id FROM Lead WHERE Id IN (SELECT WhoId FROM Task)",
        "SELECT Id FROM Lead WHERE Id NOT IN (SELECT WhoId FROM Task)",
        "SELECT TYPEOF Owner WHEN User THEN Email END FROM Lead",
        "SELECT Id FROM Lead USING SCOPE mine",
        "SELECT Id FROM Lead WITH SECURITY_ENFORCED",
        "SELECT Id FROM Lead LIMIT 1 FOR UPDATE",
        "SELECT Id FROM Lead FOR VIEW",
        "SELECT Id FROM Lead WHERE CreatedDate = THIS_MONTH",
        "SELECT Id FROM Lead WHERE DAY_ONLY(CreatedDate) = 2026-11-28",
        "SELECT l.Id FROM Lead l",
        "SELECT Id, (SELECT Id, (SELECT Id FROM Contacts) FROM Contacts) FROM Account",
        "SELECT Id, (SELECT COUNT() FROM Contacts) FROM Account",
        "SELECT Id, (SELECT Id FROM Contacts OFFSET 1) FROM Account",
        "SELECT COUNT(), Id FROM Lead",
        "SELECT Id FROM Lead WHERE Email = :email",
        "SELECT Id FROM Lead ALL ROWS",
        "SELECT Id FROM Lead HAVING COUNT(Id) > 1",
    ],
)
def test_unsupported_soql_is_malformed_never_a_wrong_result(soql):
    assert error_of(soql).error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("soql", "ending"),
    [
        ("SELECT Id Lead", "unexpected token: 'Lead'"),
        ("SELECT Id FROM Lead WHERE", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Lead WHERE Email = 'x' LIMIT", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Lead ORDER Email", "unexpected token: 'Email'"),
        ("SELECT Id FROM Lead LIMIT -1", "no viable alternative at character '-'"),
        ("SELECT Id FROM Lead WHERE Email = 'x", "line 1:37 mismatched character '<EOF>' expecting '''"),
        ("SELECT Id FROM Lead WHERE Email = 'x' ;", "line 1:39 no viable alternative at character ';'"),
        (
            "SELECT Id FROM Lead WHERE CreatedDate > 2026-11-28T10:00:00 0000",
            "no viable alternative at character ' '",
        ),
        ("SELECT Id FROM Lead WHERE LastActivityDate = 2026-02-30", "Invalid date: 2026-02-30"),
        ("SELECT Id FROM Lead WHERE Email = 'a\\qb'", "Illegal character sequence '\\q' in string literal."),
        ("SELECT Id FROM Lead WHERE Email IN ()", "unexpected token: ')'"),
        ("SELECT Id FROM Lead WHERE Email = Name", "unexpected token: 'Name'"),
        ("SELECT Id, FROM Lead", "unexpected token: 'FROM'"),
        ("SELECT Id FROM Lead WHERE (Email = 'x'", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Lead WHERE Email = null extra", "unexpected token: 'extra'"),
    ],
)
def test_syntax_errors_are_malformed(soql, ending):
    error = error_of(soql)

    assert error.error_code == "MALFORMED_QUERY"
    assert error.message.endswith(ending)


def test_empty_query():
    error = error_of("   ")

    assert (error.error_code, error.message) == ("MALFORMED_QUERY", "SOQL statements cannot be empty or null")


def test_keywords_and_names_are_case_insensitive(data):
    result = run(
        "select id, ACCOUNT.name from CONTACT where ACCOUNT.NAME like 'ac%' order by LASTNAME desc", data
    )

    assert ids(result) == [sfid("003", 2), sfid("003", 1)]
    assert result.records[0]["Account"]["Name"] == "Acme"


def test_a_parsed_query_can_run_again_and_sees_new_data(data):
    query = parse("SELECT Id FROM Contact WHERE Email LIKE '%acme.com'", FakeSchema())
    assert execute(query, data, include_deleted=False, api_version="59.0").total_size == 2

    data.records["Contact"].append(rec("003", 9, LastName="New", Email="new@acme.com", AccountId=None))

    assert execute(query, data, include_deleted=False, api_version="59.0").total_size == 3


# --- scale --------------------------------------------------------------------------------------


def _many_leads(count: int) -> FakeData:
    leads = []
    for n in range(count):
        second = n % 60
        minute = (n // 60) % 60
        hour = n // 3600
        leads.append(
            rec(
                "00Q",
                n,
                Email=f"Person{n}@Example.com",
                SystemModstamp=f"2026-11-{1 + hour:02d}T{0:02d}:{minute:02d}:{second:02d}.000+0000",
                LastName=f"Name{n}",
            )
        )
    leads.reverse()  # store order differs from SystemModstamp order
    return FakeData({"Lead": leads})


def test_in_list_of_200_emails_over_20000_rows():
    data = _many_leads(20_000)
    wanted = [f"person{n}@example.COM" for n in range(0, 20_000, 100)]
    soql = "SELECT Id, Email FROM Lead WHERE Email IN (" + ", ".join(f"'{email}'" for email in wanted) + ")"

    result = execute(parse(soql, FakeSchema()), data, include_deleted=False, api_version="59.0")

    assert result.total_size == 200
    assert {record["Email"].lower() for record in result.records} == {email.lower() for email in wanted}


def test_incremental_poll_over_20000_rows():
    data = _many_leads(20_000)
    soql = (
        "SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp > 2026-11-01T00:00:09Z "
        "ORDER BY SystemModstamp LIMIT 2000"
    )

    result = execute(parse(soql, FakeSchema()), data, include_deleted=False, api_version="59.0")

    assert result.total_size == 2000
    stamps = [record["SystemModstamp"] for record in result.records]
    assert stamps == sorted(stamps)
    assert stamps[0] == "2026-11-01T00:00:10.000+0000"
    assert result.records[0]["Id"] == sfid("00Q", 10)
