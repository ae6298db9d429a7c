"""S9: person accounts. In an org with person accounts, an Account with ``IsPersonAccount`` syncs as
a HubSpot contact (its person fields through the contact mappings) plus a HubSpot company named after
the person, associated with it; renaming the person renames both. HubSpot never creates a person
account (a new HubSpot contact becomes a Lead or a Contact, as configured).

A contact mapping names Contact fields; on a person account each is the Account field that Salesforce
exposes for it: the name parts and ``Phone`` keep their names, a custom field ``X__c`` is ``X__pc``,
and every other standard field is ``Person`` + its name (``Email`` -> ``PersonEmail``,
``MailingCity`` -> ``PersonMailingCity``, ``HasOptedOutOfEmail`` -> ``PersonHasOptedOutOfEmail``).

The same rule carries a HubSpot edit of a person's contact to the person account: Salesforce refuses
a direct update of a person account's Contact, so the Contact writes go to its Account, each field
under its Account name (``person_account_writes``); ``OwnerId`` is the Account's own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

PERSON_FLAG: Final = "IsPersonAccount"
PERSON_CONTACT_ID: Final = "PersonContactId"  # the Contact behind a person account
PERSON_ACCOUNT_ID: Final = "AccountId"  # a person account's Contact: its Account
HUBSPOT_CREATES_PERSON_ACCOUNTS: Final = False

# Contact fields a person account has under the same name (on Account)
SAME_NAME = frozenset(
    {"firstname", "lastname", "salutation", "middlename", "suffix", "phone", "fax", "ownerid"}
)
_CUSTOM = "__c"
_PERSON_CUSTOM = "__pc"


def is_person_account(fields: Mapping[str, Any]) -> bool:
    return fields.get(PERSON_FLAG) is True or str(fields.get(PERSON_FLAG)).lower() == "true"


def person_field(contact_field: str) -> str:
    """The Account field of a person account that holds ``contact_field`` of its person."""
    if contact_field.lower() in SAME_NAME:
        return contact_field
    if contact_field.lower().endswith(_CUSTOM):
        return contact_field[: -len(_CUSTOM)] + _PERSON_CUSTOM
    return "Person" + contact_field


def person_fields(contact_fields: Mapping[str, str]) -> dict[str, str]:
    """Contact mappings (HubSpot property -> Contact field) as person account fields."""
    return {prop: person_field(field) for prop, field in contact_fields.items()}


def person_account_writes(
    contact_writes: Mapping[str, Any], account_fields: Collection[str]
) -> tuple[dict[str, Any], list[str]]:
    """Writes meant for a person account's Contact as writes of its Account: each field under its
    person account name. ``account_fields``: the Account's fields (as described, any case; none: not
    described, every field is taken); a Contact field whose Account field the org does not have is
    left out, and returned."""
    known = {name.lower() for name in account_fields}
    writes: dict[str, Any] = {}
    missing: list[str] = []
    for field, value in contact_writes.items():
        target = person_field(field)
        if not known or target.lower() in known:
            writes[target] = value
        else:
            missing.append(field)
    return writes, missing


def person_name(fields: Mapping[str, Any]) -> str | None:
    """The person's name, as its company is named: first and last name, else the Account's Name."""
    parts = [str(fields[f]).strip() for f in ("FirstName", "LastName") if fields.get(f)]
    name = " ".join(p for p in parts if p) or str(fields.get("Name") or "").strip()
    return name or None
