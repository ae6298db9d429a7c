"""S9: a person account's fields for the contact mappings, its company's name, and that HubSpot never
creates one."""

from __future__ import annotations

import pytest

from shared.accounts import person


@pytest.mark.parametrize(
    ("contact_field", "account_field"),
    [
        ("Email", "PersonEmail"),
        ("Title", "PersonTitle"),
        ("MobilePhone", "PersonMobilePhone"),
        ("MailingStreet", "PersonMailingStreet"),
        ("MailingPostalCode", "PersonMailingPostalCode"),
        ("HasOptedOutOfEmail", "PersonHasOptedOutOfEmail"),
        ("FirstName", "FirstName"),
        ("LastName", "LastName"),
        ("Salutation", "Salutation"),
        ("Phone", "Phone"),
        ("Lifecycle_Stage__c", "Lifecycle_Stage__pc"),
        ("lastname", "lastname"),
    ],
)
def test_a_contact_field_on_a_person_account(contact_field, account_field):
    assert person.person_field(contact_field) == account_field


def test_contact_mappings_become_person_account_fields():
    assert person.person_fields({"email": "Email", "jobtitle": "Title", "lifecyclestage": "Stage__c"}) == {
        "email": "PersonEmail",
        "jobtitle": "PersonTitle",
        "lifecyclestage": "Stage__pc",
    }


def test_the_company_of_a_person_is_named_after_the_person():
    assert person.person_name({"FirstName": "Ada", "LastName": "Lovelace", "Name": "Ada Lovelace"}) == (
        "Ada Lovelace"
    )
    assert person.person_name({"FirstName": None, "LastName": "Byron"}) == "Byron"
    assert person.person_name({"Name": " Acme "}) == "Acme"
    assert person.person_name({}) is None


def test_a_person_account_is_told_by_its_flag():
    assert person.is_person_account({"IsPersonAccount": True})
    assert person.is_person_account({"IsPersonAccount": "true"})
    assert not person.is_person_account({"IsPersonAccount": False})
    assert not person.is_person_account({})


def test_hubspot_never_creates_a_person_account():
    assert person.HUBSPOT_CREATES_PERSON_ACCOUNTS is False


ACCOUNT_FIELDS = {
    "firstname",
    "lastname",
    "phone",
    "ownerid",
    "persontitle",
    "personemail",
    "personmobilephone",
}


def test_a_person_contacts_writes_go_to_its_account_under_the_account_names():
    writes, missing = person.person_account_writes(
        {
            "Title": "Astronomer",
            "FirstName": "Maria",
            "Phone": "+44 1",
            "MobilePhone": None,
            "OwnerId": "005x",
        },
        ACCOUNT_FIELDS,
    )
    assert writes == {
        "PersonTitle": "Astronomer",
        "FirstName": "Maria",
        "Phone": "+44 1",
        "PersonMobilePhone": None,  # a cleared value is written as cleared
        "OwnerId": "005x",  # the Account's own owner, not a Person field
    }
    assert missing == []


def test_a_contact_field_the_person_account_lacks_is_left_out_and_named():
    writes, missing = person.person_account_writes(
        {"Title": "Astronomer", "Department": "Optics"}, ACCOUNT_FIELDS
    )
    assert writes == {"PersonTitle": "Astronomer"}
    assert missing == ["Department"]
    # an Account not described: every field is taken
    assert person.person_account_writes({"Department": "Optics"}, ())[0] == {"PersonDepartment": "Optics"}
