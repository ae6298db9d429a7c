"""A HubSpot edit of a person account's contact (S9). The contact is linked to the person account's
Contact (``PersonContactId``), whose values the pair is reconciled with as for any Contact; but
Salesforce refuses a direct update of that Contact ("only through their account"), so the plan's
Salesforce writes go to the person account, each field under its person account name
(``shared.accounts.person``). The link stays with the Contact; what the plan writes is recorded as
its write intent like any pair's, so the Account's change event is hssync's own. A Contact field the
org's Account does not have is not written: reported (*property values*), not remembered as synced.
"""

from __future__ import annotations

from collections.abc import Collection

from shared.accounts.person import PERSON_ACCOUNT_ID, is_person_account, person_account_writes, person_field
from shared.errors import ErrorCategory
from shared.ids import salesforce_id18
from shared.models import ACCOUNT, CONTACT
from shared.pipeline.dedupe.reconcile import direction
from shared.pipeline.dedupe.records import hs_key
from shared.pipeline.fields import ContactFields
from shared.pipeline.plans import HealthNote, SyncPlan
from shared.ports import SalesforceRecord

NO_PERSON_FIELD = "NO_PERSON_ACCOUNT_FIELD"


def person_account_of(record: SalesforceRecord) -> str | None:
    """The person account of a person account's Contact; None for any other record."""
    if record.sobject != CONTACT or not is_person_account(record.fields):
        return None
    account = record.fields.get(PERSON_ACCOUNT_ID)
    return salesforce_id18(str(account)) if account else None


def through_account(
    plan: SyncPlan, account: str, account_fields: Collection[str], fields: ContactFields
) -> SyncPlan:
    """``plan`` of a pair linked to a person account's Contact, writing to ``account`` instead."""
    writes, missing = person_account_writes(plan.salesforce_writes, account_fields)
    synced_after, written, notes = dict(plan.synced_after), dict(plan.written), list(plan.notes)
    for prop, side in plan.written.items():
        field = fields.field_of(CONTACT, prop)
        if side != "salesforce" or field not in missing:
            continue
        del written[prop]
        if prop in plan.synced_before:
            synced_after[prop] = plan.synced_before[prop]
        else:
            synced_after.pop(prop, None)
        notes.append(_missing_note(plan, prop, str(field)))
    return plan.model_copy(
        update={
            "sf_object": ACCOUNT,
            "sf_id": account,
            "link_sf_object": plan.link_sf_object or CONTACT,
            "link_sf_id": plan.link_sf_id or plan.sf_id,
            "salesforce_writes": writes,
            "synced_after": synced_after,
            "written": written,
            "notes": tuple(notes),
            "direction": direction(
                writes_hubspot=bool(plan.hubspot_writes) or plan.unsubscribe_email is not None,
                writes_salesforce=bool(writes),
            ),
        }
    )


def _missing_note(plan: SyncPlan, prop: str, field: str) -> HealthNote:
    return HealthNote(
        system="salesforce",
        record=hs_key(str(plan.hubspot_id)),
        category=ErrorCategory.PROPERTY_VALUES.value,
        code=NO_PERSON_FIELD,
        message=f"{prop} <-> {field}: a person account has no {person_field(field)} to write",
        fields=(field,),
    )
