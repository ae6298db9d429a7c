"""Key layout of the single state table, and the record keys that name a record in it.

The table (``StateTable`` in template.yaml) has a string partition key ``pk``, a string sort key
``sk`` and the TTL attribute ``expires_at`` (epoch seconds). Every item lives under its portal
(DESIGN S3), so one Salesforce org can sync with several HubSpot portals without their state mixing:

=========================  =======================================  ===================================
item                       pk                                       sk
=========================  =======================================  ===================================
link (content)             ``P#<portal>#HS#<hubspot id>``           ``LINK``
link (pointer)             ``P#<portal>#SF#<18-char id>``           ``LINK`` (names the HubSpot id)
company link (content)     ``P#<portal>#CO#<company id>``           ``LINK``
company link (pointer)     ``P#<portal>#ACCT#<18-char id>``         ``LINK`` (names the company id)
deal link (content)        ``P#<portal>#DEAL#<deal id>``            ``LINK``
deal link (pointer)        ``P#<portal>#OPP#<18-char id>``          ``LINK`` (names the deal id)
creation claim             ``P#<portal>#CLAIM#<target>#<email>``    ``CLAIM``
webhook request received   ``P#<portal>#WEBHOOK#<fingerprint>``     ``SEEN``
poll cursor                ``P#<portal>#CURSOR``                    ``<cursor name>``
sync-health entry          ``P#<portal>#HEALTH``                    ``<category>#<record>#<code>``
health entries of a record ``P#<portal>#HEALTHOF``                  ``<record>`` (their sort keys)
why a record is skipped    ``P#<portal>#STATUS``                    ``<record>``
counters                   ``P#<portal>#COUNTERS``                  ``TOTAL`` (one number per counter)
link (by email)            ``P#<portal>#EMAIL#<email>``             ``LINK`` (names the HubSpot id)
email event done           ``P#<portal>#EMAILEVENT#<event id>``     ``DONE`` (the task it became)
email event waiting        ``P#<portal>#EMAILWAIT``                 ``<event id>`` (recipient unsynced)
CRM state (not per portal) ``CRM``                                  ``<system>#<org or portal id>``
API usage of an hour       ``CRM#USAGE#<system>#<account>``         ``<hour, ISO 8601 UTC>``
batching bucket (not p.p.) ``PACING``                               ``<stage>#<system>#<account>``
=========================  =======================================  ===================================

The Salesforce org is shared by every portal of a stack, so the CRM states (``shared.crm_state``) live
outside the portals' partitions, all in one partition (one query reads them all).

A link by email leads from a synced email (either side's, normalised) to the HubSpot id; it is a hint,
not a link: whoever follows it checks that the link still holds that email, so a stale one is
harmless. A company link (a HubSpot company <-> a Salesforce Account) has the same items as a
contact link under its own keys: HubSpot's contact and company ids are separate id spaces, and a
person account's Account is linked both to a contact (as its person) and to a company. A deal link
(a HubSpot deal <-> a Salesforce Opportunity) likewise has its own keys. The content
item holds the whole link (counterpart, ``synced`` values, times); the pointer leads from a
Salesforce id to it. A link exists while both name each other (see ``dynamo.py``). Health
entries are sorted by category first, so one portal's entries of one category are a single
``begins_with`` query. The ``<record>`` of a health entry is a record key
(:func:`hubspot_record_key`, :func:`salesforce_record_key`), the form ``hssync resync`` takes. Emails
in claim keys are normalised (trimmed, lower-case); Salesforce ids always appear in their 18-character
form (:func:`shared.ids.salesforce_id18`). A component that is followed by another one may not
contain ``#``, which keeps every key unambiguous.
"""

from __future__ import annotations

from typing import NamedTuple

from shared.ids import (
    salesforce_id18 as salesforce_id18,
)  # re-exported: the one normalisation (shared/ids.py)
from shared.matching import normalize_email
from shared.models import COMPANIES, CONTACTS, DEALS, LinkKind

LINK_SORT_KEY = "LINK"
CLAIM_SORT_KEY = "CLAIM"
COUNTERS_SORT_KEY = "TOTAL"
COUNTER_ATTRIBUTE_PREFIX = "c#"  # counters are top-level numbers (ADD works on top-level attributes only)

_SEPARATOR = "#"


class Key(NamedTuple):
    pk: str
    sk: str


def record_key(system: str, object_type: str, record_id: str) -> str:
    """How sync health (and ``hssync resync``) names a record: ``<system>:<object>:<id>``."""
    return f"{system}:{object_type}:{record_id}"


def resync_command(record: str) -> str:
    """The command that syncs a record (sync health stores and shows it): it takes the record key."""
    return f"hssync resync {record}"


def hubspot_record_key(contact_id: str) -> str:
    """A HubSpot contact's record key: ``hubspot:contacts:<id>``."""
    return record_key("hubspot", CONTACTS, contact_id)


def hubspot_company_key(company_id: str) -> str:
    """A HubSpot company's record key: ``hubspot:companies:<id>``."""
    return record_key("hubspot", COMPANIES, company_id)


def hubspot_deal_key(deal_id: str) -> str:
    """A HubSpot deal's record key: ``hubspot:deals:<id>``."""
    return record_key("hubspot", DEALS, deal_id)


def salesforce_record_key(sobject: str, record_id: str) -> str:
    """A Salesforce record's record key: ``salesforce:<sObject>:<id>``."""
    return record_key("salesforce", sobject, record_id)


def require(name: str, value: str) -> str:
    """A value that must not be empty (a claimant, a record id, a cursor or counter name)."""
    if not value:
        raise ValueError(f"{name} must be non-empty")
    return value


def component(name: str, value: str) -> str:
    """A key component that other components follow: non-empty and free of the separator."""
    if not value or _SEPARATOR in value:
        raise ValueError(f"{name} must be non-empty and must not contain {_SEPARATOR!r}: {value!r}")
    return value


def claim_email(email: str) -> str:
    normalised = normalize_email(email)
    if normalised is None:
        raise ValueError("a creation claim needs a non-blank email")
    return normalised


def _portal(portal: str) -> str:
    return f"P{_SEPARATOR}{component('portal', portal)}"


# per kind of link: the tags of its content keys (HubSpot id) and of its pointer keys (Salesforce id)
LINK_TAGS: dict[LinkKind, tuple[str, str]] = {
    CONTACTS: ("HS", "SF"),
    COMPANIES: ("CO", "ACCT"),
    DEALS: ("DEAL", "OPP"),
}


def link_by_hubspot(portal: str, hubspot_id: str, kind: LinkKind = CONTACTS) -> Key:
    tag = LINK_TAGS[kind][0]
    return Key(f"{_portal(portal)}#{tag}#{component('HubSpot id', hubspot_id)}", LINK_SORT_KEY)


def link_by_salesforce(portal: str, salesforce_id: str, kind: LinkKind = CONTACTS) -> Key:
    tag = LINK_TAGS[kind][1]
    return Key(f"{_portal(portal)}#{tag}#{salesforce_id18(salesforce_id)}", LINK_SORT_KEY)


def claim(portal: str, target: str, email: str) -> Key:
    return Key(f"{_portal(portal)}#CLAIM#{component('target', target)}#{claim_email(email)}", CLAIM_SORT_KEY)


def webhook_request(portal: str, fingerprint: str) -> Key:
    """A signed webhook request already received (replay protection), by its fingerprint."""
    return Key(f"{_portal(portal)}#WEBHOOK#{component('fingerprint', fingerprint)}", "SEEN")


def cursor(portal: str, name: str) -> Key:
    return Key(f"{_portal(portal)}#CURSOR", require("cursor name", name))


def health_partition(portal: str) -> str:
    return f"{_portal(portal)}#HEALTH"


def health_category_prefix(category: str) -> str:
    return f"{component('category', category)}{_SEPARATOR}"


def health(portal: str, category: str, record: str, code: str) -> Key:
    require("error code", code)
    sort_key = f"{health_category_prefix(category)}{component('record', record)}{_SEPARATOR}{code}"
    return Key(health_partition(portal), sort_key)


def health_of(portal: str, record: str) -> Key:
    """The sort keys of one record's health entries, so that they clear when the record syncs."""
    return Key(f"{_portal(portal)}#HEALTHOF", require("record", record))


def status_partition(portal: str) -> str:
    return f"{_portal(portal)}#STATUS"


def status(portal: str, record: str) -> Key:
    return Key(status_partition(portal), require("record", record))


def counters(portal: str) -> Key:
    return Key(f"{_portal(portal)}#COUNTERS", COUNTERS_SORT_KEY)


def counter_attribute(name: str) -> str:
    return COUNTER_ATTRIBUTE_PREFIX + require("counter name", name)


def link_by_email(portal: str, email: str) -> Key:
    """Where a synced email leads to its HubSpot contact (the email normalised; it comes last)."""
    normalised = normalize_email(email)
    if normalised is None:
        raise ValueError("a link by email needs a non-blank email")
    return Key(f"{_portal(portal)}#EMAIL#{normalised}", LINK_SORT_KEY)


def email_event_done(portal: str, event_id: str) -> Key:
    """A HubSpot marketing-email event that became a task (one task per event)."""
    return Key(f"{_portal(portal)}#EMAILEVENT#{require('event id', event_id)}", "DONE")


def email_events_waiting(portal: str) -> str:
    """The partition of the email events whose recipient is not synced yet (sort key: event id)."""
    return f"{_portal(portal)}#EMAILWAIT"


CRM_STATES_PARTITION = "CRM"


def crm_state(system: str, account: str) -> Key:
    """Whether hssync may call this CRM account (``shared.crm_state``)."""
    return Key(
        CRM_STATES_PARTITION, f"{component('system', system)}{_SEPARATOR}{require('account', account)}"
    )


def usage_partition(system: str, account: str) -> str:
    return f"{CRM_STATES_PARTITION}#USAGE#{component('system', system)}#{component('account', account)}"


def usage_sample(system: str, account: str, hour_iso: str) -> Key:
    """The highest API usage seen in one hour (sort key: the hour's start, ISO 8601 UTC)."""
    return Key(usage_partition(system, account), require("hour", hour_iso))


PACING_PARTITION = "PACING"


def pacing_bucket(stage: str, system: str, account: str) -> Key:
    """A stage's bucket of calls for one CRM account (adaptive batching, ``shared.pacing``): the org's
    is shared by every portal, as its API limit is."""
    sort = _SEPARATOR.join(
        require(n, v) for n, v in (("stage", stage), ("system", system), ("account", account))
    )
    return Key(PACING_PARTITION, sort)
